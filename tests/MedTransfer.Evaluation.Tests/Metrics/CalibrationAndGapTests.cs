using MedTransfer.Evaluation.Diagnostics;
using MedTransfer.Evaluation.Metrics;

namespace MedTransfer.Evaluation.Tests.Metrics;

/// <summary>Temperature scaling, Spearman's ρ and the negative-transfer gap pooled over seeds, on constructed data.</summary>
public sealed class CalibrationAndGapTests
{
    [Fact]
    public void FitTemperature_OverconfidentMargins_FindsTheScaleThatMadeThem()
    {
        // Labels drawn from σ(z); the model reports 3z (three times too confident): the best temperature is near 3.
        var random = new Random(4);
        int n = 4000;
        double[] z = [.. Enumerable.Range(0, n).Select(_ => (random.NextDouble() * 8) - 4)];
        int[] y = [.. z.Select(v => random.NextDouble() < 1 / (1 + Math.Exp(-v)) ? 1 : 0)];
        double[] reported = [.. z.Select(v => 3 * v)];

        double t = Calibration.FitTemperature(reported, y);

        Assert.InRange(t, 2.6, 3.4);
        double before = Calibration.BinaryEce(Calibration.ApplyTemperature(reported, 1), y).Ece;
        double after = Calibration.BinaryEce(Calibration.ApplyTemperature(reported, t), y).Ece;
        Assert.True(after < before / 2, $"ECE {before} → {after}");
        Assert.Throws<ArgumentException>(() => Calibration.FitTemperature([1.0], [1]));
    }

    [Fact]
    public void Spearman_IsOneForMonotone_MinusOneForReversed_AndHandlesTies()
    {
        Assert.Equal(1.0, RankCorrelation.Spearman([1, 2, 3, 4], [10, 20, 35, 100]), 12);
        Assert.Equal(-1.0, RankCorrelation.Spearman([1, 2, 3, 4], [4, 3, 2, 1]), 12);
        Assert.Equal([1.5, 1.5, 3.0], RankCorrelation.Ranks([5, 5, 9]));
        Assert.True(double.IsNaN(RankCorrelation.Spearman([1, 1, 1], [1, 2, 3])));
    }

    [Fact]
    public void PooledAurocGap_AgreesWithTheSeedsAndIsTighterThanOneSeed()
    {
        // 60 patients, one image each; the method separates the classes better than the baseline in every seed.
        int n = 60;
        int[] labels = [.. Enumerable.Range(0, n).Select(i => i % 2)];
        string[] patients = [.. Enumerable.Range(0, n).Select(i => "p" + i)];
        IReadOnlyList<double> Scores(double separation, int seed)
        {
            var r = new Random(seed);
            return [.. labels.Select(l => (l * separation) + r.NextDouble())];
        }

        IReadOnlyList<double>[] method = [Scores(0.6, 1), Scores(0.6, 2), Scores(0.6, 3)];
        IReadOnlyList<double>[] baseline = [Scores(0.2, 11), Scores(0.2, 12), Scores(0.2, 13)];
        var options = new BootstrapOptions { Resamples = 400, Seed = 5 };

        PooledGapResult pooled = NegativeTransfer.PooledAurocGap("source-only", method, baseline, labels, patients, options);
        NegativeTransferResult single = NegativeTransfer.AurocGap("source-only", method[0], baseline[0], labels, patients, options);

        Assert.Equal(3, pooled.PerSeedGaps.Count);
        Assert.Equal(pooled.PerSeedGaps.Average(), pooled.Gap.Value, 12);
        Assert.All(pooled.PerSeedGaps, g => Assert.True(g > 0));
        Assert.Equal(TransferVerdict.Positive, pooled.Verdict);
        Assert.True(pooled.Gap.Upper - pooled.Gap.Lower < single.Gap.Upper - single.Gap.Lower, "pooling over seeds narrows the interval");
        Assert.Throws<ArgumentException>(() => NegativeTransfer.PooledAurocGap("b", method, baseline[..2], labels, patients, options));
    }
}
