using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedTransfer.Training.Adaptation;

/// <summary>What a method trains on.</summary>
public enum AdaptationRole
{
    /// <summary>Cross-entropy on labelled source only; target data unused during training (source-only, adabn).</summary>
    SourceOnly,

    /// <summary>Cross-entropy on labelled target data only (the target-only / oracle-data baseline).</summary>
    TargetOnly,

    /// <summary>Cross-entropy on source plus a transfer loss that uses unlabelled target data.</summary>
    Transfer,

    /// <summary>Target data only, no source data and no labels: the model starts trained on the source (SHOT).</summary>
    SourceFree,
}

/// <summary>The transfer loss of one step and, for adversarial methods, the discriminator's accuracy on it.</summary>
/// <param name="Loss">Scalar loss (owned by the caller's dispose scope).</param>
/// <param name="DiscriminatorAccuracy">Accuracy of the domain discriminator on this step's batches, or null.</param>
public readonly record struct TransferLossOutput(Tensor Loss, double? DiscriminatorAccuracy);

/// <summary>
/// A domain-adaptation method: a transfer loss over source/target features and logits, plus any trainable parts of
/// its own (the domain discriminator). Created by <see cref="AdaptationMethods.Create"/>.
/// </summary>
public interface IAdaptationMethod : IDisposable
{
    /// <summary>The registry name.</summary>
    string Name { get; }

    /// <summary>What the method trains on.</summary>
    AdaptationRole Role { get; }

    /// <summary>True when the transfer loss goes through gradient reversal and a discriminator.</summary>
    bool IsAdversarial { get; }

    /// <summary>True when the model's BatchNorm statistics are re-estimated on target data after training (AdaBN).</summary>
    bool RecomputesBatchNormOnTarget { get; }

    /// <summary>The method's own trainable parameters (empty for non-adversarial methods).</summary>
    IEnumerable<Parameter> Parameters();

    /// <summary>The method's own trainable layers (the domain discriminator), or null: what a checkpoint must hold besides the model.</summary>
    nn.Module? TrainableModule { get; }

    /// <summary>Switches the method's own modules between train and eval mode.</summary>
    void SetTraining(bool training);

    /// <summary>Moves the method's modules and fixed tensors to <paramref name="device"/>.</summary>
    void MoveTo(Device device);

    /// <summary>
    /// The transfer loss. <paramref name="sourceFeatures"/> B_s×d, <paramref name="targetFeatures"/> B_t×d,
    /// logits B_s×C and B_t×C; <paramref name="lambda"/> is the scheduled gradient-reversal coefficient.
    /// </summary>
    TransferLossOutput TransferLoss(Tensor sourceFeatures, Tensor targetFeatures, Tensor sourceLogits, Tensor targetLogits, double lambda);
}

/// <summary>
/// The registry of adaptation methods, each selectable by a stable lowercase name from an <see cref="AdaptationConfig"/>.
/// </summary>
public static class AdaptationMethods
{
    /// <summary>Source-only baseline (ERM on source).</summary>
    public const string SourceOnly = "source-only";

    /// <summary>Target-only baseline (needs target labels).</summary>
    public const string TargetOnly = "target-only";

    /// <summary>DANN (Ganin &amp; Lempitsky 2015).</summary>
    public const string Dann = "dann";

    /// <summary>CDAN (Long et al. 2018).</summary>
    public const string Cdan = "cdan";

    /// <summary>CDAN+E: CDAN with entropy conditioning.</summary>
    public const string CdanE = "cdan-e";

    /// <summary>DAN with MK-MMD (Long et al. 2015).</summary>
    public const string Dan = "dan";

    /// <summary>JAN with JMMD (Long et al. 2017).</summary>
    public const string Jan = "jan";

    /// <summary>Deep CORAL (Sun &amp; Saenko 2016).</summary>
    public const string Coral = "coral";

    /// <summary>Minimum Class Confusion (Jin et al. 2020).</summary>
    public const string Mcc = "mcc";

    /// <summary>Entropy minimisation on target predictions.</summary>
    public const string Entropy = "entropy";

