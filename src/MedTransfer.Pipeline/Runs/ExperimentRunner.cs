using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using MedTransfer.Evaluation.Diagnostics;
using MedTransfer.Evaluation.Features;
using MedTransfer.Evaluation.Metrics;
using MedTransfer.Imaging.Index;
using MedTransfer.Imaging.Normalization;
using MedTransfer.Imaging.Splits;
using MedTransfer.Pipeline.Ingest;
using MedTransfer.Pipeline.Evaluate;
using MedTransfer.Pipeline.Protocols;
using MedTransfer.Pipeline.Sharding;
using MedTransfer.Pipeline.Sweeps;
using MedTransfer.Training.Adaptation;
using MedTransfer.Training.Backbones;
using MedTransfer.Training.Configuration;
using MedTransfer.Training.Data;
using MedTransfer.Training.Export;
using MedTransfer.Training.Models;
using MedTransfer.Training.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace MedTransfer.Pipeline.Runs;

/// <summary>Progress of a run, for the CLI's progress bars.</summary>
/// <param name="Stage">"index", "normalize", "features", "train", "evaluate", "report".</param>
/// <param name="Done">Units done in this stage.</param>
/// <param name="Total">Units in this stage.</param>
/// <param name="Detail">What is happening (method, seed, loss).</param>
public sealed record RunProgress(string Stage, int Done, int Total, string? Detail);

/// <summary>Options of <see cref="ExperimentRunner.Run"/>.</summary>
/// <param name="OutputDirectory">The run folder.</param>
/// <param name="Device">"auto", "cpu" or "cuda"; null = the protocol's.</param>
/// <param name="CodeVersion">MedTransfer version/commit recorded in outputs.</param>
public sealed record RunOptions(string OutputDirectory, string? Device = null, string CodeVersion = "unknown");

/// <summary>What a run wrote and found.</summary>
/// <param name="Results">The measurements.</param>
/// <param name="Evaluation">Full evaluation of the selected model on the target test partition.</param>
/// <param name="Rows">Its prediction rows.</param>
/// <param name="Quarantined">Inputs that could not be used, with reasons (the run went on without them).</param>
/// <param name="OutputDirectory">The run folder.</param>
public sealed record RunOutcome(RunResults Results, EvaluationResult Evaluation, IReadOnlyList<PredictionRow> Rows, IReadOnlyList<string> Quarantined, string OutputDirectory);

/// <summary>
/// The main job: index → split by patient → normalize → backbone features → transferability and bias
/// diagnostics → every baseline and adaptation method over every seed (one code path,
/// <see cref="AdaptationTrainer"/>) → checkpoint selection → evaluation with CIs, negative-transfer
/// gaps → exported ONNX model. The caller writes the report from the <see cref="RunOutcome"/>.
/// Under the <c>feature-extraction</c> strategy the backbone is frozen and its features are computed once;
/// the bottleneck and classifier are trained (what makes the CPU-sized default finish in minutes);
/// under <c>full</c> the whole network trains on images.
/// </summary>
public static class ExperimentRunner
{
    private const int SelectionSnapshots = 4;

