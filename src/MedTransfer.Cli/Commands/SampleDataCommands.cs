using System.CommandLine;
using System.Globalization;
using MedTransfer.Synthetic;
using Spectre.Console;

namespace MedTransfer.Cli.Commands;

/// <summary>`medtransfer sample-data generate`: the synthetic multi-site sample set (chest radiographs and brain MRI).</summary>
internal static class SampleDataCommands
{
    public static Command Create(IAnsiConsole console, TextWriter output, TextWriter error)
    {
        var command = new Command("sample-data", "Synthetic sample data: multi-site chest radiograph and brain MRI phantoms as DICOM, with a manifest. No patient data.");
        command.Subcommands.Add(Generate(console, output, error));
        return command;
    }

    private static Command Generate(IAnsiConsole console, TextWriter output, TextWriter error)
    {
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Folder to write (new, empty, or a folder this command wrote before).", Required = true };
        var scale = new Option<string>("--scale") { Description = "small (the committed set, under 25 MB), medium or large (benchmarks).", DefaultValueFactory = _ => "small" };
        scale.AcceptOnlyFromAmong("small", "medium", "large");
        var seed = new Option<ulong>("--seed") { Description = "Random seed: the same seed and scale give the same bytes on every machine.", DefaultValueFactory = _ => SampleDataGenerator.DefaultSeed };
        var command = new Command(
            "generate",
            "Write chest radiograph phantoms (CR/DX) and brain MRI phantom series (one file per slice) from three fictitious sites that differ the way " +
            "hospitals do (detector response, noise, resolution, bit depth, MONOCHROME1/2, rescale, collimation, burned-in markers, transfer syntax, " +
            "vendor tags, prevalence), with manifest.csv, SHA256SUMS and a README. Deterministic from the seed.");
        command.Options.Add(outDir);
        command.Options.Add(scale);
        command.Options.Add(seed);
        command.SetAction(parse => DicomCommands.Guard(error, () =>
        {
            string root = parse.GetValue(outDir)!.FullName;
            SampleDataScale size = parse.GetValue(scale) switch
            {
                "medium" => SampleDataScale.Medium,
                "large" => SampleDataScale.Large,
                _ => SampleDataScale.Small,
            };
            ulong value = parse.GetValue(seed);
            SampleDataSummary summary;
            if (console.Profile.Capabilities.Interactive)
            {
                SampleDataSummary? result = null;
                console.Progress().Start(ctx =>
                {
                    ProgressTask task = ctx.AddTask("Generating sample data", maxValue: 1);
                    result = SampleDataGenerator.Generate(root, size, value, new Progress<SampleDataProgress>(p =>
                    {
                        task.MaxValue = p.Total;
                        task.Value = p.Done;
                    }));
                    task.Value = task.MaxValue;
                });
                summary = result!;
            }
            else
            {
                summary = SampleDataGenerator.Generate(root, size, value);
            }

            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"Wrote {summary.Files} files ({summary.TotalBytes / 1e6:F1} MB) to {summary.OutputDirectory}: {summary.Radiographs} radiographs, {summary.MriSeries} MRI series (scale {size.ToString().ToLowerInvariant()}, seed {value})"));
            foreach (SiteSummary site in summary.Sites)
            {
                output.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"  site {site.SiteId} ({site.Role}): {site.Radiographs} radiographs of {site.RadiographPatients} patients, {site.RadiographPositives} with the finding; {site.MriSeries} MRI series of {site.MriPatients} patients ({site.MriSlices} slices), {site.MriPositives} with a lesion"));
            }

            return CliApp.ExitCodes.Success;
        }));
        return command;
    }
}
