using System.Text.Json;
using System.Text.Json.Serialization;
using MedTransfer.Training.Adaptation;
using MedTransfer.Training.Backbones;

namespace MedTransfer.Training.Configuration;

/// <summary>Names of fine-tuning strategies (Kornblith et al. 2019; Howard &amp; Ruder 2018; Li et al. 2018).</summary>
public static class StrategyNames
{
    /// <summary>The backbone is frozen (its BatchNorm statistics too); only the new layers train. Same as trainable_from "head".</summary>
    public const string FeatureExtraction = "feature-extraction";

    /// <summary>Every trainable backbone layer at the base rate, the new layers at base × <see cref="FineTuneConfig.HeadLrMultiplier"/>.</summary>
    public const string Full = "full";

    /// <summary>
    /// As <see cref="Full"/>, but the base rate is multiplied by <see cref="FineTuneConfig.DiscriminativeDecay"/>^k
    /// for the backbone stage k places below the top stage (Howard &amp; Ruder 2018).
    /// </summary>
    public const string Discriminative = "discriminative";

    /// <summary>The new layers train first; one more backbone stage, from the top, unfreezes every <see cref="FineTuneConfig.UnfreezeEvery"/> steps.</summary>
    public const string GradualUnfreezing = "gradual-unfreezing";

    /// <summary>
    /// As <see cref="Full"/>, with the L2-SP penalty α/2·‖w − w⁰‖² towards the pretrained backbone weights and β/2·‖w‖²
    /// on the new layers' weights (Li, Grandvalet &amp; Davoine 2018) in place of weight decay.
    /// </summary>
    public const string L2Sp = "l2sp";

    /// <summary>All names.</summary>
    public static IReadOnlyList<string> All { get; } = [FeatureExtraction, Full, Discriminative, GradualUnfreezing, L2Sp];
}

/// <summary>Names of the stages a network can train from (<see cref="FineTuneConfig.TrainableFrom"/>).</summary>
public static class TrainableFromNames
{
    /// <summary>Everything trains, from the first layer on.</summary>
    public const string Stem = "stem";

    /// <summary>Only the new layers (bottleneck, classifier) train; the whole backbone is frozen.</summary>
    public const string Head = "head";

    /// <summary>All names, input to output.</summary>
    public static IReadOnlyList<string> All { get; } = [Stem, "stage1", "stage2", "stage3", "stage4", Head];
}

/// <summary>Learning-rate schedules (<see cref="FineTuneConfig.Schedule"/>).</summary>
public static class ScheduleNames
{
    /// <summary>η = η₀.</summary>
    public const string Constant = "constant";

    /// <summary>η = η₀·½(1 + cos πp), p = step / steps.</summary>
    public const string Cosine = "cosine";

    /// <summary>η = η₀ × 0.1 from p = ½, × 0.01 from p = ¾.</summary>
    public const string Step = "step";

    /// <summary>η = η₀·(1 + γp)^−0.75 (Ganin et al. 2016; γ = <see cref="FineTuneConfig.DannGamma"/>).</summary>
    public const string Dann = "dann";

    /// <summary>All names.</summary>
    public static IReadOnlyList<string> All { get; } = [Constant, Cosine, Step, Dann];
}

/// <summary>Signals early stopping can watch (<see cref="EarlyStoppingConfig.Signal"/>); never target-test labels.</summary>
public static class SignalNames
{
    /// <summary>AUROC on the labelled validation samples (higher is better).</summary>
    public const string ValidationAuroc = "source-val-auroc";

    /// <summary>Mean cross-entropy on the labelled validation samples (lower is better).</summary>
    public const string ValidationLoss = "source-val-loss";

    /// <summary>Information maximisation on the unlabelled target samples (higher is better).</summary>
    public const string Im = "im";

    /// <summary>Soft neighbourhood density on the unlabelled target samples (higher is better).</summary>
    public const string Snd = "snd";

    /// <summary>All names.</summary>
    public static IReadOnlyList<string> All { get; } = [ValidationAuroc, ValidationLoss, Im, Snd];
}

/// <summary>Augmentation for radiographs and MRI slices, applied on the fly to every training batch; every draw comes from (seed, step).</summary>
public sealed record AugmentationConfig
{
    /// <summary>Maximum rotation, degrees (uniform in ±).</summary>
    public double RotationDegrees { get; init; }

    /// <summary>Maximum relative scale change (uniform in ±).</summary>
    public double Scale { get; init; }

