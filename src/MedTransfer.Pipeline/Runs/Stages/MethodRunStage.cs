using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using MedTransfer.Evaluation.Metrics;
using MedTransfer.Pipeline.Protocols;
using MedTransfer.Pipeline.Sweeps;
using MedTransfer.Training.Adaptation;
using MedTransfer.Training.Backbones;
using MedTransfer.Training.Checkpoints;
using MedTransfer.Training.Configuration;
using MedTransfer.Training.Data;
using MedTransfer.Training.FineTuning;
using MedTransfer.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MedTransfer.Pipeline.Runs.Stages;

/// <summary>What one (method, seed) run kept: its chosen checkpoint's scores and how it was trained and chosen.</summary>
internal sealed record ItemResult
{
    public required string Method { get; init; }

    public required int Seed { get; init; }

    public required string ProtocolHash { get; init; }

    public required long Steps { get; init; }

    public required double Seconds { get; init; }

    public required long SelectedStep { get; init; }

    public required string SelectedBy { get; init; }

    public required double SelectionScore { get; init; }

    public required bool IsOracle { get; init; }

    public required bool StoppedEarly { get; init; }

    public required string TrainableFrom { get; init; }

    public required bool CachedActivations { get; init; }

    public required int SaturatedSteps { get; init; }

    public required IReadOnlyList<CandidateCheckpoint> Candidates { get; init; }

    public required TrainingCurves Curves { get; init; }

    public required double[] TargetTestScores { get; init; }

    public required double[] SourceTestScores { get; init; }

    public required double[] SourceValScores { get; init; }

    public required double TargetAuroc { get; init; }

    public required double SourceAuroc { get; init; }

    public required double TargetAccuracy { get; init; }
}