    /// <summary>Runs a protocol.</summary>
    /// <exception cref="ProtocolException">The protocol asks for something a run cannot do (message says what).</exception>
    public static RunOutcome Run(ExperimentProtocol protocol, RunOptions options, IProgress<RunProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(options);
        var wall = Stopwatch.StartNew();
        (Device device, ConcurrentBag<string> quarantine, List<ManifestRow> rows, Sets sets, XrayRecipe recipe, int size, Dictionary<string, Tensor> features) =
            Prepare(protocol, options, progress, cancellationToken);
        var transferability = Transferability(sets, features);
        double[][] all = [.. sets.All.SelectMany(s => ToRows(features[s.Name]))];
        string[] allSites = [.. sets.All.SelectMany(s => s.Set.Domains)];
        SiteProbeResult probe = DatasetBias.SiteProbe(all, allSites, folds: 5, seed: 1);
        double[][] sourceRows = [.. ToRows(features["source-train"]), .. ToRows(features["source-test"])];
        double[][] targetRows = [.. ToRows(features["target-train"]), .. ToRows(features["target-test"])];
        ProxyADistanceResult aDistance = DatasetBias.ProxyADistance(sourceRows, targetRows, seed: 1);
        IReadOnlyDictionary<string, double> prevalence = DatasetBias.PrevalenceBySite(allSites, [.. sets.All.SelectMany(s => s.Set.Labels)]);

        // 4. Every method over every seed.
        string[] methods = [.. protocol.Baselines.Select(ProtocolNames.Of), .. protocol.Adaptation.Methods.Select(m => ProtocolNames.Of(m.Method))];
        methods = [.. methods.Distinct(StringComparer.Ordinal)];
        var runs = new List<MethodSeedResult>();
        var kept = new Dictionary<(string, int), TrainedRun>();
        int total = methods.Length * protocol.Seeds.Count;
        int done = 0;
        foreach (int seed in protocol.Seeds)
        {
            foreach (string method in methods)
            {
                cancellationToken.ThrowIfCancellationRequested();
                progress?.Report(new RunProgress("train", done, total, $"{method}, seed {seed}"));
                TrainedRun trained = TrainOne(protocol, method, seed, sets, features, device, progress, done, total, cancellationToken);
                runs.Add(trained.Result);
                if (seed == protocol.Seeds[0])
                {
                    kept[(method, seed)] = trained;
                }
                else
                {
                    trained.Dispose();
                }

                done++;
                progress?.Report(new RunProgress("train", done, total, string.Create(CultureInfo.InvariantCulture, $"{method}, seed {seed}: target AUROC {trained.Result.TargetAuroc:F3}")));
            }
        }

        // 5. Summaries, the selected model, negative transfer.
        var summary = methods.Select(m => Summarize(m, runs.Where(r => r.Method == m).ToList())).ToList();
        string selected = protocol.Adaptation.Methods.Count > 0 ? ProtocolNames.Of(protocol.Adaptation.Methods[0].Method) : methods[0];
        int firstSeed = protocol.Seeds[0];
        TrainedRun chosen = kept[(selected, firstSeed)];
        var bootstrap = new BootstrapOptions { Resamples = protocol.Evaluation.Bootstrap, Confidence = protocol.Evaluation.Ci, Seed = 1 };
        ImageSet targetTest = sets.Get("target-test");
        var negative = new List<NegativeTransferEntry>();
        foreach (string method in protocol.Adaptation.Methods.Select(m => ProtocolNames.Of(m.Method)))
        {
            foreach (string baseline in protocol.Baselines.Select(ProtocolNames.Of))
            {
                if (kept.TryGetValue((method, firstSeed), out TrainedRun? a) && kept.TryGetValue((baseline, firstSeed), out TrainedRun? b) && HasBothClasses(targetTest.Labels))
                {
                    negative.Add(new NegativeTransferEntry(method, NegativeTransfer.AurocGap(baseline, a.TargetScores, b.TargetScores, targetTest.Labels, targetTest.Groups, bootstrap)));
                }
            }
        }

        // BBSE: source-only's confusion on source validation, applied to its target predictions.
        double[] bbse = [];
        if (kept.TryGetValue(("source-only", firstSeed), out TrainedRun? sourceOnly))
        {
            int[] Predicted(IReadOnlyList<double> s) => [.. s.Select(v => v >= 0.5 ? 1 : 0)];
            bbse = DatasetBias.BbseTargetDistribution(Predicted(sourceOnly.SourceValScores), sets.Get("source-val").Labels, Predicted(sourceOnly.TargetScores), 2);
        }

        string verdict = DatasetBias.Verdict(probe, prevalence);
        var bias = new FeatureBias(probe, aDistance, prevalence, bbse, verdict);

        // 6. Embeddings before and after adaptation (test partitions of source and target).
        var embeddings = new List<EmbeddingPoints>
        {
            Embed("pretrained backbone", [.. ToRows(features["source-test"]), .. ToRows(features["target-test"])], sets),
            Embed($"{selected}, seed {firstSeed}", [.. chosen.SourceTestFeatures, .. chosen.TargetTestFeatures], sets),
        };

        // 7. Shortcut check of the selected model on target test images.
        ShortcutCheckResult? shortcut = null;
        if (HasBothClasses(targetTest.Labels))
        {
            progress?.Report(new RunProgress("evaluate", 0, 1, "shortcut check (border/centre masking, occlusion)"));
            shortcut = ShortcutCheck.Run(
                [.. Enumerable.Range(0, targetTest.Count).Select(i => targetTest.Pixels(i).ToArray())], 1, size, size, targetTest.Labels,
                batch => ScoreImages(chosen, batch, size, device), targetTest.Groups,
                new ShortcutCheckOptions { OcclusionGrid = 6, OcclusionImages = 12, Fill = MaskFill.DatasetMean, Bootstrap = bootstrap with { Resamples = Math.Min(bootstrap.Resamples, 500) } });
        }

        // 8. Full evaluation of the selected model on the target test partition.
        var predictionRows = PredictionRows(targetTest, chosen.TargetScores, rows, protocol);
        EvaluationResult evaluation = PredictionEvaluation.Evaluate(predictionRows, new EvaluationOptions { Bootstrap = bootstrap });

        // 9. Export the selected model with its recipe and shift monitor.
        ShiftMonitor monitor = ShiftMonitor.Fit([.. chosen.SourceTrainFeatures], [.. chosen.SourceValFeatures]);
        bool isMri = protocol.Data.Modality == ProtocolModality.Mri;
        var metadata = new ExportMetadata(["negative", "positive"], 1, isMri ? "mri" : "xray", isMri ? (protocol.Preprocessing.Mri ?? new MriRecipe()).ToJson() : recipe.ToJson(), monitor.ToJson(), protocol.ComputeHash(), firstSeed, options.CodeVersion);
        ModelExporter.Save(chosen.Model, metadata, Path.Combine(options.OutputDirectory, "model", "model.onnx"), channels: isMri ? 1 : recipe.Channels);

        WritePredictions(Path.Combine(options.OutputDirectory, "predictions.csv"), predictionRows);
        var results = new RunResults(
            protocol.Name,
            protocol.ComputeHash(),
            device.ToString(),
            device.type == DeviceType.CPU,
            selected,
            runs,
            summary,
            negative,
            transferability,
            bias,
            embeddings,
            shortcut,
            new Manifest(rows).ManifestHash,
            wall.Elapsed.TotalSeconds);

        foreach (Tensor t in features.Values)
        {
            t.Dispose();
        }

        foreach (TrainedRun r in kept.Values)
        {
            r.Dispose();
        }

        return new RunOutcome(results, evaluation, predictionRows, [.. quarantine.Order(StringComparer.Ordinal)], options.OutputDirectory);
    }

