using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using MedTransfer.Pipeline.Train;
using MedTransfer.Reporting.Provenance;
using MedTransfer.Training.Backbones;
using MedTransfer.Training.Checkpoints;
using MedTransfer.Training.Configuration;
using MedTransfer.Training.FineTuning;
using MedTransfer.Training.Runtime;
using Spectre.Console;

namespace MedTransfer.Cli.Commands;

/// <summary>`medtransfer train MANIFEST --out DIR`: fine-tuning on a manifest's patient-level split.</summary>
internal static class TrainCommand
{
    public static Command Create(IAnsiConsole console, TextWriter output, TextWriter error)
    {
        var manifestArg = new Argument<FileInfo>("MANIFEST") { Description = "A manifest from `medtransfer ingest` with labels (0/1) and a patient-level split (--split)." };
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Run folder: model.onnx, checkpoints/, config.json, predictions.csv, training.json.", Required = true };
        var roots = new Option<string[]>("--root") { Description = "Folder the manifest's paths are relative to; repeat for every folder given to ingest, in order (default: the manifest's folder).", AllowMultipleArgumentsPerToken = false };
        var strategy = new Option<string?>("--strategy") { Description = "feature-extraction, full, discriminative, gradual-unfreezing or l2sp (default full). A frozen backbone without augmentation runs once over the images; with augmentation it runs on every batch (slower)." };
        strategy.AcceptOnlyFromAmong([.. StrategyNames.All]);
        var backbone = new Option<string?>("--backbone") { Description = "resnet18-imagenet or resnet18-scratch (default resnet18-imagenet)." };
        backbone.AcceptOnlyFromAmong([.. BackboneNames.All]);
        var head = new Option<string?>("--head") { Description = "linear or bottleneck (default linear)." };
        head.AcceptOnlyFromAmong("linear", "bottleneck");
        var trainableFrom = new Option<string?>("--trainable-from") { Description = "First backbone stage that trains: stem, stage1, stage2, stage3, stage4 or head (default: from the strategy). Earlier layers are frozen, BatchNorm statistics too." };
        trainableFrom.AcceptOnlyFromAmong([.. TrainableFromNames.All]);
        var size = new Option<int?>("--size") { Description = "Input side in pixels, 32–1024 (default 224)." };
        var iterations = new Option<int?>("--iterations") { Description = "Training steps (default 1000)." };
        var batch = new Option<int?>("--batch") { Description = "Batch size (default 32)." };
        var lr = new Option<double?>("--lr") { Description = "Base learning rate of the backbone's trainable layers (default 0.001); the new layers train at 10× (--config: head_lr_multiplier)." };
        var optimizer = new Option<string?>("--optimizer") { Description = "sgd or adamw (default sgd)." };
        optimizer.AcceptOnlyFromAmong("sgd", "adamw");
        var schedule = new Option<string?>("--schedule") { Description = "constant, cosine, step (×0.1 at 1/2 and 3/4) or dann (lr·(1+10p)^−0.75) (default constant)." };
        schedule.AcceptOnlyFromAmong("cosine", "constant", "step", "dann");
        var seed = new Option<long?>("--seed") { Description = "Run seed: new layers, sampling order, augmentation (default 1). CPU runs repeat bit for bit." };
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N.", DefaultValueFactory = _ => "auto" };
        var configFile = new Option<FileInfo?>("--config") { Description = "A fine-tuning configuration (JSON, as written to config.json); the options above override its fields." };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from checkpoints/last.ckpt (a finished run is not retrained)." };
        var keyFile = new Option<FileInfo?>("--key-file") { Description = "Pseudonym key (hex, ≥ 32 digits) for the ids in predictions.csv; default: $MEDTRANSFER_PSEUDONYM_KEY, else a key generated in OUT/private/." };
        var json = new Option<bool>("--json") { Description = "Print a summary as JSON instead of progress and a table." };
        var command = new Command(
            "train",
            "Fine-tune an ImageNet CNN on a manifest's train rows (the same trainer as `run`, without adaptation), keep the candidate " +
            "checkpoint with the best AUROC on its val rows, and report AUROC and accuracy on its test rows. Writes model.onnx (with the " +
            "X-ray recipe), checkpoints/ (resumable), config.json, predictions.csv (keyed pseudonyms, never UIDs or patient IDs) and " +
            "training.json into --out.");
        command.Arguments.Add(manifestArg);
        foreach (Option option in new Option[] { outDir, roots, strategy, trainableFrom, backbone, head, size, iterations, batch, lr, optimizer, schedule, seed, device, configFile, resume, keyFile, json })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse =>
        {
            try
            {
                FineTuneConfig baseConfig = parse.GetValue(configFile) is { } file
                    ? FineTuneConfig.FromJson(File.Exists(file.FullName) ? File.ReadAllText(file.FullName) : throw new FormatException($"the configuration file {file.FullName} does not exist."))
                    : new FineTuneConfig();
                FineTuneConfig config = baseConfig with
                {
                    Strategy = parse.GetValue(strategy) ?? baseConfig.Strategy,
                    TrainableFrom = parse.GetValue(trainableFrom) ?? baseConfig.TrainableFrom,
                    Backbone = parse.GetValue(backbone) ?? baseConfig.Backbone,
                    Head = parse.GetValue(head) ?? baseConfig.Head,
                    ImageSize = parse.GetValue(size) ?? baseConfig.ImageSize,
                    Iterations = parse.GetValue(iterations) ?? baseConfig.Iterations,
                    BatchSize = parse.GetValue(batch) ?? baseConfig.BatchSize,
                    LearningRate = parse.GetValue(lr) ?? baseConfig.LearningRate,
                    Optimizer = parse.GetValue(optimizer) ?? baseConfig.Optimizer,
                    Schedule = parse.GetValue(schedule) ?? baseConfig.Schedule,
                    Seed = parse.GetValue(seed) ?? baseConfig.Seed,
                };
                config.Validate();
                var options = new ManifestTrainingOptions(
                    parse.GetValue(manifestArg)!.FullName,
                    parse.GetValue(outDir)!.FullName,
                    [.. (parse.GetValue(roots) ?? []).Select(Path.GetFullPath)],
                    config,
                    parse.GetValue(device)!,
                    parse.GetValue(resume),
                    CodeVersion.Of(typeof(TrainCommand)).ToString(),
                    parse.GetValue(keyFile)?.FullName);
                bool asJson = parse.GetValue(json);
                ManifestTrainingResult result = Execute(console, output, options, asJson);
                if (asJson)
                {
                    WriteJson(output, result);
                }
                else
                {
                    WriteSummary(console, result);
                }

                return CliApp.ExitCodes.Success;
            }
            catch (Exception ex) when (ex is TrainingInputException or FormatException or ArgumentException)
            {
                error.WriteLine($"error: {ex.Message}");
                return CliApp.ExitCodes.Usage;
            }
            catch (Exception ex) when (ex is TorchUnavailableException or CheckpointException or IOException or UnauthorizedAccessException or TrainingDivergedException)
            {
                error.WriteLine($"error: {ex.Message}");
                return CliApp.ExitCodes.Failure;
            }
        });
        return command;
    }

    private static ManifestTrainingResult Execute(IAnsiConsole console, TextWriter output, ManifestTrainingOptions options, bool asJson)
    {
        if (asJson)
        {
            return ManifestTraining.Run(options);
        }

        if (!console.Profile.Capabilities.Interactive)
        {
            return ManifestTraining.Run(options, new Relay(e => PlainLine(output, e)));
        }

        ManifestTrainingResult? result = null;
        console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                ProgressTask? activations = null;
                ProgressTask train = ctx.AddTask("train", maxValue: Math.Max(1, options.Config.Iterations));
                result = ManifestTraining.Run(options, new Relay(e =>
                {
                    switch (e.Phase)
                    {
                        case "activations":
                            activations ??= ctx.AddTask("frozen layers (computed once)", maxValue: Math.Max(1, e.TotalSteps));
                            activations.MaxValue = Math.Max(1, e.TotalSteps);
                            activations.Value = e.Step;
                            break;
                        case "train":
                            train.Value = e.Step;
                            if (!double.IsNaN(e.Loss))
                            {
                                train.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"train loss {e.Loss:F4} lr {e.LearningRate:G3} {e.ImagesPerSecond:F0} img/s"));
                            }

                            if (e.Message is not null)
                            {
                                console.MarkupLine(Markup.Escape(e.Message));
                            }

                            break;
                        case "evaluate":
                            console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"step {e.Step}: candidate checkpoint{(e.Signal is double s ? $", signal {s:F4}" : string.Empty)}{(e.Message is null ? string.Empty : " (" + e.Message + ")")}")));
                            break;
                        default:
                            train.Value = train.MaxValue;
                            if (activations is not null)
                            {
                                activations.Value = activations.MaxValue;
                            }

                            break;
                    }
                }));
            });
        return result!;
    }

    /// <summary>Progress without a terminal: one line per tenth of training, per validation and per note.</summary>
    private static void PlainLine(TextWriter output, TrainingEvent e)
    {
        long every = Math.Max(1, e.TotalSteps / 10);
        string? line = e.Phase switch
        {
            "train" when e.Message is not null => $"step {e.Step}/{e.TotalSteps}: {e.Message}",
            "train" when e.Step % every == 0 || e.Step == e.TotalSteps => string.Create(CultureInfo.InvariantCulture, $"step {e.Step}/{e.TotalSteps}: loss {e.Loss:F4} lr {e.LearningRate:G3} {e.ImagesPerSecond:F0} img/s"),
            "evaluate" => string.Create(CultureInfo.InvariantCulture, $"step {e.Step}/{e.TotalSteps}: candidate checkpoint{(e.Signal is double s ? $", signal {s:F4}" : string.Empty)}{(e.Message is null ? string.Empty : " (" + e.Message + ")")}"),
            _ => null,
        };
        if (line is not null)
        {
            output.WriteLine(line);
        }
    }

    private static void WriteSummary(IAnsiConsole console, ManifestTrainingResult r)
    {
        TrainingOutcome o = r.Outcome;
        var table = new Table().AddColumns("Training", "Result");
        table.AddRow("Images (train / val / test)", string.Create(CultureInfo.InvariantCulture, $"{r.TrainCount} / {r.ValidationCount} / {r.TestCount}") + (r.Skipped.Count > 0 ? string.Create(CultureInfo.InvariantCulture, $" ({r.Skipped.Count} unreadable, skipped)") : string.Empty));
        table.AddRow("Steps", string.Create(CultureInfo.InvariantCulture, $"{o.StepsRun}{(o.ResumedFromStep is { } from ? $" (resumed from {from})" : string.Empty)}{(o.StoppedEarly ? ", stopped early" : string.Empty)}"));
        double? keptAuroc = o.Candidates.FirstOrDefault(c => c.Step == r.KeptStep)?.ValidationAuroc;
        table.AddRow("Kept weights", keptAuroc is double v ? string.Create(CultureInfo.InvariantCulture, $"step {r.KeptStep}, validation AUROC {v:F4}") : string.Create(CultureInfo.InvariantCulture, $"step {r.KeptStep} (no validation AUROC: the last step)"));
        table.AddRow("Test AUROC", r.TestAuroc is { } auroc ? auroc.ToString("F4", CultureInfo.InvariantCulture) : "n/a (the test rows lack a class)");
        table.AddRow("Test accuracy", r.TestAccuracy is { } accuracy ? accuracy.ToString("F4", CultureInfo.InvariantCulture) : "n/a (no test rows)");
        table.AddRow("Device", Markup.Escape(o.Device));
        table.AddRow("Throughput", string.Create(CultureInfo.InvariantCulture, $"{o.ImagesPerSecond:F1} images/s"));
        table.AddRow("Run folder", Markup.Escape(r.OutputDirectory));
        console.Write(table);
    }

    private static void WriteJson(TextWriter output, ManifestTrainingResult r)
    {
        TrainingOutcome o = r.Outcome;
        output.WriteLine(JsonSerializer.Serialize(
            new
            {
                output = r.OutputDirectory,
                model = Path.Combine(r.OutputDirectory, ManifestTraining.ModelFile),
                steps = o.StepsRun,
                resumedFromStep = o.ResumedFromStep,
                keptStep = r.KeptStep,
                keptValidationAuroc = o.Candidates.FirstOrDefault(c => c.Step == r.KeptStep)?.ValidationAuroc,
                trainableFrom = o.TrainableFrom,
                stoppedEarly = o.StoppedEarly,
                train = r.TrainCount,
                validation = r.ValidationCount,
                test = r.TestCount,
                skipped = r.Skipped.Count,
                testAuroc = r.TestAuroc,
                testAccuracy = r.TestAccuracy,
                device = o.Device,
                imagesPerSecond = o.ImagesPerSecond,
                seconds = r.Seconds,
                manifestHash = r.ManifestHash,
            },
            new JsonSerializerOptions { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals }));
    }

    private sealed class Relay(Action<TrainingEvent> report) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value) => report(value);
    }
}
