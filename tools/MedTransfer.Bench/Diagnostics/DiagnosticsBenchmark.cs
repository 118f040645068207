using System.Diagnostics;
using System.Globalization;
using MedTransfer.Evaluation.Diagnostics;
using MedTransfer.Evaluation.Features;

namespace MedTransfer.Bench.Diagnostics;

/// <summary>One diagnostic's wall time and what it computed.</summary>
/// <param name="Name">The diagnostic, e.g. "site probe (5-fold)".</param>
/// <param name="Seconds">Wall time of one call.</param>
/// <param name="Value">Its result in words, so runs before and after a change can be compared.</param>
public sealed record DiagnosticTiming(string Name, double Seconds, string Value);

/// <summary>The timings of every diagnostic on one workload.</summary>
/// <param name="Rows">Feature rows.</param>
/// <param name="Dimensions">Feature columns.</param>
/// <param name="Threads">Processors the runtime could use.</param>
/// <param name="Timings">One entry per diagnostic, in the order run.</param>
public sealed record DiagnosticsMeasurement(int Rows, int Dimensions, int Threads, IReadOnlyList<DiagnosticTiming> Timings)
{
    /// <summary>Sum of the diagnostics' wall times.</summary>
    public double TotalSeconds => Timings.Sum(t => t.Seconds);
}

/// <summary>
/// `medtransfer bench diagnostics`: wall time of each diagnostic a run computes on the starting backbone's features
/// (LogME, H-score, GBC, TransRate, the 5-fold site probe, the proxy A-distance between site A and the others, BBSE)
/// and of the PCA behind the report's embedding plot, on a <see cref="DiagnosticsWorkload"/>. Each is called once,
/// after an untimed pass on a small matrix so that JIT compilation is not counted.
/// </summary>
public static class DiagnosticsBenchmark
{
    /// <summary>Times every diagnostic on <paramref name="workload"/>; <paramref name="progress"/> hears the name of each as it starts.</summary>
    public static DiagnosticsMeasurement Run(DiagnosticsWorkload workload, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(workload);
        MeasureAll(DiagnosticsWorkload.Generate(60, 8, 1), null);
        IReadOnlyList<DiagnosticTiming> timings = MeasureAll(workload, progress);
        return new DiagnosticsMeasurement(workload.Rows.Length, workload.Rows[0].Length, Environment.ProcessorCount, timings);
    }

    private static List<DiagnosticTiming> MeasureAll(DiagnosticsWorkload w, IProgress<string>? progress)
    {
        double[][] x = w.Rows;
        int[] y = w.Labels;
        double[][] siteA = [.. x.Where((_, i) => w.Sites[i] == "A")];
        double[][] others = [.. x.Where((_, i) => w.Sites[i] != "A")];
        (int[] sourcePredicted, int[] sourceTrue, int[] targetPredicted) = BbseInputs(w);
        var timings = new List<DiagnosticTiming>();
        void Time(string name, Func<string> diagnostic)
        {
            progress?.Report(name);
            var clock = Stopwatch.StartNew();
            string value = diagnostic();
            timings.Add(new DiagnosticTiming(name, clock.Elapsed.TotalSeconds, value));
        }

        Time("LogME", () => Number(Transferability.LogMe(x, y)));
        Time("H-score", () => Number(Transferability.HScore(x, y)));
        Time("GBC", () => Number(Transferability.Gbc(x, y)));
        Time("TransRate", () => Number(Transferability.TransRate(x, y)));
        Time("site probe (5-fold)", () =>
        {
            SiteProbeResult probe = DatasetBias.SiteProbe(x, w.Sites, folds: 5, seed: 1);
            return "macro AUC " + Number(probe.MacroAuc) + " (" + string.Join(", ", probe.PerSite.Select(p => p.Key + " " + Number(p.Value))) + ")";
        });
        Time("proxy A-distance", () =>
        {
            ProxyADistanceResult d = DatasetBias.ProxyADistance(siteA, others, seed: 1);
            return Number(d.Distance) + " (held-out error " + Number(d.HeldOutError) + ")";
        });
        Time("BBSE", () => "target prevalence " + Number(DatasetBias.BbseTargetDistribution(sourcePredicted, sourceTrue, targetPredicted)[1]));
        Time("PCA (2 components)", () =>
        {
            (_, double[] explained) = Pca.Project(x, 2);
            return "explained " + Number(explained[0]) + ", " + Number(explained[1]);
        });
        return timings;
    }

    /// <summary>
    /// BBSE's inputs as a run has them: site A is the labelled source, sites B and C the target; the predictions are
    /// the labels with every fifth positive and every tenth negative flipped (a classifier of known confusion).
    /// </summary>
    private static (int[] SourcePredicted, int[] SourceTrue, int[] TargetPredicted) BbseInputs(DiagnosticsWorkload w)
    {
        int[] predicted = [.. w.Labels.Select((label, i) => (i / 3 % (label == 1 ? 5 : 10)) == 0 ? 1 - label : label)];
        int[] source = [.. Enumerable.Range(0, w.Labels.Length).Where(i => w.Sites[i] == "A")];
        int[] target = [.. Enumerable.Range(0, w.Labels.Length).Where(i => w.Sites[i] != "A")];
        return ([.. source.Select(i => predicted[i])], [.. source.Select(i => w.Labels[i])], [.. target.Select(i => predicted[i])]);
    }

    private static string Number(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
