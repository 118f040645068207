using MedTransfer.Evaluation.Diagnostics;
using MedTransfer.Evaluation.Metrics;

namespace MedTransfer.Evaluation.Tests.Diagnostics;

public sealed class DiagnosticsTests
{
    [Fact]
    public void ProxyADistance_SameDistribution_IsNearZero_SeparableDomains_AreNearTwo()
    {
        double[][] a = Gaussian(200, 8, shift: 0, seed: 1);
        double[][] b = Gaussian(200, 8, shift: 0, seed: 2);
        double[][] far = Gaussian(200, 8, shift: 6, seed: 3);

        Assert.InRange(DatasetBias.ProxyADistance(a, b).Distance, 0, 0.5);
        Assert.InRange(DatasetBias.ProxyADistance(a, far).Distance, 1.9, 2.0);
    }

    [Fact]
    public void SiteProbe_SiteInTheFeatures_AucNearOne_NoSiteSignal_NearChance()
    {
        double[][] x = [.. Gaussian(150, 5, 0, 4), .. Gaussian(150, 5, 3, 5)];
        string[] sites = [.. Enumerable.Repeat("A", 150), .. Enumerable.Repeat("B", 150)];
        double[][] noise = Gaussian(300, 5, 0, 6);

        SiteProbeResult strong = DatasetBias.SiteProbe(x, sites);
        SiteProbeResult none = DatasetBias.SiteProbe(noise, sites);

        Assert.True(strong.MacroAuc > 0.97, $"AUC {strong.MacroAuc}");
        Assert.InRange(none.MacroAuc, 0.35, 0.65);
        Assert.Equal(["A", "B"], strong.PerSite.Keys);
    }

    [Fact]
    public void SiteProbe_ReportsEveryFoldInOrder_AndListeningChangesNothing()
    {
        double[][] x = [.. Gaussian(90, 4, 0, 12), .. Gaussian(90, 4, 1, 13), .. Gaussian(90, 4, 2, 14)];
        string[] sites = [.. Enumerable.Repeat("A", 90), .. Enumerable.Repeat("B", 90), .. Enumerable.Repeat("C", 90)];
        var reports = new List<(int Done, int Total)>();

        SiteProbeResult heard = DatasetBias.SiteProbe(x, sites, folds: 4, progress: new Recorder(reports));
        SiteProbeResult quiet = DatasetBias.SiteProbe(x, sites, folds: 4);

        Assert.Equal([(1, 4), (2, 4), (3, 4), (4, 4)], reports);
        Assert.Equal(quiet.PerSite, heard.PerSite);
    }

    [Fact]
    public void Bbse_TargetPredictionsFollowingTheSourceConfusion_RecoverTheTargetPrevalenceExactly()
    {
        // Source: 100 positives (80 called positive), 100 negatives (10 called positive): sens 0.8, spec 0.9.
        int[] sourceTrue = [.. Enumerable.Repeat(1, 100), .. Enumerable.Repeat(0, 100)];
        int[] sourcePred = [.. Enumerable.Repeat(1, 80), .. Enumerable.Repeat(0, 20), .. Enumerable.Repeat(1, 10), .. Enumerable.Repeat(0, 90)];
        // Target prevalence 0.2 → predicted-positive rate 0.2·0.8 + 0.8·0.1 = 0.24.
        int[] targetPred = [.. Enumerable.Repeat(1, 240), .. Enumerable.Repeat(0, 760)];

        double[] q = DatasetBias.BbseTargetDistribution(sourcePred, sourceTrue, targetPred);

        Assert.Equal(0.2, q[1], 9);
        Assert.Equal(0.8, q[0], 9);
    }

    [Fact]
    public void Verdict_SeparableSitesAndDifferentPrevalence_SaysShortcutRiskWithTheNumbers()
    {
        var probe = new SiteProbeResult(new Dictionary<string, double> { ["A"] = 0.99, ["B"] = 0.99 }, 0.99, 5);
        var prevalence = DatasetBias.PrevalenceBySite(["A", "A", "B", "B", "B", "B", "B"], [1, 0, 1, 0, 0, 0, 0]);

        string verdict = DatasetBias.Verdict(probe, prevalence);

        Assert.Equal("the model can tell the site apart from the image alone with AUC 0.99 and prevalence differs 20% vs 50%: shortcut risk", verdict);
    }

    [Fact]
    public void HScore_OneHotLabelFeatures_EqualsTheRankOfTheirCovariance()
    {
        int[] labels = [.. Enumerable.Range(0, 40).Select(i => i % 2)];
        double[][] oneHot = [.. labels.Select(y => new double[] { y == 0 ? 1 : 0, y == 1 ? 1 : 0 })];

        // cov(f) = cov(E[f|y]) of rank 1, so tr(cov⁺ cov) = 1.
        Assert.Equal(1.0, Transferability.HScore(oneHot, labels), 9);
    }