    /// <summary>Maximum translation as a fraction of the side (uniform in ±).</summary>
    public double Translate { get; init; }

    /// <summary>Maximum additive brightness change on the [0, 1] scale.</summary>
    public double Brightness { get; init; }

    /// <summary>Maximum relative contrast change.</summary>
    public double Contrast { get; init; }

    /// <summary>Maximum relative gamma change (γ = exp(±g)).</summary>
    public double Gamma { get; init; }

    /// <summary>Standard deviation of additive Gaussian noise.</summary>
    public double Noise { get; init; }

    /// <summary>Horizontal flips: off by default because chest radiographs are not left-right symmetric (heart, situs).</summary>
    public bool HorizontalFlip { get; init; }

    /// <summary>True when any transform is switched on.</summary>
    [JsonIgnore]
    public bool Enabled => RotationDegrees != 0 || Scale != 0 || Translate != 0 || Brightness != 0 || Contrast != 0 || Gamma != 0 || Noise != 0 || HorizontalFlip;

    /// <summary>Light augmentation suitable for radiographs: ±5°, ±5 % scale and shift, ±0.1 brightness, contrast and gamma, noise σ 0.01.</summary>
    public static AugmentationConfig Light { get; } = new() { RotationDegrees = 5, Scale = 0.05, Translate = 0.05, Brightness = 0.1, Contrast = 0.1, Gamma = 0.1, Noise = 0.01 };
}

/// <summary>Early stopping on a named signal (<see cref="SignalNames"/>).</summary>
public sealed record EarlyStoppingConfig
{
    /// <summary>The signal (<see cref="SignalNames"/>).</summary>
    public string Signal { get; init; } = SignalNames.ValidationAuroc;

    /// <summary>Evaluations without improvement before training stops.</summary>
    public int Patience { get; init; } = 5;

    /// <summary>Steps between evaluations (each one is also a candidate checkpoint).</summary>
    public int EvaluateEvery { get; init; } = 50;
}

