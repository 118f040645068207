using MedTransfer.Evaluation.Metrics;

namespace MedTransfer.Evaluation.Tests.Metrics;

public sealed class PatientBootstrapTests
{
    private static readonly string[] s_patients = [.. Enumerable.Range(0, 60).Select(i => $"P{i / 2}")];
    private static readonly int[] s_labels = [.. Enumerable.Range(0, 60).Select(i => (i / 2) % 3 == 0 ? 1 : 0)];
    private static readonly double[] s_scores = [.. Enumerable.Range(0, 60).Select(i => s_labels[i] + (0.9 * Math.Sin(i * 7.1)))];

    [Fact]
    public void Auroc_SameSeed_SameInterval_AndTheIntervalHoldsThePointEstimate()
    {
        var options = new BootstrapOptions { Resamples = 500, Seed = 3 };

        Estimate a = PatientBootstrap.Auroc(s_scores, s_labels, s_patients, options);
        Estimate b = PatientBootstrap.Auroc(s_scores, s_labels, s_patients, options);

        Assert.Equal(a, b);
        Assert.InRange(a.Value, a.Lower, a.Upper);
        Assert.Equal(Auroc.Compute(s_scores, s_labels), a.Value);
    }

    [Fact]
    public void Run_DrawsWholePatients_NeverSingleImages()
    {
        // Every patient has exactly two images, so every resample has an even number of samples.
        Estimate parity = PatientBootstrap.Run(s_patients, s_labels, idx => idx.Length % 2, new BootstrapOptions { Resamples = 300 });

        Assert.Equal(0, parity.Lower);
        Assert.Equal(0, parity.Upper);
    }

    [Fact]
    public void Run_StratifiesByClass_SoEveryResampleKeepsThePositivePatientCount()
    {
        int positivesInData = s_labels.Sum();
        Estimate positives = PatientBootstrap.Run(s_patients, s_labels, idx => idx.Sum(i => s_labels[i]), new BootstrapOptions { Resamples = 300 });

        Assert.Equal(positivesInData, positives.Lower);
        Assert.Equal(positivesInData, positives.Upper);
    }

    [Fact]
    public void PairedDifference_SameModelTwice_IsExactlyZero()
    {
        Estimate d = PatientBootstrap.PairedDifference(s_scores, s_scores, s_labels, s_patients, (s, y) => Auroc.Compute(s, y), new BootstrapOptions { Resamples = 200 });

        Assert.Equal((0.0, 0.0, 0.0), (d.Value, d.Lower, d.Upper));
        Assert.False(d.ClearlyPositive || d.ClearlyNegative);
    }

    [Fact]
    public void Run_StatisticUndefinedOnTheData_Throws()
    {
        Assert.Throws<MetricUndefinedException>(() =>
            PatientBootstrap.Auroc([0.1, 0.2], [1, 1], ["a", "b"], new BootstrapOptions { Resamples = 50 }));
    }
}

public sealed class SubgroupsTests
{
    [Fact]
    public void Auroc_PerSite_GivesIntervalsAndFlagsTheWeakSite()
    {
        int n = 240;
        string[] sites = [.. Enumerable.Range(0, n).Select(i => i < 120 ? "A" : "B")];
        string[] patients = [.. Enumerable.Range(0, n).Select(i => $"P{i / 2}")];
        int[] labels = [.. Enumerable.Range(0, n).Select(i => (i / 2) % 2)];
        // Site A: well separated; site B: mostly noise.
        double[] scores = [.. Enumerable.Range(0, n).Select(i => (sites[i] == "A" ? 2.0 : 0.1) * labels[i] + Math.Sin(i * 12.9898))];

        IReadOnlyList<GroupResult> r = Subgroups.Auroc(scores, labels, patients, sites, new BootstrapOptions { Resamples = 300 });

        Assert.Equal(["A", "B"], r.Select(g => g.Group));
        Assert.True(r[0].Metric!.Value > r[1].Metric!.Value);
        Assert.True(r[0].DifferenceFromRest!.ClearlyPositive);
        Assert.True(r[1].DifferenceFromRest!.ClearlyNegative);
        Assert.Equal(120, r[0].Samples);
    }

    [Fact]
    public void Auroc_GroupWithOneClass_ReportsWhyInsteadOfFailing()
    {
        string[] groups = ["M", "M", "M", "M", "F", "F"];
        string[] patients = ["1", "2", "3", "4", "5", "6"];
        int[] labels = [0, 1, 0, 1, 1, 1];
        double[] scores = [0.1, 0.9, 0.2, 0.8, 0.7, 0.6];

        IReadOnlyList<GroupResult> r = Subgroups.Auroc(scores, labels, patients, groups, new BootstrapOptions { Resamples = 100 });

        GroupResult f = r.Single(g => g.Group == "F");
        Assert.Null(f.Metric);
        Assert.Contains("both classes", f.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void MacroAurocAndF1_ByHand()
    {
        double[][] p = [[0.6, 0.3, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.6, 0.3, 0.1]];
        int[] y = [0, 1, 2, 1];

        // Class 0: the positive (0.6) beats 0.1, 0.1 and ties 0.6 → 2.5/3.
        // Class 1: positives 0.8, 0.3 against negatives 0.3, 0.1 → (1 + 1 + ½ + 1)/4 = 3.5/4. Class 2: 1.
        Assert.Equal(((2.5 / 3) + (3.5 / 4) + 1) / 3, Subgroups.MacroAuroc(p, y), 12);
        // predicted 0,1,2,0 → class 0: tp1 fp1 fn0 → 2/3; class 1: tp1 fp0 fn1 → 2/3; class 2: 1.
        Assert.Equal(((2.0 / 3) + (2.0 / 3) + 1) / 3, Subgroups.MacroF1([0, 1, 2, 0], y), 12);
    }
}
