using MedTransfer.Imaging.Index;
using MedTransfer.Imaging.Normalization;
using MedTransfer.Imaging.Resampling;
using MedTransfer.Imaging.Splits;
using MedTransfer.Training.Configuration;

namespace MedTransfer.Pipeline.Protocols;

/// <summary>
/// A validated experiment protocol (protocols are code: versioned, validated, hashed into every report), as read by <see cref="ProtocolLoader"/>
/// from a YAML file whose schema protocols/README.md documents field by field. Every default is filled in; paths
/// are absolute (resolved against the protocol file's folder) while <see cref="DataSource.Path"/> keeps the text as
/// written for the hash. Immutable: <c>with</c> expressions give variants (e.g. one method of a sweep).
/// </summary>
public sealed record ExperimentProtocol
{
    /// <summary>The schema version this code reads and writes (<c>schema</c> in the YAML; optional there).</summary>
    public const int CurrentSchema = 1;

    /// <summary>Schema version (always <see cref="CurrentSchema"/> once loaded).</summary>
    public int Schema { get; init; } = CurrentSchema;

    /// <summary>Short name ([a-z0-9][a-z0-9._-]*, ≤ 64 characters): part of every work-item id and output folder.</summary>
    public required string Name { get; init; }

    /// <summary>Free text for the report.</summary>
    public string Description { get; init; } = string.Empty;

    /// <summary>Seeds, in order, distinct: every method runs once per seed and results are reported as mean ± sd.</summary>
    public IReadOnlyList<int> Seeds { get; init; } = [1];

    /// <summary>Data sources, labels, sites and the split.</summary>
    public required DataSpec Data { get; init; }

    /// <summary>The normalization recipe (the block for <see cref="DataSpec.Modality"/> only).</summary>
    public PreprocessingSpec Preprocessing { get; init; } = new();

    /// <summary>Backbone, head and fine-tuning strategy.</summary>
    public ModelSpec Model { get; init; } = new();

    /// <summary>Optimizer, schedule, length, regularisation, augmentation.</summary>
    public TrainingSpec Training { get; init; } = new();

    /// <summary>Domain-adaptation methods and their hyperparameters.</summary>
    public AdaptationSpec Adaptation { get; init; } = new();

    /// <summary>Baselines run beside the methods, in order (distinct from the methods).</summary>
    public IReadOnlyList<TrainingMethod> Baselines { get; init; } = [TrainingMethod.SourceOnly];

    /// <summary>Checkpoint selection rule; <see cref="SelectionRule.Oracle"/> is labelled so everywhere.</summary>
    public SelectionRule Selection { get; init; } = SelectionRule.SourceVal;

    /// <summary>Evaluation options.</summary>
    public EvaluationSpec Evaluation { get; init; } = new();

    /// <summary>Report options.</summary>
    public ReportSpec Report { get; init; } = new();

    /// <summary>"auto" (CUDA when present, else CPU), "cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; init; } = "auto";

    /// <summary>True when <see cref="Selection"/> uses target labels: results must carry the word "oracle".</summary>
    public bool IsOracle => Selection == SelectionRule.Oracle;

    /// <summary>Where each field was written in the protocol file (not part of the hash): refusals found later name the same place.</summary>
    public ProtocolLocations Locations { get; init; } = ProtocolLocations.None;

    /// <summary>SHA-256 of the canonical serialization (<see cref="ProtocolSerializer.ComputeHash"/>): what runs record.</summary>
    public string ComputeHash() => ProtocolSerializer.ComputeHash(this);
}

/// <summary>One data source: a folder to scan or a manifest from <c>medtransfer ingest</c>.</summary>
/// <param name="Path">The path as written in the protocol ('/'-separated; part of the hash).</param>
/// <param name="FullPath">The absolute path (relative paths resolve against the protocol file's folder).</param>
/// <param name="Kind">Folder or manifest.</param>
public sealed record DataSource(string Path, string FullPath, DataSourceKind Kind);

/// <summary>The label CSV joined onto the samples (<c>data.labels</c>, <c>data.label_key</c>, <c>data.label_column</c>).</summary>
/// <param name="Path">As written.</param>
/// <param name="FullPath">Absolute.</param>
/// <param name="Key">What the key column holds.</param>
/// <param name="Column">The label column.</param>
public sealed record LabelsSpec(string Path, string FullPath, LabelKey Key, string Column)
{
    /// <summary>The equivalent <see cref="LabelSource"/> for the indexer.</summary>
    public LabelSource ToLabelSource() => new() { CsvPath = FullPath, Key = Key, LabelColumn = Column };
}

