using System.Globalization;
using System.Text.Json.Serialization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedTransfer.Training.Adaptation;

/// <summary>The optimizer of an adaptation run.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AdaptationOptimizer>))]
public enum AdaptationOptimizer
{
    /// <summary>SGD with momentum (Nesterov when set) and L2 weight decay, as in tllib.</summary>
    Sgd,

    /// <summary>AdamW (Loshchilov &amp; Hutter 2019), decoupled weight decay.</summary>
    AdamW,
}

/// <summary>Settings of <see cref="AdaptationTrainer"/>. Defaults follow tllib's Office-31 recipe (METHODS.md).</summary>
public sealed record AdaptationTrainerOptions
{
    /// <summary>Total optimisation steps (iterations-based: independent of either source's size).</summary>
    public int Steps { get; init; } = 1000;

    /// <summary>Source batch size (and target batch size unless <see cref="TargetBatchSize"/> is set).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Target batch size; null = <see cref="BatchSize"/>.</summary>
    public int? TargetBatchSize { get; init; }

    /// <summary>The run seed: torch's generator (discriminator init, dropout) and every shuffle derive from it.</summary>
    public int Seed { get; init; }

    /// <summary>The optimizer.</summary>
    public AdaptationOptimizer Optimizer { get; init; } = AdaptationOptimizer.Sgd;

    /// <summary>Base learning rate lr0 of the head and discriminator.</summary>
    public double LearningRate { get; init; } = 0.01;

    /// <summary>Multiplier of lr0 for the feature extractor (0.1 for a pretrained backbone; 1 when it is a fresh bottleneck).</summary>
    public double FeatureExtractorLrMultiplier { get; init; } = 1.0;

    /// <summary>SGD momentum (0.9).</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>SGD Nesterov momentum (tllib: on).</summary>
    public bool Nesterov { get; init; } = true;

    /// <summary>Weight decay (1e−3 for SGD in tllib).</summary>
    public double WeightDecay { get; init; } = 1e-3;

    /// <summary>
    /// DANN annealing lr_i = lr0·(1 + γ·i)^−0.75 at step i (tllib form, γ = <see cref="AnnealGamma"/>). The paper's
    /// lr0·(1 + 10·p)^−0.75 with p = i/Steps is the same formula with γ = 10/Steps.
    /// </summary>
    public bool AnnealLearningRate { get; init; } = true;

    /// <summary>γ of the annealing (0.001 per step; use 10 with <see cref="AnnealByProgress"/>).</summary>
    public double AnnealGamma { get; init; } = 0.001;

    /// <summary>
    /// Anneal on the training progress p = i/Steps instead of the step i: lr_p = lr0·(1 + γ·p)^−0.75, the DANN paper's
    /// form (Ganin &amp; Lempitsky 2015, γ = 10).
    /// </summary>
    public bool AnnealByProgress { get; init; }

    /// <summary>Label smoothing ε of the classification cross-entropy (0 = none).</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>Per-class weights of the classification cross-entropy (null = unweighted), e.g. inverse class frequencies against a skewed source prevalence.</summary>
    public IReadOnlyList<double>? ClassWeights { get; init; }

    /// <summary>Consecutive steps with discriminator accuracy ≥ <see cref="SaturationAccuracy"/> before a warning.</summary>
    public int SaturationWindow { get; init; } = 50;

    /// <summary>The accuracy regarded as a saturated (winning) discriminator (0.99).</summary>
    public double SaturationAccuracy { get; init; } = 0.99;

