using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MedTransfer.Evaluation.Metrics;
using MedTransfer.Training.Checkpoints;
using MedTransfer.Training.Configuration;
using MedTransfer.Training.Data;
using MedTransfer.Training.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MedTransfer.Training.FineTuning;

/// <summary>A progress report from training, for progress bars and logs.</summary>
/// <param name="Phase">"features" (caching backbone features), "train", "validate" or "done".</param>
/// <param name="Step">Steps completed.</param>
/// <param name="TotalSteps">Steps planned.</param>
/// <param name="Epoch">Passes over the training set completed (fractional passes count from 0).</param>
/// <param name="Loss">Training loss of the last step (NaN outside training).</param>
/// <param name="LearningRate">Base learning rate of the last step.</param>
/// <param name="ImagesPerSecond">Recent training throughput.</param>
/// <param name="Validation">The validation signal, on "validate" events.</param>
/// <param name="Message">A note (e.g. "stage3 unfrozen", "early stop").</param>
public sealed record TrainingEvent(string Phase, long Step, long TotalSteps, int Epoch, double Loss, double LearningRate, double ImagesPerSecond, double? Validation, string? Message);

/// <summary>One validation evaluation.</summary>
/// <param name="Step">Step at which it ran.</param>
/// <param name="Auroc">AUROC of class 1 vs the rest (NaN when one class is absent).</param>
/// <param name="Accuracy">Top-1 accuracy.</param>
/// <param name="Loss">Mean cross-entropy.</param>
public sealed record ValidationPoint(long Step, double Auroc, double Accuracy, double Loss);

/// <summary>Where and how often checkpoints are written, and whether to resume from them.</summary>
/// <param name="Directory">Folder for <c>last.ckpt</c> and <c>best.ckpt</c>.</param>
/// <param name="Every">Steps between checkpoints.</param>
/// <param name="Resume">Continue from <c>last.ckpt</c> when it exists.</param>
public sealed record CheckpointPolicy(string Directory, int Every = 50, bool Resume = true);

/// <summary>What a training run did.</summary>
/// <param name="StepsRun">Steps completed (including those before a resume).</param>
/// <param name="ResumedFromStep">The step resumed from, or null.</param>
/// <param name="BestStep">Step of the kept weights.</param>
/// <param name="Signal">The early-stopping signal name.</param>
/// <param name="BestSignal">Its value at <paramref name="BestStep"/> (NaN without validation).</param>
/// <param name="StoppedEarly">True when patience ran out.</param>
/// <param name="Losses">Training loss per step.</param>
/// <param name="LearningRates">Base learning rate per step.</param>
/// <param name="Validations">Validation evaluations.</param>
/// <param name="Device">Device used ("cpu", "cuda:0").</param>
/// <param name="ImagesPerSecond">Mean training throughput of this process's steps.</param>
public sealed record TrainingOutcome(
    long StepsRun,
    long? ResumedFromStep,
    long BestStep,
    string Signal,
    double BestSignal,
    bool StoppedEarly,
    IReadOnlyList<double> Losses,
    IReadOnlyList<double> LearningRates,
    IReadOnlyList<ValidationPoint> Validations,
    string Device,
    double ImagesPerSecond);

/// <summary>
/// Fine-tunes a <see cref="TransferModel"/> with the strategy, optimizer, schedule and regularization
/// of its <see cref="FineTuneConfig"/>. One dispose scope per step; every random choice derives
/// from (seed, step), so two CPU runs give bit-identical weights and a resumed run equals an
/// uninterrupted one. Keeps the weights with the best validation signal (early stopping).
/// </summary>
public sealed class FineTuneTrainer
{
    private const long SamplingStream = 0x5A3;
    private readonly FineTuneConfig _config;
    private readonly Device _device;
    private readonly IProgress<TrainingEvent>? _progress;

    /// <summary>Creates a trainer.</summary>
    public FineTuneTrainer(FineTuneConfig config, Device device, IProgress<TrainingEvent>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        _config = config;
        _device = device ?? CPU;
        _progress = progress;
    }

