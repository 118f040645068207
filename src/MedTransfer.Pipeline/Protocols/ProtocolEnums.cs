namespace MedTransfer.Pipeline.Protocols;

/// <summary>The imaging modality of a protocol's data (<c>data.modality</c>): it picks the preprocessing recipe.</summary>
public enum ProtocolModality
{
    /// <summary>Projection radiographs (CR/DX, PNG/JPEG): the X-ray recipe (docs/METHODS.md).</summary>
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
    /// <summary>ResNet-18 with the ImageNet weights of Microsoft.ML.DnnImageFeaturizer.ResNet18 (docs/ARCHITECTURE.md).</summary>
    ResNet18ImageNet,

    /// <summary>The same architecture with a fresh Kaiming initialisation (the "from scratch" control: did ImageNet transfer help at all?).</summary>
    ResNet18Scratch,
}

/// <summary>The classifier head (<c>model.head</c>).</summary>
public enum HeadKind
{
    /// <summary>One linear layer on the pooled features.</summary>
    Linear,

    /// <summary>Bottleneck (linear, BatchNorm, ReLU) then linear: tllib's default.</summary>
    Bottleneck,
}

/// <summary>
/// The fine-tuning strategy (<c>model.strategy</c>). Learning rates: <c>training.lr</c> is the base rate of the
/// backbone's trainable layers, the new layers train at × <c>model.head_lr_multiplier</c>.
/// </summary>
public enum FineTuningStrategy
{
    /// <summary>Backbone frozen (its BatchNorm statistics too); only the new layers train. Same as trainable_from: head.</summary>
    FeatureExtraction,

    /// <summary>Every trainable backbone layer at the base rate.</summary>
    Full,

    /// <summary>As full, but the stage k places below the top trains at the base rate × <see cref="ModelSpec.DiscriminativeLrDecay"/>^k.</summary>
    Discriminative,

    /// <summary>The new layers first, then one backbone stage more (from the top) every <see cref="ModelSpec.UnfreezeEvery"/> iterations.</summary>
    GradualUnfreezing,

    /// <summary>As full, with the L2-SP penalty toward the pretrained weights instead of weight decay.</summary>
    L2Sp,
}

/// <summary>The first backbone stage that trains (<c>model.trainable_from</c>): every layer before it is frozen, BatchNorm statistics included.</summary>
public enum TrainableStage
{
    /// <summary>Everything trains.</summary>
    Stem,

    /// <summary>From the first residual stage on.</summary>
    Stage1,

    /// <summary>From the second stage on.</summary>
    Stage2,

    /// <summary>From the third stage on.</summary>
    Stage3,

    /// <summary>From the last stage on.</summary>
    Stage4,

    /// <summary>Only the new layers train (the whole backbone frozen).</summary>
    Head,
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

    /// <summary>× 0.1 from half the run, × 0.01 from three quarters.</summary>
    Step,

    /// <summary>DANN's annealing lr·(1+γp)^−0.75 on progress p (Ganin et al. 2016; γ = <see cref="TrainingSpec.DannGamma"/>, 10 by default).</summary>
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
/// (<c>baselines</c>). Definitions and defaults are those of docs/METHODS.md.
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

    /// <summary>SHOT (Liang et al. 2020): source-free adaptation of the source-only model, its classifier frozen.</summary>
    Shot,
}

/// <summary>The λ schedule of adversarial and discrepancy losses (<c>adaptation.lambda_schedule</c>).</summary>
public enum LambdaSchedule
{
    /// <summary>λ_p = 2/(1+exp(−10·p)) − 1, p = step/total steps (Ganin et al.).</summary>
    Paper,

    /// <summary>tllib's λ_i = 2(hi−lo)/(1+exp(−α·i/N)) − (hi−lo) + lo, α = 1, lo = 0, hi = 1, N = 1000.</summary>
    Tllib,

    /// <summary>λ = 1 throughout (times the trade-off).</summary>
    Constant,
}

/// <summary>
/// How the model is selected (<c>selection</c>): the rule scores every candidate checkpoint of every (method, seed)
/// run; each run keeps its best candidate, and the best candidate overall is the reported, exported model.
/// </summary>
public enum SelectionRule
{
    /// <summary>Source-validation AUROC (higher is better).</summary>
    SourceVal,

    /// <summary>Information maximisation on the unlabelled target training images (higher is better).</summary>
    Im,

    /// <summary>Soft neighbourhood density (τ = 0.05) of the target predictions (higher is better).</summary>
    Snd,

    /// <summary>Mean prediction entropy on the target training images (lower is better).</summary>
    Entropy,

    /// <summary>Batch nuclear norm of the target prediction matrix, ‖P‖_* / N (higher is better).</summary>
    Bnm,

    /// <summary>Deep embedded validation: importance-weighted source-validation loss with a control variate (lower is better).</summary>
    Dev,

    /// <summary>Ensemble validation: agreement with the average prediction of all candidates (higher is better).</summary>
    Ensv,

    /// <summary>AUROC on the target's validation partition, with its labels: an upper bound, labelled "ORACLE" in every output.</summary>
    Oracle,
}

/// <summary>Which target images are adapted on and evaluated (<c>evaluation.target</c>).</summary>
public enum TargetEvaluation
{
    /// <summary>Held-out test: target patients are split; adaptation sees the train partition, metrics come from the test partition.</summary>
    Test,

    /// <summary>
    /// Transductive (the standard unsupervised-DA benchmark protocol): every target image is adapted on without labels
    /// and scored; labels are used only for the final metrics (and the oracle). Not a held-out estimate.
    /// </summary>
    Transductive,
}

/// <summary>The embedding figure of the report (<c>report.embeddings</c>).</summary>
public enum EmbeddingPlot
{
    /// <summary>No embedding figure.</summary>
    None,

    /// <summary>First two principal components of the backbone features, coloured by site.</summary>
    Pca,
}