    /// <summary>Checks the values.</summary>
    /// <exception cref="AdaptationException">A value is out of range.</exception>
    public void Validate()
    {
        if (Steps < 1 || BatchSize < 1 || TargetBatchSize is < 1 || SaturationWindow < 1)
        {
            throw new AdaptationException(AdaptationErrorCode.InvalidHyperparameter, "Steps, batch sizes and the saturation window must be ≥ 1.");
        }

        if (!(LearningRate > 0) || !double.IsFinite(LearningRate) || !(FeatureExtractorLrMultiplier >= 0) || !(Momentum >= 0) || !(WeightDecay >= 0) || !(AnnealGamma >= 0))
        {
            throw new AdaptationException(AdaptationErrorCode.InvalidHyperparameter, "Learning rate must be positive; multiplier, momentum, weight decay and γ must be ≥ 0.");
        }

        if (!(LabelSmoothing >= 0 && LabelSmoothing < 1) || (ClassWeights is not null && ClassWeights.Any(w => !(w >= 0) || !double.IsFinite(w))))
        {
            throw new AdaptationException(AdaptationErrorCode.InvalidHyperparameter, "Label smoothing must be in [0, 1) and class weights finite and ≥ 0.");
        }

        if (!Enum.IsDefined(Optimizer))
        {
            throw new AdaptationException(AdaptationErrorCode.InvalidHyperparameter, $"Unknown optimizer {(int)Optimizer}.");
        }
    }
}

/// <summary>One training step's numbers, for progress output and curves.</summary>
/// <param name="Step">1-based step number.</param>
/// <param name="TotalSteps">Steps in the run.</param>
/// <param name="TotalLoss">CE + weight·transfer.</param>
/// <param name="ClassificationLoss">Cross-entropy on the labelled batch.</param>
/// <param name="TransferLoss">The method's transfer loss (0 for the baselines).</param>
/// <param name="Lambda">Scheduled λ at this step.</param>
/// <param name="LearningRate">lr0 after annealing at this step (the head's; the feature extractor's is × its multiplier).</param>
/// <param name="DiscriminatorAccuracy">Domain discriminator accuracy on this step's batches (adversarial methods), else null.</param>
/// <param name="TargetDomain">Index of the target source drawn at this step.</param>
/// <param name="Warning">A warning, e.g. a saturated discriminator; null when all is well.</param>
public sealed record AdaptationStepEvent(
    int Step,
    int TotalSteps,
    double TotalLoss,
    double ClassificationLoss,
    double TransferLoss,
    double Lambda,
    double LearningRate,
    double? DiscriminatorAccuracy,
    int TargetDomain,
    string? Warning);

/// <summary>Summary of an adaptation run.</summary>
/// <param name="Method">The method name.</param>
/// <param name="Steps">Steps run.</param>
/// <param name="Last">The last step's event.</param>
/// <param name="SaturatedSteps">Steps on which the saturation warning was raised.</param>
/// <param name="BatchNorm">AdaBN's re-estimation on the target data, when the method does it.</param>
public sealed record AdaptationRunResult(string Method, int Steps, AdaptationStepEvent Last, int SaturatedSteps, BatchNormRecomputeResult? BatchNorm);

/// <summary>
/// Trains a feature extractor f (inputs → B×d) and a classifier g (B×d → B×C logits) with one of the registered
/// adaptation methods. Each step draws a labelled source batch and an unlabelled target batch from independent
/// seeded cyclers (the shorter source is cycled, each pass reshuffled), forwards source and target together
/// (one concatenated batch, as tllib does, so BatchNorm sees both domains), and minimises
/// CE(g(f(x^s)), y^s) + TradeOff·transfer. Several target sources are drawn in turn, one per step (round-robin),
/// never concatenated. source-only and adabn forward the source batch alone; target-only trains on labelled target
/// batches alone; adabn then re-estimates BatchNorm statistics over all target sources together (<see cref="AdaBN"/>).
/// Both modules are put in train mode at every step. One dispose scope per step; CPU runs with the same seed give
/// bit-identical weights (GPU runs are not claimed deterministic).
/// </summary>
public sealed class AdaptationTrainer
{
    private readonly nn.Module<Tensor, Tensor> _features;
    private readonly nn.Module<Tensor, Tensor> _classifier;
    private readonly AdaptationConfig _config;
    private readonly AdaptationTrainerOptions _options;
    private readonly Device _device;