    [Fact]
    public void Estimators_RankInformativeFeaturesAboveNoise()
    {
        int[] labels = [.. Enumerable.Range(0, 200).Select(i => i % 2)];
        double[][] noise = Gaussian(200, 6, 0, 7);
        double[][] informative = [.. noise.Select((row, i) => row.Select((v, j) => j < 3 ? v + (2.5 * labels[i]) : v).ToArray())];

        Assert.True(Transferability.LogMe(informative, labels) > Transferability.LogMe(noise, labels), $"LogME {Transferability.LogMe(informative, labels)} vs {Transferability.LogMe(noise, labels)}");
        Assert.True(Transferability.HScore(informative, labels) > Transferability.HScore(noise, labels), "H-score");
        Assert.True(Transferability.Gbc(informative, labels) > Transferability.Gbc(noise, labels), "GBC");
        Assert.True(double.IsFinite(Transferability.LogMe(noise, labels)));
    }

    [Fact]
    public void TransRate_ClassesInDifferentSubspaces_RankAboveClassesSharingOne()
    {
        // TransRate compares coding rates (volumes): it rewards classes that occupy different subspaces.
        // (With global centring, a pure mean shift between equally spread classes barely changes it.)
        int[] labels = [.. Enumerable.Range(0, 200).Select(i => i % 2)];
        double[][] noise = Gaussian(200, 6, 0, 11);
        double[][] split = [.. noise.Select((row, i) => row.Select((v, j) => (j < 3) == (labels[i] == 0) ? v : 0.01 * v).ToArray())];

        double separated = Transferability.TransRate(split, labels);
        double shared = Transferability.TransRate(noise, labels);

        Assert.True(separated > shared + 1, $"TransRate {separated} vs {shared}");
    }

    [Fact]
    public void Gbc_IdenticalClasses_IsMinusTheNumberOfOrderedPairs_SeparatedClasses_NearZero()
    {
        int[] labels = [.. Enumerable.Range(0, 300).Select(i => i % 3)];
        double[][] same = [.. labels.Select(y => new double[] { 1, 2 })];
        double[][] apart = [.. labels.Select((y, i) => new double[] { (100 * y) + Math.Sin(i), Math.Cos(i) })];

        Assert.Equal(-6.0, Transferability.Gbc(same, labels), 6);
        Assert.InRange(Transferability.Gbc(apart, labels), -1e-6, 0);
    }

    [Fact]
    public void NegativeTransfer_VerdictFollowsTheInterval()
    {
        string[] patients = [.. Enumerable.Range(0, 120).Select(i => $"P{i}")];
        int[] labels = [.. Enumerable.Range(0, 120).Select(i => i % 2)];
        double[] good = [.. labels.Select((y, i) => y + (0.3 * Math.Sin(i * 3.7)))];
        double[] poor = [.. labels.Select((y, i) => (0.2 * y) + Math.Sin(i * 3.7))];
        var options = new BootstrapOptions { Resamples = 400 };

        NegativeTransferResult better = NegativeTransfer.AurocGap("source-only", good, poor, labels, patients, options);
        NegativeTransferResult worse = NegativeTransfer.AurocGap("source-only", poor, good, labels, patients, options);
        NegativeTransferResult same = NegativeTransfer.AurocGap("source-only", good, good, labels, patients, options);

        Assert.Equal(TransferVerdict.Positive, better.Verdict);
        Assert.Equal(TransferVerdict.Negative, worse.Verdict);
        Assert.Equal(TransferVerdict.None, same.Verdict);
    }

    [Fact]
    public void ShiftMonitor_OneDimension_DistanceByHand_AndCalibratedFlagRate()
    {
        ShiftMonitor exact = ShiftMonitor.Fit([[-1.0], [1.0]], [[0.0], [0.5]], quantile: 0.5, shrinkage: 0);

        // mean 0, sample variance 2 → distance of 2 is 2 / √2.
        Assert.Equal(Math.Sqrt(2), exact.Score([2.0]), 9);

        double[][] train = Gaussian(500, 4, 0, 8);
        double[][] heldOut = Gaussian(500, 4, 0, 9);
        double[][] fresh = Gaussian(2000, 4, 0, 10);
        ShiftMonitor monitor = ShiftMonitor.Fit(train, heldOut, quantile: 0.95);
        double flagged = fresh.Count(monitor.IsShifted) / (double)fresh.Length;

        Assert.InRange(flagged, 0.02, 0.09);
        Assert.True(monitor.IsShifted([10, 10, 10, 10]));
    }

    [Fact]
    public void LogisticRegression_SeparableData_ClassifiesPerfectly_SymmetricData_GivesOneHalfAtTheCentre()
    {
        double[][] x = [[-2.0], [-1.0], [1.0], [2.0]];
        int[] y = [0, 0, 1, 1];

        LogisticRegression model = LogisticRegression.Fit(x, y);
        double[] p = model.PredictProbability([[-3.0], [0.0], [3.0]]);

        Assert.True(p[0] < 0.2 && p[2] > 0.8);
        Assert.Equal(0.5, p[1], 9);
    }

    /// <summary>Records on the calling thread (System.Progress would post to the thread pool and race the assertion).</summary>
    private sealed class Recorder(List<(int Done, int Total)> reports) : IProgress<(int Done, int Total)>
    {
        public void Report((int Done, int Total) value) => reports.Add(value);
    }

    private static double[][] Gaussian(int n, int d, double shift, int seed)
    {
        var rng = new MathNet.Numerics.Random.Xoshiro256StarStar(seed, false);
        var normal = new MathNet.Numerics.Distributions.Normal(0, 1, rng);
        return [.. Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, d).Select(_ => normal.Sample() + shift).ToArray())];
    }
}
