using System.Globalization;
using MedTransfer.Pipeline.Protocols;
using MedTransfer.Pipeline.Runs;
using MedTransfer.Testing;
using MedTransfer.Training.Configuration;

namespace MedTransfer.Pipeline.Tests.Runs;

/// <summary>
/// The one protocol → trainer translation: every <c>model</c>, <c>training</c> and <c>adaptation</c> field of a
/// protocol changes the trainer configuration it should, and a protocol of defaults gives the trainer's defaults.
/// </summary>
public sealed class TrainerSettingsTests : IDisposable
{
    private const int Labelled = 100;
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-settings");

    public TrainerSettingsTests()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "images"));
        File.WriteAllText(Path.Combine(_dir, "labels.csv"), "id,label,site\n");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>(YAML added to a minimal protocol, method, what the configuration must then say).</summary>
    public static TheoryData<string, string, string, string> Fields => new()
    {
        { "model: {backbone: resnet18-scratch}", "source-only", "backbone", "resnet18-scratch" },
        { "model: {head: bottleneck}", "source-only", "head", "bottleneck" },
        { "model: {head: bottleneck, bottleneck_width: 64}", "source-only", "bottleneck_width", "64" },
        { "model: {strategy: discriminative}", "source-only", "strategy", "discriminative" },
        { "model: {trainable_from: stage3}", "source-only", "trainable_from", "stage3" },
        { "model: {head_lr_multiplier: 4}", "source-only", "head_lr_multiplier", "4" },
        { "model: {discriminative_lr_decay: 0.3}", "source-only", "discriminative_decay", "0.3" },
        { "model: {unfreeze_every: 7}", "source-only", "unfreeze_every", "7" },
        { "model: {l2sp_alpha: 0.2}", "source-only", "l2sp_alpha", "0.2" },
        { "model: {l2sp_beta: 0.3}", "source-only", "l2sp_beta", "0.3" },
        { "training: {optimizer: adamw}", "source-only", "optimizer", "adamw" },
        { "training: {lr: 0.02}", "source-only", "learning_rate", "0.02" },
        { "training: {momentum: 0.5}", "source-only", "momentum", "0.5" },
        { "training: {weight_decay: 0.01}", "source-only", "weight_decay", "0.01" },
        { "training: {batch_size: 8}", "source-only", "batch_size", "8" },
        { "training: {iterations: 77}", "source-only", "iterations", "77" },
        { "training: {epochs: 3, batch_size: 32}", "source-only", "iterations", "12" },
        { "training: {schedule: cosine}", "source-only", "schedule", "cosine" },
        { "training: {schedule: dann, dann_gamma: 5}", "source-only", "dann_gamma", "5" },
        { "training: {label_smoothing: 0.1}", "source-only", "label_smoothing", "0.1" },
        { "training: {class_weighting: balanced}", "source-only", "class_weighting", "balanced" },
        { "training: {balanced_sampling: true}", "source-only", "balanced_sampling", "True" },
        { "training: {early_stopping: {signal: snd, patience: 3, every: 7}}", "source-only", "early_stopping", "snd/3/7" },
        { "training: {augmentation: {rotation_deg: 7}}", "source-only", "augmentation.rotation", "7" },
        { "training: {augmentation: {scale: 0.2}}", "source-only", "augmentation.scale", "0.2" },
        { "training: {augmentation: {translate: 0.1}}", "source-only", "augmentation.translate", "0.1" },
        { "training: {augmentation: {brightness: 0.3}}", "source-only", "augmentation.brightness", "0.3" },
        { "training: {augmentation: {contrast: 0.4}}", "source-only", "augmentation.contrast", "0.4" },
        { "training: {augmentation: {gamma: 0.25}}", "source-only", "augmentation.gamma", "0.25" },
        { "training: {augmentation: {noise: 0.05}}", "source-only", "augmentation.noise", "0.05" },
        { "training: {augmentation: {hflip: true}}", "source-only", "augmentation.hflip", "True" },
        { "adaptation: {methods: [dann], trade_off: 0.3}", "dann", "adaptation.trade_off", "0.3" },
        { "adaptation: {methods: [dann], lambda_schedule: tllib}", "dann", "adaptation.schedule", "Tllib" },
        { "adaptation: {methods: [dann], lambda_schedule: constant}", "dann", "adaptation.schedule", "Constant" },
        { "adaptation: {methods: [dann], dann: {discriminator_width: 64, trade_off: 2}}", "dann", "adaptation.width/trade_off", "64/2" },
        { "adaptation: {methods: [cdan], cdan: {randomized_dim: 128}}", "cdan", "adaptation.randomized_dim", "128" },
        { "adaptation: {methods: [mcc], mcc: {temperature: 3}}", "mcc", "adaptation.temperature", "3" },
        { "adaptation: {methods: [dan], dan: {kernel_alphas: [1, 2]}}", "dan", "adaptation.kernel_alphas", "1,2" },
        { "adaptation: {methods: [shot], shot: {beta: 0.1}}", "shot", "adaptation.shot_beta", "0.1" },
        { "preprocessing: {xray: {size: 96}}", "source-only", "image_size", "96" },
        { "baselines: [source-only, scratch]", "scratch", "backbone", "resnet18-scratch" },
        { "baselines: [source-only, scratch]", "scratch", "adaptation.method", "source-only" },
        { "baselines: [source-only, target-only]", "target-only", "adaptation.method", "target-only" },
    };

    [Theory]
    [MemberData(nameof(Fields))]
    public void For_EachProtocolField_ReachesTheTrainerConfiguration(string yaml, string method, string field, string expected)
    {
        ExperimentProtocol protocol = Parse(Minimal() + yaml + "\n");
        FineTuneConfig baseline = TrainerSettings.For(Parse(Minimal() + (yaml.StartsWith("adaptation", StringComparison.Ordinal) ? "adaptation: {methods: [" + method + "]}\n" : yaml.StartsWith("baselines", StringComparison.Ordinal) ? yaml + "\n" : string.Empty)), method, 1, Labelled);

        FineTuneConfig config = TrainerSettings.For(protocol, method, 1, Labelled);

        Assert.Equal(expected, Read(config, field));
        if (!yaml.StartsWith("baselines", StringComparison.Ordinal))
        {
            Assert.NotEqual(expected, Read(baseline, field));
        }

        config.Validate();
    }

    [Fact]
    public void For_ADefaultProtocol_GivesTheTrainerDefaults()
    {
        // One set of defaults: a protocol that says nothing trains like `new FineTuneConfig()` (apart from the seed
        // and the candidate count, which the run sets).
        FineTuneConfig config = TrainerSettings.For(Parse(Minimal()), "source-only", 1, Labelled);

        Assert.Equal(new FineTuneConfig { Snapshots = TrainerSettings.Snapshots }.ToJson(), config.ToJson());
    }

    [Fact]
    public void For_TheSeedArgument_IsTheRunSeed()
    {
        Assert.Equal(17, TrainerSettings.For(Parse(Minimal()), "source-only", 17, Labelled).Seed);
    }

    [Fact]
    public void For_AMethodNotInTheProtocol_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => TrainerSettings.For(Parse(Minimal()), "dann", 1, Labelled));
    }

    [Theory]
    [InlineData("model: {strategy: feature-extraction, trainable_from: stage3}", "model.trainable_from", "feature-extraction freezes the whole backbone")]
    [InlineData("model: {strategy: full, trainable_from: head}", "model.trainable_from", "use strategy feature-extraction")]
    [InlineData("model: {strategy: feature-extraction}\nadaptation: {methods: [dann, mcc]}", "model.head", "dann align features")]
    [InlineData("model: {strategy: feature-extraction}\nadaptation: {methods: [shot]}", "model.head", "shot align features")]
    [InlineData("adaptation: {methods: [shot], shot: {trade_off: 2}}", "adaptation.shot.trade_off", "trade_off")]
    [InlineData("training: {dann_gamma: 3}", "training.dann_gamma", "only the dann schedule uses dann_gamma")]
    [InlineData("model: {classes: 3}", "model.classes", "only 2 classes are supported")]
    [InlineData("evaluation: {subgroups: [sex, hair_colour]}", "evaluation.subgroups[1]", "not a subgroup column")]
    public void Load_SettingsThatContradictEachOther_AreErrorsAtTheFieldToChange(string yaml, string field, string message)
    {
        var ex = Assert.Throws<ProtocolException>(() => Parse(Minimal() + yaml + "\n"));

        ProtocolError error = Assert.Single(ex.Errors);
        Assert.Equal(field, error.Field);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.True(error.Line > 0 && error.Column > 0, error.ToString());
    }

    [Fact]
    public void Locations_RefuseAtAFieldFoundLater_NameItsLineAndColumn()
    {
        ExperimentProtocol p = Parse(Minimal());
        ProtocolError e = p.Locations.ErrorAt("data.target_sites", "site 'B' has no images");

        Assert.Equal("test.yaml:7:17: data.target_sites: site 'B' has no images", e.ToString());
        Assert.Equal("test.yaml:3:3: data.split: x", p.Locations.ErrorAt("data.split", "x").ToString());
        Assert.Equal("test.yaml: report.html: y", p.Locations.ErrorAt("report.html", "y").ToString());
    }

    private static string Read(FineTuneConfig c, string field) => field switch
    {
        "backbone" => c.Backbone,
        "head" => c.Head,
        "bottleneck_width" => Invariant(c.BottleneckWidth),
        "strategy" => c.Strategy,
        "trainable_from" => c.TrainableFrom ?? "(none)",
        "head_lr_multiplier" => Invariant(c.HeadLrMultiplier),
        "discriminative_decay" => Invariant(c.DiscriminativeDecay),
        "unfreeze_every" => Invariant(c.UnfreezeEvery),
        "l2sp_alpha" => Invariant(c.L2SpAlpha),
        "l2sp_beta" => Invariant(c.L2SpBeta),
        "classes" => Invariant(c.Classes),
        "optimizer" => c.Optimizer,
        "learning_rate" => Invariant(c.LearningRate),
        "momentum" => Invariant(c.Momentum),
        "weight_decay" => Invariant(c.WeightDecay),
        "batch_size" => Invariant(c.BatchSize),
        "iterations" => Invariant(c.Iterations),
        "schedule" => c.Schedule,
        "dann_gamma" => Invariant(c.DannGamma),
        "label_smoothing" => Invariant(c.LabelSmoothing),
        "class_weighting" => c.ClassWeighting,
        "balanced_sampling" => c.BalancedSampling.ToString(),
        "early_stopping" => c.EarlyStopping is { } e ? $"{e.Signal}/{e.Patience}/{e.EvaluateEvery}" : "(none)",
        "augmentation.rotation" => Invariant(c.Augmentation.RotationDegrees),
        "augmentation.scale" => Invariant(c.Augmentation.Scale),
        "augmentation.translate" => Invariant(c.Augmentation.Translate),
        "augmentation.brightness" => Invariant(c.Augmentation.Brightness),
        "augmentation.contrast" => Invariant(c.Augmentation.Contrast),
        "augmentation.gamma" => Invariant(c.Augmentation.Gamma),
        "augmentation.noise" => Invariant(c.Augmentation.Noise),
        "augmentation.hflip" => c.Augmentation.HorizontalFlip.ToString(),
        "adaptation.trade_off" => Invariant(c.Adaptation.TradeOff),
        "adaptation.schedule" => c.Adaptation.Schedule.Kind.ToString(),
        "adaptation.width/trade_off" => $"{Invariant(c.Adaptation.DiscriminatorWidth)}/{Invariant(c.Adaptation.TradeOff)}",
        "adaptation.randomized_dim" => Invariant(c.Adaptation.CdanRandomizedDim),
        "adaptation.temperature" => Invariant(c.Adaptation.Temperature),
        "adaptation.shot_beta" => Invariant(c.Adaptation.ShotBeta),
        "adaptation.kernel_alphas" => string.Join(",", c.Adaptation.KernelAlphas.Select(Invariant)),
        "adaptation.method" => c.Adaptation.Method,
        "image_size" => Invariant(c.ImageSize),
        _ => throw new ArgumentException(field),
    };

    private static string Invariant(double v) => v.ToString(CultureInfo.InvariantCulture);

    private static string Minimal() => """
        name: test-protocol
        data:
          modality: xray
          source: images
          labels: labels.csv
          source_sites: [A]
          target_sites: [B]

        """.Replace("\r\n", "\n", StringComparison.Ordinal);

    private ExperimentProtocol Parse(string yaml) => ProtocolLoader.Parse(yaml, _dir, "test.yaml");
}