    /// <summary>Trains <paramref name="model"/> in place and returns what happened.</summary>
    /// <exception cref="ArgumentException">Empty training set, labels out of range, or image size mismatch.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (the last checkpoint stays valid).</exception>
    public TrainingOutcome Fit(TransferModel model, ImageSet train, ImageSet? validation = null, CheckpointPolicy? checkpoints = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        Check(train, "training");
        if (validation is not null)
        {
            Check(validation, "validation");
        }

        if (train.Count < _config.BatchSize)
        {
            throw new ArgumentException($"The training set has {train.Count} images, fewer than one batch ({_config.BatchSize}).", nameof(train));
        }

        model.to(_device);
        if (_config.ChannelsLast)
        {
            model.Features.Backbone.Graph.ToChannelsLast();
        }

        bool cached = _config.Strategy == StrategyNames.FeatureExtraction;
        var stages = model.BackboneStages();
        List<ParameterGroup> groups = BuildGroups(model, stages);
        GroupOptimizer optimizer = GroupOptimizer.Create(_config.Optimizer, groups, _config.Momentum);
        Dictionary<string, Tensor>? anchor = _config.Strategy == StrategyNames.L2Sp
            ? stages.SelectMany(s => s.Parameters).ToDictionary(p => p.Name, p => { Tensor t = p.Parameter.detach().clone(); t.DetachFromDisposeScope(); return t; }, StringComparer.Ordinal)
            : null;
        Tensor? classWeights = ClassWeights(train);

        var state = new RunState();
        if (checkpoints is { Resume: true } && File.Exists(Path.Combine(checkpoints.Directory, "last.ckpt")))
        {
            Resume(model, optimizer, checkpoints, state);
        }

        Tensor? trainFeatures = null, validationFeatures = null;
        if (cached)
        {
            trainFeatures = CacheFeatures(model, train);
            validationFeatures = validation is null ? null : CacheFeatures(model, validation);
        }

        var augmenter = new Augmenter(_config.Augmentation, _config.Seed);
        long total = _config.Iterations;
        int batchesPerPass = train.Count / _config.BatchSize;
        var watch = new Stopwatch();
        long stepsTimed = 0;
        try
        {
            for (long step = state.Step; step < total; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                double lr = LearningRateSchedule.Rate(_config.Schedule, _config.LearningRate, step, total, _config.StepSize, _config.StepGamma, _config.DannGamma);
                string? note = ApplyFreezing(model, stages, step);
                watch.Start();
                double loss;
                using (var scope = NewDisposeScope())
                {
                    int[] batch = BatchIndices(train, step, batchesPerPass);
                    using var indexTensor = tensor(batch.Select(i => (long)i).ToArray());
                    Tensor labels = train.LabelTensor(batch, _device);
                    Tensor logits;
                    if (cached)
                    {
                        Tensor f = trainFeatures!.index_select(0, indexTensor.to(_device));
                        logits = model.Classifier.forward(model.Features.FromBackboneFeatures(f));
                    }
                    else
                    {
                        Tensor images = augmenter.Apply(train.Images(batch, _device), step);
                        logits = model.forward(_config.ChannelsLast ? ChannelsLast(images) : images);
                    }

                    Tensor objective = F.cross_entropy(logits, labels, classWeights, label_smoothing: _config.LabelSmoothing);
                    loss = objective.item<float>();
                    if (!double.IsFinite(loss))
                    {
                        throw new InvalidOperationException($"The training loss became {loss} at step {step}: lower the learning rate ({lr:g3}).");
                    }

                    if (anchor is not null)
                    {
                        objective = objective.add(L2SpPenalty(model, stages, anchor));
                    }

                    optimizer.ZeroGrad();
                    objective.backward();
                    optimizer.Step(lr);
                }

                watch.Stop();
                stepsTimed++;
                state.Losses.Add(loss);
                state.Rates.Add(lr);
                state.Step = step + 1;
                double ips = stepsTimed * _config.BatchSize / Math.Max(watch.Elapsed.TotalSeconds, 1e-9);
                _progress?.Report(new TrainingEvent("train", state.Step, total, (int)(state.Step / Math.Max(1, batchesPerPass)), loss, lr, ips, null, note));

                bool evaluate = validation is not null && (state.Step % _config.EarlyStopping.EvaluateEvery == 0 || state.Step == total);
                if (evaluate)
                {
                    ValidationPoint v = Validate(model, validation!, validationFeatures, state.Step);
                    state.Validations.Add(v);
                    double signal = Signal(v);
                    bool better = double.IsNaN(state.BestSignal) || (LowerIsBetter ? signal < state.BestSignal : signal > state.BestSignal);
                    if (better && double.IsFinite(signal))
                    {
                        state.BestSignal = signal;
                        state.BestStep = state.Step;
                        state.Stale = 0;
                        state.Best = Snapshot(model);
                        if (checkpoints is not null)
                        {
                            CheckpointFile.Save(Path.Combine(checkpoints.Directory, "best.ckpt"), state.Step, _config.ToJson(), state.Best, new Dictionary<string, Tensor>());
                        }
                    }
                    else
                    {
                        state.Stale++;
                    }

                    _progress?.Report(new TrainingEvent("validate", state.Step, total, 0, double.NaN, lr, ips, signal, better ? "best so far" : null));
                }

                if (checkpoints is not null && (state.Step % checkpoints.Every == 0 || state.Step == total))
                {
                    SaveLast(model, optimizer, checkpoints, state);
                }

                if (evaluate && _config.EarlyStopping.Patience > 0 && state.Stale >= _config.EarlyStopping.Patience)
                {
                    state.StoppedEarly = true;
                    _progress?.Report(new TrainingEvent("train", state.Step, total, 0, double.NaN, lr, ips, null, $"early stop: no improvement of {_config.EarlyStopping.Signal} in {state.Stale} evaluations"));
                    break;
                }
            }

            if (state.Best is not null)
            {
                CheckpointFile.LoadInto(model, state.Best);
            }

            if (validation is null)
            {
                state.BestStep = state.Step;
            }

            _progress?.Report(new TrainingEvent("done", state.Step, total, 0, double.NaN, 0, 0, double.IsNaN(state.BestSignal) ? null : state.BestSignal, null));
            return new TrainingOutcome(state.Step, state.ResumedFrom, state.BestStep, _config.EarlyStopping.Signal, state.BestSignal, state.StoppedEarly,
                state.Losses, state.Rates, state.Validations, _device.ToString(), stepsTimed * _config.BatchSize / Math.Max(watch.Elapsed.TotalSeconds, 1e-9));
        }
        finally
        {
            trainFeatures?.Dispose();
            validationFeatures?.Dispose();
            classWeights?.Dispose();
            if (anchor is not null)
            {
                foreach (Tensor t in anchor.Values)
                {
                    t.Dispose();
                }
            }
        }
    }