    /// <summary>AdaBN (Li et al. 2016): source training, then BatchNorm statistics re-estimated on target.</summary>
    public const string AdaBN = "adabn";

    /// <summary>SHOT (Liang et al. 2020): source-free adaptation of a source-trained model with its classifier frozen.</summary>
    public const string Shot = "shot";

    /// <summary>Every registered name, in a stable order.</summary>
    public static IReadOnlyList<string> Names { get; } =
        [SourceOnly, TargetOnly, Dann, Cdan, CdanE, Dan, Jan, Coral, Mcc, Entropy, AdaBN, Shot];

    /// <summary>What the method named <paramref name="name"/> trains on.</summary>
    /// <exception cref="UnknownAdaptationMethodException">The name is not registered.</exception>
    public static AdaptationRole RoleOf(string name) => Resolve(name) switch
    {
        TargetOnly => AdaptationRole.TargetOnly,
        SourceOnly or AdaBN => AdaptationRole.SourceOnly,
        Shot => AdaptationRole.SourceFree,
        _ => AdaptationRole.Transfer,
    };

    /// <summary>Returns the canonical name for <paramref name="name"/> (trimmed, lower-cased).</summary>
    /// <exception cref="UnknownAdaptationMethodException">The name is not registered.</exception>
    public static string Resolve(string? name)
    {
        string key = (name ?? string.Empty).Trim().ToLowerInvariant();
        foreach (string known in Names)
        {
            if (string.Equals(known, key, StringComparison.Ordinal))
            {
                return known;
            }
        }

        throw new UnknownAdaptationMethodException(name ?? "(null)", Names);
    }

    /// <summary>
    /// Builds the method named by <paramref name="config"/> for features of width <paramref name="featureDim"/> and
    /// <paramref name="classes"/> classes. The discriminator's initial weights come from the torch generator (seed it
    /// first with <c>torch.manual_seed</c>); the CDAN random matrices from <paramref name="seed"/>.
    /// </summary>
    /// <exception cref="UnknownAdaptationMethodException">Unknown method name.</exception>
    /// <exception cref="AdaptationException">Invalid hyperparameters or sizes.</exception>
    public static IAdaptationMethod Create(AdaptationConfig config, long featureDim, long classes, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        if (featureDim <= 0 || classes < 2)
        {
            throw new AdaptationException(AdaptationErrorCode.InvalidHyperparameter, $"Adaptation needs feature width > 0 and at least 2 classes (got {featureDim}, {classes}).");
        }

        string name = Resolve(config.Method);
        return name switch
        {
            SourceOnly => new NoTransferMethod(name, AdaptationRole.SourceOnly, false),
            TargetOnly => new NoTransferMethod(name, AdaptationRole.TargetOnly, false),
            AdaBN => new NoTransferMethod(name, AdaptationRole.SourceOnly, true),
            Shot => new NoTransferMethod(name, AdaptationRole.SourceFree, false),
            Dann => new DannMethod(config, featureDim),
            Cdan => new CdanMethod(config, featureDim, classes, entropyConditioning: false, seed),
            CdanE => new CdanMethod(config, featureDim, classes, entropyConditioning: true, seed),
            Dan => new MmdMethod(name, config, joint: false),
            Jan => new MmdMethod(name, config, joint: true),
            Coral => new LossOnlyMethod(name, (fs, ft, ls, lt) => AdaptationLosses.Coral(fs, ft)),
            Mcc => new LossOnlyMethod(name, (fs, ft, ls, lt) => AdaptationLosses.Mcc(lt, config.Temperature)),
            _ => new LossOnlyMethod(name, (fs, ft, ls, lt) => AdaptationLosses.EntropyMinimization(lt)),
        };
    }
}

/// <summary>source-only, target-only and adabn: no transfer loss.</summary>
internal sealed class NoTransferMethod(string name, AdaptationRole role, bool adaBN) : IAdaptationMethod
{
    public string Name => name;

    public AdaptationRole Role => role;

    public bool IsAdversarial => false;

