using MedTransfer.Bench.Diagnostics;

namespace MedTransfer.Bench.Tests.Diagnostics;

public sealed class DiagnosticsBenchmarkTests
{
    [Fact]
    public void Generate_SameSeed_SameFeatures_OtherSeed_OtherFeatures()
    {
        DiagnosticsWorkload a = DiagnosticsWorkload.Generate(90, 16, seed: 3);
        DiagnosticsWorkload b = DiagnosticsWorkload.Generate(90, 16, seed: 3);
        DiagnosticsWorkload c = DiagnosticsWorkload.Generate(90, 16, seed: 4);

        Assert.Equal(a.Rows.SelectMany(r => r), b.Rows.SelectMany(r => r));
        Assert.Equal(a.Labels, b.Labels);
        Assert.NotEqual(a.Rows[0], c.Rows[0]);
        Assert.Equal(["A", "B", "C"], a.Sites.Distinct());
        Assert.All(a.Rows, r => Assert.All(r, v => Assert.True(v > 0)));
    }

    [Fact]
    public void Run_TimesEveryDiagnosticInOrder_AndReportsEachAsItStarts()
    {
        var started = new List<string>();

        DiagnosticsMeasurement m = DiagnosticsBenchmark.Run(DiagnosticsWorkload.Generate(150, 12, seed: 5), new Recorder(started));

        string[] expected = ["LogME", "H-score", "GBC", "TransRate", "site probe (5-fold)", "proxy A-distance", "BBSE", "PCA (2 components)"];
        Assert.Equal(expected, m.Timings.Select(t => t.Name));
        Assert.Equal(expected, started);
        Assert.All(m.Timings, t => Assert.True(t.Seconds >= 0 && t.Value.Length > 0, t.Name));
        Assert.Equal(m.Timings.Sum(t => t.Seconds), m.TotalSeconds, 12);
        Assert.Equal((150, 12), (m.Rows, m.Dimensions));
    }

    /// <summary>Records synchronously (System.Progress would post to the thread pool and race the assertion).</summary>
    private sealed class Recorder(List<string> names) : IProgress<string>
    {
        public void Report(string value) => names.Add(value);
    }
}