    /// <summary>Class probabilities (N×K) of a set, in evaluation mode, in batches.</summary>
    public static float[][] Predict(TransferModel model, ImageSet set, Device? device = null, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(set);
        var result = new float[set.Count][];
        model.eval();
        using var guard = no_grad();
        for (int start = 0; start < set.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            int[] idx = [.. Enumerable.Range(start, Math.Min(batchSize, set.Count - start))];
            Tensor p = F.softmax(model.forward(set.Images(idx, device)), 1).cpu();
            long k = p.shape[1];
            float[] flat = p.contiguous().data<float>().ToArray();
            for (int i = 0; i < idx.Length; i++)
            {
                result[start + i] = flat.AsSpan(i * (int)k, (int)k).ToArray();
            }
        }

        return result;
    }

    private bool LowerIsBetter => _config.EarlyStopping.Signal == "val-loss";

    private double Signal(ValidationPoint v) => _config.EarlyStopping.Signal switch
    {
        "val-accuracy" => v.Accuracy,
        "val-loss" => v.Loss,
        _ => double.IsNaN(v.Auroc) ? v.Accuracy : v.Auroc,
    };

    private void Check(ImageSet set, string what)
    {
        if (set.Size != _config.ImageSize)
        {
            throw new ArgumentException($"The {what} images are {set.Size}² but the model expects {_config.ImageSize}².");
        }

        foreach (int label in set.Labels)
        {
            if (label < 0 || label >= _config.Classes)
            {
                throw new ArgumentException($"The {what} set has label {label}; labels must be 0–{_config.Classes - 1}.");
            }
        }
    }

