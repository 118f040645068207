using System.Diagnostics;
using System.Globalization;
using MedTransfer.Imaging.Index;
using MedTransfer.Pipeline.Diagnose;
using MedTransfer.Pipeline.Protocols;
using MedTransfer.Pipeline.Runs.Stages;
using MedTransfer.Pipeline.Sharding;
using MedTransfer.Pipeline.Sweeps;
using MedTransfer.Training.Configuration;
using MedTransfer.Training.FineTuning;
using MedTransfer.Training.Runtime;
using static TorchSharp.torch;

namespace MedTransfer.Pipeline.Runs;

/// <summary>
/// The main job, as a sequence of stages that each own one job: prepare (index, check, split by patient,
/// normalize) → diagnostics (pretrained features, transferability, dataset bias) → method runs (every baseline and
/// adaptation method over every seed through the one trainer, every candidate checkpoint scored by every validator) →
/// selection (the protocol's rule over every (method, seed, checkpoint), and the audit of every validator) →
/// comparison (summaries, negative-transfer gaps pooled over seeds) → outputs (calibration, operating point, full
/// evaluation of the selected model, export, predictions, results.json, report.html, completion marker). <see cref="Run"/> writes the complete run folder, so the
/// C# API gives what the CLI gives. A rerun into the same folder resumes: finished (method, seed) items are kept and
/// the unfinished one continues from its last checkpoint.
/// </summary>
public static class ExperimentRunner
{
    /// <summary>Runs a protocol into <see cref="RunOptions.OutputDirectory"/>.</summary>
    /// <exception cref="ProtocolException">The protocol asks for something the data cannot give (names the field and its place in the file).</exception>
    /// <exception cref="RunFolderException">The run folder is in use or holds another run.</exception>
    /// <exception cref="TorchUnavailableException">libtorch cannot run here, or the device asked for is absent.</exception>
    public static RunOutcome Run(ExperimentProtocol protocol, RunOptions options, IProgress<RunProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(options);
        var wall = Stopwatch.StartNew();
        TorchRuntime.EnsureAvailable();
        Device device = TorchRuntime.SelectDevice(options.Device ?? protocol.Device);
        using RunFolder folder = RunFolder.Open(options.OutputDirectory, protocol.ComputeHash(), options.CodeVersion, options.Overwrite);
        using var log = new RunLog(Path.Combine(folder.Root, "run.log"), progress);
        folder.WriteText("protocol.resolved.yaml", ProtocolSerializer.ToYaml(protocol));
        StudyPseudonyms pseudonyms = StudyPseudonyms.Resolve(options.KeyFile, folder.Private, out string? keyWarning);
        var warnings = new List<string>();
        if (keyWarning is not null)
        {
            warnings.Add(keyWarning);
        }

        using RunCache? store = OpenCache(protocol, options, folder, warnings, log);
        PreparedData data = PrepareStage.Run(protocol, pseudonyms, log, cancellationToken, store);
        ManifestFile.Save(new Manifest(data.Rows), Path.Combine(folder.Private, "manifest.csv"));
        using var cache = new ActivationCache(store: store);
        var methods = new MethodRunStage(protocol, data.Sets, cache, device, folder.Checkpoints, options.CheckpointSeconds, log);
        IReadOnlyList<WorkItem> items = SweepPlan.Expand(protocol).Items;
        PretrainedDiagnostics diagnostics = DiagnosticsStage.Run(StartingPoint(protocol, methods, items), data.Sets, cache, device, log);
        RankOutcome? ranking = protocol.Model.Candidates.Count > 0 ? BackboneRanking.Rank(protocol, protocol.Model.Candidates, data.Sets, device, log, Stopwatch.StartNew(), cancellationToken, store) : null;
        IReadOnlyList<CandidateValidation>? validation = ranking is not null && protocol.Model.ValidateTop > 0
            ? ValidateTopStage.Run(protocol, ranking, data.Sets, cache, device, folder.Checkpoints, options.CheckpointSeconds, log, cancellationToken)
            : null;
        List<ItemResult> results = methods.Run(items, cancellationToken);
        (ItemResult selectedItem, SelectedRun selected, SelectionAudit audit) = SelectionStage.Run(protocol, results);
        Comparison comparison = ComparisonStage.Run(protocol, results, data.Sets, diagnostics);
        var input = new OutputInputs(protocol, options, data, diagnostics, comparison, results, selectedItem, selected, audit, methods, pseudonyms, device, wall.Elapsed.TotalSeconds, ranking, validation, store?.Use, cache.EngineName);
        return OutputStage.Write(input, folder, warnings, log);
    }

