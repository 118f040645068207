using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MedTransfer.Pipeline.Diagnose;
using MedTransfer.Pipeline.Runs;
using MedTransfer.Reporting.Provenance;
using MedTransfer.Training.Runtime;
using Spectre.Console;

namespace MedTransfer.Cli.Commands;

/// <summary>`medtransfer adapt --model RUN_DIR --target DIR --out DIR`: source-free adaptation (SHOT) at a site without the source images.</summary>
internal static class AdaptCommand
{
    public static Command Create(IAnsiConsole console, TextWriter output, TextWriter error)
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "A finished run folder (from `medtransfer run`): its selected model is adapted.", Required = true };
        var target = new Option<DirectoryInfo>("--target") { Description = "The target site's unlabelled X-ray images (DICOM, PNG, JPEG …; scanned like `medtransfer ingest`). No label is read.", Required = true };
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Output folder: model/model.onnx, adaptation.json and run.complete.json, so `medtransfer diagnose --model OUT` accepts it.", Required = true };
        var iterations = new Option<int?>("--iterations") { Description = "SHOT steps (default: the run's training length)." };
        var beta = new Option<double>("--beta") { Description = "Weight β of the pseudo-label cross-entropy (default 0.3, the paper's).", DefaultValueFactory = _ => 0.3 };
        var device = new Option<string?>("--device") { Description = "auto (default), cpu or cuda. CPU runs repeat bit for bit; CUDA runs do not." };
        var keyFile = new Option<FileInfo?>("--key-file") { Description = "Pseudonym key (hex, ≥ 32 digits) for files named in quarantine.txt. Default: $MEDTRANSFER_PSEUDONYM_KEY, else one generated in OUT/private/." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace a folder that holds something else instead of refusing." };
        var json = new Option<bool>("--json") { Description = "Print the summary as JSON." };
        var command = new Command(
            "adapt",
            "Adapt a trained model to a new site without its source images (SHOT, Liang et al. 2020): starting from the selected model of a " +
            "finished run, the feature extractor is trained on the site's unlabelled images to make confident, diverse predictions that " +
            "agree with cluster pseudo-labels, while the classifier stays fixed. The images are normalized with the recipe the model was " +
            "trained with. Writes the adapted model where `medtransfer diagnose --model OUT` finds it; the label-free statistics before and " +
            "after go to adaptation.json (measure the effect with labelled images: `diagnose` then `evaluate`). Killed runs resume from " +
            "their last checkpoint when started again with the same arguments. Exit codes: 0 done, 1 failure, 2 usage error (arguments, " +
            "an unfinished model run, or an output folder in use).");
        foreach (Option option in new Option[] { model, target, outDir, iterations, beta, device, keyFile, overwrite, json })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse =>
        {
            try
            {
                var options = new AdaptOptions(
                    parse.GetValue(model)!.FullName,
                    parse.GetValue(target)!.FullName,
                    parse.GetValue(outDir)!.FullName,
                    parse.GetValue(iterations),
                    parse.GetValue(beta),
                    parse.GetValue(device),
                    parse.GetValue(keyFile)?.FullName,
                    parse.GetValue(overwrite),
                    CodeVersion.Of(typeof(AdaptCommand)).ToString());
                bool quiet = parse.GetValue(json);
                AdaptOutcome outcome = SourceFreeAdaptation.Run(options, new Relay(p =>
                {
                    if (!quiet && (p.Done == 0 || p.Stage == "adapt"))
                    {
                        console.MarkupLine(Markup.Escape($"{p.Stage}: {p.Detail}"));
                    }
                }));
                foreach (string warning in outcome.Warnings)
                {
                    error.WriteLine($"warning: {warning}");
                }

                if (quiet)
                {
                    output.WriteLine(JsonSerializer.Serialize(outcome, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
                }
                else
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Adapted on {outcome.Images} images in {outcome.Steps} steps ({outcome.Quarantined.Count} quarantined)."));
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"information maximisation {outcome.Before.InformationMaximization:F3} → {outcome.After.InformationMaximization:F3}; mean entropy {outcome.Before.MeanEntropy:F3} → {outcome.After.MeanEntropy:F3}; predicted positive {outcome.Before.PositiveRate:P0} → {outcome.After.PositiveRate:P0}"));
                    output.WriteLine($"Model: {Path.Combine(outcome.OutputDirectory, "model", "model.onnx")}");
                }

                return CliApp.ExitCodes.Success;
            }
            catch (Exception ex) when (ex is RunFolderException or ModelLoadException or ArgumentException or FormatException)
            {
                error.WriteLine($"error: {ex.Message}");
                return CliApp.ExitCodes.Usage;
            }
            catch (Exception ex) when (ex is TorchUnavailableException or IOException or UnauthorizedAccessException or Training.Checkpoints.CheckpointException or Training.FineTuning.TrainingDivergedException)
            {
                error.WriteLine($"error: {ex.Message}");
                return CliApp.ExitCodes.Failure;
            }
        });
        return command;
    }

    private sealed class Relay(Action<RunProgress> report) : IProgress<RunProgress>
    {
        public void Report(RunProgress value) => report(value);
    }
}
