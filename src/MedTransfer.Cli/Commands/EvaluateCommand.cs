using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json;
using MedTransfer.Evaluation.Metrics;
using MedTransfer.Imaging.Index;
using MedTransfer.Pipeline.Evaluate;
using MedTransfer.Reporting.Html;
using MedTransfer.Reporting.Provenance;
using Spectre.Console;

namespace MedTransfer.Cli.Commands;

/// <summary>`medtransfer evaluate`: audit any model's predictions into the validation report.</summary>
internal static class EvaluateCommand
{
    public static Command Create(IAnsiConsole console, TextWriter output, TextWriter error)
    {
        var predictions = new Option<FileInfo>("--predictions") { Description = "CSV with id, label (0/1), score; optional patient, site, split (train/val/test), sex, age_band, manufacturer, view.", Required = true };
        var manifest = new Option<FileInfo?>("--manifest") { Description = "Manifest from `medtransfer ingest`: fills patient, site and subgroups by id." };
        var card = new Option<FileInfo?>("--card") { Description = "Model card JSON: intendedUse, outOfScopeUse, dataSources, partitions, preprocessing, model, adaptation, selectionRule, limitations[]. The report refuses to render without them: an audit needs every one." };
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Folder for report.html, results.json and figures/.", Required = true };
        var groups = new Option<string[]>("--group") { Description = "Extra subgroup column(s) to analyse.", AllowMultipleArgumentsPerToken = true };
        var resamples = new Option<int>("--resamples") { Description = "Bootstrap resamples for every interval (≥ 1000 recommended).", DefaultValueFactory = _ => 2000 };
        var seed = new Option<int>("--seed") { Description = "Bootstrap seed.", DefaultValueFactory = _ => 20260101 };
        var json = new Option<bool>("--json") { Description = "Print the headline metrics (AUROC with CI, ECE, per-site AUROC) as JSON." };
        var command = new Command(
            "evaluate",
            "Evaluate a model's predictions: AUROC with DeLong and patient-bootstrap CIs, AUPRC, sensitivity/specificity at a threshold chosen on validation rows, " +
            "calibration, per-site and per-subgroup metrics with differences, prevalence by site; writes an HTML validation report and results.json.");
        foreach (Option o in new Option[] { predictions, manifest, card, outDir, groups, resamples, seed, json })
        {
            command.Options.Add(o);
        }

        command.SetAction(parse => Run(console, output, error, parse, predictions, manifest, card, outDir, groups, resamples, seed, json));
        return command;
    }

    private static int Run(
        IAnsiConsole console,
        TextWriter output,
        TextWriter error,
        ParseResult parse,
        Option<FileInfo> predictions,
        Option<FileInfo?> manifest,
        Option<FileInfo?> card,
        Option<DirectoryInfo> outDir,
        Option<string[]> groups,
        Option<int> resamples,
        Option<int> seed,
        Option<bool> json)
    {
        try
        {
            FileInfo input = parse.GetValue(predictions)!;
            Manifest? joined = parse.GetValue(manifest) is { } m ? ManifestFile.Load(m.FullName) : null;
            IReadOnlyList<PredictionRow> rows;
            using (var reader = new StreamReader(input.FullName))
            {
                rows = PredictionTable.Read(reader, joined, parse.GetValue(groups));
            }

            ModelCard modelCard = parse.GetValue(card) is { } c ? PredictionTable.ReadCard(c.FullName) : new ModelCard();
            var bootstrap = new BootstrapOptions { Resamples = Math.Max(100, parse.GetValue(resamples)), Seed = parse.GetValue(seed) };
            EvaluationResult result = PredictionEvaluation.Evaluate(rows, new EvaluationOptions { Bootstrap = bootstrap });
            var provenance = new EvaluationProvenance(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(input.FullName))), CodeVersion.Of(typeof(EvaluateCommand)), bootstrap);
            string folder = parse.GetValue(outDir)!.FullName;
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, "results.json"), EvaluationReport.ResultsJson(result, provenance, modelCard, rows));
            string? report = null;
            string? missing = null;
            try
            {
                report = HtmlReport.Write(EvaluationReport.Build(result, modelCard, provenance, rows), folder);
            }
            catch (ReportIncompleteException ex)
            {
                missing = ex.Message + " Provide them in a model card: --card card.json.";
            }

            if (parse.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(new
                {
                    auroc = result.Overall.AurocBootstrap,
                    aurocDeLong = result.Overall.AurocDeLong,
                    ece = result.Overall.Calibration.Ece,
                    perSite = result.BySite.ToDictionary(g => g.Group, g => g.Metric),
                    report,
                    reportMissing = missing,
                }, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
            }
            else
            {
                foreach (string line in EvaluationReport.Headline(result).Concat(result.Warnings))
                {
                    console.MarkupLine(Markup.Escape(line));
                }

                console.MarkupLine(report is null ? $"[red]Report not written:[/] {Markup.Escape(missing!)}" : $"Report: {Markup.Escape(report)}");
                console.MarkupLine($"Numbers: {Markup.Escape(Path.Combine(folder, "results.json"))}");
            }

            return missing is null ? CliApp.ExitCodes.Success : CliApp.ExitCodes.Failure;
        }
        catch (Exception ex) when (ex is PredictionTableException or ManifestException or MetricUndefinedException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {ex.Message}");
            return CliApp.ExitCodes.Failure;
        }
    }
}
