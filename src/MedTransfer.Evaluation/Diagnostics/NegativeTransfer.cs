using MedTransfer.Evaluation.Metrics;

namespace MedTransfer.Evaluation.Diagnostics;

/// <summary>What a negative-transfer gap says (only a confidence interval clear of zero may say more than "none").</summary>
public enum TransferVerdict
{
    /// <summary>The adapted model is better than the baseline: the whole interval is above zero.</summary>
    Positive,

    /// <summary>No detectable difference: the interval contains zero.</summary>
    None,

    /// <summary>Negative transfer: the whole interval is below zero (Wang et al., CVPR 2019).</summary>
    Negative,
}

/// <summary>The negative-transfer gap against one baseline.</summary>
/// <param name="Baseline">The baseline's name, e.g. "source-only", "target-only", "from-scratch".</param>
/// <param name="Metric">The metric compared, e.g. "AUROC".</param>
/// <param name="Gap">NTG = metric(adapted) − metric(baseline) with its patient-bootstrap interval.</param>
/// <param name="Verdict">Positive / none / negative, set by the interval only.</param>
public sealed record NegativeTransferResult(string Baseline, string Metric, Estimate Gap, TransferVerdict Verdict);

/// <summary>
/// Negative-transfer diagnostics: the negative-transfer gap NTG = metric(adapted) − metric(baseline), both models scored on
/// the same target samples, with a paired patient-level bootstrap interval.
/// </summary>
public static class NegativeTransfer
{
    /// <summary>NTG in AUROC against one baseline.</summary>
    public static NegativeTransferResult AurocGap(
        string baseline,
        IReadOnlyList<double> adaptedScores,
        IReadOnlyList<double> baselineScores,
        IReadOnlyList<int> labels,
        IReadOnlyList<string> patients,
        BootstrapOptions? options = null)
    {
        Estimate gap = PatientBootstrap.PairedDifference(adaptedScores, baselineScores, labels, patients, (s, y) => Auroc.Compute(s, y), options);
        return new NegativeTransferResult(baseline, "AUROC", gap, VerdictOf(gap));
    }

    /// <summary>The verdict an interval allows.</summary>
    public static TransferVerdict VerdictOf(Estimate gap)
    {
        ArgumentNullException.ThrowIfNull(gap);
        return gap.ClearlyPositive ? TransferVerdict.Positive : gap.ClearlyNegative ? TransferVerdict.Negative : TransferVerdict.None;
    }
}