/// <summary>Patient-level split fractions, applied within every site (<c>data.split</c>).</summary>
public sealed record SplitSpec
{
    /// <summary>Training fraction. Default 0.7.</summary>
    public double Train { get; init; } = 0.7;

    /// <summary>Validation fraction. Default 0.15.</summary>
    public double Val { get; init; } = 0.15;

    /// <summary>Test fraction. Default 0.15. The three sum to 1.</summary>
    public double Test { get; init; } = 0.15;

    /// <summary>Stratification. Default by label.</summary>
    public SplitStratification Stratify { get; init; } = SplitStratification.Label;

    /// <summary>Split seed, independent of the training seeds so every seed sees the same partitions. Default 42.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>The equivalent <see cref="SplitOptions"/> (patients are the unit, always: a patient in two partitions would leak into the test metrics).</summary>
    public SplitOptions ToSplitOptions() => new()
    {
        Train = Train,
        Validation = Val,
        Test = Test,
        Seed = (ulong)Seed,
        StratifyBySite = Stratify == SplitStratification.LabelAndSite,
    };
}

/// <summary>Where the data is, how it is labelled, which sites are source and target, and how it is split.</summary>
public sealed record DataSpec
{
    /// <summary>Modality: picks the preprocessing block.</summary>
    public required ProtocolModality Modality { get; init; }

    /// <summary>One or more sources (a YAML string or list).</summary>
    public required IReadOnlyList<DataSource> Sources { get; init; }

    /// <summary>Labels to join, or null when the sources (manifests) carry them.</summary>
    public LabelsSpec? Labels { get; init; }

    /// <summary>The site rule in <c>medtransfer ingest --site</c> syntax. Default folder:1.</summary>
    public SiteRule Site { get; init; } = SiteRule.FromFolder(1);

    /// <summary>Folder level naming the patient of files that carry none (PNG, NIfTI), or null.</summary>
    public int? PatientFolder { get; init; }

    /// <summary>Sites whose labels train the model (non-empty).</summary>
    public required IReadOnlyList<string> SourceSites { get; init; }

    /// <summary>Sites adapted to and evaluated on (non-empty, disjoint from the source sites).</summary>
    public required IReadOnlyList<string> TargetSites { get; init; }

    /// <summary>The patient-level split.</summary>
    public SplitSpec Split { get; init; } = new();

    /// <summary>The indexer options for the folder sources (site rule, labels, patient folder), as `medtransfer ingest` would use them.</summary>
    public DatasetIndexOptions ToIndexOptions() => new() { Site = Site, Labels = Labels?.ToLabelSource(), PatientFolderLevel = PatientFolder };
}

/// <summary>The normalization recipe; only the block of the protocol's modality is set.</summary>
public sealed record PreprocessingSpec
{
    /// <summary>The X-ray recipe (for <see cref="ProtocolModality.Xray"/>).</summary>
    public XrayRecipe? Xray { get; init; }

    /// <summary>The MRI recipe (for <see cref="ProtocolModality.Mri"/>).</summary>
    public MriRecipe? Mri { get; init; }

    /// <summary>MRI only: slices are resized (aspect kept, padded) to this square side before the backbone. Default 128.</summary>
    public int MriSliceSize { get; init; } = 128;

    /// <summary>MRI only: resize method of the slices. Default area.</summary>
    public ResizeMethod MriResize { get; init; } = ResizeMethod.Area;

    /// <summary>The square input side the backbone sees.</summary>
    public int InputSize => Xray?.Resize.Size ?? MriSliceSize;

    /// <summary>Hash of the recipe in force (<see cref="XrayRecipe.ComputeHash"/> or <see cref="MriRecipe.ComputeHash"/>).</summary>
    public string RecipeHash => Xray?.ComputeHash() ?? Mri?.ComputeHash() ?? string.Empty;
}

/// <summary>Backbone, head and fine-tuning strategy (<c>model</c>).</summary>
public sealed record ModelSpec
{
    /// <summary>Backbone. Default resnet18-imagenet. Ignored when <see cref="BackbonePath"/> is set.</summary>
    public BackboneKind Backbone { get; init; } = BackboneKind.ResNet18ImageNet;

    /// <summary>A user's ONNX CNN as the backbone (absolute path); null = the built-in <see cref="Backbone"/>.</summary>
    public string? BackbonePath { get; init; }