    /// <summary>Creates a trainer; the modules must already be on <paramref name="device"/>.</summary>
    /// <exception cref="AdaptationException">Invalid config or options.</exception>
    public AdaptationTrainer(
        nn.Module<Tensor, Tensor> featureExtractor,
        nn.Module<Tensor, Tensor> classifier,
        AdaptationConfig config,
        AdaptationTrainerOptions options,
        Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(featureExtractor);
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        config.Validate();
        options.Validate();
        _features = featureExtractor;
        _classifier = classifier;
        _config = config;
        _options = options;
        _device = device ?? CPU;
    }

    /// <summary>
    /// Runs <see cref="AdaptationTrainerOptions.Steps"/> steps. <paramref name="source"/> must be labelled (it may be
    /// null for target-only); for target-only every target source must be labelled. Leaves the modules in eval mode.
    /// </summary>
    /// <exception cref="AdaptationException">Missing labels, empty sources, or shape problems.</exception>
    /// <exception cref="OperationCanceledException">Cancelled between steps.</exception>
    public AdaptationRunResult Run(
        IAdaptationDataSource? source,
        IReadOnlyList<IAdaptationDataSource> targets,
        IProgress<AdaptationStepEvent>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(targets);
        string name = AdaptationMethods.Resolve(_config.Method);
        CheckData(name, source, targets);

        manual_seed(_options.Seed);
        long featureDim;
        long classes;
        using (var probeScope = NewDisposeScope())
        using (no_grad())
        {
            // One sample through f and g fixes d and C for the method's discriminator.
            IAdaptationDataSource probeSource = source ?? targets[0];
            bool fTraining = _features.training;
            bool gTraining = _classifier.training;
            _features.eval();
            _classifier.eval();
            Tensor probeFeatures = _features.forward(probeSource.Load([0]).Inputs.to(_device));
            Tensor probeLogits = _classifier.forward(probeFeatures);
            _features.train(fTraining);
            _classifier.train(gTraining);
            if (probeFeatures.dim() != 2 || probeLogits.dim() != 2)
            {
                throw new AdaptationException(AdaptationErrorCode.ShapeMismatch, $"The feature extractor must return B×d and the classifier B×C (got [{string.Join(",", probeFeatures.shape)}] and [{string.Join(",", probeLogits.shape)}]).");
            }

            featureDim = probeFeatures.shape[1];
            classes = probeLogits.shape[1];
        }

        using IAdaptationMethod method = AdaptationMethods.Create(_config, featureDim, classes, _options.Seed);
        method.MoveTo(_device);
        List<(optim.ILearningRateController Group, double Multiplier)> groups = [];
        using optim.Optimizer optimizer = BuildOptimizer(method, groups);

        int targetBatch = _options.TargetBatchSize ?? _options.BatchSize;
        BatchCycler? sourceCycler = source is null ? null : new BatchCycler(source.Count, _options.BatchSize, DeriveSeed(_options.Seed, 0));
        BatchCycler[] targetCyclers = [.. targets.Select((t, i) => new BatchCycler(t.Count, method.Role == AdaptationRole.TargetOnly ? _options.BatchSize : targetBatch, DeriveSeed(_options.Seed, i + 1)))];

        AdaptationStepEvent? last = null;
        int saturatedRun = 0;
        int saturatedSteps = 0;
        for (int i = 0; i < _options.Steps; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            double lambda = _config.Schedule.At(i, _options.Steps);
            double lr = LearningRateAt(i);
            foreach ((optim.ILearningRateController group, double multiplier) in groups)
            {
                group.LearningRate = lr * multiplier;
            }

            _features.train();
            _classifier.train();
            method.SetTraining(true);
            int t = i % targets.Count;
            (Tensor cls, TransferLossOutput transfer) = method.Role switch
            {
                AdaptationRole.TargetOnly => (Supervised(targets[t], targetCyclers[t]), new TransferLossOutput(zeros([], device: _device), null)),
                AdaptationRole.SourceOnly => (Supervised(source!, sourceCycler!), new TransferLossOutput(zeros([], device: _device), null)),
                _ => TransferStep(method, source!, sourceCycler!, targets[t], targetCyclers[t], lambda),
            };

            double weight = _config.TradeOff * (!method.IsAdversarial && _config.ScheduleTransferWeight ? lambda : 1.0);
            Tensor total = cls + (transfer.Loss * weight);
            optimizer.zero_grad();
            total.backward();
            optimizer.step();

            string? warning = null;
            if (transfer.DiscriminatorAccuracy is double acc && acc >= _options.SaturationAccuracy)
            {
                saturatedRun++;
                if (saturatedRun >= _options.SaturationWindow)
                {
                    saturatedSteps++;
                    warning = string.Create(CultureInfo.InvariantCulture, $"Domain discriminator accuracy has been ≥ {_options.SaturationAccuracy:0.##} for {saturatedRun} consecutive steps: the discriminator is winning and gradient reversal gives the features little signal (a known DANN/CDAN failure). Lower the discriminator's capacity or learning rate, or raise the trade-off.");
                }
            }
            else
            {
                saturatedRun = 0;
            }

            last = new AdaptationStepEvent(
                i + 1,
                _options.Steps,
                total.item<float>(),
                cls.item<float>(),
                transfer.Loss.item<float>(),
                lambda,
                lr,
                transfer.DiscriminatorAccuracy,
                t,
                warning);
            progress?.Report(last);
        }

        BatchNormRecomputeResult? bn = null;
        if (method.RecomputesBatchNormOnTarget)
        {
            // The target batches are loaded while this scope is current, so they are freed with it.
            using var adaScope = NewDisposeScope();
            bn = AdaBN.Recompute([_features, _classifier], x => _classifier.forward(_features.forward(x)), TargetBatches(targets, targetBatch));
        }

        _features.eval();
        _classifier.eval();
        return new AdaptationRunResult(name, _options.Steps, last!, saturatedSteps, bn);
    }

