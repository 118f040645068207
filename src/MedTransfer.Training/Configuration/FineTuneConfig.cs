using System.Text.Json;
using System.Text.Json.Serialization;
using MedTransfer.Training.Backbones;

namespace MedTransfer.Training.Configuration;

/// <summary>Names of fine-tuning strategies (Kornblith et al. 2019; Howard &amp; Ruder 2018; Li et al. 2018).</summary>
public static class StrategyNames
{
    /// <summary>Frozen backbone (eval-mode BatchNorm); only the head trains, on features computed once and cached.</summary>
    public const string FeatureExtraction = "feature-extraction";

    /// <summary>Every layer trains at the base learning rate (the head at <see cref="FineTuneConfig.HeadLrMultiplier"/>×).</summary>
    public const string Full = "full";

    /// <summary>Full fine-tuning with the learning rate multiplied by <see cref="FineTuneConfig.DiscriminativeDecay"/> for each stage below the top.</summary>
    public const string Discriminative = "discriminative";

    /// <summary>The head trains first; one more backbone stage (from the top) is unfrozen every <see cref="FineTuneConfig.UnfreezeEvery"/> steps.</summary>
    public const string GradualUnfreezing = "gradual-unfreezing";

    /// <summary>Full fine-tuning with the L2-SP penalty α/2·‖w − w⁰‖² towards the pretrained weights and β/2·‖w_head‖² (Li, Grandvalet &amp; Davoine 2018) instead of weight decay.</summary>
    public const string L2Sp = "l2sp";

    /// <summary>All names.</summary>
    public static IReadOnlyList<string> All { get; } = [FeatureExtraction, Full, Discriminative, GradualUnfreezing, L2Sp];
}

/// <summary>Augmentation for radiographs and MRI slices; every draw comes from the run seed.</summary>
public sealed record AugmentationConfig
{
    /// <summary>Apply augmentation at all.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Maximum rotation, degrees (uniform in ±).</summary>
    public double RotationDegrees { get; init; } = 5;

    /// <summary>Maximum relative scale change (uniform in ±).</summary>
    public double Scale { get; init; } = 0.05;

    /// <summary>Maximum translation as a fraction of the side (uniform in ±).</summary>
    public double Translate { get; init; } = 0.05;

    /// <summary>Maximum additive brightness change on the [0, 1] scale.</summary>
    public double Brightness { get; init; } = 0.1;

    /// <summary>Maximum relative contrast change.</summary>
    public double Contrast { get; init; } = 0.1;

    /// <summary>Maximum relative gamma change (γ = exp(±g)).</summary>
    public double Gamma { get; init; } = 0.1;

    /// <summary>Standard deviation of additive Gaussian noise.</summary>
    public double Noise { get; init; } = 0.01;

    /// <summary>Horizontal flips: off by default because chest radiographs are not left-right symmetric (heart, situs).</summary>
    public bool HorizontalFlip { get; init; }
}

/// <summary>Early stopping on a named validation signal.</summary>
public sealed record EarlyStoppingConfig
{
    /// <summary>The signal: "val-auroc", "val-accuracy" (higher is better) or "val-loss" (lower is better).</summary>
    public string Signal { get; init; } = "val-auroc";

    /// <summary>Evaluations without improvement before stopping (0 = never stop early; still keep the best).</summary>
    public int Patience { get; init; } = 5;

    /// <summary>Steps between validation evaluations.</summary>
    public int EvaluateEvery { get; init; } = 50;
}

