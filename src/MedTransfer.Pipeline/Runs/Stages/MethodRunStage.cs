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

/// <summary>
/// Stage 3 of a run: every (method, seed) work item through the one trainer, every candidate checkpoint scored, and
/// the run's own choice by the protocol's rule (then AdaBN for the adabn method). Each item lives in
/// <c>checkpoints/METHOD.seed-N/</c>: while it trains, <c>work/</c> holds its resumable <c>last.ckpt</c> and candidate
/// snapshots; when it ends, <c>candidates/snapshot-STEP.ckpt</c> (the tensors training changed, one file per candidate)
/// and <c>result.json</c> (written last, atomically) replace them. SHOT items start from the same seed's source-only
/// choice, so the baselines run first.
/// A rerun into the same folder keeps finished items and resumes the unfinished one from its last checkpoint, so on
/// CPU the results equal an uninterrupted run's.
/// </summary>
internal sealed class MethodRunStage
{
    private const string ResultFile = "result.json";
    private const string CandidateFolder = "candidates";
    private const int Folds = 5;

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
    private readonly bool _transductive;

    public MethodRunStage(ExperimentProtocol protocol, RunSets sets, ActivationCache cache, Device device, string checkpointFolder, double checkpointSeconds, IProgress<RunProgress>? progress)
    {
        _checkpointSeconds = checkpointSeconds;
        _transductive = protocol.Evaluation.Target == TargetEvaluation.Transductive;
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
            ItemResult result = Load(item.MethodName, item.Seed) ?? Train(item, i, items.Count, results, ct);
            results.Add(result);
            _progress?.Report(new RunProgress("train", i + 1, items.Count, string.Create(CultureInfo.InvariantCulture, $"{item.MethodName}, seed {item.Seed}: target AUROC {result.TargetAuroc:F3}")));
        }

