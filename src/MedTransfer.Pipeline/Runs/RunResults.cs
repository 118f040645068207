using MedTransfer.Evaluation.Diagnostics;
using MedTransfer.Pipeline.Runs.Stages;
using MedTransfer.Training.FineTuning;

namespace MedTransfer.Pipeline.Runs;

/// <summary>One training run (a method with one seed) of an experiment.</summary>
/// <param name="Method">Method name ("source-only", "dann", …).</param>
/// <param name="Seed">The seed.</param>
/// <param name="TargetAuroc">AUROC on the target test partition.</param>
/// <param name="SourceAuroc">AUROC on the source test partition.</param>
/// <param name="TargetAccuracy">Accuracy at 0.5 on the target test partition.</param>
/// <param name="Steps">Training steps run.</param>
/// <param name="Seconds">Wall time of training.</param>
/// <param name="SelectedBy">The checkpoint-selection rule that chose the kept weights, in words.</param>
/// <param name="IsOracle">True when the rule looked at target labels (results must be labelled so).</param>
/// <param name="SelectedStep">The step of the kept checkpoint.</param>
/// <param name="StoppedEarly">True when early stopping ended training.</param>
/// <param name="TrainableFrom">The first trainable backbone stage ("head": frozen backbone).</param>
/// <param name="Curves">Per-step training curves.</param>
public sealed record MethodSeedResult(
    string Method,
    int Seed,
    double TargetAuroc,
    double SourceAuroc,
    double TargetAccuracy,
    long Steps,
    double Seconds,
    string SelectedBy,
    bool IsOracle,
    long SelectedStep,
    bool StoppedEarly,
    string TrainableFrom,
    TrainingCurves Curves);

/// <summary>Mean ± sd over seeds of one method.</summary>
/// <param name="Method">Method name.</param>
/// <param name="Seeds">Number of seeds.</param>
/// <param name="TargetAurocMean">Mean target AUROC.</param>
/// <param name="TargetAurocSd">Sample standard deviation (0 for one seed).</param>
/// <param name="SourceAurocMean">Mean source AUROC.</param>
/// <param name="SourceAurocSd">Its standard deviation.</param>
public sealed record MethodSummary(string Method, int Seeds, double TargetAurocMean, double TargetAurocSd, double SourceAurocMean, double SourceAurocSd);

/// <summary>Negative-transfer gap of a method against a baseline, pooled over seeds.</summary>
/// <param name="Method">The adapted method.</param>
/// <param name="Seeds">The seeds pooled (seed k of the method paired with seed k of the baseline).</param>
/// <param name="Result">The seed-averaged gap with its paired patient-bootstrap interval, the verdict, and each seed's gap.</param>
public sealed record PooledGapEntry(string Method, IReadOnlyList<int> Seeds, PooledGapResult Result);

/// <summary>Temperature scaling of the reported model, fitted on source validation, and ECE on the target before and after.</summary>
/// <param name="Temperature">T (scores are σ(z / T), z the logit margin).</param>
/// <param name="SourceValEceBefore">ECE on source validation before scaling.</param>
/// <param name="SourceValEceAfter">ECE on source validation after scaling.</param>
/// <param name="BySite">Per target site: ECE before and after (labels used only to measure, never to fit).</param>
public sealed record CalibrationSummary(double Temperature, double SourceValEceBefore, double SourceValEceAfter, IReadOnlyList<SiteCalibration> BySite);

/// <summary>ECE of one site before and after temperature scaling.</summary>
/// <param name="Site">The site.</param>
/// <param name="Images">Images evaluated.</param>
/// <param name="EceBefore">Before.</param>
/// <param name="EceAfter">After.</param>
public sealed record SiteCalibration(string Site, int Images, double EceBefore, double EceAfter);

/// <summary>The operating threshold, chosen on source validation, and where sensitivity and specificity go on the target.</summary>
/// <param name="Threshold">The threshold on the calibrated score.</param>
/// <param name="Rule">How it was chosen ("Youden's J" or "sensitivity ≥ s").</param>
/// <param name="SourceValSensitivity">Sensitivity on source validation at the threshold.</param>
/// <param name="SourceValSpecificity">Specificity on source validation at the threshold.</param>
/// <param name="TargetSensitivity">Sensitivity on the evaluated target images at the same threshold.</param>
/// <param name="TargetSpecificity">Specificity there.</param>
public sealed record OperatingPoint(double Threshold, string Rule, double SourceValSensitivity, double SourceValSpecificity, double TargetSensitivity, double TargetSpecificity);

/// <summary>Negative-transfer gap of a method against a baseline on the target test partition (first seed's predictions, patient bootstrap).</summary>
/// <param name="Method">The adapted method.</param>
/// <param name="Result">Gap AUROC(method) − AUROC(baseline) with CI and verdict.</param>
public sealed record NegativeTransferEntry(string Method, NegativeTransferResult Result);

/// <summary>Transferability estimates of the pretrained backbone's features (before any training).</summary>
/// <param name="Partition">"source-train" (labels used legitimately) or "target-test (oracle: uses target labels)".</param>
/// <param name="Samples">Images.</param>
/// <param name="LogMe">LogME (You et al. 2021).</param>
/// <param name="HScore">H-score (Bao et al. 2019).</param>
/// <param name="Gbc">GBC (Pándy et al. 2022).</param>
/// <param name="TransRate">TransRate (Huang et al. 2022).</param>
public sealed record TransferabilityScores(string Partition, int Samples, double LogMe, double HScore, double Gbc, double TransRate);

