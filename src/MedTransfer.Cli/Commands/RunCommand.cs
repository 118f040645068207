using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MedTransfer.Evaluation.Diagnostics;
using MedTransfer.Evaluation.Metrics;
using MedTransfer.Pipeline.Protocols;
using MedTransfer.Pipeline.Runs;
using MedTransfer.Reporting.Provenance;
using MedTransfer.Training.Runtime;
using Spectre.Console;

namespace MedTransfer.Cli.Commands;

/// <summary>`medtransfer run PROTOCOL`: the main job.</summary>
internal static class RunCommand
{
    public static Command Create(IAnsiConsole console, TextWriter output, TextWriter error)
    {
        var protocolArg = new Argument<FileInfo>("PROTOCOL") { Description = "The experiment protocol (YAML), e.g. protocols/cxr-site-shift.yaml." };
        var outDir = new Option<DirectoryInfo?>("--out") { Description = "Run folder (default: runs/<protocol name>). Running again into the same folder resumes the same protocol: finished (method, seed) items are kept, the unfinished one continues from its last checkpoint." };
        var device = new Option<string?>("--device") { Description = "auto, cpu or cuda (default: the protocol's). CPU runs repeat bit for bit; CUDA runs do not." };
        var json = new Option<bool>("--json") { Description = "Print the summary as JSON instead of a table." };
        var keyFile = new Option<FileInfo?>("--key-file") { Description = "Pseudonym key (hex, ≥ 32 digits) for the image and patient ids in predictions.csv. Default: $MEDTRANSFER_PSEUDONYM_KEY, else a random key generated once in OUT/private/ (never among the shareable outputs)." };
        var checkpointSeconds = new Option<double>("--checkpoint-seconds")
        {
            Description = "Least time between two resumable checkpoints of a training run (default 20). Lower loses less work to a kill; a checkpoint of a fine-tuned stage costs about a second.",
            DefaultValueFactory = _ => 20,
        };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace the outputs of a different protocol's run in --out instead of refusing (files the run did not write are left alone)." };
        var cacheDir = new Option<DirectoryInfo?>("--cache")
        {
            Description = "Folder of cached normalized images and frozen-backbone activations (default: OUT/private/cache/, kept by --overwrite). " +
                "Point several runs at one folder and a protocol that changes only methods, seeds, selection or evaluation decodes no image " +
                "and computes no frozen feature again. Entries are keyed by file SHA-256, recipe, backbone weights and code build, and checked " +
                "by checksum; the cached values are the computed bits, so results do not depend on the cache. It holds image-derived data.",
        };
        var noCache = new Option<bool>("--no-cache") { Description = "Neither read nor write a feature cache." };
        var shard = new Option<string?>("--shard")
        {
            Description = "Run only shard i of n of the protocol's sweep (baselines and methods × seeds), e.g. 2/8 for a Slurm array or " +
                "Kubernetes Indexed Job; writes one result file per item into OUT/items/ — combine them with `medtransfer protocol merge`.",
        };
        var command = new Command(
            "run",
            "Run an experiment protocol end to end: index and split the data by patient, normalize, extract the backbone's features, " +
            "measure transferability and dataset bias, fine-tune every baseline and adaptation method over every seed with the protocol's " +
            "strategy (frozen layers run once when nothing augments the images; with augmentation they run on every batch, which is slower), " +
            "choose each run's checkpoint with the protocol's selection rule, evaluate with confidence intervals and negative-transfer gaps, " +
            "export the reported model to ONNX, and write report.html, results.json, predictions.csv, model/model.onnx, the resolved " +
            "protocol and run.log into the run folder (private/ holds the manifest with identifiers: never share it). " +
            "Exit codes: 0 done (inputs that could not be read are listed in quarantine.txt), 1 failure, 2 usage error (the protocol, the data it names, or the run folder).");
        command.Arguments.Add(protocolArg);
        foreach (Option option in new Option[] { outDir, device, json, keyFile, overwrite, checkpointSeconds, cacheDir, noCache, shard })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse =>
        {
            try
            {
                ExperimentProtocol protocol = ProtocolLoader.Load(parse.GetValue(protocolArg)!.FullName);
                string folder = parse.GetValue(outDir)?.FullName ?? Path.Combine("runs", protocol.Name);
                CodeVersion code = CodeVersion.Of(typeof(RunCommand));
                double seconds = parse.GetValue(checkpointSeconds);
                if (!(seconds >= 0) || !double.IsFinite(seconds))
                {
                    error.WriteLine("error: --checkpoint-seconds must be a number ≥ 0.");
                    return CliApp.ExitCodes.Usage;
                }

                if (parse.GetValue(cacheDir) is not null && parse.GetValue(noCache))
                {
                    error.WriteLine("error: --cache and --no-cache exclude each other.");
                    return CliApp.ExitCodes.Usage;
                }

                var options = new RunOptions(folder, parse.GetValue(device), code.ToString(), parse.GetValue(keyFile)?.FullName, parse.GetValue(overwrite), seconds,
                    parse.GetValue(cacheDir)?.FullName, parse.GetValue(noCache));
                if (parse.GetValue(shard) is { } shardText)
                {
                    Pipeline.Sharding.ShardSpec spec = Pipeline.Sharding.ShardSpec.Parse(shardText);
                    IReadOnlyList<string> files = ExperimentRunner.RunShard(protocol, options, spec, new Relay(p =>
                    {
                        if (p.Stage == "train" && p.Detail?.Contains("target AUROC", StringComparison.Ordinal) == true && !parse.GetValue(json))
                        {
                            console.MarkupLine(Markup.Escape(p.Detail));
                        }
                    }));
                    output.WriteLine(parse.GetValue(json)
                        ? JsonSerializer.Serialize(new { shard = shardText, items = files })
                        : $"Shard {shardText}: {files.Count} item(s) written to {Path.Combine(folder, "items")}.");
                    return CliApp.ExitCodes.Success;
                }

                RunOutcome outcome = Execute(console, protocol, options, showProgress: !parse.GetValue(json));
                foreach (string warning in outcome.Warnings)
                {
                    error.WriteLine($"warning: {warning}");
                }

                return Finish(console, output, outcome, parse.GetValue(json));
            }
            catch (FormatException ex)
            {
                error.WriteLine($"error: {ex.Message}");
                return CliApp.ExitCodes.Usage;
            }
            catch (ProtocolException ex)
            {
                error.WriteLine($"error: {ex.Message}");
                return CliApp.ExitCodes.Usage;
            }
            catch (RunFolderException ex)
            {
                error.WriteLine($"error: {ex.Message}");
                return CliApp.ExitCodes.Usage;
            }
            catch (Exception ex) when (ex is TorchUnavailableException or IOException or UnauthorizedAccessException or MetricUndefinedException or Training.Onnx.OnnxImportException or Training.Adaptation.AdaptationException or Training.FineTuning.TrainingDivergedException or Training.Checkpoints.CheckpointException)
            {
                error.WriteLine($"error: {ex.Message}");
                return CliApp.ExitCodes.Failure;
            }
        });
        return command;
    }

    private static RunOutcome Execute(IAnsiConsole console, ExperimentProtocol protocol, RunOptions options, bool showProgress)
    {
        if (!showProgress || !console.Profile.Capabilities.Interactive)
        {
            return ExperimentRunner.Run(protocol, options, new Relay(p =>
            {
                if (showProgress && ((p.Stage == "train" && p.Detail?.Contains("target AUROC", StringComparison.Ordinal) == true) || (p.Stage != "train" && p.Done == 0)))
                {
                    console.MarkupLine(Markup.Escape($"{p.Stage}: {p.Detail}"));
                }
            }));
        }

        RunOutcome? outcome = null;
        console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var tasks = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                outcome = ExperimentRunner.Run(protocol, options, new Relay(p =>
                {
                    if (!tasks.TryGetValue(p.Stage, out ProgressTask? task))
                    {
                        task = ctx.AddTask(p.Stage, maxValue: Math.Max(1, p.Total));
                        tasks[p.Stage] = task;
                    }

                    task.MaxValue = Math.Max(1, p.Total);
                    task.Value = p.Done;
                    task.Description = Markup.Escape($"{p.Stage}: {p.Detail ?? string.Empty}");
                }));
                foreach (ProgressTask t in tasks.Values)
                {
                    t.Value = t.MaxValue;
                }
            });
        return outcome!;
    }

    // A value the run could not measure (e.g. the source AUROC of target-only folds) shows as a dash, not "NaN ± NaN".
    private static string MeanSd(double mean, double sd) =>
        double.IsNaN(mean) ? "—"
        : double.IsNaN(sd) ? mean.ToString("F3", CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"{mean:F3} ± {sd:F3}");

    private static int Finish(IAnsiConsole console, TextWriter output, RunOutcome outcome, bool json)
    {
        RunResults r = outcome.Results;
        int code = CliApp.ExitCodes.Success;
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(new
            {
                protocol = r.ProtocolName,
                protocolHash = r.ProtocolHash,
                r.Device,
                r.SelectedMethod,
                r.SelectedSeed,
                selected = r.Selected,
                summary = r.Summary,
                negativeTransfer = r.NegativeTransfer.Select(n => new { n.Method, baseline = n.Result.Baseline, gap = n.Result.Gap.Value, lower = n.Result.Gap.Lower, upper = n.Result.Gap.Upper, verdict = n.Result.Verdict.ToString() }),
                pooledGaps = r.PooledGaps.Select(g => new { g.Method, baseline = g.Result.Baseline, g.Seeds, gap = g.Result.Gap.Value, lower = g.Result.Gap.Lower, upper = g.Result.Gap.Upper, verdict = g.Result.Verdict.ToString(), perSeed = g.Result.PerSeedGaps }),
                folder = outcome.OutputDirectory,
                report = outcome.ReportPath,
                quarantined = outcome.Quarantined.Count,
                cache = r.Cache,
                seconds = r.Seconds,
            }, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
            return code;
        }

        var table = new Table().AddColumns("Method", "Seeds", "Target AUROC (mean ± sd)", "Source AUROC (mean ± sd)");
        foreach (MethodSummary s in r.Summary)
        {
            table.AddRow(
                Markup.Escape(s.Method + (s.Method == r.SelectedMethod ? " (reported)" : string.Empty)),
                s.Seeds.ToString(CultureInfo.InvariantCulture),
                MeanSd(s.TargetAurocMean, s.TargetAurocSd),
                MeanSd(s.SourceAurocMean, s.SourceAurocSd));
        }

        console.Write(table);
        if (r.Selected is { } pick)
        {
            console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"Reported model: {pick.Method}, seed {pick.Seed}, step {pick.Checkpoint} ({(pick.IsOracle ? "ORACLE: " : string.Empty)}{pick.Rule}).")));
        }

        // The verdicts pooled over seeds are the ones with power; the per-seed gaps are shown beside them.
        foreach (PooledGapEntry g in r.PooledGaps)
        {
            PooledGapResult p = g.Result;
            string perSeed = string.Join(", ", p.PerSeedGaps.Select(v => v.ToString("+0.000;-0.000", CultureInfo.InvariantCulture)));
            console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{g.Method} vs {p.Baseline}: ΔAUROC {p.Gap.Value:+0.000;-0.000} [{p.Gap.Lower:+0.000;-0.000}, {p.Gap.Upper:+0.000;-0.000}] pooled over {g.Seeds.Count} seed(s) → {p.Verdict} (per seed: {perSeed})")));
        }

        console.MarkupLine(Markup.Escape(r.Bias.Verdict));
        if (outcome.Quarantined.Count > 0)
        {
            console.MarkupLine($"[yellow]{outcome.Quarantined.Count} input(s) could not be used; see quarantine.txt.[/]");
        }

        if (r.Cache is { } c)
        {
            console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"Feature cache: images {c.ImagesRead} read / {c.ImagesNormalized} normalized; frozen activations {c.ActivationsRead} read / {c.ActivationsComputed} computed{(c.CorruptEntries > 0 ? $"; {c.CorruptEntries} corrupt entries rebuilt" : string.Empty)}.")));
        }

        string where = outcome.ReportPath is { } report ? $"Report: {report}" : $"Results: {Path.Combine(outcome.OutputDirectory, "results.json")} (report.html turned off by the protocol)";
        console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"Done in {r.Seconds:F0} s on {r.Device}. {where}")));
        return code;
    }

    private sealed class Relay(Action<RunProgress> report) : IProgress<RunProgress>
    {
        public void Report(RunProgress value) => report(value);
    }
}