    private static (Device Device, ConcurrentBag<string> Quarantine, List<ManifestRow> Rows, Sets Sets, XrayRecipe Recipe, int Size, Dictionary<string, Tensor> Features) Prepare(
        ExperimentProtocol protocol, RunOptions options, IProgress<RunProgress>? progress, CancellationToken cancellationToken)
    {
        CheckSupported(protocol);
        TorchRuntime.EnsureAvailable();
        Device device = TorchRuntime.SelectDevice(options.Device ?? protocol.Device);
        Directory.CreateDirectory(options.OutputDirectory);
        var quarantine = new ConcurrentBag<string>();

        // 1. Index and split by patient, source and target separately.
        Manifest manifest = Index(protocol, progress, quarantine, cancellationToken);
        XrayRecipe recipe = protocol.Preprocessing.Xray ?? new XrayRecipe();
        bool mri = protocol.Data.Modality == ProtocolModality.Mri;
        int size = mri ? protocol.Preprocessing.MriSliceSize : recipe.Resize.Size;

        // 2. Normalize every image once (single channel; the backbone replicates it). MR rows are slices
        //    of series: each gets its own slice of the z-scored volume (MriSlices).
        var mriQuarantine = new List<string>();
        var images = mri
            ? MriSlices.Normalize(manifest.Rows, [.. protocol.Data.Sources.Select(s => s.FullPath)], protocol.Preprocessing.Mri ?? new MriRecipe(), size,
                new Relay<(int Done, int Total)>(p => progress?.Report(new RunProgress("normalize", p.Done, p.Total, "MR series"))), mriQuarantine, cancellationToken)
            : Normalize(manifest, protocol, recipe, progress, quarantine, cancellationToken);
        foreach (string q in mriQuarantine)
        {
            quarantine.Add(q);
        }

        var rows = manifest.Rows.Where(r => images.ContainsKey(r.Id)).ToList();
        Sets sets = BuildSets(rows, images, size, protocol);
        ManifestFile.Save(new Manifest(rows), Path.Combine(options.OutputDirectory, "manifest.csv"));

        // 3. Pretrained features (frozen backbone), diagnostics before training.
        var baseConfig = FineTuneFor(protocol, seed: protocol.Seeds[0], scratch: false);
        using TransferModel pretrained = TransferModel.Create(baseConfig);
        pretrained.to(device);
        var features = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach ((string name, ImageSet set) in sets.All)
        {
            features[name] = BackboneFeatures(pretrained, set, device, progress, name);
        }

        return (device, quarantine, rows, sets, recipe, size, features);
    }

    /// <summary>
    /// Runs one shard of the protocol's sweep (<see cref="SweepPlan"/>: baselines and methods × seeds,
    /// partitioned by <paramref name="shard"/>) and writes one result file per item into
    /// <c>OUT/items/</c>, for <c>medtransfer protocol merge</c>. Diagnostics, the full evaluation and
    /// the export belong to unsharded runs.
    /// </summary>
    /// <returns>The result files written.</returns>
    public static IReadOnlyList<string> RunShard(ExperimentProtocol protocol, RunOptions options, ShardSpec shard, IProgress<RunProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(shard);
        SweepPlan plan = SweepPlan.Expand(protocol);
        IReadOnlyList<WorkItem> items = plan.ForShard(shard);
        (Device device, _, _, Sets sets, _, _, Dictionary<string, Tensor> features) = Prepare(protocol, options, progress, cancellationToken);
        var written = new List<string>();
        string folder = Path.Combine(options.OutputDirectory, "items");
        try
        {
            for (int i = 0; i < items.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                WorkItem item = items[i];
                using TrainedRun run = TrainOne(protocol, item.MethodName, item.Seed, sets, features, device, progress, i, items.Count, cancellationToken);
                var metrics = new Dictionary<string, double>(StringComparer.Ordinal)
                {
                    ["target_auroc"] = run.Result.TargetAuroc,
                    ["source_auroc"] = run.Result.SourceAuroc,
                    ["target_accuracy"] = run.Result.TargetAccuracy,
                };
                var details = new System.Text.Json.Nodes.JsonObject { ["selected_by"] = run.Result.SelectedBy, ["is_oracle"] = run.Result.IsOracle, ["steps"] = run.Result.Steps };
                written.Add(SweepResults.WriteItem(folder, plan, item, metrics, details));
                progress?.Report(new RunProgress("train", i + 1, items.Count, string.Create(CultureInfo.InvariantCulture, $"{item.Id}: target AUROC {run.Result.TargetAuroc:F3}")));
            }
        }
        finally
        {
            foreach (Tensor t in features.Values)
            {
                t.Dispose();
            }
        }

        return written;
    }

