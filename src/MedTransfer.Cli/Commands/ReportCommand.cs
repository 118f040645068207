using System.CommandLine;
using MedTransfer.Pipeline.Evaluate;
using MedTransfer.Pipeline.Runs;
using MedTransfer.Reporting.Html;
using Spectre.Console;

namespace MedTransfer.Cli.Commands;

/// <summary>`medtransfer report RESULTS.json --out DIR`: re-render the HTML validation report from saved numbers.</summary>
internal static class ReportCommand
{
    public static Command Create(IAnsiConsole console, TextWriter output, TextWriter error)
    {
        var results = new Argument<FileInfo>("RESULTS") { Description = "results.json written by `medtransfer evaluate` (in a run folder, only once the run is complete)." };
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Folder for report.html and figures/.", Required = true };
        var card = new Option<FileInfo?>("--card") { Description = "Model card JSON to use instead of the one saved in results.json (e.g. to add missing sections)." };
        var command = new Command(
            "report",
            "Re-render the HTML validation report (same sections, numbers and figures) from a results.json, without the predictions file.")
        { results, outDir, card };
        command.SetAction(parse =>
        {
            try
            {
                SavedEvaluation saved = EvaluationResultsFile.Load(parse.GetValue(results)!.FullName);
                ModelCard modelCard = parse.GetValue(card) is { } c ? PredictionTable.ReadCard(c.FullName) : saved.Card;
                string folder = parse.GetValue(outDir)!.FullName;
                Directory.CreateDirectory(folder);
                string path = HtmlReport.Write(EvaluationReport.Build(saved.Result, modelCard, saved.Provenance, saved.Curves), folder);
                foreach (string line in EvaluationReport.Headline(saved.Result))
                {
                    console.MarkupLine(Markup.Escape(line));
                }

                console.MarkupLine($"Report: {Markup.Escape(path)}");
                return CliApp.ExitCodes.Success;
            }
            catch (RunFolderException ex)
            {
                error.WriteLine($"error: {ex.Message}");
                return CliApp.ExitCodes.Usage;
            }
            catch (ReportIncompleteException ex)
            {
                error.WriteLine($"error: {ex.Message} Provide them in a model card: --card card.json.");
                return CliApp.ExitCodes.Failure;
            }
            catch (Exception ex) when (ex is ResultsFileException or PredictionTableException or IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"error: {ex.Message}");
                return CliApp.ExitCodes.Failure;
            }
        });
        return command;
    }
}