    public bool RecomputesBatchNormOnTarget => adaBN;

    public IEnumerable<Parameter> Parameters() => [];

    public nn.Module? TrainableModule => null;

    public void SetTraining(bool training)
    {
    }

    public void MoveTo(Device device)
    {
    }

    public TransferLossOutput TransferLoss(Tensor sourceFeatures, Tensor targetFeatures, Tensor sourceLogits, Tensor targetLogits, double lambda)
        => new(zeros([], device: sourceLogits.device), null);

    public void Dispose()
    {
    }
}

/// <summary>A non-adversarial method given by a loss function of (f_s, f_t, logits_s, logits_t).</summary>
internal sealed class LossOnlyMethod(string name, Func<Tensor, Tensor, Tensor, Tensor, Tensor> loss) : IAdaptationMethod
{
    public string Name => name;

    public AdaptationRole Role => AdaptationRole.Transfer;

    public bool IsAdversarial => false;

    public bool RecomputesBatchNormOnTarget => false;

    public IEnumerable<Parameter> Parameters() => [];

    public nn.Module? TrainableModule => null;

    public void SetTraining(bool training)
    {
    }

    public void MoveTo(Device device)
    {
    }

    public TransferLossOutput TransferLoss(Tensor sourceFeatures, Tensor targetFeatures, Tensor sourceLogits, Tensor targetLogits, double lambda)
        => new(loss(sourceFeatures, targetFeatures, sourceLogits, targetLogits), null);

    public void Dispose()
    {
    }
}

/// <summary>DAN (MK-MMD on features) and JAN (JMMD on features × softmax).</summary>
internal sealed class MmdMethod(string name, AdaptationConfig config, bool joint) : IAdaptationMethod
{
    public string Name => name;

    public AdaptationRole Role => AdaptationRole.Transfer;

    public bool IsAdversarial => false;

    public bool RecomputesBatchNormOnTarget => false;

    public IEnumerable<Parameter> Parameters() => [];

    public nn.Module? TrainableModule => null;

    public void SetTraining(bool training)
    {
    }

    public void MoveTo(Device device)
    {
    }

    public TransferLossOutput TransferLoss(Tensor sourceFeatures, Tensor targetFeatures, Tensor sourceLogits, Tensor targetLogits, double lambda)
    {
        if (!joint)
        {
            return new(AdaptationLosses.MkMmd(sourceFeatures, targetFeatures, config.KernelAlphas), null);
        }

        using var scope = NewDisposeScope();
        var softmaxKernel = new GaussianKernelSpec(config.KernelAlphas, config.JanSoftmaxSigma);
        Tensor loss = AdaptationLosses.Jmmd(
            [(sourceFeatures, targetFeatures), (sourceLogits.softmax(1), targetLogits.softmax(1))],
            [new GaussianKernelSpec(config.KernelAlphas), softmaxKernel]);
        return new(loss.MoveToOuterDisposeScope(), null);
    }

    public void Dispose()
    {
    }
}

/// <summary>DANN: ½[BCE(D(R(f_s)), 1) + BCE(D(R(f_t)), 0)], source and target passed through D together.</summary>
internal sealed class DannMethod(AdaptationConfig config, long featureDim) : IAdaptationMethod
{
    private readonly DomainDiscriminator _discriminator = new(featureDim, config.DiscriminatorWidth, config.DiscriminatorDepth, config.DiscriminatorDropout, config.DiscriminatorBatchNorm);

    public string Name => AdaptationMethods.Dann;

    public AdaptationRole Role => AdaptationRole.Transfer;

    public bool IsAdversarial => true;

    public bool RecomputesBatchNormOnTarget => false;

    public IEnumerable<Parameter> Parameters() => _discriminator.parameters();

    public nn.Module? TrainableModule => _discriminator;

    public void SetTraining(bool training) => _discriminator.train(training);

    public void MoveTo(Device device) => _discriminator.to(device);

