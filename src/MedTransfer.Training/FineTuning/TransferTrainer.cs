using System.Diagnostics;
using System.Globalization;
using MedTransfer.Evaluation.Metrics;
using MedTransfer.Training.Adaptation;
using MedTransfer.Training.Backbones;
using MedTransfer.Training.Configuration;
using MedTransfer.Training.Data;
using MedTransfer.Training.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MedTransfer.Training.FineTuning;

/// <summary>
/// The one trainer: fine-tunes a <see cref="TransferModel"/> with any strategy (<see cref="StrategyNames"/>,
/// <see cref="FineTuneConfig.TrainableFrom"/>) and any adaptation method or baseline
/// (<see cref="AdaptationMethods"/>), with the configuration's optimizer, schedule, class weights, label smoothing,
/// balanced sampling, augmentation and early stopping.
/// </summary>
/// <remarks>
/// <para>Each step draws a labelled batch and, for the adaptation methods, an unlabelled target batch, forwards both
/// together (one concatenated batch, so BatchNorm sees both domains) and minimises
/// CE(g(f(x^s)), y^s) + trade-off·transfer (+ the L2-SP penalty). Batches, augmentation and dropout derive from
/// (seed, step), so two CPU runs give bit-identical weights and a resumed run equals an uninterrupted one
/// (GPU runs are not claimed deterministic).</para>
/// <para>Layers before the first trainable stage are frozen and run without gradients. Without augmentation their
/// activations are computed once per set (<see cref="ActivationCache"/>) and training continues from them — the
/// fast path that makes a frozen backbone cheap; with augmentation they run on every augmented batch.</para>
/// <para>Candidate checkpoints are taken at every early-stopping evaluation (or at <see cref="FineTuneConfig.Snapshots"/>
/// evenly spaced steps without early stopping) and kept in <see cref="TrainingOutcome.Snapshots"/> for a selection
/// rule; the model is left at the early-stopping best, or at the last step. AdaBN is a post-hoc step: the adabn
/// method trains like source-only, and <see cref="AdaBN.Adapt"/> re-estimates the statistics of the weights kept.</para>
/// </remarks>
public sealed class TransferTrainer
{
    private const long LabelledStream = 0x5A3;
    private const long TargetStream = 0x7A9;
    private const long TorchStream = 0x70C;
    private const long DiscriminatorStream = 0xD15;
    private const int SaturationWindow = 50;
    private const double SaturationAccuracy = 0.99;
    private readonly FineTuneConfig _config;
    private readonly Device _device;
    private readonly IProgress<TrainingEvent>? _progress;
    private readonly ActivationCache? _cache;

    /// <summary>Creates a trainer.</summary>
    /// <param name="config">The configuration (validated here).</param>
    /// <param name="device">Where training runs (CPU by default).</param>
    /// <param name="progress">Progress reports.</param>
    /// <param name="cache">Activations of frozen layers shared between runs; null = computed for this run only.</param>
    /// <exception cref="FormatException">The configuration is invalid (names the field).</exception>
    public TransferTrainer(FineTuneConfig config, Device? device = null, IProgress<TrainingEvent>? progress = null, ActivationCache? cache = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        _config = config;
        _device = device ?? CPU;
        _progress = progress;
        _cache = cache;
    }

    /// <summary>Trains <paramref name="model"/> in place and says what happened.</summary>
    /// <exception cref="ArgumentException">The data does not fit the configuration (message says what).</exception>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    /// <exception cref="Checkpoints.CheckpointException">A checkpoint to resume from is damaged or from another configuration.</exception>
    /// <exception cref="OperationCanceledException">Cancelled between steps (the last checkpoint stays valid).</exception>
    public TrainingOutcome Fit(TransferModel model, TrainingData data, CheckpointPolicy? checkpoints = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        string methodName = AdaptationMethods.Resolve(_config.Adaptation.Method);
        CheckData(model, data, methodName);

        model.to(_device);
        if (_config.ChannelsLast)
        {
            model.Features.Backbone.Graph.ToChannelsLast();
        }

        TrainableLayout layout = TrainableLayout.Build(model, _config);
        using ActivationCache? own = _cache is null ? new ActivationCache() : null;
        ActivationCache cache = _cache ?? own!;
        BackboneCut? cut = layout.Cut;
        bool cacheable = cut is not null && layout.HasFrozenPrefix && !_config.Augmentation.Enabled;
        ISampleSource labelled = Prepare(cacheable, cache, model, cut, data.Labelled, "labelled");
        ISampleSource? validation = data.Validation is null ? null : Prepare(cacheable, cache, model, cut, data.Validation, "validation");
        ISampleSource? target = data.Target is null ? null : Prepare(cacheable, cache, model, cut, data.Target, "target");
        bool cached = labelled is CachedActivations;

        var session = new Session(this, model, layout, cut, labelled, validation, target, cached, methodName, checkpoints);
        try
        {
            return session.Run(cancellationToken);
        }
        finally
        {
            session.Dispose();
        }
    }