    private List<ParameterGroup> BuildGroups(TransferModel model, IReadOnlyList<(string Stage, IReadOnlyList<(string Name, Parameter Parameter)> Parameters)> stages)
    {
        bool l2sp = _config.Strategy == StrategyNames.L2Sp;
        double decay = l2sp ? 0 : _config.WeightDecay;
        var groups = new List<ParameterGroup>();
        if (_config.Strategy == StrategyNames.FeatureExtraction)
        {
            foreach ((_, Parameter p) in stages.SelectMany(s => s.Parameters))
            {
                p.requires_grad = false;
            }
        }
        else
        {
            for (int i = 0; i < stages.Count; i++)
            {
                int fromTop = stages.Count - 1 - i;
                double multiplier = _config.Strategy is StrategyNames.Discriminative or StrategyNames.GradualUnfreezing
                    ? Math.Pow(_config.DiscriminativeDecay, _config.Strategy == StrategyNames.Discriminative ? fromTop : 0)
                    : 1;
                groups.Add(new ParameterGroup(stages[i].Stage, stages[i].Parameters, multiplier, decay));
            }
        }

        // The head's multiplier is relative to the backbone; with a frozen backbone the head trains at the base rate.
        double headMultiplier = _config.Strategy == StrategyNames.FeatureExtraction ? 1 : _config.HeadLrMultiplier;
        groups.Add(new ParameterGroup("head", [.. model.HeadParameters()], headMultiplier, decay));
        return groups;
    }

    private string? ApplyFreezing(TransferModel model, IReadOnlyList<(string Stage, IReadOnlyList<(string Name, Parameter Parameter)> Parameters)> stages, long step)
    {
        model.train();
        if (_config.Strategy == StrategyNames.FeatureExtraction)
        {
            model.Features.Backbone.eval();
            return null;
        }

        if (_config.Strategy != StrategyNames.GradualUnfreezing)
        {
            return null;
        }

        long unfrozen = Math.Min(stages.Count, step / _config.UnfreezeEvery);
        string? note = null;
        for (int i = 0; i < stages.Count; i++)
        {
            bool trainable = i >= stages.Count - unfrozen;
            foreach ((_, Parameter p) in stages[i].Parameters)
            {
                if (p.requires_grad != trainable)
                {
                    p.requires_grad = trainable;
                    if (trainable)
                    {
                        note = $"{stages[i].Stage} unfrozen";
                    }
                }
            }

            if (!trainable)
            {
                foreach (nn.Module m in model.Features.Backbone.Graph.StageModules(stages[i].Stage))
                {
                    m.eval();
                }
            }
        }

        return note;
    }

    private Tensor L2SpPenalty(TransferModel model, IReadOnlyList<(string Stage, IReadOnlyList<(string Name, Parameter Parameter)> Parameters)> stages, Dictionary<string, Tensor> anchor)
    {
        Tensor penalty = zeros(1, device: _device);
        foreach ((string name, Parameter p) in stages.SelectMany(s => s.Parameters))
        {
            penalty = penalty.add(p.sub(anchor[name]).pow(2).sum().mul(_config.L2SpAlpha / 2));
        }

        foreach ((string name, Parameter p) in model.HeadParameters())
        {
            if (name.EndsWith(".weight", StringComparison.Ordinal))
            {
                penalty = penalty.add(p.pow(2).sum().mul(_config.L2SpBeta / 2));
            }
        }

        return penalty.squeeze();
    }