    public TransferLossOutput TransferLoss(Tensor sourceFeatures, Tensor targetFeatures, Tensor sourceLogits, Tensor targetLogits, double lambda)
    {
        using var scope = NewDisposeScope();
        long ns = sourceFeatures.shape[0];
        Tensor d = _discriminator.forward(GradientReversal.Apply(cat([sourceFeatures, targetFeatures], 0), lambda));
        Tensor ds = d.narrow(0, 0, ns);
        Tensor dt = d.narrow(0, ns, d.shape[0] - ns);
        Tensor loss = AdaptationLosses.DomainAdversarial(ds, dt);
        return new(loss.MoveToOuterDisposeScope(), AdaptationLosses.DomainAccuracy(ds, dt));
    }

    public void Dispose() => _discriminator.Dispose();
}

/// <summary>
/// CDAN / CDAN+E: D sees R(map(f, ŷ)) with ŷ = softmax(logits) detached; CDAN+E weights each sample's BCE by
/// w = 1 + exp(−H(ŷ)), renormalised to sum to the batch size within each domain.
/// </summary>
internal sealed class CdanMethod : IAdaptationMethod
{
    private readonly DomainDiscriminator _discriminator;
    private readonly RandomizedMultilinearMap? _randomized;
    private readonly bool _entropy;

    public CdanMethod(AdaptationConfig config, long featureDim, long classes, bool entropyConditioning, int seed)
    {
        _entropy = entropyConditioning;
        bool randomized = config.CdanMap == CdanMapKind.Randomized
            || (config.CdanMap == CdanMapKind.Auto && featureDim * classes > config.CdanMultilinearLimit);
        long inputDim = featureDim * classes;
        if (randomized)
        {
            _randomized = new RandomizedMultilinearMap(featureDim, classes, config.CdanRandomizedDim, seed);
            inputDim = config.CdanRandomizedDim;
        }

        _discriminator = new DomainDiscriminator(inputDim, config.DiscriminatorWidth, config.DiscriminatorDepth, config.DiscriminatorDropout, config.DiscriminatorBatchNorm);
    }

    public string Name => _entropy ? AdaptationMethods.CdanE : AdaptationMethods.Cdan;

    public AdaptationRole Role => AdaptationRole.Transfer;

    public bool IsAdversarial => true;

    public bool RecomputesBatchNormOnTarget => false;

    /// <summary>True when the randomized map is in use.</summary>
    public bool UsesRandomizedMap => _randomized is not null;

    public IEnumerable<Parameter> Parameters() => _discriminator.parameters();

    public nn.Module? TrainableModule => _discriminator;

    public void SetTraining(bool training) => _discriminator.train(training);

    public void MoveTo(Device device)
    {
        _discriminator.to(device);
        _randomized?.MoveTo(device);
    }

    public TransferLossOutput TransferLoss(Tensor sourceFeatures, Tensor targetFeatures, Tensor sourceLogits, Tensor targetLogits, double lambda)
    {
        using var scope = NewDisposeScope();
        long ns = sourceFeatures.shape[0];
        Tensor f = cat([sourceFeatures, targetFeatures], 0);
        Tensor p = cat([sourceLogits, targetLogits], 0).softmax(1).detach();
        Tensor h = _randomized is null ? AdaptationLosses.MultilinearMap(f, p) : _randomized.Forward(f, p);
        Tensor d = _discriminator.forward(GradientReversal.Apply(h, lambda));
        Tensor ds = d.narrow(0, 0, ns);
        Tensor dt = d.narrow(0, ns, d.shape[0] - ns);
        Tensor? ws = null;
        Tensor? wt = null;
        if (_entropy)
        {
            ws = AdaptationLosses.EntropyWeights(p.narrow(0, 0, ns));
            wt = AdaptationLosses.EntropyWeights(p.narrow(0, ns, p.shape[0] - ns));
        }

        Tensor loss = AdaptationLosses.DomainAdversarial(ds, dt, ws, wt);
        return new(loss.MoveToOuterDisposeScope(), AdaptationLosses.DomainAccuracy(ds, dt));
    }

    public void Dispose()
    {
        _discriminator.Dispose();
        _randomized?.Dispose();
    }
}