    private ISampleSource Prepare(bool cacheable, ActivationCache cache, TransferModel model, BackboneCut? cut, ISampleSource set, string what)
    {
        if (!cacheable || cut is null)
        {
            return set;
        }

        var relay = _progress is null ? null : new Relay<(int Done, int Total)>(p => _progress.Report(new TrainingEvent("activations", p.Done, p.Total, double.NaN, double.NaN, 0, 0, 0, null, 0, null, what)));
        return (ISampleSource?)cache.Get(model, cut, set, _device, relay) ?? set;
    }

    private void CheckData(TransferModel model, TrainingData data, string method)
    {
        void Labels(ISampleSource set, string what)
        {
            if (set.Count < 2)
            {
                throw new ArgumentException($"The {what} samples hold {set.Count} sample(s); training needs at least 2.");
            }

            int bad = set.Labels.Count(l => l < 0 || l >= _config.Classes);
            if (bad > 0)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{bad} of the {what} samples have no label in 0–{_config.Classes - 1}."));
            }
        }

        AdaptationRole role = AdaptationMethods.RoleOf(method);
        if (role != AdaptationRole.SourceFree)
        {
            Labels(data.Labelled, "labelled training");
        }

        if (data.Validation is not null)
        {
            Labels(data.Validation, "validation");
        }

        if (model.Classifier.weight!.shape[0] != _config.Classes)
        {
            throw new ArgumentException($"The model has {model.Classifier.weight.shape[0]} outputs; the configuration says {_config.Classes} classes.");
        }

        if ((role is AdaptationRole.Transfer or AdaptationRole.SourceFree || method == AdaptationMethods.AdaBN) && (data.Target is null || data.Target.Count < 2))
        {
            throw new ArgumentException($"'{method}' adapts to target samples: give at least 2 unlabelled target samples.");
        }

