using MedTransfer.Evaluation.Metrics;

namespace MedTransfer.Evaluation.Tests.Metrics;

public sealed class DeLongTests
{
    private static readonly double[] s_scores = [0.9, 0.8, 0.7, 0.6, 0.55, 0.54, 0.53, 0.52, 0.51, 0.505, 0.4, 0.39, 0.38, 0.37, 0.36, 0.35, 0.34, 0.33, 0.30, 0.1];
    private static readonly int[] s_labels = [1, 1, 0, 1, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0];

    [Fact]
    public void Auroc_Variance_EqualsTheDefinitionWithPairwiseKernels()
    {
        // DeLong 1988 directly: ψ(x, y) = 1 if x > y, ½ if equal, 0 otherwise; V10ᵢ = mean over negatives,
        // V01ⱼ = mean over positives; Var = S10/n1 + S01/n0 with (n−1)-normalised variances.
        double[] pos = [.. s_scores.Where((_, i) => s_labels[i] == 1)];
        double[] neg = [.. s_scores.Where((_, i) => s_labels[i] == 0)];
        double[] v10 = [.. pos.Select(x => neg.Average(y => Psi(x, y)))];
        double[] v01 = [.. neg.Select(y => pos.Average(x => Psi(x, y)))];
        double auc = v10.Average();
        double variance = (SampleVariance(v10) / pos.Length) + (SampleVariance(v01) / neg.Length);
        double half = 1.959963984540054 * Math.Sqrt(variance);

        Estimate e = DeLong.Auroc(s_scores, s_labels);

        Assert.Equal(auc, e.Value, 12);
        Assert.Equal(auc - half, e.Lower, 9);
        Assert.Equal(Math.Min(1, auc + half), e.Upper, 9);
        Assert.Equal("DeLong", e.Method);
    }

    [Fact]
    public void Compare_IdenticalModels_HaveZeroDifferenceAndPValueOne()
    {
        AurocComparison c = DeLong.Compare(s_scores, s_scores, s_labels);

        Assert.Equal(0, c.Difference.Value, 12);
        Assert.Equal(0, c.StandardError, 9);
        Assert.Equal(1, c.PValue, 9);
    }

    [Fact]
    public void Compare_RandomVersusInformativeScores_FindsASignificantDifference()
    {
        int n = 400;
        int[] labels = [.. Enumerable.Range(0, n).Select(i => i % 2)];
        double[] good = [.. Enumerable.Range(0, n).Select(i => labels[i] + (0.8 * Math.Sin(i * 12.9898)))];
        double[] noise = [.. Enumerable.Range(0, n).Select(i => Math.Sin(i * 78.233) * 43758.5453 % 1)];

        AurocComparison c = DeLong.Compare(good, noise, labels);

        Assert.True(c.Difference.ClearlyPositive);
        Assert.True(c.PValue < 1e-6);
    }

    [Fact]
    public void Auroc_OnePositive_IsUndefinedWithReason()
    {
        Assert.Throws<MetricUndefinedException>(() => DeLong.Auroc([0.1, 0.2, 0.3], [0, 0, 1]));
    }

    private static double Psi(double x, double y) => x > y ? 1 : x == y ? 0.5 : 0;

    private static double SampleVariance(double[] v)
    {
        double mean = v.Average();
        return v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1);
    }
}
