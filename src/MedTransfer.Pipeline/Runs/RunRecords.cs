using MedTransfer.Pipeline.Evaluate;

namespace MedTransfer.Pipeline.Runs;

/// <summary>Progress of a run, for the CLI's progress bars.</summary>
/// <param name="Stage">"index", "normalize", "features", "diagnostics", "train", "evaluate", "report".</param>
/// <param name="Done">Units done in this stage.</param>
/// <param name="Total">Units in this stage.</param>
/// <param name="Detail">What is happening (method, seed, loss).</param>
public sealed record RunProgress(string Stage, int Done, int Total, string? Detail);

/// <summary>Options of <see cref="ExperimentRunner.Run"/>.</summary>
/// <param name="OutputDirectory">The run folder.</param>
/// <param name="Device">"auto", "cpu" or "cuda"; null = the protocol's.</param>
/// <param name="CodeVersion">MedTransfer version/commit recorded in outputs (e.g. "0.2.0+abc123").</param>
/// <param name="KeyFile">
/// The pseudonym key file (hex, at least 32 digits). Null: the environment variable
/// <c>MEDTRANSFER_PSEUDONYM_KEY</c> (the key itself, hex), else a random key created in the run folder's
/// <c>private/</c> part (never among the shareable outputs), with a warning.
/// </param>
/// <param name="Overwrite">Replace the outputs of a different protocol's run in the folder instead of refusing.</param>
/// <param name="CacheDirectory">
/// Where normalized images and frozen-backbone activations are cached between runs: null = <c>OUT/private/cache/</c> (kept by
/// <paramref name="Overwrite"/>); a folder shared by several runs lets a protocol that changes only methods, seeds,
/// selection or evaluation reuse every feature. It holds image-derived data: keep it where the images may be.
/// </param>
/// <param name="NoCache">Neither read nor write a feature cache.</param>
/// <param name="CheckpointSeconds">
/// Least time between two resumable checkpoints of a training run (they are also written every tenth of the run's
/// steps, at most every 50): a checkpoint of a fine-tuned ResNet stage costs about a second to hash and flush, so a
/// short interval trades speed for less work lost to a kill.
/// </param>
public sealed record RunOptions(string OutputDirectory, string? Device = null, string CodeVersion = "unknown", string? KeyFile = null, bool Overwrite = false, double CheckpointSeconds = 20, string? CacheDirectory = null, bool NoCache = false);

/// <summary>What a run wrote and found.</summary>
/// <param name="Results">The measurements.</param>
/// <param name="Evaluation">Full evaluation of the reported model on the target test partition.</param>
/// <param name="Rows">Its prediction rows (pseudonymous ids).</param>
/// <param name="Quarantined">Inputs that could not be used, with reasons (the run went on without them).</param>
/// <param name="OutputDirectory">The run folder.</param>
/// <param name="ReportPath">The HTML report, or null when the protocol turned it off.</param>
/// <param name="Warnings">Things the user should know (e.g. a pseudonym key was generated).</param>
public sealed record RunOutcome(RunResults Results, EvaluationResult Evaluation, IReadOnlyList<PredictionRow> Rows, IReadOnlyList<string> Quarantined, string OutputDirectory, string? ReportPath, IReadOnlyList<string> Warnings);
