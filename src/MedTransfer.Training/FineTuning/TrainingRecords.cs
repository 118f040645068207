using MedTransfer.Training.Data;

namespace MedTransfer.Training.FineTuning;

/// <summary>
/// What a training run learns from. <paramref name="Labelled"/> trains the classifier (source training samples; the
/// target's own for the target-only baseline); <paramref name="Validation"/> is labelled data of the same
/// distribution, used for the source-val signals; <paramref name="Target"/> is unlabelled target data: the
/// adaptation methods align to it, AdaBN re-estimates on it, and the im and snd signals are computed on it. Its
/// labels, if any, are never read.
/// </summary>
/// <param name="Labelled">Labelled training samples (every label in [0, classes)).</param>
/// <param name="Validation">Labelled validation samples, or null.</param>
/// <param name="Target">Unlabelled target samples, or null.</param>
public sealed record TrainingData(ISampleSource Labelled, ISampleSource? Validation = null, ISampleSource? Target = null);

/// <summary>Where checkpoints go and how often.</summary>
/// <param name="Directory">Folder for <c>last.ckpt</c> (the resumable state) and the candidate snapshots.</param>
/// <param name="Every">Steps between <c>last.ckpt</c> writes (also written when training ends or stops early).</param>
/// <param name="Resume">Continue from <c>last.ckpt</c> when it exists.</param>
/// <param name="MinimumSeconds">
/// Skip a due write when the last one is more recent than this: a checkpoint of a large model costs about a second
/// (hash, write, flush to disk), so a fast run does not spend its time writing them. A resumed run is identical
/// whichever checkpoint it resumes from.
/// </param>
public sealed record CheckpointPolicy(string Directory, int Every = 50, bool Resume = true, double MinimumSeconds = 0);

/// <summary>A progress report, for progress bars and logs.</summary>
/// <param name="Phase">"activations" (frozen layers run once), "train", "evaluate" or "done".</param>
/// <param name="Step">Steps completed (or samples done, under "activations").</param>
/// <param name="TotalSteps">Steps planned (or samples in all).</param>
/// <param name="Loss">Total loss of the last step (NaN outside training).</param>
/// <param name="ClassificationLoss">The cross-entropy part of the last step's loss.</param>
/// <param name="TransferLoss">The adaptation term of the last step (0 for the baselines).</param>
/// <param name="Lambda">The scheduled adaptation weight λ.</param>
/// <param name="LearningRate">The scheduled base rate η of the last step.</param>
/// <param name="DiscriminatorAccuracy">Domain-discriminator accuracy on the last step's batches (adversarial methods).</param>
/// <param name="ImagesPerSecond">Training throughput so far in this process.</param>
/// <param name="Signal">The early-stopping signal, on "evaluate" events.</param>
/// <param name="Message">A note ("stage4 unfrozen at step 200", "early stop", a saturated discriminator).</param>
public sealed record TrainingEvent(
    string Phase,
    long Step,
    long TotalSteps,
    double Loss,
    double ClassificationLoss,
    double TransferLoss,
    double Lambda,
    double LearningRate,
    double? DiscriminatorAccuracy,
    double ImagesPerSecond,
    double? Signal,
    string? Message);

/// <summary>One evaluated candidate checkpoint and its label-free and validation signals.</summary>
/// <param name="Step">The step after which it was taken.</param>
/// <param name="ValidationAuroc">AUROC (class 1 vs the rest) on the validation samples; null without them or with one class.</param>
/// <param name="ValidationLoss">Mean cross-entropy on the validation samples.</param>
/// <param name="ValidationAccuracy">Top-1 accuracy on the validation samples.</param>
/// <param name="Im">Information maximisation on the target samples.</param>
/// <param name="Snd">Soft neighbourhood density on the target samples' probabilities.</param>
public sealed record CandidateCheckpoint(long Step, double? ValidationAuroc, double? ValidationLoss, double? ValidationAccuracy, double? Im, double? Snd);

/// <summary>Per-step curves of a run; index 0 is step 1.</summary>
/// <param name="Loss">Total training loss.</param>
/// <param name="TransferLoss">The adaptation term (0 for baselines).</param>
/// <param name="Lambda">Adaptation weight λ.</param>
/// <param name="LearningRate">The base rate η after the schedule.</param>
/// <param name="DiscriminatorAccuracy">Domain-discriminator accuracy (adversarial methods; NaN otherwise).</param>
public sealed record TrainingCurves(
    IReadOnlyList<double> Loss,
    IReadOnlyList<double> TransferLoss,
    IReadOnlyList<double> Lambda,
    IReadOnlyList<double> LearningRate,
    IReadOnlyList<double> DiscriminatorAccuracy);

/// <summary>What a training run did.</summary>
/// <param name="StepsRun">Steps completed (including those before a resume).</param>
/// <param name="ResumedFromStep">The step resumed from, or null.</param>
/// <param name="StoppedEarly">True when early stopping ended the run before the last step.</param>
/// <param name="Candidates">Every evaluated candidate checkpoint, in step order.</param>
/// <param name="BestStep">The candidate with the best early-stopping signal (null without early stopping).</param>
/// <param name="Curves">Per-step curves.</param>
/// <param name="SaturatedSteps">Steps on which the domain discriminator had been near-perfect for a while (a warning sign).</param>
/// <param name="TrainableFrom">The first trainable stage in force.</param>
/// <param name="CachedActivations">True when the frozen layers ran once instead of on every batch.</param>
/// <param name="Device">Device used ("cpu", "cuda:0").</param>
/// <param name="ImagesPerSecond">Mean training throughput of this process's steps (samples, both domains).</param>
/// <param name="Snapshots">The candidates' weights, to restore the one a selection rule picks; dispose when done.</param>
public sealed record TrainingOutcome(
    long StepsRun,
    long? ResumedFromStep,
    bool StoppedEarly,
    IReadOnlyList<CandidateCheckpoint> Candidates,
    long? BestStep,
    TrainingCurves Curves,
    int SaturatedSteps,
    string TrainableFrom,
    bool CachedActivations,
    string Device,
    double ImagesPerSecond,
    SnapshotStore Snapshots) : IDisposable
{
    /// <summary>Frees the candidates' weights held in memory (files stay).</summary>
    public void Dispose() => Snapshots.Dispose();
}