/// <summary>Dataset-bias findings from pretrained features and labels.</summary>
/// <param name="SiteProbe">How well the site can be told from the image features alone.</param>
/// <param name="SourceVsTarget">Proxy A-distance between source and target features.</param>
/// <param name="Prevalence">Label prevalence per site (all partitions).</param>
/// <param name="BbseTargetPrior">Black-box shift estimate of the target class distribution (label-free).</param>
/// <param name="Verdict">Plain-language verdict with the numbers.</param>
public sealed record FeatureBias(
    SiteProbeResult SiteProbe,
    ProxyADistanceResult SourceVsTarget,
    IReadOnlyDictionary<string, double> Prevalence,
    IReadOnlyList<double> BbseTargetPrior,
    string Verdict);

/// <summary>2-D PCA of test-partition features of one model, for the embedding figures.</summary>
/// <param name="Model">Which model's features ("pretrained backbone", "dann seed 1", …).</param>
/// <param name="X">First coordinate per image.</param>
/// <param name="Y">Second coordinate per image.</param>
/// <param name="Domains">Site per image.</param>
/// <param name="Labels">Label per image ("0"/"1").</param>
public sealed record EmbeddingPoints(string Model, IReadOnlyList<double> X, IReadOnlyList<double> Y, IReadOnlyList<string> Domains, IReadOnlyList<string> Labels);

/// <summary>Everything `medtransfer run` measured, beyond the evaluation of the selected model.</summary>
/// <param name="ProtocolName">Protocol name.</param>
/// <param name="ProtocolHash">Protocol hash.</param>
/// <param name="Device">Device used.</param>
/// <param name="Deterministic">True only for CPU runs (never claimed for CUDA).</param>
/// <param name="SelectedMethod">The method whose model (seed <paramref name="SelectedSeed"/>) is evaluated in full and exported.</param>
/// <param name="Runs">Every (method, seed) run.</param>
/// <param name="Summary">Mean ± sd per method.</param>
/// <param name="NegativeTransfer">Gaps against the baselines.</param>
/// <param name="Transferability">Transferability estimates before training.</param>
/// <param name="Bias">Dataset-bias findings.</param>
/// <param name="Embeddings">Embeddings before and after adaptation.</param>
/// <param name="Shortcut">Border/centre masking and occlusion check of the selected model, or null.</param>
/// <param name="ManifestSha256">SHA-256 of the data manifest.</param>
/// <param name="Seconds">Wall time of the run.</param>
/// <param name="Sites">Per site: images indexed, labelled, unlabelled, quarantined and used.</param>
/// <param name="SelectedSeed">The seed of the reported model.</param>
/// <param name="PseudonymKeyFingerprint">Fingerprint of the pseudonym key (tells whether two runs used the same key; not the key).</param>
/// <param name="EmbeddingsRequested">False when the protocol turned the embedding figures off (report.embeddings: none).</param>
/// <param name="TargetEvaluation">"test" (held-out target test partition) or "transductive" (every target image adapted on and scored: not a held-out estimate).</param>
/// <param name="Selected">The reported model: which (method, seed, checkpoint), chosen by which rule, with which score.</param>
/// <param name="Audit">The selection audit (ORACLE: uses target labels).</param>
/// <param name="PooledGaps">Negative-transfer gaps pooled over seeds.</param>
/// <param name="Calibration">Temperature scaling of the reported model.</param>
/// <param name="OperatingPoint">The threshold chosen on source validation and its effect on the target.</param>
/// <param name="Backbone">The backbone fine-tuned: name or file with its SHA-256, feature node, input, stages, provenance.</param>
/// <param name="Ranking">The protocol's model.candidates ranked before training (null when it lists none).</param>
/// <param name="Validation">The top candidates trained as the source-only baseline (model.validate_top; null when 0).</param>
/// <param name="Cache">What the run's feature cache served and computed (null when the run used none).</param>
/// <param name="FeatureEngine">What ran the frozen layers (e.g. "onnxruntime 1.22.0 (2 threads)"), or null when nothing was frozen.</param>
public sealed record RunResults(
    string ProtocolName,
    string ProtocolHash,
    string Device,
    bool Deterministic,
    string SelectedMethod,
    IReadOnlyList<MethodSeedResult> Runs,
    IReadOnlyList<MethodSummary> Summary,
    IReadOnlyList<NegativeTransferEntry> NegativeTransfer,
    IReadOnlyList<TransferabilityScores> Transferability,
    FeatureBias Bias,
    IReadOnlyList<EmbeddingPoints> Embeddings,
    ShortcutCheckResult? Shortcut,
    string ManifestSha256,
    double Seconds,
    IReadOnlyList<SiteCount> Sites,
    int SelectedSeed,
    string PseudonymKeyFingerprint,
    bool EmbeddingsRequested,
    string TargetEvaluation,
    SelectedRun Selected,
    SelectionAudit Audit,
    IReadOnlyList<PooledGapEntry> PooledGaps,
    CalibrationSummary Calibration,
    OperatingPoint OperatingPoint,
    BackboneSummary? Backbone = null,
    RankOutcome? Ranking = null,
    IReadOnlyList<CandidateValidation>? Validation = null,
    CacheUse? Cache = null,
    string? FeatureEngine = null);
