namespace MedTransfer.Pipeline.Protocols;

/// <summary>The imaging modality of a protocol's data (<c>data.modality</c>): it picks the preprocessing recipe.</summary>
public enum ProtocolModality
{
    /// <summary>Projection radiographs (CR/DX, PNG/JPEG): the X-ray recipe of METHODS.md.</summary>
    Xray,

    /// <summary>MR series or NIfTI volumes, cut into slices for a 2-D backbone: the MRI recipe.</summary>
    Mri,
}

/// <summary>What a data source path holds (<c>data.source</c>), decided from the file system.</summary>
public enum DataSourceKind
{
    /// <summary>A folder scanned by the indexer (like <c>medtransfer ingest</c>).</summary>
    Folder,

    /// <summary>A manifest written by <c>medtransfer ingest</c> (.csv or .json).</summary>
    Manifest,
}

/// <summary>Stratification of the patient-level split (<c>data.split.stratify</c>).</summary>
public enum SplitStratification
{
    /// <summary>No stratification.</summary>
    None,

    /// <summary>By label (each partition keeps the label balance).</summary>
    Label,

    /// <summary>By label and site.</summary>
    LabelAndSite,
}

/// <summary>The backbone (<c>model.backbone</c>).</summary>
public enum BackboneKind
{
    /// <summary>ResNet-18 with the ImageNet weights of Microsoft.ML.DnnImageFeaturizer.ResNet18 (ARCHITECTURE.md).</summary>
    ResNet18ImageNet,

    /// <summary>The same architecture with a fresh Kaiming initialisation (the "from scratch" control of METHODS.md).</summary>
    ResNet18Scratch,
}

/// <summary>The classifier head (<c>model.head</c>).</summary>
public enum HeadKind
{
    /// <summary>One linear layer on the pooled features.</summary>
    Linear,

    /// <summary>Bottleneck (linear, BatchNorm, ReLU) then linear: tllib's default (METHODS.md).</summary>
    Bottleneck,
}

/// <summary>The fine-tuning strategy (<c>model.strategy</c>), as defined in METHODS.md.</summary>
public enum FineTuningStrategy
{
    /// <summary>Backbone frozen (eval-mode BatchNorm); only the head trains.</summary>
    FeatureExtraction,

    /// <summary>Every layer trains at the same learning rate.</summary>
    Full,

    /// <summary>Every layer trains; the backbone's rate is the head's × <see cref="ModelSpec.DiscriminativeLrDecay"/>.</summary>
    Discriminative,

    /// <summary>Head first, then one ResNet stage more every <see cref="ModelSpec.UnfreezeEvery"/> iterations.</summary>
    GradualUnfreezing,

    /// <summary>Full fine-tuning with the L2-SP penalty toward the pretrained weights.</summary>
    L2Sp,
}

/// <summary>The optimizer (<c>training.optimizer</c>).</summary>
public enum OptimizerKind
{
    /// <summary>SGD with momentum (and Nesterov off).</summary>
    Sgd,

    /// <summary>AdamW (decoupled weight decay).</summary>
    AdamW,
}

/// <summary>The learning-rate schedule (<c>training.schedule</c>).</summary>
public enum LrSchedule
{
    /// <summary>Constant rate.</summary>
    Constant,

    /// <summary>Cosine annealing to 0 over the run.</summary>
    Cosine,

    /// <summary>× 0.1 at 1/2 and 3/4 of the run.</summary>
    Step,

    /// <summary>DANN's annealing lr_i = lr0·(1+γ·i)^−0.75 with γ = 0.001 (METHODS.md).</summary>
    Dann,
}

/// <summary>Class weighting of the classification loss (<c>training.class_weighting</c>).</summary>
public enum ClassWeighting
{
    /// <summary>Every sample weighs 1.</summary>
    None,

    /// <summary>Each class weighs n / (C · n_c) on the source training data.</summary>
    Balanced,
}

/// <summary>The signal early stopping watches (<c>training.early_stopping.signal</c>); never a target-test label.</summary>
public enum EarlyStoppingSignal
{
    /// <summary>AUROC on the source validation partition (higher is better).</summary>
    SourceValAuroc,

    /// <summary>Cross-entropy on the source validation partition (lower is better).</summary>
    SourceValLoss,

    /// <summary>Information maximisation on unlabelled target data (higher is better).</summary>
    Im,

    /// <summary>Soft neighbourhood density on unlabelled target data (higher is better).</summary>
    Snd,
}

/// <summary>
/// The training regimes a protocol can name: domain-adaptation methods (<c>adaptation.methods</c>) and baselines
/// (<c>baselines</c>). Definitions and defaults are those of METHODS.md.
/// </summary>
public enum TrainingMethod
{
    /// <summary>Source labels only, no adaptation (ERM): the baseline every adapted model is reported beside.</summary>
    SourceOnly,

    /// <summary>Trained on the target's own training labels: the upper reference where target labels exist.</summary>
    TargetOnly,

    /// <summary>Source-only training of a freshly initialised backbone: tells whether ImageNet transfer helped.</summary>
    Scratch,

    /// <summary>DANN (Ganin et al. 2016): domain discriminator behind gradient reversal.</summary>
    Dann,

    /// <summary>CDAN (Long et al. 2018): discriminator conditioned on ŷ ⊗ f.</summary>
    Cdan,

    /// <summary>CDAN+E: CDAN with entropy-weighted samples.</summary>
    CdanE,

    /// <summary>DAN: multi-kernel MMD between source and target features.</summary>
    Dan,

    /// <summary>JAN: joint MMD over the feature and softmax layers.</summary>
    Jan,

    /// <summary>Deep CORAL: covariance alignment.</summary>
    Coral,

    /// <summary>MCC: minimum class confusion on the target.</summary>
    Mcc,

    /// <summary>Entropy minimisation on the target.</summary>
    Entropy,

    /// <summary>AdaBN: BatchNorm statistics recomputed on target data after source training; no gradient step.</summary>
    AdaBn,
}

/// <summary>The λ schedule of adversarial and discrepancy losses (<c>adaptation.lambda_schedule</c>), METHODS.md.</summary>
public enum LambdaSchedule
{
    /// <summary>λ_p = 2/(1+exp(−10·p)) − 1, p = step/total steps (Ganin et al.).</summary>
    Paper,

    /// <summary>tllib's λ_i = 2(hi−lo)/(1+exp(−α·i/N)) − (hi−lo) + lo, α = 1, lo = 0, hi = 1, N = 1000.</summary>
    Tllib,

    /// <summary>λ = 1 throughout (times the trade-off).</summary>
    Constant,
}

/// <summary>How the checkpoint (and any swept hyperparameter) is selected (<c>selection</c>); METHODS.md.</summary>
public enum SelectionRule
{
    /// <summary>Source-validation AUROC.</summary>
    SourceVal,

    /// <summary>Information maximisation (entropy + diversity) on unlabelled target data.</summary>
    Im,

    /// <summary>Soft neighbourhood density (τ = 0.05) on unlabelled target data.</summary>
    Snd,

    /// <summary>Deep embedded validation (importance-weighted source validation with a control variate).</summary>
    Dev,

    /// <summary>Target-test labels: an upper bound, labelled "oracle" in every output (RELIABILITY G2).</summary>
    Oracle,
}

/// <summary>The embedding figure of the report (<c>report.embeddings</c>).</summary>
public enum EmbeddingPlot
{
    /// <summary>No embedding figure.</summary>
    None,

    /// <summary>First two principal components of the backbone features, coloured by site.</summary>
    Pca,
}