/// <summary>
/// Stage 3 of a run: every (method, seed) work item through the one trainer, its checkpoint chosen by the protocol's
/// rule (then AdaBN for the adabn method), scored, and kept. Each item lives in <c>checkpoints/METHOD.seed-N/</c>:
/// while it trains, <c>work/</c> holds its resumable <c>last.ckpt</c> and candidate snapshots; when it ends,
/// <c>model.ckpt</c> (the tensors training changed) and <c>result.json</c> (written last, atomically) replace them.
/// A rerun into the same folder keeps finished items and resumes the unfinished one from its last checkpoint, so on
/// CPU the results equal an uninterrupted run's.
/// </summary>
internal sealed class MethodRunStage
{
    private const string ResultFile = "result.json";
    private const string ModelFile = "model.ckpt";

    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
    };

    private readonly ExperimentProtocol _protocol;
    private readonly RunSets _sets;
    private readonly ActivationCache _cache;
    private readonly Device _device;
    private readonly string _folder;
    private readonly IProgress<RunProgress>? _progress;

    private readonly double _checkpointSeconds;

    public MethodRunStage(ExperimentProtocol protocol, RunSets sets, ActivationCache cache, Device device, string checkpointFolder, double checkpointSeconds, IProgress<RunProgress>? progress)
    {
        _checkpointSeconds = checkpointSeconds;
        _protocol = protocol;
        _sets = sets;
        _cache = cache;
        _device = device;
        _folder = checkpointFolder;
        _progress = progress;
    }

    /// <summary>The configuration of an item (the one protocol → trainer translation).</summary>
    public FineTuneConfig ConfigOf(string method, int seed) =>
        TrainerSettings.For(_protocol, method, seed, Labelled(method).Count);

    /// <summary>Runs (or reloads) the items, in order.</summary>
    public List<ItemResult> Run(IReadOnlyList<WorkItem> items, CancellationToken ct)
    {
        var results = new List<ItemResult>();
        for (int i = 0; i < items.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            WorkItem item = items[i];
            ItemResult result = Load(item) ?? Train(item, i, items.Count, ct);
            results.Add(result);
            _progress?.Report(new RunProgress("train", i + 1, items.Count, string.Create(CultureInfo.InvariantCulture, $"{item.MethodName}, seed {item.Seed}: target AUROC {result.TargetAuroc:F3}")));
        }

        return results;
    }

    /// <summary>A fresh model of the item with its kept weights (for export, embeddings and the shortcut check).</summary>
    public TransferModel LoadModel(string method, int seed)
    {
        FineTuneConfig config = ConfigOf(method, seed);
        TransferModel model = TransferModel.Create(config);
        model.to(_device);
        Checkpoint kept = CheckpointFile.Load(Path.Combine(ItemFolder(method, seed), ModelFile));
        try
        {
            TrainedState.Restore(model, kept.Model);
        }
        finally
        {
            foreach (Tensor t in kept.Model.Values)
            {
                t.Dispose();
            }
        }

        model.eval();
        return model;
    }

    private string ItemFolder(string method, int seed) => Path.Combine(_folder, string.Create(CultureInfo.InvariantCulture, $"{method}.seed-{seed}"));

    private ImageSet Labelled(string method) => method == AdaptationMethods.TargetOnly ? _sets.TargetTrain : _sets.SourceTrain;

    private ItemResult? Load(WorkItem item)
    {
        string path = Path.Combine(ItemFolder(item.MethodName, item.Seed), ResultFile);
        if (!File.Exists(path) || !File.Exists(Path.Combine(ItemFolder(item.MethodName, item.Seed), ModelFile)))
        {
            return null;
        }

        try
        {
            ItemResult? result = JsonSerializer.Deserialize<ItemResult>(File.ReadAllText(path), s_json);
            return result is not null && result.ProtocolHash == _protocol.ComputeHash() && result.TargetTestScores.Length == _sets.TargetTest.Count ? result : null;
        }
        catch (JsonException)
        {
            // A damaged result is trained again rather than trusted.
            return null;
        }
    }

    private ItemResult Train(WorkItem item, int index, int total, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        string method = item.MethodName;
        FineTuneConfig config = ConfigOf(method, item.Seed);
        string folder = ItemFolder(method, item.Seed);
        string work = Path.Combine(folder, "work");
        bool targetOnly = method == AdaptationMethods.TargetOnly;
        bool adaBn = config.Adaptation.Method == AdaptationMethods.AdaBN;
        var data = targetOnly
            ? new TrainingData(_sets.TargetTrain, _sets.TargetVal, _sets.TargetTrain)
            : new TrainingData(_sets.SourceTrain, _sets.SourceVal, _sets.TargetTrain);
        var relay = new Relay<TrainingEvent>(e => Report(item, index, total, e));
        using TransferModel model = TransferModel.Create(config);
        var trainer = new TransferTrainer(config, _device, relay, _cache);
        TrainingOutcome outcome = trainer.Fit(model, data, new CheckpointPolicy(work, Every: Math.Clamp(config.Iterations / 10, 1, 50), MinimumSeconds: _checkpointSeconds), ct);
        try
        {
            BackboneCut? cut = model.Features.Backbone.CutBefore(config.EffectiveTrainableFrom);
            bool prefix = cut is { Index: > 0 };
            Func<ISampleSource, ISampleSource> cached = set => prefix && set is ImageSet images ? (ISampleSource?)_cache.Get(model, cut!, images, _device) ?? set : set;
            Choice choice = CheckpointChoice.Select(_protocol.Selection, outcome, model, cached, cut, _sets, targetOnly, _device, config.ChannelsLast);
            outcome.Snapshots.Restore(choice.Step, model);
            string selectedBy = choice.Rule;
            if (adaBn)
            {
                AdaBN.Adapt(model, _sets.TargetTrain, _device, config.BatchSize, config.ChannelsLast);
                selectedBy += "; then AdaBN on the target training images";
            }

            // After AdaBN the frozen layers' statistics changed: score through the whole network.
            Func<ISampleSource, ISampleSource> view = adaBn ? set => set : cached;
            double[] Score(ImageSet set) => ModelScoring.Score(model, view(set), _device, cut, channelsLast: config.ChannelsLast).PositiveScores();
            double[] targetScores = Score(_sets.TargetTest);
            double[] sourceScores = Score(_sets.SourceTest);
            double[] sourceValScores = Score(_sets.SourceVal);
            int[] targetLabels = [.. _sets.TargetTest.Labels];
            int[] sourceLabels = [.. _sets.SourceTest.Labels];
            var result = new ItemResult
            {
                Method = method,
                Seed = item.Seed,
                ProtocolHash = _protocol.ComputeHash(),
                Steps = outcome.StepsRun,
                Seconds = watch.Elapsed.TotalSeconds,
                SelectedStep = choice.Step,
                SelectedBy = selectedBy,
                SelectionScore = choice.Score,
                IsOracle = choice.IsOracle,
                StoppedEarly = outcome.StoppedEarly,
                TrainableFrom = outcome.TrainableFrom,
                CachedActivations = outcome.CachedActivations,
                SaturatedSteps = outcome.SaturatedSteps,
                Candidates = outcome.Candidates,
                Curves = outcome.Curves,
                TargetTestScores = targetScores,
                SourceTestScores = sourceScores,
                SourceValScores = sourceValScores,
                TargetAuroc = BothClasses(targetLabels) ? Auroc.Compute(targetScores, targetLabels) : double.NaN,
                SourceAuroc = BothClasses(sourceLabels) ? Auroc.Compute(sourceScores, sourceLabels) : double.NaN,
                TargetAccuracy = targetScores.Select((s, i) => (s >= 0.5 ? 1 : 0) == targetLabels[i] ? 1.0 : 0.0).Average(),
            };

            // The kept weights first, the result last: a result file means the item is complete.
            Dictionary<string, Tensor> state = TrainedState.Capture(model, config, adaBn);
            try
            {
                CheckpointFile.Save(Path.Combine(folder, ModelFile), outcome.StepsRun, config.ToJson(), state, new Dictionary<string, Tensor>());
            }
            finally
            {
                foreach (Tensor t in state.Values)
                {
                    t.Dispose();
                }
            }

            AtomicFile.Write(Path.Combine(folder, ResultFile), JsonSerializer.SerializeToUtf8Bytes(result, s_json));
            outcome.Snapshots.Delete();
            Directory.Delete(work, recursive: true);
            return result;
        }
        finally
        {
            outcome.Snapshots.Dispose();
        }
    }

    private void Report(WorkItem item, int index, int total, TrainingEvent e)
    {
        if (_progress is null)
        {
            return;
        }

        string detail = e.Phase switch
        {
            "activations" => string.Create(CultureInfo.InvariantCulture, $"{item.MethodName}, seed {item.Seed}: frozen layers once ({e.Message} {e.Step}/{e.TotalSteps})"),
            "evaluate" => string.Create(CultureInfo.InvariantCulture, $"{item.MethodName}, seed {item.Seed}: step {e.Step}/{e.TotalSteps}, candidate{(e.Signal is double s ? $", signal {s:F4}" : string.Empty)}{(e.Message is null ? string.Empty : ", " + e.Message)}"),
            "train" when e.Message is not null || e.Step % 25 == 0 => string.Create(CultureInfo.InvariantCulture, $"{item.MethodName}, seed {item.Seed}: step {e.Step}/{e.TotalSteps}, loss {e.Loss:F3}{(e.DiscriminatorAccuracy is double a ? $", disc. acc {a:F2}" : string.Empty)}{(e.Message is null ? string.Empty : ", " + e.Message)}"),
            _ => string.Empty,
        };
        if (detail.Length > 0)
        {
            _progress.Report(new RunProgress("train", index, total, detail));
        }
    }

    private static bool BothClasses(IReadOnlyList<int> labels) => labels.Contains(0) && labels.Contains(1);

    private sealed class Relay<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