/// <summary>
/// Everything that defines a training run of <see cref="FineTuning.TransferTrainer"/>: backbone and head, which
/// layers train and at which rates (strategy), optimizer and schedule, regularisation, sampling, augmentation,
/// the domain-adaptation method, early stopping and the seed. The defaults are the protocol defaults
/// (protocols/README.md). Serializable (snake_case JSON) and validated.
/// </summary>
/// <remarks>
/// Learning rates are defined once: <see cref="LearningRate"/> is the base rate η₀ of the pretrained backbone's
/// trainable layers; the new layers (bottleneck, classifier and a method's domain discriminator) train at
/// η₀ × <see cref="HeadLrMultiplier"/> whatever the strategy, also when the backbone is frozen. The schedule scales
/// both alike.
/// </remarks>
public sealed record FineTuneConfig
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Backbone name (<see cref="BackboneNames"/>), or the path of a user's ONNX CNN (ending in .onnx), imported with <see cref="Backbones.Backbone.Import"/>.</summary>
    public string Backbone { get; init; } = BackboneNames.ResNet18ImageNet;

    /// <summary>For an ONNX backbone: the node whose output is the features; null = found automatically (the input of the final classifier).</summary>
    public string? FeatureNode { get; init; }

    /// <summary>For an ONNX backbone: the input convention it expects; null = its metadata, else torchvision's ImageNet one.</summary>
    public InputConvention? Input { get; init; }

    /// <summary>Input side length in pixels.</summary>
    public int ImageSize { get; init; } = 224;

    /// <summary>"linear" or "bottleneck" (Linear + BatchNorm + ReLU of <see cref="BottleneckWidth"/>, then Linear).</summary>
    public string Head { get; init; } = "linear";

    /// <summary>Width of the bottleneck head.</summary>
    public int BottleneckWidth { get; init; } = 256;

    /// <summary>Number of classes.</summary>
    public int Classes { get; init; } = 2;

    /// <summary>Strategy name (<see cref="StrategyNames"/>).</summary>
    public string Strategy { get; init; } = StrategyNames.Full;

    /// <summary>
    /// The first backbone stage that trains (<see cref="TrainableFromNames"/>); every layer before it is frozen,
    /// BatchNorm statistics included. Null: from the strategy ("head" for feature extraction, else "stem").
    /// </summary>
    public string? TrainableFrom { get; init; }

    /// <summary>Per-stage learning-rate factor of <see cref="StrategyNames.Discriminative"/>.</summary>
    public double DiscriminativeDecay { get; init; } = 0.5;

    /// <summary>Steps between unfreezing stages under <see cref="StrategyNames.GradualUnfreezing"/>.</summary>
    public int UnfreezeEvery { get; init; } = 100;

    /// <summary>L2-SP α (pull towards the pretrained weights).</summary>
    public double L2SpAlpha { get; init; } = 0.01;

    /// <summary>L2-SP β (plain L2 on the new layers' weights).</summary>
    public double L2SpBeta { get; init; } = 0.01;

    /// <summary>"sgd" (momentum, L2 weight decay) or "adamw" (decoupled weight decay).</summary>
    public string Optimizer { get; init; } = "sgd";

    /// <summary>Base learning rate η₀ of the pretrained layers (see the remarks).</summary>
    public double LearningRate { get; init; } = 0.001;

    /// <summary>Learning-rate multiplier of the new layers relative to η₀.</summary>
    public double HeadLrMultiplier { get; init; } = 10;

    /// <summary>SGD momentum (AdamW β1).</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>Weight decay (decoupled for AdamW; L2 for SGD; replaced by the penalties under L2-SP).</summary>
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>Schedule name (<see cref="ScheduleNames"/>).</summary>
    public string Schedule { get; init; } = ScheduleNames.Constant;

    /// <summary>γ of the DANN schedule on progress p (10 in the paper; tllib's per-step 0.001 is γ = 0.001 × steps).</summary>
    public double DannGamma { get; init; } = 10;

    /// <summary>Label smoothing ε of the cross-entropy.</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>"none" or "balanced" (class weights n / (C·n_c) of the labelled training samples).</summary>
    public string ClassWeighting { get; init; } = "none";

    /// <summary>Draw labelled batches with equal class frequencies instead of shuffled passes.</summary>
    public bool BalancedSampling { get; init; }

    /// <summary>Batch size (per domain for adaptation methods).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Training steps (iterations).</summary>
    public int Iterations { get; init; } = 1000;

    /// <summary>Early stopping, or null to train every step.</summary>
    public EarlyStoppingConfig? EarlyStopping { get; init; }

    /// <summary>Without early stopping: evenly spaced candidate checkpoints kept for label-free selection (the last step is always one).</summary>
    public int Snapshots { get; init; } = 4;

    /// <summary>Augmentation (all off by default).</summary>
    public AugmentationConfig Augmentation { get; init; } = new();

    /// <summary>The domain-adaptation method and its hyperparameters (source-only by default).</summary>
    public AdaptationConfig Adaptation { get; init; } = new();

    /// <summary>Run convolutions in channels-last memory format (faster on CPU).</summary>
    public bool ChannelsLast { get; init; } = true;

    /// <summary>The run seed: weights of new layers, sampling order, augmentation, dropout.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>The first trainable stage in force: <see cref="TrainableFrom"/>, or the strategy's default.</summary>
    [JsonIgnore]
    public string EffectiveTrainableFrom => TrainableFrom ?? (Strategy == StrategyNames.FeatureExtraction ? TrainableFromNames.Head : TrainableFromNames.Stem);

    /// <summary>Canonical JSON (snake_case).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, s_json);

    /// <summary>Parses JSON; unknown fields are an error.</summary>
    /// <exception cref="FormatException">Invalid JSON, unknown field or invalid value.</exception>
    public static FineTuneConfig FromJson(string json)
    {
        FineTuneConfig config;
        try
        {
            config = JsonSerializer.Deserialize<FineTuneConfig>(json, s_json) ?? throw new FormatException("Empty training configuration.");
        }
        catch (JsonException ex)
        {
            throw new FormatException($"Invalid training configuration: {ex.Message}", ex);
        }

        config.Validate();
        return config;
    }

    /// <summary>Checks names, ranges and combinations.</summary>
    /// <exception cref="FormatException">The first problem found, naming the field.</exception>
    public void Validate()
    {
        static void Check(bool ok, string field, string message)
        {
            if (!ok)
            {
                throw new FormatException($"training configuration, field '{field}': {message}");
            }
        }

        bool onnx = BackboneNames.IsOnnxFile(Backbone);
        Check(onnx || BackboneNames.All.Contains(Backbone), "backbone", $"unknown '{Backbone}'; known: {string.Join(", ", BackboneNames.All)}, or the path of an .onnx file");
        Check(onnx || (FeatureNode is null && Input is null), "feature_node", "a feature node and an input convention apply only to an ONNX backbone (the built-in ResNet-18 keeps its own preprocessing)");
        try
        {
            Input?.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new FormatException($"training configuration, field 'input': {ex.Message}", ex);
        }

        Check(ImageSize is >= 32 and <= 1024, "image_size", "must be 32–1024");
        Check(Head is "linear" or "bottleneck", "head", "must be 'linear' or 'bottleneck'");
        Check(BottleneckWidth is >= 2 and <= 8192, "bottleneck_width", "must be 2–8192");
        Check(Classes is >= 2 and <= 1000, "classes", "must be 2–1000");
        Check(StrategyNames.All.Contains(Strategy), "strategy", $"unknown '{Strategy}'; known: {string.Join(", ", StrategyNames.All)}");
        Check(TrainableFrom is null || TrainableFromNames.All.Contains(TrainableFrom), "trainable_from", $"unknown '{TrainableFrom}'; known: {string.Join(", ", TrainableFromNames.All)}");
        Check(Strategy != StrategyNames.FeatureExtraction || TrainableFrom is null or TrainableFromNames.Head, "trainable_from", "feature-extraction freezes the whole backbone; leave trainable_from out or use another strategy");
        Check(Strategy == StrategyNames.FeatureExtraction || TrainableFrom != TrainableFromNames.Head, "trainable_from", $"'head' freezes the whole backbone: use strategy feature-extraction instead of {Strategy}");
        Check(DiscriminativeDecay is > 0 and <= 1, "discriminative_decay", "must be in (0, 1]");
        Check(UnfreezeEvery >= 1, "unfreeze_every", "must be ≥ 1");
        Check(L2SpAlpha >= 0 && L2SpBeta >= 0, "l2sp_alpha", "α and β must be ≥ 0");
        Check(Optimizer is "sgd" or "adamw", "optimizer", "must be 'sgd' or 'adamw'");
        Check(LearningRate is > 0 and < 10, "learning_rate", "must be in (0, 10)");
        Check(HeadLrMultiplier is > 0 and <= 1000, "head_lr_multiplier", "must be in (0, 1000]");
        Check(Momentum is >= 0 and < 1, "momentum", "must be in [0, 1)");
        Check(WeightDecay is >= 0 and < 1, "weight_decay", "must be in [0, 1)");
        Check(ScheduleNames.All.Contains(Schedule), "schedule", $"must be one of {string.Join(", ", ScheduleNames.All)}");
        Check(DannGamma is > 0 and < 1e6, "dann_gamma", "must be positive");
        Check(LabelSmoothing is >= 0 and < 1, "label_smoothing", "must be in [0, 1)");
        Check(ClassWeighting is "none" or "balanced", "class_weighting", "must be 'none' or 'balanced'");
        Check(BatchSize is >= 2 and <= 4096, "batch_size", "must be 2–4096 (BatchNorm needs at least 2)");
        Check(Iterations is >= 1 and <= 10_000_000, "iterations", "must be ≥ 1");
        Check(Snapshots is >= 1 and <= 1000, "snapshots", "must be 1–1000");
        if (EarlyStopping is { } e)
        {
            Check(SignalNames.All.Contains(e.Signal), "early_stopping.signal", $"must be one of {string.Join(", ", SignalNames.All)}");
            Check(e.Patience >= 1 && e.EvaluateEvery >= 1, "early_stopping", "patience and evaluate_every must be ≥ 1");
        }

        AugmentationConfig a = Augmentation ?? new AugmentationConfig();
        Check(a.RotationDegrees is >= 0 and <= 180 && a.Scale is >= 0 and < 1 && a.Translate is >= 0 and <= 0.5, "augmentation", "rotation 0–180°, scale in [0, 1), translate 0–0.5");
        Check(a.Brightness is >= 0 and <= 1 && a.Contrast is >= 0 and < 1 && a.Gamma is >= 0 and < 1 && a.Noise is >= 0 and <= 1, "augmentation", "brightness 0–1, contrast and gamma in [0, 1), noise 0–1");
        try
        {
            (Adaptation ?? throw new FormatException("training configuration, field 'adaptation': must be set")).Validate();
        }
        catch (AdaptationException ex)
        {
            throw new FormatException($"training configuration, field 'adaptation': {ex.Message}", ex);
        }
    }
}