        return results;
    }

    /// <summary>A fresh model of a run with the weights of its candidate at <paramref name="step"/> (for export, embeddings and the shortcut check); AdaBN runs get their target statistics again.</summary>
    public TransferModel LoadModel(ItemResult item, long step)
    {
        FineTuneConfig config = ConfigOf(item.Method, item.Seed);
        TransferModel model = TransferModel.Create(config);
        model.to(_device);
        RestoreCandidate(model, item, step);
        if (item.AdaBn)
        {
            AdaBN.Adapt(model, _sets.TargetTrain, _device, 32, config.ChannelsLast);
        }

        model.eval();
        return model;
    }

    /// <summary>
    /// What a model loaded by <see cref="LoadModel"/> predicts for <paramref name="set"/>: through the run's cached
    /// frozen activations when its frozen layers still hold the pretrained weights (every method but AdaBN), so the
    /// outputs stage does not run a frozen backbone over the same images again.
    /// </summary>
    public ModelOutputs Score(ItemResult item, TransferModel model, ImageSet set, bool withFeatures)
    {
        FineTuneConfig config = ConfigOf(item.Method, item.Seed);
        BackboneCut? cut = model.Features.Backbone.CutBefore(config.EffectiveTrainableFrom);
        ISampleSource source = item.AdaBn ? set : Cached(model, cut)(set);
        return ModelScoring.Score(model, source, _device, cut, withFeatures, config.ChannelsLast);
    }

    /// <summary>
    /// Like <see cref="Score"/> for images made on the fly (the shortcut check's masked copies): the frozen layers run
    /// on the run's feature engine, and nothing is kept.
    /// </summary>
    public ModelOutputs ScoreOnce(ItemResult item, TransferModel model, ImageSet set)
    {
        FineTuneConfig config = ConfigOf(item.Method, item.Seed);
        BackboneCut? cut = model.Features.Backbone.CutBefore(config.EffectiveTrainableFrom);
        if (item.AdaBn || cut is not { Index: > 0 })
        {
            return ModelScoring.Score(model, set, _device, channelsLast: config.ChannelsLast);
        }

        using CachedActivations activations = _cache.ComputeOnce(model, cut, set, _device);
        return ModelScoring.Score(model, activations, _device, cut, channelsLast: config.ChannelsLast);
    }

    private void RestoreCandidate(TransferModel model, ItemResult item, long step)
    {
        Checkpoint kept = CheckpointFile.Load(CandidatePath(item, step));
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
    }

    /// <summary>
    /// After the selection across runs, removes the weights of every candidate but each run's own choice and the
    /// selected model (<paramref name="keep"/> at <paramref name="step"/>): each run's kept model stays loadable,
    /// e.g. as the start of a later source-free adaptation, without keeping every snapshot on disk.
    /// </summary>
    public void KeepChosen(IReadOnlyList<ItemResult> items, ItemResult keep, long step)
    {
        var kept = new HashSet<string>(items.Select(i => Path.GetFullPath(CandidatePath(i, i.Chosen.Step))).Append(Path.GetFullPath(CandidatePath(keep, step))), StringComparer.Ordinal);
        foreach (ItemResult item in items)
        {
            string dir = Path.Combine(ItemFolder(item.Method, item.Seed), CandidateFolder);
            if (!Directory.Exists(dir))
            {
                continue;
            }

            foreach (string file in Directory.EnumerateFiles(dir, "*.ckpt"))
            {
                if (!kept.Contains(Path.GetFullPath(file)))
                {
                    File.Delete(file);
                }
            }
        }
    }

    private string CandidatePath(ItemResult item, long step) =>
        Path.Combine(ItemFolder(item.Method, item.Seed), CandidateFolder, string.Create(CultureInfo.InvariantCulture, $"snapshot-{step:D8}.ckpt"));

    private string ItemFolder(string method, int seed) => Path.Combine(_folder, string.Create(CultureInfo.InvariantCulture, $"{method}.seed-{seed}"));

    private ImageSet Labelled(string method) => method == AdaptationMethods.TargetOnly ? _sets.TargetTrain : _sets.SourceTrain;

    private ItemResult? Load(string method, int seed)
    {
        string path = Path.Combine(ItemFolder(method, seed), ResultFile);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            ItemResult? result = JsonSerializer.Deserialize<ItemResult>(File.ReadAllText(path), s_json);
            return result is not null && result.ProtocolHash == _protocol.ComputeHash() && result.Candidates.Count > 0 && result.Chosen.TargetTestMargins.Length == _sets.TargetTest.Count ? Labelled(result) : null;
        }
        catch (JsonException)
        {
            // A damaged result is trained again rather than trusted.
            return null;
        }
    }

    private ItemResult Train(WorkItem item, int index, int total, IReadOnlyList<ItemResult> done, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        string method = item.MethodName;
        FineTuneConfig config = ConfigOf(method, item.Seed);
        string folder = ItemFolder(method, item.Seed);
        bool targetOnly = method == AdaptationMethods.TargetOnly;
        if (targetOnly && _transductive)
        {
            return CrossValidatedTargetOnly(item, config, folder, index, total, watch, ct);
        }

        bool adaBn = config.Adaptation.Method == AdaptationMethods.AdaBN;
        bool sourceFree = AdaptationMethods.RoleOf(config.Adaptation.Method) == AdaptationRole.SourceFree;
        var data = targetOnly
            ? new TrainingData(_sets.TargetTrain, _sets.TargetVal, _sets.TargetTrain)
            : sourceFree
                ? new TrainingData(_sets.TargetTrain, _sets.SourceVal, _sets.TargetTrain)
                : new TrainingData(_sets.SourceTrain, _sets.SourceVal, _sets.TargetTrain);
        using TransferModel model = TransferModel.Create(config);
        if (sourceFree)
        {
            // SHOT adapts a model trained on the source: this seed's source-only run, at the candidate that run keeps.
            ItemResult start = done.FirstOrDefault(r => r.Method == AdaptationMethods.SourceOnly && r.Seed == item.Seed)
                ?? Load(AdaptationMethods.SourceOnly, item.Seed)
                ?? throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"'{method}' starts from the source-only model of seed {item.Seed}, which has not been trained in this run folder: run the source-only baseline of that seed first."));
            RestoreCandidate(model, start, start.Chosen.Step);
        }

        TrainingOutcome outcome = Fit(item, config, model, data, Path.Combine(folder, "work"), index, total, ct);
        try
        {
            BackboneCut? cut = model.Features.Backbone.CutBefore(config.EffectiveTrainableFrom);

            // After AdaBN the frozen layers' statistics changed: such candidates are scored through the whole network.
            Func<ISampleSource, ISampleSource> view = adaBn ? set => set : Cached(model, cut);
            List<CandidateResult> candidates = new CandidateScoring(_sets, _device, config.ChannelsLast).Score(outcome, model, cut, view, adaBn, targetOnly);
            Pick pick = SelectionRules.Best(_protocol.Selection, candidates, "of this run");
            ItemResult result = NewResult(item, outcome, candidates, pick, adaBn, watch);

            // The candidates' weights first, the result last: a result file means the item is complete.
            outcome.Snapshots.MoveTo(Path.Combine(folder, CandidateFolder));
            AtomicFile.Write(Path.Combine(folder, ResultFile), JsonSerializer.SerializeToUtf8Bytes(result, s_json));
            Directory.Delete(Path.Combine(folder, "work"), recursive: true);
            return Labelled(result);
        }
        finally
        {
            outcome.Snapshots.Dispose();
        }
    }

    private TrainingOutcome Fit(WorkItem item, FineTuneConfig config, TransferModel model, TrainingData data, string work, int index, int total, CancellationToken ct)
    {
        var relay = new Relay<TrainingEvent>(e => Report(item, index, total, e));
        var trainer = new TransferTrainer(config, _device, relay, _cache);
        return trainer.Fit(model, data, new CheckpointPolicy(work, Every: Math.Clamp(config.Iterations / 10, 1, 50), MinimumSeconds: _checkpointSeconds), ct);
    }

    private Func<ISampleSource, ISampleSource> Cached(TransferModel model, BackboneCut? cut) =>
        set => cut is { Index: > 0 } && set is ImageSet images ? (ISampleSource?)_cache.Get(model, cut, images, _device) ?? set : set;

    /// <summary>
    /// The target-only baseline when every target image is evaluated (transductive mode): k-fold cross-validation over
    /// target patients. Each fold trains on the other folds' labelled images; every image is scored by the fold model
    /// that never saw it. Its predictions are a baseline, not a model to ship, so nothing is exported from it.
    /// </summary>
    private ItemResult CrossValidatedTargetOnly(WorkItem item, FineTuneConfig config, string folder, int index, int total, Stopwatch watch, CancellationToken ct)
    {
        ImageSet all = _sets.TargetTest;
        int[] fold = PatientFolds(all, Folds, _protocol.Data.Split.Seed);

        // The folds have no validation partition: early stopping on a validation signal cannot run inside them, and
        // the rule below says so. Label-free signals use the fold's own training images, as target-only always does.
        bool validationSignal = config.EarlyStopping is { Signal: SignalNames.ValidationAuroc or SignalNames.ValidationLoss };
        if (validationSignal)
        {
            config = config with { EarlyStopping = null };
        }

        var margins = new double[all.Count];
        TrainingCurves? curves = null;
        long steps = 0;
        for (int f = 0; f < Folds; f++)
        {
            ImageSet train = Subset(all, i => fold[i] != f);
            ImageSet held = Subset(all, i => fold[i] == f);
            if (held.Count == 0)
            {
                continue;
            }

            using TransferModel model = TransferModel.Create(config);
            TrainingOutcome outcome = Fit(item, config, model, new TrainingData(train, null, train), Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"fold-{f + 1}")), index, total, ct);
            try
            {
                BackboneCut? cut = model.Features.Backbone.CutBefore(config.EffectiveTrainableFrom);
                ModelOutputs o = ModelScoring.Score(model, Cached(model, cut)(held), _device, cut, channelsLast: config.ChannelsLast);
                int k = 0;
                for (int i = 0; i < all.Count; i++)
                {
                    if (fold[i] == f)
                    {
                        margins[i] = o.Logits[k][1] - o.Logits[k][0];
                        k++;
                    }
                }

                curves ??= outcome.Curves;
                steps = Math.Max(steps, outcome.StepsRun);
            }
            finally
            {
                outcome.Snapshots.Delete();
                outcome.Snapshots.Dispose();
                Directory.Delete(Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"fold-{f + 1}")), recursive: true);
            }
        }

        int[] labels = [.. all.Labels];
        var candidate = new CandidateResult
        {
            Step = steps,
            TargetTrainProbabilities = CandidateResult.Probabilities(margins),
            TargetTestMargins = margins,
            TargetTestAuroc = labels.Contains(0) && labels.Contains(1) ? Auroc.Compute(margins, labels) : double.NaN,
        };
        string rule = string.Create(CultureInfo.InvariantCulture, $"{Folds}-fold cross-validation over target patients: each image scored by the fold model that never saw it ({(config.EarlyStopping is null ? "last step of each fold" : "each fold's early-stopping best")}{(validationSignal ? "; early stopping off: the folds have no validation partition" : string.Empty)})");
        var result = new ItemResult
        {
            Method = item.MethodName,
            Seed = item.Seed,
            ProtocolHash = _protocol.ComputeHash(),
            Steps = steps,
            Seconds = watch.Elapsed.TotalSeconds,
            StoppedEarly = false,
            TrainableFrom = config.EffectiveTrainableFrom,
            CachedActivations = false,
            SaturatedSteps = 0,
            AdaBn = false,
            CrossValidated = true,
            Curves = curves ?? new TrainingCurves([], [], [], [], []),
            Candidates = [candidate],
            ChosenIndex = 0,
            ChosenBy = rule,
            ChosenScore = double.NaN,
            IsOracle = false,
        };
        Directory.CreateDirectory(folder);
        AtomicFile.Write(Path.Combine(folder, ResultFile), JsonSerializer.SerializeToUtf8Bytes(result, s_json));
        return Labelled(result);
    }

    private ItemResult NewResult(WorkItem item, TrainingOutcome outcome, List<CandidateResult> candidates, Pick pick, bool adaBn, Stopwatch watch) => new()
    {
        Method = item.MethodName,
        Seed = item.Seed,
        ProtocolHash = _protocol.ComputeHash(),
        Steps = outcome.StepsRun,
        Seconds = watch.Elapsed.TotalSeconds,
        StoppedEarly = outcome.StoppedEarly,
        TrainableFrom = outcome.TrainableFrom,
        CachedActivations = outcome.CachedActivations,
        SaturatedSteps = outcome.SaturatedSteps,
        AdaBn = adaBn,
        Curves = outcome.Curves,
        Candidates = candidates,
        ChosenIndex = pick.Index,
        ChosenBy = pick.Rule + (adaBn ? "; AdaBN re-estimates its BatchNorm statistics on the target training images" : string.Empty),
        ChosenScore = pick.Score,
        IsOracle = pick.IsOracle,
    };

    private ItemResult Labelled(ItemResult result)
    {
        result.SourceTestLabels = _sets.SourceTest.Labels;
        result.TargetTestLabels = _sets.TargetTest.Labels;
        return result;
    }

    /// <summary>Fold of each image, by patient: patients in a seeded random order, dealt round-robin.</summary>
    private static int[] PatientFolds(ImageSet set, int folds, int seed)
    {
        string[] patients = [.. set.Groups.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        new Random(seed).Shuffle(patients);
        var foldOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < patients.Length; i++)
        {
            foldOf[patients[i]] = i % folds;
        }

        return [.. set.Groups.Select(g => foldOf[g])];
    }

    private static ImageSet Subset(ImageSet set, Func<int, bool> keep)
    {
        var subset = new ImageSet(set.Size);
        for (int i = 0; i < set.Count; i++)
        {
            if (keep(i))
            {
                subset.Add(set.Ids[i], set.Pixels(i).ToArray(), set.Labels[i], set.Domains[i], set.Groups[i], set.ContentKeys[i]);
            }
        }

        return subset;
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