    private Tensor? ClassWeights(ImageSet train)
    {
        if (_config.ClassWeighting != "balanced")
        {
            return null;
        }

        var counts = new double[_config.Classes];
        foreach (int l in train.Labels)
        {
            counts[l]++;
        }

        float[] w = [.. counts.Select(c => c == 0 ? 0f : (float)(train.Count / (_config.Classes * c)))];
        Tensor t = tensor(w, device: _device);
        t.DetachFromDisposeScope();
        return t;
    }

    private int[] BatchIndices(ImageSet train, long step, int batchesPerPass)
    {
        int b = _config.BatchSize;
        if (_config.BalancedSampling)
        {
            var rng = new StableRandom(_config.Seed, SamplingStream + 1, step);
            var byClass = Enumerable.Range(0, _config.Classes).Select(c => Enumerable.Range(0, train.Count).Where(i => train.Labels[i] == c).ToArray()).Where(a => a.Length > 0).ToArray();
            var picked = new int[b];
            for (int i = 0; i < b; i++)
            {
                int[] pool = byClass[i % byClass.Length];
                picked[i] = pool[rng.Next(pool.Length)];
            }

            return picked;
        }

        long pass = step / batchesPerPass;
        int offset = (int)(step % batchesPerPass) * b;
        int[] order = [.. Enumerable.Range(0, train.Count)];
        new StableRandom(_config.Seed, SamplingStream, pass).Shuffle(order);
        return order.AsSpan(offset, b).ToArray();
    }

    private Tensor CacheFeatures(TransferModel model, ImageSet set) =>
        model.Features.Backbone.ExtractFeatures(set, _device, _config.ChannelsLast,
            _progress is null ? null : new FeatureProgress(p => _progress.Report(new TrainingEvent("features", p.Done, p.Total, 0, double.NaN, 0, 0, null, null))));

    private ValidationPoint Validate(TransferModel model, ImageSet validation, Tensor? cachedFeatures, long step)
    {
        model.eval();
        var scores = new List<(double Score, int Label)>();
        double lossSum = 0;
        int correct = 0;
        using (no_grad())
        {
            for (int start = 0; start < validation.Count; start += 32)
            {
                using var scope = NewDisposeScope();
                int[] idx = [.. Enumerable.Range(start, Math.Min(32, validation.Count - start))];
                Tensor logits;
                if (cachedFeatures is not null)
                {
                    Tensor f = cachedFeatures.index_select(0, tensor(idx.Select(i => (long)i).ToArray()).to(_device));
                    logits = model.Classifier.forward(model.Features.FromBackboneFeatures(f));
                }
                else
                {
                    Tensor images = validation.Images(idx, _device);
                    logits = model.forward(_config.ChannelsLast ? ChannelsLast(images) : images);
                }

                Tensor labels = validation.LabelTensor(idx, _device);
                lossSum += F.cross_entropy(logits, labels, reduction: nn.Reduction.Sum).item<float>();
                correct += (int)logits.argmax(1).eq(labels).sum().item<long>();
                float[] p = F.softmax(logits, 1).cpu().contiguous().data<float>().ToArray();
                long k = logits.shape[1];
                for (int i = 0; i < idx.Length; i++)
                {
                    scores.Add((p[(i * k) + (k > 1 ? 1 : 0)], validation.Labels[idx[i]]));
                }
            }
        }

        model.train();
        return new ValidationPoint(step, PositiveClassAuroc(scores), (double)correct / validation.Count, lossSum / validation.Count);
    }

    /// <summary>AUROC of class 1 vs the rest (Evaluation's <see cref="Auroc"/>); NaN when one side is empty.</summary>
    private static double PositiveClassAuroc(IReadOnlyList<(double Score, int Label)> scores)
    {
        int[] labels = [.. scores.Select(s => s.Label == 1 ? 1 : 0)];
        return labels.Contains(0) && labels.Contains(1) ? Auroc.Compute([.. scores.Select(s => s.Score)], labels) : double.NaN;
    }

    private static Tensor ChannelsLast(Tensor x) => MemoryFormat.ChannelsLast(x);

