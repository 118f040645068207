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