    private static void CheckSupported(ExperimentProtocol protocol)
    {
        if (protocol.Model.Strategy is not (FineTuningStrategy.FeatureExtraction or FineTuningStrategy.Full))
        {
            throw Unsupported("model.strategy", $"`medtransfer run` trains every method through the adaptation trainer, which supports 'feature-extraction' and 'full'; '{ProtocolNames.Of(protocol.Model.Strategy)}' is available to fine-tuning without adaptation (FineTuneTrainer).");
        }

        if (protocol.Model.Strategy == FineTuningStrategy.FeatureExtraction && protocol.Model.Head == HeadKind.Linear && protocol.Adaptation.Methods.Count > 0)
        {
            throw Unsupported("model.head", $"with a frozen backbone (feature-extraction) adaptation needs trainable features: use 'bottleneck'.");
        }
    }

    private static ProtocolException Unsupported(string field, string message) => new([new ProtocolError("protocol", 0, 0, field, message)]);

    private static Manifest Index(ExperimentProtocol protocol, IProgress<RunProgress>? progress, ConcurrentBag<string> quarantine, CancellationToken ct)
    {
        progress?.Report(new RunProgress("index", 0, 1, "scanning " + string.Join(", ", protocol.Data.Sources.Select(s => s.Path))));
        string[] roots = [.. protocol.Data.Sources.Select(s => s.FullPath)];
        var indexer = new DatasetIndexer(protocol.Data.ToIndexOptions());
        DatasetIndex index = indexer.IndexAsync(roots, null, ct).GetAwaiter().GetResult();
        foreach (IndexFailure f in index.Failures)
        {
            quarantine.Add($"index: {f}");
        }

        var sites = protocol.Data.SourceSites.Concat(protocol.Data.TargetSites).ToHashSet(StringComparer.Ordinal);
        var usable = index.Manifest.Rows.Where(r => sites.Contains(r.Site) && r.Label is "0" or "1").ToList();
        if (usable.Count == 0)
        {
            throw Unsupported("data", $"no labelled images of the protocol's sites were found (check data.source, data.site and data.labels).");
        }

        var source = new Manifest(usable.Where(r => protocol.Data.SourceSites.Contains(r.Site)));
        var target = new Manifest(usable.Where(r => protocol.Data.TargetSites.Contains(r.Site)));
        SplitOptions split = protocol.Data.Split.ToSplitOptions();
        var assigned = PatientSplitter.Assign(source, split).Rows.Concat(PatientSplitter.Assign(target, split).Rows);
        progress?.Report(new RunProgress("index", 1, 1, $"{usable.Count} images"));
        return new Manifest(assigned);
    }

    private static Dictionary<string, float[]> Normalize(Manifest manifest, ExperimentProtocol protocol, XrayRecipe recipe, IProgress<RunProgress>? progress, ConcurrentBag<string> quarantine, CancellationToken ct) =>
        XrayInputs.Normalize(manifest.Rows, [.. protocol.Data.Sources.Select(s => s.FullPath)], recipe, quarantine,
            new Relay<(int Done, int Total)>(p => progress?.Report(new RunProgress("normalize", p.Done, p.Total, null))), ct).Images;

    private sealed class Sets
    {
        public List<(string Name, ImageSet Set)> All { get; } = [];

        public ImageSet Get(string name) => All.First(s => s.Name == name).Set;
    }

    private static Sets BuildSets(IReadOnlyList<ManifestRow> rows, IReadOnlyDictionary<string, float[]> images, int size, ExperimentProtocol protocol)
    {
        var sets = new Sets();
        foreach ((string role, IReadOnlyList<string> sites) in new[] { ("source", protocol.Data.SourceSites), ("target", protocol.Data.TargetSites) })
        {
            foreach ((string part, Partition partition) in new[] { ("train", Partition.Train), ("val", Partition.Validation), ("test", Partition.Test) })
            {
                var set = new ImageSet(size);
                foreach (ManifestRow r in rows.Where(r => sites.Contains(r.Site) && r.Split == partition).OrderBy(r => r.Id, StringComparer.Ordinal))
                {
                    set.Add(r.Id, images[r.Id], int.Parse(r.Label, CultureInfo.InvariantCulture), r.Site, r.Patient);
                }

                if (set.Count < 2)
                {
                    int patients = rows.Where(r => sites.Contains(r.Site)).Select(r => r.Patient).Distinct(StringComparer.Ordinal).Count();
                    throw Unsupported("data.split", $"the {role} {part} partition has {set.Count} image(s) ({patients} {role} patient(s) in all, split by patient); a run needs at least 2 images in each partition: use more patients or other fractions.");
                }

                sets.All.Add(($"{role}-{part}", set));
            }
        }

        return sets;
    }