    private double LearningRateAt(int step)
    {
        if (!_options.AnnealLearningRate)
        {
            return _options.LearningRate;
        }

        double x = _options.AnnealByProgress ? step / (double)_options.Steps : step;
        return _options.LearningRate * Math.Pow(1 + (_options.AnnealGamma * x), -0.75);
    }

    private static int DeriveSeed(int seed, int stream) => unchecked((seed * 1_000_003) + (stream * 7919) + 17);

    private static void CheckData(string name, IAdaptationDataSource? source, IReadOnlyList<IAdaptationDataSource> targets)
    {
        if (targets.Count == 0 || targets.Any(t => t is null || t.Count == 0))
        {
            throw new AdaptationException(AdaptationErrorCode.InvalidData, "Adaptation needs at least one non-empty target source.");
        }

        if (name == AdaptationMethods.TargetOnly)
        {
            if (targets.Any(t => !t.HasLabels))
            {
                throw new AdaptationException(AdaptationErrorCode.InvalidData, "target-only trains on target labels: every target source must be labelled.");
            }

            return;
        }

        if (source is null || source.Count == 0)
        {
            throw new AdaptationException(AdaptationErrorCode.InvalidData, $"'{name}' needs a non-empty labelled source.");
        }

        if (!source.HasLabels)
        {
            throw new AdaptationException(AdaptationErrorCode.InvalidData, $"'{name}' needs source labels; the source data source has none.");
        }
    }

    private IEnumerable<Tensor> TargetBatches(IReadOnlyList<IAdaptationDataSource> targets, int batchSize)
    {
        foreach (IAdaptationDataSource target in targets)
        {
            for (int start = 0; start < target.Count; start += batchSize)
            {
                int[] indices = [.. Enumerable.Range(start, Math.Min(batchSize, target.Count - start))];
                yield return target.Load(indices).Inputs.to(_device);
            }
        }
    }

