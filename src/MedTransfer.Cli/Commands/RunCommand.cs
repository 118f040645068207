using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MedTransfer.Evaluation.Metrics;
using MedTransfer.Pipeline.Evaluate;
using MedTransfer.Pipeline.Protocols;
using MedTransfer.Pipeline.Runs;
using MedTransfer.Reporting.Html;
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
        var outDir = new Option<DirectoryInfo?>("--out") { Description = "Run folder (default: runs/<protocol name>)." };
        var device = new Option<string?>("--device") { Description = "auto, cpu or cuda (default: the protocol's). CPU runs repeat bit for bit; CUDA runs do not." };
        var json = new Option<bool>("--json") { Description = "Print the summary as JSON instead of a table." };
        var shard = new Option<string?>("--shard")
        {
            Description = "Run only shard i of n of the protocol's sweep (baselines and methods × seeds), e.g. 2/8 for a Slurm array or " +
                "Kubernetes Indexed Job; writes one result file per item into OUT/items/ — combine them with `medtransfer protocol merge`.",
        };
        var command = new Command(
            "run",
            "Run an experiment protocol end to end: index and split the data by patient, normalize, extract ImageNet features, " +
            "measure transferability and dataset bias, train every baseline and adaptation method over every seed, select checkpoints " +
            "with the protocol's rule, evaluate with confidence intervals and negative-transfer gaps, export the selected model to ONNX, " +
            "and write report.html, results.json, predictions.csv, the manifest, the resolved protocol and a log into the run folder.");
        command.Arguments.Add(protocolArg);
        command.Options.Add(outDir);
        command.Options.Add(device);
        command.Options.Add(json);
        command.Options.Add(shard);
        command.SetAction(parse =>
        {
            try
            {
                ExperimentProtocol protocol = ProtocolLoader.Load(parse.GetValue(protocolArg)!.FullName);
                string folder = parse.GetValue(outDir)?.FullName ?? Path.Combine("runs", protocol.Name);
                CodeVersion code = CodeVersion.Of(typeof(RunCommand));
                foreach (string ignored in RunIgnores(protocol))
                {
                    error.WriteLine($"note: {ignored}");
                }

                var options = new RunOptions(folder, parse.GetValue(device), code.ToString());
                Directory.CreateDirectory(folder);
                File.WriteAllText(Path.Combine(folder, "protocol.resolved.yaml"), ProtocolSerializer.ToYaml(protocol));
                if (parse.GetValue(shard) is { } shardText)
                {
                    Pipeline.Sharding.ShardSpec spec = Pipeline.Sharding.ShardSpec.Parse(shardText);
                    using var shardLog = new StreamWriter(Path.Combine(folder, $"run.shard-{spec.Index}-of-{spec.Count}.log"), append: false, Encoding.UTF8);
                    IReadOnlyList<string> files = ExperimentRunner.RunShard(protocol, options, spec, new Relay(p =>
                    {
                        shardLog.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:O} {p.Stage} {p.Done}/{p.Total} {p.Detail}"));
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

                using var log = new StreamWriter(Path.Combine(folder, "run.log"), append: false, Encoding.UTF8);
                RunOutcome outcome = Execute(console, log, protocol, options, showProgress: !parse.GetValue(json));
                return Finish(console, output, protocol, outcome, code, parse.GetValue(json));
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
            catch (Exception ex) when (ex is TorchUnavailableException or IOException or UnauthorizedAccessException or MetricUndefinedException or Training.Onnx.OnnxImportException or Training.Adaptation.AdaptationException)
            {
                error.WriteLine($"error: {ex.Message}");
                return CliApp.ExitCodes.Failure;
            }
        });
        return command;
    }

    private static RunOutcome Execute(IAnsiConsole console, StreamWriter log, ExperimentProtocol protocol, RunOptions options, bool showProgress)
    {
        void Log(RunProgress p) => log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:O} {p.Stage} {p.Done}/{p.Total} {p.Detail}"));
        if (!showProgress || !console.Profile.Capabilities.Interactive)
        {
            return ExperimentRunner.Run(protocol, options, new Relay(p =>
            {
                Log(p);
                if (showProgress && p.Stage == "train" && p.Detail?.Contains("target AUROC", StringComparison.Ordinal) == true)
                {
                    console.MarkupLine(Markup.Escape(p.Detail));
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
                    Log(p);
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

    private static int Finish(IAnsiConsole console, TextWriter output, ExperimentProtocol protocol, RunOutcome outcome, CodeVersion code, bool json)
    {
        string folder = outcome.OutputDirectory;
        RunResults r = outcome.Results;
        var bootstrap = new BootstrapOptions { Resamples = protocol.Evaluation.Bootstrap, Confidence = protocol.Evaluation.Ci, Seed = 1 };
        string predictionsHash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(folder, "predictions.csv"))));
        var provenance = new EvaluationProvenance(predictionsHash, code, bootstrap);
        ModelCard card = ProtocolCard.ToModelCard(protocol);
        File.WriteAllText(Path.Combine(folder, "results.json"), RunReport.ResultsJson(r, outcome.Evaluation, provenance));
        string report = HtmlReport.Write(RunReport.Build(r, outcome.Evaluation, card, provenance, outcome.Rows), folder);
        if (outcome.Quarantined.Count > 0)
        {
            File.WriteAllLines(Path.Combine(folder, "quarantine.txt"), outcome.Quarantined);
        }

        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(new
            {
                protocol = r.ProtocolName,
                protocolHash = r.ProtocolHash,
                r.Device,
                r.SelectedMethod,
                summary = r.Summary,
                negativeTransfer = r.NegativeTransfer.Select(n => new { n.Method, baseline = n.Result.Baseline, gap = n.Result.Gap.Value, lower = n.Result.Gap.Lower, upper = n.Result.Gap.Upper, verdict = n.Result.Verdict.ToString() }),
                report,
                quarantined = outcome.Quarantined.Count,
                seconds = r.Seconds,
            }, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
            return CliApp.ExitCodes.Success;
        }

        var table = new Table().AddColumns("Method", "Seeds", "Target AUROC (mean ± sd)", "Source AUROC (mean ± sd)");
        foreach (MethodSummary s in r.Summary)
        {
            table.AddRow(
                Markup.Escape(s.Method + (s.Method == r.SelectedMethod ? " (reported)" : string.Empty)),
                s.Seeds.ToString(CultureInfo.InvariantCulture),
                string.Create(CultureInfo.InvariantCulture, $"{s.TargetAurocMean:F3} ± {s.TargetAurocSd:F3}"),
                string.Create(CultureInfo.InvariantCulture, $"{s.SourceAurocMean:F3} ± {s.SourceAurocSd:F3}"));
        }

        console.Write(table);
        foreach (NegativeTransferEntry n in r.NegativeTransfer)
        {
            console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{n.Method} vs {n.Result.Baseline}: ΔAUROC {n.Result.Gap.Value:+0.000;-0.000} [{n.Result.Gap.Lower:+0.000;-0.000}, {n.Result.Gap.Upper:+0.000;-0.000}] → {n.Result.Verdict}")));
        }

        console.MarkupLine(Markup.Escape(r.Bias.Verdict));
        if (outcome.Quarantined.Count > 0)
        {
            console.MarkupLine($"[yellow]{outcome.Quarantined.Count} input(s) could not be used; see quarantine.txt.[/]");
        }

        console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"Done in {r.Seconds:F0} s on {r.Device}. Report: {report}")));
        return CliApp.ExitCodes.Success;
    }

    /// <summary>Protocol settings `run` does not apply in this version, said rather than silently dropped (label smoothing and class weighting are applied).</summary>
    internal static IEnumerable<string> RunIgnores(ExperimentProtocol protocol)
    {
        TrainingSpec t = protocol.Training;
        AugmentationSpec a = t.Augmentation;
        const string Why = "is not applied by `run` in this version (every method trains through the adaptation trainer; `medtransfer train` applies it)";
        if (a.RotationDeg != 0 || a.Scale != 0 || a.Translate != 0 || a.Brightness != 0 || a.Contrast != 0 || a.Gamma != 0 || a.Noise != 0 || a.HorizontalFlip)
        {
            yield return "training.augmentation " + Why + ".";
        }

        if (t.EarlyStopping is not null)
        {
            yield return "training.early_stopping " + Why + "; checkpoints are chosen by the protocol's selection rule instead.";
        }

        if (t.Schedule is LrSchedule.Cosine or LrSchedule.Step)
        {
            yield return $"training.schedule '{ProtocolNames.Of(t.Schedule)}' " + Why + "; the rate stays constant (use 'dann' for the annealed rate).";
        }
    }

    private sealed class Relay(Action<RunProgress> report) : IProgress<RunProgress>
    {
        public void Report(RunProgress value) => report(value);
    }
}