    private static FineTuneConfig FineTuneFor(ExperimentProtocol p, int seed, bool scratch) => new()
    {
        Backbone = scratch ? BackboneNames.ResNet18Scratch : BackboneNames.ResNet18ImageNet,
        ImageSize = p.Data.Modality == ProtocolModality.Mri ? p.Preprocessing.MriSliceSize : p.Preprocessing.Xray?.Resize.Size ?? 128,
        Head = p.Model.Head == HeadKind.Bottleneck ? "bottleneck" : "linear",
        BottleneckWidth = p.Model.BottleneckWidth,
        Classes = p.Model.Classes,
        Strategy = p.Model.Strategy == FineTuningStrategy.FeatureExtraction ? StrategyNames.FeatureExtraction : StrategyNames.Full,
        LearningRate = p.Training.Lr,
        Momentum = p.Training.Momentum,
        WeightDecay = p.Training.WeightDecay,
        BatchSize = p.Training.BatchSize,
        Iterations = p.Training.Iterations ?? 300,
        Seed = seed,
        ChannelsLast = true,
    };

    private static Tensor BackboneFeatures(TransferModel model, ImageSet set, Device device, IProgress<RunProgress>? progress, string name)
    {
        Tensor features = model.Features.Backbone.ExtractFeatures(set, device, progress: progress is null ? null : new Relay<(int Done, int Total)>(p => progress.Report(new RunProgress("features", p.Done, p.Total, name))));
        if (features.device.type == DeviceType.CPU)
        {
            return features;
        }

        using (features)
        {
            return features.cpu();
        }
    }

    private static double[][] ToRows(Tensor t)
    {
        using Tensor d = t.to(ScalarType.Float64).contiguous();
        double[] flat = d.data<double>().ToArray();
        int dim = (int)t.shape[1];
        return [.. Enumerable.Range(0, (int)t.shape[0]).Select(i => flat.AsSpan(i * dim, dim).ToArray())];
    }

    private static List<TransferabilityScores> Transferability(Sets sets, Dictionary<string, Tensor> features)
    {
        var list = new List<TransferabilityScores>();
        foreach ((string partition, string set) in new[] { ("source-train", "source-train"), ("target-test (oracle: uses target labels)", "target-test") })
        {
            double[][] x = ToRows(features[set]);
            IReadOnlyList<int> y = sets.Get(set).Labels;
            if (!HasBothClasses(y))
            {
                continue;
            }

            list.Add(new TransferabilityScores(partition, x.Length, Evaluation.Diagnostics.Transferability.LogMe(x, y), Evaluation.Diagnostics.Transferability.HScore(x, y), Evaluation.Diagnostics.Transferability.Gbc(x, y), Evaluation.Diagnostics.Transferability.TransRate(x, y)));
        }

        return list;
    }

    private static bool HasBothClasses(IReadOnlyList<int> labels) => labels.Contains(0) && labels.Contains(1);

    private sealed class TrainedRun : IDisposable
    {
        public required MethodSeedResult Result { get; init; }

        public required TransferModel Model { get; init; }

        public required double[] TargetScores { get; init; }

        public required double[] SourceValScores { get; init; }

        public required double[][] SourceTrainFeatures { get; init; }

        public required double[][] SourceValFeatures { get; init; }

        public required double[][] SourceTestFeatures { get; init; }

        public required double[][] TargetTestFeatures { get; init; }

        public void Dispose() => Model.Dispose();
    }