    private Tensor Supervised(IAdaptationDataSource data, BatchCycler cycler)
    {
        AdaptationBatch batch = data.Load(cycler.Next());
        Tensor logits = _classifier.forward(_features.forward(batch.Inputs.to(_device)));
        return Classification(logits, batch.Labels!.to(_device));
    }

    /// <summary>Cross-entropy with the options' class weights and label smoothing.</summary>
    private Tensor Classification(Tensor logits, Tensor labels)
    {
        if (_options.ClassWeights is null && _options.LabelSmoothing == 0)
        {
            return nn.functional.cross_entropy(logits, labels);
        }

        Tensor? weights = _options.ClassWeights is null ? null : tensor(_options.ClassWeights.Select(w => (float)w).ToArray(), device: _device);
        return nn.functional.cross_entropy(logits, labels, weights, label_smoothing: _options.LabelSmoothing);
    }

    private (Tensor Cls, TransferLossOutput Transfer) TransferStep(
        IAdaptationMethod method,
        IAdaptationDataSource source,
        BatchCycler sourceCycler,
        IAdaptationDataSource target,
        BatchCycler targetCycler,
        double lambda)
    {
        AdaptationBatch s = source.Load(sourceCycler.Next());
        AdaptationBatch t = target.Load(targetCycler.Next());
        if (!s.Inputs.shape.AsSpan(1).SequenceEqual(t.Inputs.shape.AsSpan(1)))
        {
            throw new AdaptationException(AdaptationErrorCode.ShapeMismatch, $"Source and target samples must have the same shape to share a forward pass (got [{string.Join(",", s.Inputs.shape.Skip(1))}] and [{string.Join(",", t.Inputs.shape.Skip(1))}]).");
        }

        long ns = s.Inputs.shape[0];
        long nt = t.Inputs.shape[0];
        Tensor f = _features.forward(cat([s.Inputs.to(_device), t.Inputs.to(_device)], 0));
        Tensor logits = _classifier.forward(f);
        Tensor fs = f.narrow(0, 0, ns);
        Tensor ft = f.narrow(0, ns, nt);
        Tensor ls = logits.narrow(0, 0, ns);
        Tensor lt = logits.narrow(0, ns, nt);
        Tensor cls = Classification(ls, s.Labels!.to(_device));
        return (cls, method.TransferLoss(fs, ft, ls, lt, lambda));
    }

    private optim.Optimizer BuildOptimizer(IAdaptationMethod method, List<(optim.ILearningRateController Group, double Multiplier)> groups)
    {
        double lr = _options.LearningRate;
        List<(IEnumerable<Parameter> Parameters, double Multiplier)> sets =
        [
            (_features.parameters(), _options.FeatureExtractorLrMultiplier),
            ([.. _classifier.parameters(), .. method.Parameters()], 1.0),
        ];

        optim.Optimizer optimizer;
        if (_options.Optimizer == AdaptationOptimizer.Sgd)
        {
            // Nesterov needs momentum > 0 in libtorch.
            bool nesterov = _options.Nesterov && _options.Momentum > 0;
            var sgdGroups = sets.Select(x => new SGD.ParamGroup(x.Parameters, lr * x.Multiplier, _options.Momentum, 0, _options.WeightDecay, nesterov, false)).ToList();
            optimizer = optim.SGD(sgdGroups, lr, _options.Momentum, 0, _options.WeightDecay, nesterov);
        }
        else
        {
            var adamGroups = sets.Select(x => new AdamW.ParamGroup(x.Parameters, lr * x.Multiplier, 0.9, 0.999, 1e-8, _options.WeightDecay, false, false)).ToList();
            optimizer = optim.AdamW(adamGroups, lr, 0.9, 0.999, 1e-8, _options.WeightDecay);
        }

        int k = 0;
        foreach (optim.ILearningRateController group in optimizer.ParamGroups)
        {
            groups.Add((group, sets[k++].Multiplier));
        }

        return optimizer;
    }
}