        if (_config.EarlyStopping is { } e)
        {
            if (e.Signal is SignalNames.ValidationAuroc or SignalNames.ValidationLoss && data.Validation is null)
            {
                throw new ArgumentException($"Early stopping on {e.Signal} needs validation samples.");
            }

            if (e.Signal == SignalNames.ValidationAuroc && data.Validation is not null && data.Validation.Labels.Distinct().Count() < 2)
            {
                throw new ArgumentException("Early stopping on source-val-auroc needs both classes among the validation samples.");
            }

            if (e.Signal is SignalNames.Im or SignalNames.Snd && (data.Target is null || data.Target.Count < 2))
            {
                throw new ArgumentException($"Early stopping on {e.Signal} needs at least 2 unlabelled target samples.");
            }
        }
    }

    /// <summary>One Fit call's state: the step loop and what it needs.</summary>
    private sealed class Session : IDisposable
    {
        private readonly TransferTrainer _t;
        private readonly FineTuneConfig _c;
        private readonly TransferModel _model;
        private readonly TrainableLayout _layout;
        private readonly BackboneCut? _cut;
        private readonly ISampleSource _labelled;
        private readonly ISampleSource? _validation;
        private readonly ISampleSource? _target;
        private readonly bool _cached;
        private readonly string _methodName;
        private readonly CheckpointPolicy? _checkpoints;
        private readonly IAdaptationMethod _method;
        private readonly GroupOptimizer _optimizer;
        private readonly Dictionary<string, Tensor>? _anchor;
        private readonly Tensor? _classWeights;
        private readonly Augmenter _augmenter;
        private readonly SnapshotStore _snapshots;
        private readonly long[] _evaluationSteps;
        private readonly TrainingState _state = new();

        public Session(TransferTrainer trainer, TransferModel model, TrainableLayout layout, BackboneCut? cut, ISampleSource labelled, ISampleSource? validation, ISampleSource? target, bool cached, string methodName, CheckpointPolicy? checkpoints)
        {
            _t = trainer;
            _c = trainer._config;
            _model = model;
            _layout = layout;
            _cut = cut;
            _labelled = labelled;
            _validation = validation;
            _target = target;
            _cached = cached;
            _methodName = methodName;
            _checkpoints = checkpoints;

            using (no_grad())
            {
                manual_seed(StableRandom.DeriveSeed(_c.Seed, DiscriminatorStream, 0));
                _method = AdaptationMethods.Create(_c.Adaptation, model.Features.Dimension, _c.Classes, unchecked((int)_c.Seed));
                _method.MoveTo(trainer._device);
            }

            double decay = _c.Strategy == StrategyNames.L2Sp ? 0 : _c.WeightDecay;
            List<ParameterGroup> groups = [.. layout.Groups];
            if (_method.TrainableModule is { } own)
            {
                // A discriminator is a new layer: it trains at the head's rate and keeps weight decay even under L2-SP.
                groups.Add(new ParameterGroup("method", [.. own.named_parameters().Select(p => ("method." + p.name, p.parameter))], _c.HeadLrMultiplier, _c.WeightDecay));
            }

            _optimizer = GroupOptimizer.Create(_c.Optimizer, groups, _c.Momentum);
            _anchor = _c.Strategy == StrategyNames.L2Sp
                ? layout.TrainableBackboneParameters.ToDictionary(p => p.Name, p => { Tensor a = p.Parameter.detach().clone(); a.DetachFromDisposeScope(); return a; }, StringComparer.Ordinal)
                : null;
            _classWeights = ClassWeights();
            _augmenter = new Augmenter(_c.Augmentation, _c.Seed);
            _snapshots = new SnapshotStore(checkpoints?.Directory, layout.StateKeys, _c.ToJson());
            _evaluationSteps = EvaluationSteps();
        }

        private bool Transfer => _method.Role == AdaptationRole.Transfer;

        private bool SourceFree => _method.Role == AdaptationRole.SourceFree;

        public TrainingOutcome Run(CancellationToken ct)
        {
            if (_checkpoints is not null)
            {
                Directory.CreateDirectory(_checkpoints.Directory);
                if (_checkpoints.Resume && File.Exists(LastPath))
                {
                    TrainingCheckpoint.Resume(LastPath, _c, _model, _layout, _method, _optimizer, _state, _t._device);
                    _snapshots.Reload(_state.Step);
                    Report("train", double.NaN, 0, 0, null, null, string.Create(CultureInfo.InvariantCulture, $"resumed from step {_state.Step}"));
                }
            }

            long total = _c.Iterations;
            var watch = new Stopwatch();
            var sinceCheckpoint = Stopwatch.StartNew();
            long samplesTimed = 0;
            int saturatedRun = _state.SaturatedRun;
            while (_state.Step < total && !_state.StoppedEarly)
            {
                ct.ThrowIfCancellationRequested();
                long step = _state.Step;
                double lr = LearningRateSchedule.Rate(_c.Schedule, _c.LearningRate, step, total, _c.DannGamma);
                double lambda = _c.Adaptation.Schedule.At(step, total);
                if (SourceFree)
                {
                    RefreshPseudoLabels(step);
                }

                string? note = _layout.ApplyModes(step);
                _method.SetTraining(true);
                watch.Start();
                (double loss, double classification, double transfer, double? accuracy, long samples) = TrainStep(step, lr, lambda);
                watch.Stop();
                samplesTimed += samples;
                _state.Step = step + 1;
                string? warning = null;
                if (accuracy is double acc && acc >= SaturationAccuracy)
                {
                    if (++saturatedRun >= SaturationWindow)
                    {
                        _state.SaturatedSteps++;
                        warning = string.Create(CultureInfo.InvariantCulture, $"the domain discriminator has been ≥ {SaturationAccuracy:0.##} accurate for {saturatedRun} steps: it is winning and gradient reversal gives the features little signal (lower its capacity or learning rate, or raise the trade-off)");
                    }
                }
                else
                {
                    saturatedRun = 0;
                }

                _state.SaturatedRun = saturatedRun;
                _state.Curves.Add(loss, transfer, lambda, lr, accuracy ?? double.NaN);
                double ips = samplesTimed / Math.Max(watch.Elapsed.TotalSeconds, 1e-9);
                Report("train", loss, transfer, lambda, accuracy, null, note ?? warning, lr, ips, classification);

                if (Array.BinarySearch(_evaluationSteps, _state.Step) >= 0 || _state.Step == total)
                {
                    EvaluateCandidate();
                }

                bool final = _state.Step == total || _state.StoppedEarly;
                if (_checkpoints is not null && (final || (_state.Step % _checkpoints.Every == 0 && sinceCheckpoint.Elapsed.TotalSeconds >= _checkpoints.MinimumSeconds)))
                {
                    TrainingCheckpoint.Save(LastPath, _c, _layout, _method, _optimizer, _state);
                    sinceCheckpoint.Restart();
                }
            }

            if (_state.BestStep is long best && best != _state.Step)
            {
                _snapshots.Restore(best, _model);
            }

            _model.eval();
            Report("done", 0, 0, 0, null, null, _state.StoppedEarly ? "stopped early" : null);
            return new TrainingOutcome(
                _state.Step,
                _state.ResumedFrom,
                _state.StoppedEarly,
                [.. _state.Candidates],
                _state.BestStep,
                _state.Curves.ToCurves(),
                _state.SaturatedSteps,
                _c.EffectiveTrainableFrom,
                _cached,
                _t._device.ToString(),
                samplesTimed / Math.Max(watch.Elapsed.TotalSeconds, 1e-9),
                _snapshots);
        }

        public void Dispose()
        {
            _method.Dispose();
            _classWeights?.Dispose();
            foreach (Tensor a in _anchor?.Values ?? Enumerable.Empty<Tensor>())
            {
                a.Dispose();
            }

            _optimizer.DisposeState();
        }

        private string LastPath => Path.Combine(_checkpoints!.Directory, "last.ckpt");

        private (double Loss, double Classification, double Transfer, double? Accuracy, long Samples) TrainStep(long step, double lr, double lambda)
        {
            using var scope = NewDisposeScope();
            manual_seed(StableRandom.DeriveSeed(_c.Seed, TorchStream, step));
            if (SourceFree)
            {
                return SourceFreeStep(step, lr);
            }

            int[] li = SampleBatches.Labelled(_c, _labelled.Labels, step, LabelledStream);
            Tensor y = tensor(li.Select(i => (long)_labelled.Labels[i]).ToArray(), device: _t._device);
            Tensor xs = Batch(_labelled, li, step, 0);
            Tensor cls;
            Tensor transfer;
            double? accuracy = null;
            long samples = xs.shape[0];
            if (Transfer)
            {
                int[] ti = SampleBatches.Shuffled(_c.Seed, TargetStream, _target!.Count, _c.BatchSize, step);
                Tensor xt = Batch(_target, ti, step, 1);
                if (!xs.shape.AsSpan(1).SequenceEqual(xt.shape.AsSpan(1)))
                {
                    throw new ArgumentException($"Source and target samples must have the same shape to share a forward pass (got [{string.Join(",", xs.shape.Skip(1))}] and [{string.Join(",", xt.shape.Skip(1))}]).");
                }

                long ns = xs.shape[0];
                long nt = xt.shape[0];
                samples += nt;
                Tensor f = Features(cat([xs, xt], 0));
                Tensor logits = _model.Classifier.forward(f);
                cls = Classification(logits.narrow(0, 0, ns), y);
                TransferLossOutput output = _method.TransferLoss(f.narrow(0, 0, ns), f.narrow(0, ns, nt), logits.narrow(0, 0, ns), logits.narrow(0, ns, nt), lambda);
                transfer = output.Loss;
                accuracy = output.DiscriminatorAccuracy;
            }
            else
            {
                cls = Classification(_model.Classifier.forward(Features(xs)), y);
                transfer = zeros([], device: _t._device);
            }

            double weight = _c.Adaptation.TradeOff * (!_method.IsAdversarial && _c.Adaptation.ScheduleTransferWeight ? lambda : 1.0);
            Tensor total = cls.add(transfer.mul(weight));
            if (_anchor is not null)
            {
                total = total.add(L2SpPenalty());
            }

            double loss = total.item<float>();
            if (!double.IsFinite(loss))
            {
                throw new TrainingDivergedException(step, lr);
            }

            _optimizer.ZeroGrad();
            total.backward();
            _optimizer.Step(lr);
            return (loss, cls.item<float>(), transfer.item<float>(), accuracy, samples);
        }

        /// <summary>
        /// One SHOT step on a target batch only: information maximisation plus β·CE against the pseudo-labels, through
        /// the frozen classifier. No labelled data is touched.
        /// </summary>
        private (double Loss, double Classification, double Transfer, double? Accuracy, long Samples) SourceFreeStep(long step, double lr)
        {
            int[] ti = SampleBatches.Shuffled(_c.Seed, TargetStream, _target!.Count, _c.BatchSize, step);
            Tensor xt = Batch(_target, ti, step, 1);
            Tensor pseudo = tensor(ti.Select(i => (long)_state.PseudoLabels![i]).ToArray(), device: _t._device);
            Tensor logits = _model.Classifier.forward(Features(xt));
            Tensor total = AdaptationLosses.Shot(logits, pseudo, _c.Adaptation.ShotBeta);
            if (_anchor is not null)
            {
                total = total.add(L2SpPenalty());
            }

            double loss = total.item<float>();
            if (!double.IsFinite(loss))
            {
                throw new TrainingDivergedException(step, lr);
            }

            _optimizer.ZeroGrad();
            total.backward();
            _optimizer.Step(lr);
            return (loss, double.NaN, loss, null, xt.shape[0]);
        }

        /// <summary>
        /// SHOT relabels the whole target set at the start of every pass over it (and when none exist yet), from the
        /// current features and predictions. The labels live in the run state, so a resumed run uses the same ones.
        /// </summary>
        private void RefreshPseudoLabels(long step)
        {
            int batch = Math.Min(_c.BatchSize, _target!.Count);
            int perPass = _target.Count / batch;
            if (_state.PseudoLabels is not null && step % perPass != 0)
            {
                return;
            }

            ModelOutputs o = ModelScoring.Score(_model, _target, _t._device, _cut, withFeatures: true, channelsLast: _c.ChannelsLast);
            _state.PseudoLabels = ShotPseudoLabels.Compute(o.Features!, [.. o.Logits.Select(ModelOutputs.Softmax)]);
        }

        private Tensor Batch(ISampleSource source, int[] indices, long step, int part)
        {
            Tensor x = source.Inputs(indices, _t._device);
            if (!_cached && _c.Augmentation.Enabled)
            {
                x = _augmenter.Apply(x, step, part);
            }

            return _c.ChannelsLast && x.dim() == 4 ? MemoryFormat.ChannelsLast(x) : x;
        }

        private Tensor Features(Tensor x)
        {
            if (_cached)
            {
                return _model.Features.FromActivations(_cut!, x);
            }

            if (_layout.HasFrozenPrefix)
            {
                Tensor a;
                using (no_grad())
                {
                    a = _model.Features.Backbone.ForwardTo(_cut!, x);
                }

                return _model.Features.FromActivations(_cut!, a);
            }

            return _model.Features.forward(x);
        }

        private Tensor Classification(Tensor logits, Tensor labels) =>
            F.cross_entropy(logits, labels, _classWeights, label_smoothing: _c.LabelSmoothing);

        private Tensor L2SpPenalty()
        {
            Tensor penalty = zeros([], device: _t._device);
            foreach ((string name, Parameter p) in _layout.TrainableBackboneParameters)
            {
                if (p.requires_grad)
                {
                    penalty = penalty.add(p.sub(_anchor![name]).pow(2).sum().mul(_c.L2SpAlpha / 2));
                }
            }

            foreach ((string name, Parameter p) in _model.HeadParameters())
            {
                if (name.EndsWith(".weight", StringComparison.Ordinal))
                {
                    penalty = penalty.add(p.pow(2).sum().mul(_c.L2SpBeta / 2));
                }
            }

            return penalty;
        }

        private Tensor? ClassWeights()
        {
            if (_c.ClassWeighting != "balanced" || SourceFree)
            {
                return null;
            }

            double[] w = SampleBatches.BalancedWeights(_labelled.Labels, _c.Classes);
            Tensor t = tensor(w.Select(v => (float)v).ToArray(), device: _t._device);
            t.DetachFromDisposeScope();
            return t;
        }

        private long[] EvaluationSteps()
        {
            long total = _c.Iterations;
            if (_c.EarlyStopping is { } e)
            {
                return [.. Enumerable.Range(1, (int)Math.Min(total / e.EvaluateEvery, int.MaxValue)).Select(k => (long)k * e.EvaluateEvery).Append(total).Distinct().Order()];
            }

            return [.. Enumerable.Range(1, _c.Snapshots).Select(k => (long)Math.Round((double)k * total / _c.Snapshots)).Where(s => s >= 1).Append(total).Distinct().Order()];
        }

        private void EvaluateCandidate()
        {
            long step = _state.Step;
            double? auroc = null, loss = null, accuracy = null, im = null, snd = null;
            if (_validation is not null)
            {
                ModelOutputs o = ModelScoring.Score(_model, _validation, _t._device, _cut, channelsLast: _c.ChannelsLast);
                (auroc, loss, accuracy) = ValidationSignals(o, _validation.Labels);
            }

            if (_target is not null)
            {
                ModelOutputs o = ModelScoring.Score(_model, _target, _t._device, _cut, channelsLast: _c.ChannelsLast);
                im = CheckpointSelection.InformationMaximization(o.Logits);
                snd = CheckpointSelection.SoftNeighborhoodDensity([.. o.Logits.Select(ModelOutputs.Softmax)]);
            }

            var candidate = new CandidateCheckpoint(step, auroc, loss, accuracy, im, snd);
            _state.Candidates.Add(candidate);
            _snapshots.Save(step, _layout);
            double? signal = null;
            string? note = null;
            if (_c.EarlyStopping is { } e)
            {
                signal = e.Signal switch
                {
                    SignalNames.ValidationAuroc => auroc,
                    SignalNames.ValidationLoss => loss,
                    SignalNames.Im => im,
                    _ => snd,
                };
                bool lowerIsBetter = e.Signal == SignalNames.ValidationLoss;
                if (signal is double s && (_state.BestSignal is not double b || (lowerIsBetter ? s < b : s > b)))
                {
                    _state.BestSignal = s;
                    _state.BestStep = step;
                    _state.Stale = 0;
                    note = "best so far";
                }
                else
                {
                    _state.Stale++;
                    if (_state.Stale >= e.Patience && step < _c.Iterations)
                    {
                        _state.StoppedEarly = true;
                        note = string.Create(CultureInfo.InvariantCulture, $"early stop at step {step}: no improvement of {e.Signal} in {_state.Stale} evaluations");
                    }
                }
            }

            Report("evaluate", 0, 0, 0, null, signal, note);
        }

        private static (double? Auroc, double Loss, double Accuracy) ValidationSignals(ModelOutputs o, IReadOnlyList<int> labels)
        {
            double loss = 0;
            int correct = 0;
            for (int i = 0; i < labels.Count; i++)
            {
                double[] p = ModelOutputs.Softmax(o.Logits[i]);
                loss -= Math.Log(Math.Max(p[labels[i]], 1e-300));
                int arg = Array.IndexOf(p, p.Max());
                correct += arg == labels[i] ? 1 : 0;
            }

            int[] positive = [.. labels.Select(l => l == 1 ? 1 : 0)];
            double? auroc = positive.Contains(0) && positive.Contains(1) ? Auroc.Compute(o.PositiveScores(), positive) : null;
            return (auroc, loss / labels.Count, (double)correct / labels.Count);
        }

        private void Report(string phase, double loss, double transfer, double lambda, double? accuracy, double? signal, string? message, double lr = 0, double ips = 0, double classification = double.NaN) =>
            _t._progress?.Report(new TrainingEvent(phase, _state.Step, _c.Iterations, phase == "train" ? loss : double.NaN, classification, transfer, lambda, lr, accuracy, ips, signal, message));
    }

    private sealed class Relay<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}

/// <summary>The training loss became NaN or infinite.</summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TrainingDivergedException(long step, double learningRate)
        : base(string.Create(CultureInfo.InvariantCulture, $"The training loss became NaN or infinite at step {step}: lower the learning rate (it was {learningRate:g3} at that step)."))
    {
        Step = step;
    }

    /// <summary>The step at which it happened.</summary>
    public long Step { get; }
}