    private static TrainedRun TrainOne(ExperimentProtocol p, string method, int seed, Sets sets, Dictionary<string, Tensor> pretrainedFeatures, Device device, IProgress<RunProgress>? progress, int done, int total, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        bool scratch = method == "scratch";
        string trainerMethod = scratch ? AdaptationMethods.SourceOnly : method;
        FineTuneConfig config = FineTuneFor(p, seed, scratch);
        TransferModel model = TransferModel.Create(config);
        model.to(device);
        bool cached = config.Strategy == StrategyNames.FeatureExtraction;

        // Inputs of the trainable part: cached backbone features (frozen backbone) or images.
        Dictionary<string, Tensor> inputs;
        if (cached)
        {
            inputs = scratch
                ? sets.All.ToDictionary(s => s.Name, s => BackboneFeatures(model, s.Set, device, null, s.Name), StringComparer.Ordinal)
                : pretrainedFeatures.ToDictionary(k => k.Key, k => k.Value.alias(), StringComparer.Ordinal);
            foreach (var parameter in model.Features.Backbone.parameters())
            {
                parameter.requires_grad = false;
            }
        }
        else
        {
            inputs = sets.All.ToDictionary(s => s.Name, s => s.Set.Images([.. Enumerable.Range(0, s.Set.Count)]), StringComparer.Ordinal);
        }

        nn.Module<Tensor, Tensor> featureModule = cached ? (nn.Module<Tensor, Tensor>?)model.Features.Bottleneck ?? nn.Identity() : model.Features;
        MethodSpec? spec = p.Adaptation.Methods.FirstOrDefault(m => ProtocolNames.Of(m.Method) == method);
        var adaptation = new AdaptationConfig
        {
            Method = trainerMethod,
            TradeOff = spec?.TradeOff ?? p.Adaptation.TradeOff,
            Schedule = p.Adaptation.LambdaSchedule switch
            {
                Protocols.LambdaSchedule.Tllib => Training.Adaptation.LambdaSchedule.TllibDefault,
                Protocols.LambdaSchedule.Constant => Training.Adaptation.LambdaSchedule.Constant(1.0),
                _ => Training.Adaptation.LambdaSchedule.PaperDefault,
            },
            DiscriminatorWidth = spec?.DiscriminatorWidth ?? 1024,
            Temperature = spec?.Temperature ?? 2.5,
            KernelAlphas = spec is null ? [.. AdaptationLosses.DefaultKernelAlphas] : [.. spec.KernelAlphas],
            CdanRandomizedDim = spec?.RandomizedDimension ?? 1024,
        };
        var trainerOptions = new AdaptationTrainerOptions
        {
            Steps = config.Iterations,
            BatchSize = config.BatchSize,
            Seed = seed,
            Optimizer = p.Training.Optimizer == OptimizerKind.AdamW ? AdaptationOptimizer.AdamW : AdaptationOptimizer.Sgd,
            LearningRate = config.LearningRate,
            FeatureExtractorLrMultiplier = cached ? 1.0 : 0.1,
            Momentum = config.Momentum,
            WeightDecay = config.WeightDecay,
            AnnealLearningRate = p.Training.Schedule == LrSchedule.Dann,
            AnnealByProgress = true,
            LabelSmoothing = p.Training.LabelSmoothing,
            ClassWeights = p.Training.ClassWeighting == ClassWeighting.Balanced ? BalancedWeights(trainerMethod == AdaptationMethods.TargetOnly ? sets.Get("target-train").Labels : sets.Get("source-train").Labels, p.Model.Classes) : null,
        };

        using var source = new TensorDataSource(inputs["source-train"], tensor(sets.Get("source-train").Labels.Select(l => (long)l).ToArray()));
        using var target = new TensorDataSource(inputs["target-train"], tensor(sets.Get("target-train").Labels.Select(l => (long)l).ToArray()));

        // Snapshots of the trainable part for label-free selection.
        int[] snapshotSteps = [.. Enumerable.Range(1, SelectionSnapshots).Select(k => (int)Math.Round((double)k * config.Iterations / SelectionSnapshots)).Distinct()];
        var snapshots = new List<Dictionary<string, Tensor>>();
        var curves = new CurveCollector();
        var trainer = new AdaptationTrainer(featureModule, model.Classifier, adaptation, trainerOptions, device);
        var events = new Relay<AdaptationStepEvent>(e =>
        {
            curves.Add(e);
            if (snapshotSteps.Contains(e.Step))
            {
                snapshots.Add(Trainable(model, featureModule));
            }

            if (e.Step % 25 == 0)
            {
                progress?.Report(new RunProgress("train", done, total, string.Create(CultureInfo.InvariantCulture, $"{method}, seed {seed}: step {e.Step}/{e.TotalSteps}, loss {e.TotalLoss:F3}{(e.DiscriminatorAccuracy is double a ? $", disc. acc {a:F2}" : string.Empty)}")));
            }
        });
        trainer.Run(trainerMethod == AdaptationMethods.TargetOnly ? null : source, [target], events, ct);

        // AdaBN is a post-hoc step: select among the training snapshots like source-only, then
        // re-estimate BatchNorm statistics of the selected weights on the unlabelled target data
        // (selecting among a mix of adapted and unadapted snapshots by a source signal would always
        // pick an unadapted one). Other methods: the last snapshot is the state after training.
        bool adaBn = trainerMethod == AdaptationMethods.AdaBN;
        if (!adaBn && snapshots.Count > 0)
        {
            foreach (Tensor t in snapshots[^1].Values)
            {
                t.Dispose();
            }

            snapshots.RemoveAt(snapshots.Count - 1);
        }

        if (!adaBn || snapshots.Count == 0)
        {
            snapshots.Add(Trainable(model, featureModule));
        }

        // Checkpoint selection with the protocol's rule; oracle is labelled as such.
        (int chosen, string rule, bool oracle) = Select(p.Selection, snapshots, model, featureModule, inputs, sets);
        Restore(model, featureModule, snapshots[chosen]);
        foreach (var s in snapshots)
        {
            foreach (Tensor t in s.Values)
            {
                t.Dispose();
            }
        }

        if (adaBn)
        {
            Tensor pool = inputs["target-train"];
            var batches = Enumerable.Range(0, (int)((pool.shape[0] + config.BatchSize - 1) / config.BatchSize))
                .Select(b => pool.narrow(0, (long)b * config.BatchSize, Math.Min(config.BatchSize, pool.shape[0] - ((long)b * config.BatchSize))))
                .Where(t => t.shape[0] >= 2)
                .Select(t => t.to(device));
            AdaBN.Recompute(featureModule, batches);
            rule += "; then AdaBN on the target training images";
        }

        (double[] targetScores, double[][] targetFeatures) = Score(model, featureModule, inputs["target-test"]);
        (double[] sourceScores, double[][] sourceTestFeatures) = Score(model, featureModule, inputs["source-test"]);
        (double[] sourceValScores, double[][] sourceValFeatures) = Score(model, featureModule, inputs["source-val"]);
        (_, double[][] sourceTrainFeatures) = Score(model, featureModule, inputs["source-train"]);
        ImageSet targetTest = sets.Get("target-test");
        ImageSet sourceTest = sets.Get("source-test");
        double targetAuroc = HasBothClasses(targetTest.Labels) ? Auroc.Compute(targetScores, [.. targetTest.Labels]) : double.NaN;
        double sourceAuroc = HasBothClasses(sourceTest.Labels) ? Auroc.Compute(sourceScores, [.. sourceTest.Labels]) : double.NaN;
        double accuracy = targetScores.Select((s, i) => (s >= 0.5 ? 1 : 0) == targetTest.Labels[i] ? 1.0 : 0.0).Average();
        foreach (Tensor t in inputs.Values)
        {
            t.Dispose();
        }

        var result = new MethodSeedResult(method, seed, targetAuroc, sourceAuroc, accuracy, config.Iterations, watch.Elapsed.TotalSeconds, rule, oracle, curves.ToCurves());
        return new TrainedRun
        {
            Result = result,
            Model = model,
            TargetScores = targetScores,
            SourceValScores = sourceValScores,
            SourceTrainFeatures = sourceTrainFeatures,
            SourceValFeatures = sourceValFeatures,
            SourceTestFeatures = sourceTestFeatures,
            TargetTestFeatures = targetFeatures,
        };
    }