/// <summary>
/// Everything that defines a fine-tuning run: backbone, head, strategy, optimizer, schedule,
/// regularization, sampling and augmentation. Serializable (protocols embed it) and validated.
/// </summary>
public sealed record FineTuneConfig
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Backbone name (<see cref="BackboneNames"/>).</summary>
    public string Backbone { get; init; } = BackboneNames.ResNet18ImageNet;

    /// <summary>Input side length in pixels.</summary>
    public int ImageSize { get; init; } = 128;

    /// <summary>"linear" or "bottleneck" (Linear 256 + BatchNorm + ReLU, then Linear).</summary>
    public string Head { get; init; } = "linear";

    /// <summary>Width of the bottleneck head.</summary>
    public int BottleneckWidth { get; init; } = 256;

    /// <summary>Number of classes.</summary>
    public int Classes { get; init; } = 2;

    /// <summary>Strategy name (<see cref="StrategyNames"/>).</summary>
    public string Strategy { get; init; } = StrategyNames.Full;

    /// <summary>Per-stage learning-rate factor for <see cref="StrategyNames.Discriminative"/> (stage k below the top gets decay^k).</summary>
    public double DiscriminativeDecay { get; init; } = 0.5;

    /// <summary>Steps between unfreezing stages in <see cref="StrategyNames.GradualUnfreezing"/>.</summary>
    public int UnfreezeEvery { get; init; } = 50;

    /// <summary>L2-SP α (pull towards the pretrained weights).</summary>
    public double L2SpAlpha { get; init; } = 0.01;

    /// <summary>L2-SP β (plain L2 on the new head).</summary>
    public double L2SpBeta { get; init; } = 0.01;

    /// <summary>"sgd" (momentum) or "adamw".</summary>
    public string Optimizer { get; init; } = "sgd";

    /// <summary>Base learning rate.</summary>
    public double LearningRate { get; init; } = 0.01;

    /// <summary>Learning-rate multiplier of the new head relative to the backbone (not used under feature extraction, where only the head trains).</summary>
    public double HeadLrMultiplier { get; init; } = 10;

    /// <summary>SGD momentum (AdamW β1).</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>Weight decay (decoupled for AdamW; L2 for SGD; not applied to backbone weights under L2-SP).</summary>
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>"constant", "cosine", "step" or "dann" (lr0·(1+γp)^−0.75, Ganin et al. 2016).</summary>
    public string Schedule { get; init; } = "cosine";

    /// <summary>Step schedule: steps between decays.</summary>
    public int StepSize { get; init; } = 100;

    /// <summary>Step schedule: decay factor.</summary>
    public double StepGamma { get; init; } = 0.1;

    /// <summary>DANN schedule γ (10 in the paper).</summary>
    public double DannGamma { get; init; } = 10;

    /// <summary>Label smoothing ε of the cross-entropy.</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>"none" or "balanced" (weights inversely proportional to class frequency).</summary>
    public string ClassWeighting { get; init; } = "none";

    /// <summary>Draw batches with equal class frequencies instead of shuffled passes.</summary>
    public bool BalancedSampling { get; init; }

    /// <summary>Batch size.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Training steps (iterations).</summary>
    public int Iterations { get; init; } = 300;

    /// <summary>Early stopping.</summary>
    public EarlyStoppingConfig EarlyStopping { get; init; } = new();

    /// <summary>Augmentation.</summary>
    public AugmentationConfig Augmentation { get; init; } = new();

    /// <summary>Run convolutions in channels-last memory format (PLATFORM.md: faster on CPU).</summary>
    public bool ChannelsLast { get; init; } = true;

    /// <summary>Run inference (validation, feature extraction) in bfloat16; training stays float32.</summary>
    public bool Bf16Inference { get; init; }

    /// <summary>The run seed: weights of new layers, sampling order, augmentation.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Canonical JSON (snake_case).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, s_json);

    /// <summary>Parses JSON; unknown fields are an error.</summary>
    /// <exception cref="FormatException">Invalid JSON, unknown field or invalid value.</exception>
    public static FineTuneConfig FromJson(string json)
    {
        FineTuneConfig config;
        try
        {
            config = JsonSerializer.Deserialize<FineTuneConfig>(json, s_json) ?? throw new FormatException("Empty fine-tuning configuration.");
        }
        catch (JsonException ex)
        {
            throw new FormatException($"Invalid fine-tuning configuration: {ex.Message}", ex);
        }

        config.Validate();
        return config;
    }

    /// <summary>Checks names and ranges.</summary>
    /// <exception cref="FormatException">The first problem found, naming the field.</exception>
    public void Validate()
    {
        static void Check(bool ok, string field, string message)
        {
            if (!ok)
            {
                throw new FormatException($"fine-tuning configuration, field '{field}': {message}");
            }
        }

        Check(BackboneNames.All.Contains(Backbone), "backbone", $"unknown '{Backbone}'; known: {string.Join(", ", BackboneNames.All)}");
        Check(ImageSize is >= 32 and <= 1024, "image_size", "must be 32–1024");
        Check(Head is "linear" or "bottleneck", "head", "must be 'linear' or 'bottleneck'");
        Check(BottleneckWidth is >= 2 and <= 8192, "bottleneck_width", "must be 2–8192");
        Check(Classes is >= 2 and <= 1000, "classes", "must be 2–1000");
        Check(StrategyNames.All.Contains(Strategy), "strategy", $"unknown '{Strategy}'; known: {string.Join(", ", StrategyNames.All)}");
        Check(DiscriminativeDecay is > 0 and <= 1, "discriminative_decay", "must be in (0, 1]");
        Check(UnfreezeEvery >= 1, "unfreeze_every", "must be ≥ 1");
        Check(L2SpAlpha >= 0 && L2SpBeta >= 0, "l2sp_alpha", "α and β must be ≥ 0");
        Check(Optimizer is "sgd" or "adamw", "optimizer", "must be 'sgd' or 'adamw'");
        Check(LearningRate is > 0 and < 10, "learning_rate", "must be in (0, 10)");
        Check(HeadLrMultiplier is > 0 and <= 1000, "head_lr_multiplier", "must be in (0, 1000]");
        Check(Momentum is >= 0 and < 1, "momentum", "must be in [0, 1)");
        Check(WeightDecay is >= 0 and < 1, "weight_decay", "must be in [0, 1)");
        Check(Schedule is "constant" or "cosine" or "step" or "dann", "schedule", "must be constant, cosine, step or dann");
        Check(StepSize >= 1 && StepGamma is > 0 and <= 1, "step_size", "step size ≥ 1 and gamma in (0, 1]");
        Check(LabelSmoothing is >= 0 and < 1, "label_smoothing", "must be in [0, 1)");
        Check(ClassWeighting is "none" or "balanced", "class_weighting", "must be 'none' or 'balanced'");
        Check(BatchSize is >= 2 and <= 4096, "batch_size", "must be 2–4096 (BatchNorm needs at least 2)");
        Check(Iterations is >= 1 and <= 10_000_000, "iterations", "must be ≥ 1");
        Check(EarlyStopping.Signal is "val-auroc" or "val-accuracy" or "val-loss", "early_stopping.signal", "must be val-auroc, val-accuracy or val-loss");
        Check(EarlyStopping.Patience >= 0 && EarlyStopping.EvaluateEvery >= 1, "early_stopping", "patience ≥ 0 and evaluate_every ≥ 1");
        Check(Augmentation.RotationDegrees is >= 0 and <= 45 && Augmentation.Scale is >= 0 and < 0.5 && Augmentation.Translate is >= 0 and < 0.5, "augmentation", "rotation 0–45°, scale and translate in [0, 0.5)");
        Check(Augmentation.Brightness is >= 0 and < 1 && Augmentation.Contrast is >= 0 and < 1 && Augmentation.Gamma is >= 0 and < 1 && Augmentation.Noise is >= 0 and < 1, "augmentation", "brightness, contrast, gamma and noise in [0, 1)");
    }
}