    private sealed class FeatureProgress(Action<(int Done, int Total)> report) : IProgress<(int Done, int Total)>
    {
        public void Report((int Done, int Total) value) => report(value);
    }

    private static Dictionary<string, Tensor> Snapshot(TransferModel model)
    {
        var copy = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach ((string k, Tensor v) in model.state_dict())
        {
            Tensor c = v.detach().clone();
            c.DetachFromDisposeScope();
            copy[k] = c;
        }

        return copy;
    }

    private void SaveLast(TransferModel model, GroupOptimizer optimizer, CheckpointPolicy policy, RunState state)
    {
        var extra = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["optimizer_steps"] = optimizer.StepCount.ToString(CultureInfo.InvariantCulture),
            ["best_step"] = state.BestStep.ToString(CultureInfo.InvariantCulture),
            ["best_signal"] = state.BestSignal.ToString("R", CultureInfo.InvariantCulture),
            ["stale"] = state.Stale.ToString(CultureInfo.InvariantCulture),
            ["losses"] = JsonSerializer.Serialize(state.Losses),
            ["rates"] = JsonSerializer.Serialize(state.Rates),
            ["validations"] = JsonSerializer.Serialize(state.Validations),
        };
        CheckpointFile.Save(Path.Combine(policy.Directory, "last.ckpt"), state.Step, _config.ToJson(), model.state_dict(), optimizer.State.ToDictionary(), extra);
    }

    private void Resume(TransferModel model, GroupOptimizer optimizer, CheckpointPolicy policy, RunState state)
    {
        Checkpoint last = CheckpointFile.Load(Path.Combine(policy.Directory, "last.ckpt"));
        FineTuneConfig saved = FineTuneConfig.FromJson(last.ConfigJson);
        if (saved.ToJson() != _config.ToJson())
        {
            throw new CheckpointException(CheckpointError.BadHeader, "The checkpoint in the run folder was written with a different configuration; use a new folder or remove last.ckpt.");
        }

        CheckpointFile.LoadInto(model, last.Model);
        var optimizerState = last.Optimizer.ToDictionary(k => k.Key, k => k.Value.to(_device), StringComparer.Ordinal);
        optimizer.LoadState(optimizerState, long.Parse(last.Extra["optimizer_steps"], CultureInfo.InvariantCulture));
        state.Step = last.Step;
        state.ResumedFrom = last.Step;
        state.BestStep = long.Parse(last.Extra["best_step"], CultureInfo.InvariantCulture);
        state.BestSignal = double.Parse(last.Extra["best_signal"], CultureInfo.InvariantCulture);
        state.Stale = int.Parse(last.Extra["stale"], CultureInfo.InvariantCulture);
        state.Losses.AddRange(JsonSerializer.Deserialize<List<double>>(last.Extra["losses"]) ?? []);
        state.Rates.AddRange(JsonSerializer.Deserialize<List<double>>(last.Extra["rates"]) ?? []);
        state.Validations.AddRange(JsonSerializer.Deserialize<List<ValidationPoint>>(last.Extra["validations"]) ?? []);
        string bestPath = Path.Combine(policy.Directory, "best.ckpt");
        if (File.Exists(bestPath))
        {
            state.Best = CheckpointFile.Load(bestPath).Model.ToDictionary(k => k.Key, k => k.Value, StringComparer.Ordinal);
        }

        _progress?.Report(new TrainingEvent("train", state.Step, _config.Iterations, 0, double.NaN, 0, 0, null, $"resumed from step {state.Step}"));
    }

    private sealed class RunState
    {
        public long Step { get; set; }

        public long? ResumedFrom { get; set; }

        public long BestStep { get; set; }

        public double BestSignal { get; set; } = double.NaN;

        public int Stale { get; set; }

        public bool StoppedEarly { get; set; }

        public Dictionary<string, Tensor>? Best { get; set; }

        public List<double> Losses { get; } = [];

        public List<double> Rates { get; } = [];

        public List<ValidationPoint> Validations { get; } = [];
    }
}