    /// <summary>Weights n / (K·n_c) of the labelled training data (0 for an absent class).</summary>
    private static double[] BalancedWeights(IReadOnlyList<int> labels, int classes)
    {
        var counts = new double[classes];
        foreach (int l in labels)
        {
            counts[l]++;
        }

        return [.. counts.Select(c => c == 0 ? 0 : labels.Count / (classes * c))];
    }

    private static (int Index, string Rule, bool Oracle) Select(SelectionRule rule, List<Dictionary<string, Tensor>> snapshots, TransferModel model, nn.Module<Tensor, Tensor> featureModule, Dictionary<string, Tensor> inputs, Sets sets)
    {
        if (snapshots.Count == 1)
        {
            return (0, "last (one snapshot)", false);
        }

        var sourceLogits = new List<double[][]>();
        var targetLogits = new List<double[][]>();
        var targetFeatures = new List<double[][]>();
        foreach (var snapshot in snapshots)
        {
            Restore(model, featureModule, snapshot);
            sourceLogits.Add(Logits(model, featureModule, inputs["source-val"], out _));
            targetLogits.Add(Logits(model, featureModule, inputs["target-train"], out double[][] f));
            targetFeatures.Add(f);
        }

        SelectionResult selection = rule switch
        {
            SelectionRule.Im => CheckpointSelection.SelectByInformationMaximization(targetLogits),
            SelectionRule.Snd => CheckpointSelection.SelectBySoftNeighborhoodDensity(targetLogits),
            SelectionRule.Oracle => CheckpointSelection.SelectByOracleTargetAccuracy(targetLogits, sets.Get("target-train").Labels),
            _ => CheckpointSelection.SelectBySourceAccuracy(sourceLogits, sets.Get("source-val").Labels),
        };
        string name = rule == SelectionRule.Dev ? selection.Selector + " (dev needs a domain classifier: source-validation accuracy used instead)" : selection.Selector;
        return (selection.SelectedIndex, $"{name}, {snapshots.Count} snapshots", selection.IsOracle);
    }

    private static Dictionary<string, Tensor> Trainable(TransferModel model, nn.Module<Tensor, Tensor> featureModule)
    {
        var copy = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach ((string k, Tensor v) in featureModule.state_dict())
        {
            Tensor c = v.detach().clone();
            c.DetachFromDisposeScope();
            copy["f." + k] = c;
        }

        foreach ((string k, Tensor v) in model.Classifier.state_dict())
        {
            Tensor c = v.detach().clone();
            c.DetachFromDisposeScope();
            copy["g." + k] = c;
        }

        return copy;
    }

    private static void Restore(TransferModel model, nn.Module<Tensor, Tensor> featureModule, Dictionary<string, Tensor> snapshot)
    {
        using var guard = no_grad();
        foreach ((string k, Tensor v) in featureModule.state_dict())
        {
            v.copy_(snapshot["f." + k]);
        }

        foreach ((string k, Tensor v) in model.Classifier.state_dict())
        {
            v.copy_(snapshot["g." + k]);
        }
    }

    private static double[][] Logits(TransferModel model, nn.Module<Tensor, Tensor> featureModule, Tensor inputs, out double[][] features)
    {
        featureModule.eval();
        model.Classifier.eval();
        var logits = new List<double[]>();
        var feats = new List<double[]>();
        Device device = model.Classifier.weight!.device;
        using (no_grad())
        {
            for (long start = 0; start < inputs.shape[0]; start += 64)
            {
                using var scope = NewDisposeScope();
                long n = Math.Min(64, inputs.shape[0] - start);
                Tensor f = featureModule.forward(inputs.narrow(0, start, n).to(device));
                Tensor l = model.Classifier.forward(f);
                logits.AddRange(ToRows(l.cpu()));
                feats.AddRange(ToRows(f.cpu()));
            }
        }

        features = [.. feats];
        return [.. logits];
    }

