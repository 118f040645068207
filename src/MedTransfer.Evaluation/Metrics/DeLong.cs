using MathNet.Numerics.Distributions;

namespace MedTransfer.Evaluation.Metrics;

/// <summary>An estimate with a two-sided confidence interval.</summary>
/// <param name="Value">The point estimate.</param>
/// <param name="Lower">Lower bound.</param>
/// <param name="Upper">Upper bound.</param>
/// <param name="Confidence">The confidence level, e.g. 0.95.</param>
/// <param name="Method">How the interval was obtained, e.g. "DeLong" or "patient bootstrap (2000)".</param>
public sealed record Estimate(double Value, double Lower, double Upper, double Confidence, string Method)
{
    /// <summary>True when the interval lies entirely above zero.</summary>
    public bool ClearlyPositive => Lower > 0;

    /// <summary>True when the interval lies entirely below zero.</summary>
    public bool ClearlyNegative => Upper < 0;
}

/// <summary>The difference between two AUROCs on the same samples (DeLong's paired test).</summary>
/// <param name="Difference">AUC(A) − AUC(B) with its confidence interval.</param>
/// <param name="StandardError">Standard error of the difference.</param>
/// <param name="PValue">Two-sided p-value for "no difference".</param>
internal sealed record AurocComparison(Estimate Difference, double StandardError, double PValue);

/// <summary>
/// DeLong, DeLong &amp; Clarke-Pearson (1988) variance of the AUROC and of the difference of two correlated
/// AUROCs, computed with the mid-rank formulation of Sun &amp; Xu (2014) in O(n log n). Structural
/// components: V10(xᵢ) = (R(xᵢ) − Rₓ(xᵢ)) / n₀ for positives, V01(yⱼ) = 1 − (R(yⱼ) − R_y(yⱼ)) / n₁ for
/// negatives, where R is the mid-rank in the pooled sample and Rₓ, R_y the mid-rank within the class;
/// Var(AUC) = S₁₀/n₁ + S₀₁/n₀ with S the sample (n−1) variances. Intervals are Wald intervals, clipped to [0, 1].
/// </summary>
public static class DeLong
{
    /// <summary>AUROC with its DeLong confidence interval.</summary>
    /// <exception cref="MetricUndefinedException">Fewer than two samples in a class (the variance is undefined).</exception>
    public static Estimate Auroc(ReadOnlySpan<double> scores, ReadOnlySpan<int> labels, double confidence = 0.95)
    {
        Components c = Compute(scores, labels);
        double variance = (Variance(c.V10, c.V10.Average(), c.V10, c.V10.Average()) / c.V10.Length)
            + (Variance(c.V01, c.V01.Average(), c.V01, c.V01.Average()) / c.V01.Length);
        double z = Normal.InvCDF(0, 1, 0.5 + (confidence / 2));
        double se = Math.Sqrt(variance);
        return new Estimate(c.Auc, Math.Max(0, c.Auc - (z * se)), Math.Min(1, c.Auc + (z * se)), confidence, "DeLong");
    }

    /// <summary>Paired comparison of two score vectors on the same samples and labels.</summary>
    /// <exception cref="ArgumentException">The vectors differ in length.</exception>
    internal static AurocComparison Compare(ReadOnlySpan<double> scoresA, ReadOnlySpan<double> scoresB, ReadOnlySpan<int> labels, double confidence = 0.95)
    {
        if (scoresA.Length != scoresB.Length)
        {
            throw new ArgumentException("Both models must score the same samples.", nameof(scoresB));
        }

        Components a = Compute(scoresA, labels);
        Components b = Compute(scoresB, labels);
        double m10a = a.V10.Average();
        double m10b = b.V10.Average();
        double m01a = a.V01.Average();
        double m01b = b.V01.Average();
        int n1 = a.V10.Length;
        int n0 = a.V01.Length;

        // Var(A − B) = Var(A) + Var(B) − 2 Cov(A, B), each from the structural components.
        double varA = (Variance(a.V10, m10a, a.V10, m10a) / n1) + (Variance(a.V01, m01a, a.V01, m01a) / n0);
        double varB = (Variance(b.V10, m10b, b.V10, m10b) / n1) + (Variance(b.V01, m01b, b.V01, m01b) / n0);
        double cov = (Variance(a.V10, m10a, b.V10, m10b) / n1) + (Variance(a.V01, m01a, b.V01, m01b) / n0);
        double se = Math.Sqrt(Math.Max(0, varA + varB - (2 * cov)));
        double diff = a.Auc - b.Auc;
        double z = Normal.InvCDF(0, 1, 0.5 + (confidence / 2));
        double p = se > 0 ? 2 * (1 - Normal.CDF(0, 1, Math.Abs(diff) / se)) : (diff == 0 ? 1 : 0);
        return new AurocComparison(new Estimate(diff, diff - (z * se), diff + (z * se), confidence, "DeLong paired"), se, p);
    }

    private sealed record Components(double Auc, double[] V10, double[] V01);

    private static Components Compute(ReadOnlySpan<double> scores, ReadOnlySpan<int> labels)
    {
        double auc = Metrics.Auroc.Compute(scores, labels);
        var positives = new List<double>();
        var negatives = new List<double>();
        for (int i = 0; i < scores.Length; i++)
        {
            (labels[i] == 1 ? positives : negatives).Add(scores[i]);
        }

        if (positives.Count < 2 || negatives.Count < 2)
        {
            throw new MetricUndefinedException(
                $"The DeLong variance needs at least two samples per class ({positives.Count} positive, {negatives.Count} negative).");
        }

        double[] pooled = [.. positives, .. negatives];
        double[] rankPooled = MidRanks(pooled);
        double[] rankPositive = MidRanks([.. positives]);
        double[] rankNegative = MidRanks([.. negatives]);
        int n1 = positives.Count;
        int n0 = negatives.Count;
        var v10 = new double[n1];
        var v01 = new double[n0];
        for (int i = 0; i < n1; i++)
        {
            v10[i] = (rankPooled[i] - rankPositive[i]) / n0;
        }

        for (int j = 0; j < n0; j++)
        {
            v01[j] = 1 - ((rankPooled[n1 + j] - rankNegative[j]) / n1);
        }

        return new Components(auc, v10, v01);
    }

    /// <summary>1-based mid-ranks (ties share the mean of their ranks).</summary>
    internal static double[] MidRanks(double[] values)
    {
        int n = values.Length;
        int[] order = [.. Enumerable.Range(0, n)];
        Array.Sort(order, (a, b) => values[a].CompareTo(values[b]));
        var ranks = new double[n];
        int start = 0;
        while (start < n)
        {
            int end = start;
            while (end + 1 < n && values[order[end + 1]] == values[order[start]])
            {
                end++;
            }

            double mid = ((start + end) / 2.0) + 1;
            for (int k = start; k <= end; k++)
            {
                ranks[order[k]] = mid;
            }

            start = end + 1;
        }

        return ranks;
    }

    private static double Variance(double[] x, double meanX, double[] y, double meanY)
    {
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            sum += (x[i] - meanX) * (y[i] - meanY);
        }

        return sum / (x.Length - 1);
    }
}
