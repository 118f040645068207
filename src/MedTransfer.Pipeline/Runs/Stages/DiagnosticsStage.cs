using MedTransfer.Evaluation.Diagnostics;
using MedTransfer.Training.Backbones;
using MedTransfer.Training.Configuration;
using MedTransfer.Training.FineTuning;
using MedTransfer.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MedTransfer.Pipeline.Runs.Stages;

/// <summary>The pretrained backbone's features of every partition and what they say before any training.</summary>
internal sealed class PretrainedDiagnostics
{
    public required IReadOnlyDictionary<string, double[][]> Features { get; init; }

    public required IReadOnlyList<TransferabilityScores> Transferability { get; init; }

    public required SiteProbeResult SiteProbe { get; init; }

    public required ProxyADistanceResult SourceVsTarget { get; init; }

    public required IReadOnlyDictionary<string, double> Prevalence { get; init; }
}

/// <summary>
/// Stage 2 of a run: the starting backbone's pooled features of every partition (computed once into the run's
/// <see cref="ActivationCache"/>, where the frozen-backbone training runs find them again), then transferability
/// estimates, the site probe, the proxy A-distance between source and target, and the prevalence per site.
/// </summary>
internal static class DiagnosticsStage
{
    public static PretrainedDiagnostics Run(FineTuneConfig startingPoint, RunSets sets, ActivationCache cache, Device device, IProgress<RunProgress>? progress)
    {
        using TransferModel model = TransferModel.Create(startingPoint);
        model.to(device);
        BackboneCut cut = model.Features.Backbone.CutBefore(TrainableFromNames.Head)!;
        var features = new Dictionary<string, double[][]>(StringComparer.Ordinal);
        foreach ((string name, var set) in sets.All)
        {
            var relay = progress is null ? null : new Relay<(int Done, int Total)>(p => progress.Report(new RunProgress("features", p.Done, p.Total, name)));
            CachedActivations? shared = cache.Get(model, cut, set, device, relay);
            if (shared is not null)
            {
                features[name] = Rows(shared.Activations);
                continue;
            }

            // Over the shared cache's budget: computed for the diagnostics only, then freed.
            using var once = new ActivationCache(long.MaxValue, cache.Store);
            features[name] = Rows(once.Get(model, cut, set, device, relay)!.Activations);
        }

        // One report as each step starts, so run.log and the progress bar show where the diagnostics are: four
        // scores per labelled partition, the site probe fold by fold, the A-distance.
        (string Partition, string Name, IReadOnlyList<int> Labels)[] labelled =
            [.. new (string Partition, string Name, IReadOnlyList<int> Labels)[] { ("source-train", "source-train", sets.SourceTrain.Labels), ("target-test (oracle: uses target labels)", "target-test", sets.TargetTest.Labels) }
                .Where(p => p.Labels.Contains(0) && p.Labels.Contains(1))];
        const int folds = 5;
        int total = (4 * labelled.Length) + folds + 1;
        int done = 0;
        T Step<T>(string detail, Func<T> diagnostic)
        {
            progress?.Report(new RunProgress("diagnostics", done, total, detail));
            T value = diagnostic();
            done++;
            return value;
        }

        var transferability = new List<TransferabilityScores>();
        foreach ((string partition, string name, IReadOnlyList<int> labels) in labelled)
        {
            double[][] x = features[name];
            double logMe = Step($"LogME on {name}", () => Transferability.LogMe(x, labels));
            double hScore = Step($"H-score on {name}", () => Transferability.HScore(x, labels));
            double gbc = Step($"GBC on {name}", () => Transferability.Gbc(x, labels));
            double transRate = Step($"TransRate on {name}", () => Transferability.TransRate(x, labels));
            transferability.Add(new TransferabilityScores(partition, x.Length, logMe, hScore, gbc, transRate));
        }

        double[][] all = [.. sets.Distinct.SelectMany(s => features[s.Name])];
        string[] sites = [.. sets.Distinct.SelectMany(s => s.Set.Domains)];
        int probeStart = done;
        var folded = progress is null ? null : new Relay<(int Done, int Total)>(p =>
        {
            if (p.Done < p.Total)
            {
                progress.Report(new RunProgress("diagnostics", probeStart + p.Done, total, $"site probe fold {p.Done + 1}/{p.Total}"));
            }
        });
        progress?.Report(new RunProgress("diagnostics", done, total, $"site probe fold 1/{folds}"));
        SiteProbeResult probe = DatasetBias.SiteProbe(all, sites, folds, seed: 1, folded);
        done += folds;
        double[][] source = [.. sets.Distinct.Where(s => s.Name.StartsWith("source", StringComparison.Ordinal)).SelectMany(s => features[s.Name])];
        double[][] target = [.. sets.Distinct.Where(s => s.Name.StartsWith("target", StringComparison.Ordinal)).SelectMany(s => features[s.Name])];
        ProxyADistanceResult aDistance = Step("proxy A-distance", () => DatasetBias.ProxyADistance(source, target, seed: 1));
        progress?.Report(new RunProgress("diagnostics", total, total, "done"));
        return new PretrainedDiagnostics
        {
            Features = features,
            Transferability = transferability,
            SiteProbe = probe,
            SourceVsTarget = aDistance,
            Prevalence = DatasetBias.PrevalenceBySite(sites, [.. sets.Distinct.SelectMany(s => s.Set.Labels)]),
        };
    }

    internal static double[][] Rows(Tensor t)
    {
        using Tensor d = t.to(ScalarType.Float64).cpu().contiguous();
        double[] flat = d.data<double>().ToArray();
        int dim = (int)t.shape[1];
        return [.. Enumerable.Range(0, (int)t.shape[0]).Select(i => flat.AsSpan(i * dim, dim).ToArray())];
    }

    private sealed class Relay<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