    private static (double[] Scores, double[][] Features) Score(TransferModel model, nn.Module<Tensor, Tensor> featureModule, Tensor inputs)
    {
        double[][] logits = Logits(model, featureModule, inputs, out double[][] features);
        double[] scores = [.. logits.Select(l => 1.0 / (1.0 + Math.Exp(l[0] - l[1])))];
        return (scores, features);
    }

    private static double[] ScoreImages(TrainedRun run, IReadOnlyList<float[]> images, int size, Device device)
    {
        var result = new List<double>();
        bool cached = run.Model.Config.Strategy == StrategyNames.FeatureExtraction;
        nn.Module<Tensor, Tensor> featureModule = cached ? (nn.Module<Tensor, Tensor>?)run.Model.Features.Bottleneck ?? nn.Identity() : run.Model.Features;
        for (int start = 0; start < images.Count; start += 32)
        {
            using var scope = NewDisposeScope();
            int n = Math.Min(32, images.Count - start);
            var data = new float[n * size * size];
            for (int i = 0; i < n; i++)
            {
                images[start + i].CopyTo(data, i * size * size);
            }

            Tensor x = tensor(data, [n, 1, size, size], device: device);
            Tensor inputs;
            using (no_grad())
            {
                run.Model.eval();
                inputs = cached ? run.Model.Features.Backbone.forward(x) : x;
            }

            result.AddRange(Score(run.Model, featureModule, inputs.cpu()).Scores);
        }

        return [.. result];
    }

    private static MethodSummary Summarize(string method, IReadOnlyList<MethodSeedResult> runs)
    {
        static (double Mean, double Sd) Stats(IEnumerable<double> values)
        {
            double[] v = [.. values];
            double mean = v.Average();
            double sd = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
            return (mean, sd);
        }

        var t = Stats(runs.Select(r => r.TargetAuroc));
        var s = Stats(runs.Select(r => r.SourceAuroc));
        return new MethodSummary(method, runs.Count, t.Mean, t.Sd, s.Mean, s.Sd);
    }

    private static EmbeddingPoints Embed(string model, double[][] rows, Sets sets)
    {
        (double[][] projection, _) = Pca.Project(rows, 2);
        ImageSet s = sets.Get("source-test");
        ImageSet t = sets.Get("target-test");
        string[] domains = [.. s.Domains, .. t.Domains];
        string[] labels = [.. s.Labels.Select(l => l.ToString(CultureInfo.InvariantCulture)), .. t.Labels.Select(l => l.ToString(CultureInfo.InvariantCulture))];
        return new EmbeddingPoints(model, [.. projection.Select(p => p[0])], [.. projection.Select(p => p[1])], domains, labels);
    }

    private static List<PredictionRow> PredictionRows(ImageSet set, double[] scores, IReadOnlyList<ManifestRow> rows, ExperimentProtocol protocol)
    {
        var byId = rows.ToDictionary(r => r.Id, StringComparer.Ordinal);
        var list = new List<PredictionRow>();
        for (int i = 0; i < set.Count; i++)
        {
            ManifestRow r = byId[set.Ids[i]];
            var groups = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (string g in protocol.Evaluation.Subgroups)
            {
                string value = g switch
                {
                    "sex" => r.Sex,
                    "age_band" => r.AgeBand,
                    "manufacturer" => r.Manufacturer,
                    "view" => r.View,
                    _ => string.Empty,
                };
                groups[g] = value;
            }

            list.Add(new PredictionRow(XrayInputs.PseudonymousId(r.Id), XrayInputs.PseudonymousId(r.Patient), set.Labels[i], scores[i], r.Site, "test", groups));
        }

        return list;
    }


    private static void WritePredictions(string path, IReadOnlyList<PredictionRow> rows)
    {
        var sb = new StringBuilder();
        string[] groups = [.. rows.SelectMany(r => r.Subgroups.Keys).Distinct(StringComparer.Ordinal)];
        sb.Append("id,patient,label,score,site,split");
        foreach (string g in groups)
        {
            sb.Append(',').Append(g);
        }

        sb.Append('\n');
        foreach (PredictionRow r in rows)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{r.Id},{r.Patient},{r.Label},{r.Score.ToString("R", CultureInfo.InvariantCulture)},{CsvTable.Quote(r.Site)},{r.Split}");
            foreach (string g in groups)
            {
                sb.Append(',').Append(CsvTable.Quote(r.Subgroups.GetValueOrDefault(g, string.Empty)));
            }

            sb.Append('\n');
        }

        File.WriteAllText(path, sb.ToString());
    }

    private sealed class CurveCollector
    {
        private readonly List<double> _loss = [];
        private readonly List<double> _transfer = [];
        private readonly List<double> _lambda = [];
        private readonly List<double> _lr = [];
        private readonly List<double> _disc = [];

        public void Add(AdaptationStepEvent e)
        {
            _loss.Add(e.TotalLoss);
            _transfer.Add(e.TransferLoss);
            _lambda.Add(e.Lambda);
            _lr.Add(e.LearningRate);
            _disc.Add(e.DiscriminatorAccuracy ?? double.NaN);
        }

        public TrainingCurves ToCurves() => new(_loss, _transfer, _lambda, _lr, _disc);
    }

    private sealed class Relay<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

}
