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

/// <summary>The negative-transfer gap against one baseline, pooled over seeds.</summary>
/// <param name="Baseline">The baseline's name.</param>
/// <param name="Metric">The metric compared ("AUROC").</param>
/// <param name="Gap">The mean over seeds of metric(method, seed) − metric(baseline, seed), with its patient-bootstrap interval.</param>
/// <param name="Verdict">Positive / none / negative, set by the interval only.</param>
/// <param name="PerSeedGaps">The gap of each seed on all samples, shown beside the pooled one.</param>
public sealed record PooledGapResult(string Baseline, string Metric, Estimate Gap, TransferVerdict Verdict, IReadOnlyList<double> PerSeedGaps);

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

    /// <summary>
    /// NTG in AUROC pooled over seeds: in every patient-bootstrap resample of the target samples, AUROC(method, seed) −
    /// AUROC(baseline, seed) is computed for every seed on that same resample and averaged over the seeds; the
    /// percentile interval of that average sets the verdict. Pooling removes seed noise from the gap without
    /// treating seeds as independent data, so the interval is narrower than any one seed's whenever the seeds agree.
    /// Seed k of the method is paired with seed k of the baseline.
    /// </summary>
    /// <param name="baseline">The baseline's name.</param>
    /// <param name="methodScores">Per seed, the method's scores of the target samples.</param>
    /// <param name="baselineScores">Per seed (same order), the baseline's scores of the same samples.</param>
    /// <param name="labels">The samples' labels.</param>
    /// <param name="patients">The samples' patients (the resampling unit).</param>
    /// <param name="options">Bootstrap settings.</param>
    public static PooledGapResult PooledAurocGap(
        string baseline,
        IReadOnlyList<IReadOnlyList<double>> methodScores,
        IReadOnlyList<IReadOnlyList<double>> baselineScores,
        IReadOnlyList<int> labels,
        IReadOnlyList<string> patients,
        BootstrapOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(methodScores);
        ArgumentNullException.ThrowIfNull(baselineScores);
        if (methodScores.Count == 0 || methodScores.Count != baselineScores.Count)
        {
            throw new ArgumentException("Give the method's and the baseline's scores for the same seeds (at least one).", nameof(baselineScores));
        }

        if (methodScores.Concat(baselineScores).Any(s => s.Count != labels.Count))
        {
            throw new ArgumentException("Every seed must score the same samples.", nameof(methodScores));
        }

        int seeds = methodScores.Count;
        Estimate gap = PatientBootstrap.Run(patients, labels, idx =>
        {
            int[] y = PatientBootstrap.Pick(labels, idx);
            double sum = 0;
            for (int k = 0; k < seeds; k++)
            {
                sum += Auroc.Compute(PatientBootstrap.Pick(methodScores[k], idx), y) - Auroc.Compute(PatientBootstrap.Pick(baselineScores[k], idx), y);
            }

            return sum / seeds;
        }, options);
        double[] perSeed = [.. Enumerable.Range(0, seeds).Select(k => Auroc.Compute([.. methodScores[k]], [.. labels]) - Auroc.Compute([.. baselineScores[k]], [.. labels]))];
        return new PooledGapResult(baseline, "AUROC", gap with { Method = gap.Method + ", AUROC gap averaged over " + seeds.ToString(System.Globalization.CultureInfo.InvariantCulture) + " seed(s) per resample" }, VerdictOf(gap), perSeed);
    }

    /// <summary>The verdict an interval allows.</summary>
    public static TransferVerdict VerdictOf(Estimate gap)
    {
        ArgumentNullException.ThrowIfNull(gap);
        return gap.ClearlyPositive ? TransferVerdict.Positive : gap.ClearlyNegative ? TransferVerdict.Negative : TransferVerdict.None;
    }
}