    /// <summary>SHA-256 of <see cref="BackbonePath"/>'s bytes, computed when the protocol is loaded (and checked against <c>backbone_sha256</c> when the protocol pins it).</summary>
    public string? BackboneSha256 { get; init; }

    /// <summary>For an ONNX backbone: the node whose output is the features; null = found automatically.</summary>
    public string? FeatureNode { get; init; }

    /// <summary>For an ONNX backbone: its input convention; null = its metadata, else torchvision's ImageNet one.</summary>
    public MedTransfer.Training.Backbones.InputConvention? Input { get; init; }

    /// <summary>Licence and provenance of the backbone's weights, in the user's words (recorded in the report).</summary>
    public string Provenance { get; init; } = string.Empty;

    /// <summary>Backbones (and cuts) to rank before training (<c>medtransfer rank</c>, and a section of every run's report); empty = none.</summary>
    public IReadOnlyList<RankCandidate> Candidates { get; init; } = [];

    /// <summary>How many of the best-ranked candidates a run also trains (as the source-only baseline) to set predicted against obtained rank; 0 = none.</summary>
    public int ValidateTop { get; init; }

    /// <summary>Head. Default linear.</summary>
    public HeadKind Head { get; init; } = HeadKind.Linear;

    /// <summary>Width of the bottleneck head. Default 256.</summary>
    public int BottleneckWidth { get; init; } = 256;

    /// <summary>Fine-tuning strategy. Default full.</summary>
    public FineTuningStrategy Strategy { get; init; } = FineTuningStrategy.Full;

    /// <summary>The first backbone stage that trains (everything before it frozen, BatchNorm statistics too); null = from the strategy (head for feature-extraction, else stem).</summary>
    public TrainableStage? TrainableFrom { get; init; }

    /// <summary>Learning rate of the new layers (bottleneck, classifier, discriminator) = training.lr × this. Default 10.</summary>
    public double HeadLrMultiplier { get; init; } = 10;

    /// <summary>Discriminative strategy: the stage k places below the top trains at training.lr × this^k, in (0, 1]. Default 0.5.</summary>
    public double DiscriminativeLrDecay { get; init; } = 0.5;

    /// <summary>Gradual unfreezing: iterations between unfreezing one more stage. Default 100.</summary>
    public int UnfreezeEvery { get; init; } = 100;

    /// <summary>L2-SP α (toward the pretrained backbone weights). Default 0.01.</summary>
    public double L2SpAlpha { get; init; } = 0.01;

    /// <summary>L2-SP β (plain L2 on the head). Default 0.01.</summary>
    public double L2SpBeta { get; init; } = 0.01;

    /// <summary>Classes. Default 2 (binary labels).</summary>
    public int Classes { get; init; } = 2;
}

/// <summary>Early stopping (<c>training.early_stopping</c>); null in <see cref="TrainingSpec"/> means off.</summary>
/// <param name="Signal">What is watched.</param>
/// <param name="Patience">Evaluations without improvement before stopping.</param>
/// <param name="Every">Iterations between evaluations.</param>
public sealed record EarlyStoppingSpec(EarlyStoppingSignal Signal = EarlyStoppingSignal.SourceValAuroc, int Patience = 5, int Every = 50);

/// <summary>Optimiser, schedule and length (<c>training</c>).</summary>
public sealed record TrainingSpec
{
    /// <summary>Optimizer. Default sgd.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Sgd;

    /// <summary>Base learning rate of the pretrained backbone's trainable layers (the new layers train at × model.head_lr_multiplier). Default 0.001.</summary>
    public double Lr { get; init; } = 0.001;

    /// <summary>SGD momentum (AdamW's β1). Default 0.9.</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>Weight decay. Default 0.0005.</summary>
    public double WeightDecay { get; init; } = 0.0005;

    /// <summary>Batch size (per domain for adaptation methods). Default 32.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Optimiser steps; null when <see cref="Epochs"/> is given. Default 1000 when neither is.</summary>
    public int? Iterations { get; init; } = 1000;

    /// <summary>Passes over the labelled training data (steps = epochs × ⌈n / batch⌉); null when <see cref="Iterations"/> is given.</summary>
    public int? Epochs { get; init; }

    /// <summary>Learning-rate schedule. Default constant.</summary>
    public LrSchedule Schedule { get; init; } = LrSchedule.Constant;

    /// <summary>γ of the dann schedule lr·(1 + γp)^−0.75 on progress p. Default 10 (the paper's).</summary>
    public double DannGamma { get; init; } = 10;