    /// <summary>
    /// Runs one shard of the protocol's sweep (<see cref="SweepPlan"/>: baselines and methods × seeds, partitioned by
    /// <paramref name="shard"/>) and writes one result file per item into <c>OUT/items/</c>, for
    /// <c>medtransfer protocol merge</c>. Items resume like a whole run's. Diagnostics, the full evaluation and the
    /// export belong to unsharded runs.
    /// </summary>
    /// <returns>The result files written.</returns>
    public static IReadOnlyList<string> RunShard(ExperimentProtocol protocol, RunOptions options, ShardSpec shard, IProgress<RunProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(shard);
        TorchRuntime.EnsureAvailable();
        Device device = TorchRuntime.SelectDevice(options.Device ?? protocol.Device);
        SweepPlan plan = SweepPlan.Expand(protocol);
        IReadOnlyList<WorkItem> items = plan.ForShard(shard);
        using RunFolder folder = RunFolder.Open(options.OutputDirectory, protocol.ComputeHash(), options.CodeVersion, options.Overwrite);
        using var log = new RunLog(Path.Combine(folder.Root, string.Create(CultureInfo.InvariantCulture, $"run.shard-{shard.Index}-of-{shard.Count}.log")), progress);
        folder.WriteText("protocol.resolved.yaml", ProtocolSerializer.ToYaml(protocol));
        StudyPseudonyms pseudonyms = StudyPseudonyms.Resolve(options.KeyFile, folder.Private, out _);
        using RunCache? store = OpenCache(protocol, options, folder, [], log);
        PreparedData data = PrepareStage.Run(protocol, pseudonyms, log, cancellationToken, store);
        using var cache = new ActivationCache(store: store);
        var methods = new MethodRunStage(protocol, data.Sets, cache, device, folder.Checkpoints, options.CheckpointSeconds, log);
        List<ItemResult> results = methods.Run(items, cancellationToken);
        var written = new List<string>();
        string itemsFolder = Path.Combine(folder.Root, "items");
        for (int i = 0; i < items.Count; i++)
        {
            ItemResult r = results[i];
            var metrics = new Dictionary<string, double>(StringComparer.Ordinal)
            {
                ["target_auroc"] = r.TargetAuroc,
                ["source_auroc"] = r.SourceAuroc,
                ["target_accuracy"] = r.TargetAccuracy,
            };
            var details = new System.Text.Json.Nodes.JsonObject { ["selected_by"] = r.ChosenBy, ["is_oracle"] = r.IsOracle, ["steps"] = r.Steps, ["selected_step"] = r.Chosen.Step };
            written.Add(SweepResults.WriteItem(itemsFolder, plan, items[i], metrics, details));
        }

        folder.MarkComplete(protocol.ComputeHash(), written.ToDictionary(f => "items/" + Path.GetFileName(f), f => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))), StringComparer.Ordinal));
        return written;
    }

    // OUT/private/cache unless the options name another folder or turn caching off.
    private static RunCache? OpenCache(ExperimentProtocol protocol, RunOptions options, RunFolder folder, List<string> warnings, IProgress<RunProgress> progress)
    {
        if (options.NoCache)
        {
            return null;
        }

        string root = options.CacheDirectory ?? Path.Combine(folder.Root, RunFolder.CacheFolder);
        RunCache cache = RunCache.Open(root, protocol, out string? warning);
        if (warning is not null)
        {
            warnings.Add(warning);
            progress.Report(new RunProgress("index", 0, 1, "warning: " + warning));
        }

        progress.Report(new RunProgress("index", 0, 1, "feature cache " + (options.CacheDirectory is null ? RunFolder.CacheFolder + "/ in the run folder" : "at --cache")));
        return cache;
    }

    // The diagnostics describe the backbone the methods start from (the scratch baseline aside).
    private static FineTuneConfig StartingPoint(ExperimentProtocol protocol, MethodRunStage methods, IReadOnlyList<WorkItem> items)
    {
        WorkItem item = items.FirstOrDefault(i => i.Method != TrainingMethod.Scratch) ?? items[0];
        return methods.ConfigOf(item.MethodName, protocol.Seeds[0]);
    }
}