    /// <summary>Label smoothing in [0, 1). Default 0.</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>Class weighting. Default none.</summary>
    public ClassWeighting ClassWeighting { get; init; } = ClassWeighting.None;

    /// <summary>Draw labelled batches with equal class frequencies. Default false.</summary>
    public bool BalancedSampling { get; init; }

    /// <summary>Early stopping, or null (the default) for none.</summary>
    public EarlyStoppingSpec? EarlyStopping { get; init; }

    /// <summary>Augmentation (<c>training.augmentation</c>; every transform off by default), the trainer's own type.</summary>
    public AugmentationConfig Augmentation { get; init; } = new();
}

/// <summary>One domain-adaptation method with its hyperparameters (a <c>adaptation.&lt;method&gt;</c> sub-map).</summary>
public sealed record MethodSpec
{
    /// <summary>The method.</summary>
    public required TrainingMethod Method { get; init; }

    /// <summary>Trade-off λ of the adaptation loss (defaults to <see cref="AdaptationSpec.TradeOff"/>).</summary>
    public required double TradeOff { get; init; }

    /// <summary>Hidden width of the domain discriminator (dann, cdan, cdan-e). Default 1024.</summary>
    public int DiscriminatorWidth { get; init; } = 1024;

    /// <summary>Dimension of CDAN's randomized multilinear map, used when C·d exceeds it (cdan, cdan-e). Default 1024.</summary>
    public int RandomizedDimension { get; init; } = 1024;

    /// <summary>MCC's softmax temperature. Default 2.5.</summary>
    public double Temperature { get; init; } = 2.5;

    /// <summary>MK-MMD kernel multipliers α_u (dan, jan). Default 2⁻³ … 2¹.</summary>
    public IReadOnlyList<double> KernelAlphas { get; init; } = [0.125, 0.25, 0.5, 1, 2];

    /// <summary>SHOT's weight β of the pseudo-label cross-entropy (shot). Default 0.3.</summary>
    public double ShotBeta { get; init; } = 0.3;
}

/// <summary>Domain adaptation (<c>adaptation</c>).</summary>
public sealed record AdaptationSpec
{
    /// <summary>Methods in the order given (may be empty: baselines only).</summary>
    public IReadOnlyList<MethodSpec> Methods { get; init; } = [];

    /// <summary>Default trade-off λ. Default 1.</summary>
    public double TradeOff { get; init; } = 1.0;

    /// <summary>λ schedule. Default paper.</summary>
    public LambdaSchedule LambdaSchedule { get; init; } = LambdaSchedule.Paper;
}

/// <summary>Evaluation (<c>evaluation</c>).</summary>
public sealed record EvaluationSpec
{
    /// <summary>Patient-level bootstrap resamples for every interval (≥ 100). Default 1000.</summary>
    public int Bootstrap { get; init; } = 1000;

    /// <summary>Interval coverage in (0.5, 1). Default 0.95.</summary>
    public double Ci { get; init; } = 0.95;

    /// <summary>The manifest columns a subgroup analysis can split by.</summary>
    public static IReadOnlyList<string> SubgroupColumns { get; } = ["sex", "age_band", "manufacturer", "model", "view"];

    /// <summary>Subgroup columns (of <see cref="SubgroupColumns"/>). Default none.</summary>
    public IReadOnlyList<string> Subgroups { get; init; } = [];

    /// <summary>Per-site metrics. Default true.</summary>
    public bool PerSite { get; init; } = true;

    /// <summary>Held-out target test (default) or transductive evaluation of every target image.</summary>
    public TargetEvaluation Target { get; init; } = TargetEvaluation.Test;

    /// <summary>The operating point chosen on source validation: null = Youden's J; else the threshold reaching this sensitivity there.</summary>
    public double? OperatingSensitivity { get; init; }
}

/// <summary>Report (<c>report</c>).</summary>
public sealed record ReportSpec
{
    /// <summary>Write the HTML validation report. Default true.</summary>
    public bool Html { get; init; } = true;

    /// <summary>Embedding figure. Default pca.</summary>
    public EmbeddingPlot Embeddings { get; init; } = EmbeddingPlot.Pca;

    /// <summary>Intended use stated in the report (the report refuses to render without one). Default empty.</summary>
    public string IntendedUse { get; init; } = string.Empty;

    /// <summary>Uses the model is not meant for. Default empty.</summary>
    public string OutOfScopeUse { get; init; } = string.Empty;

    /// <summary>Known limitations, added to the report's standard ones. Default none.</summary>
    public IReadOnlyList<string> Limitations { get; init; } = [];
}
