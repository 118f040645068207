using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MedTransfer.Bench.Diagnostics;
using MedTransfer.Bench.Ingest;
using MedTransfer.Imaging.Normalization;
using MedTransfer.Imaging.Resampling;
using MedTransfer.Pipeline.Ingest;
using Spectre.Console;

namespace MedTransfer.Cli.Commands;

/// <summary>`medtransfer bench ingest`: speed measured, with a reference run in the same process tree.</summary>
internal static class BenchCommands
{
    public static Command Create(IAnsiConsole console, TextWriter output, TextWriter error)
    {
        var bench = new Command("bench", "Measure speed on this machine (files/s, MB/s), with a reference tool measured in the same run for a fair ratio.");
        bench.Subcommands.Add(Ingest(console, output, error));
        bench.Subcommands.Add(Corpus(console, output, error));
        bench.Subcommands.Add(Preprocess(console, output, error));
        bench.Subcommands.Add(ModelCommands.BenchTrain(output, error));
        bench.Subcommands.Add(ModelCommands.BenchFeatures(output, error));
        bench.Subcommands.Add(Diagnostics(console, output, error));
        return bench;
    }

    private static Command Diagnostics(IAnsiConsole console, TextWriter output, TextWriter error)
    {
        var rows = new Option<int>("--rows") { Description = "Feature rows (images).", DefaultValueFactory = _ => 3000 };
        var dimensions = new Option<int>("--dimensions") { Description = "Feature columns (512 for ResNet-18).", DefaultValueFactory = _ => 512 };
        var seed = new Option<ulong>("--seed") { Description = "Random seed of the generated features (same seed, same numbers).", DefaultValueFactory = _ => 15UL };
        var json = new Option<bool>("--json") { Description = "Print the measurement as JSON." };
        var command = new Command(
            "diagnostics",
            "Seconds per pre-training diagnostic (LogME, H-score, GBC, TransRate, 5-fold site probe, proxy A-distance, BBSE, PCA) " +
            "on generated three-site backbone-like features, with each one's value.");
        command.Options.Add(rows);
        command.Options.Add(dimensions);
        command.Options.Add(seed);
        command.Options.Add(json);
        command.SetAction(parse => DicomCommands.Guard(error, () =>
        {
            int n = parse.GetValue(rows);
            int d = parse.GetValue(dimensions);
            if (n < 30 || d < 4)
            {
                error.WriteLine("error: --rows must be at least 30 and --dimensions at least 4.");
                return CliApp.ExitCodes.Usage;
            }

            DiagnosticsWorkload workload = DiagnosticsWorkload.Generate(n, d, parse.GetValue(seed));
            DiagnosticsMeasurement m;
            if (!parse.GetValue(json) && console.Profile.Capabilities.Interactive)
            {
                DiagnosticsMeasurement? result = null;
                console.Status().Start("diagnostics", ctx => result = DiagnosticsBenchmark.Run(workload, new Progress<string>(name => ctx.Status(Markup.Escape(name)))));
                m = result!;
            }
            else
            {
                m = DiagnosticsBenchmark.Run(workload);
            }

            if (parse.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(new { m.Rows, m.Dimensions, m.Threads, m.TotalSeconds, m.Timings }, new JsonSerializerOptions { WriteIndented = true }));
                return CliApp.ExitCodes.Success;
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{m.Rows} x {m.Dimensions} features, {m.Threads} processors"));
            foreach (DiagnosticTiming t in m.Timings)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {t.Name,-22} {t.Seconds,8:F3} s   {t.Value}"));
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {"total",-22} {m.TotalSeconds,8:F3} s"));
            return CliApp.ExitCodes.Success;
        }));
        return command;
    }

    private static Command Preprocess(IAnsiConsole console, TextWriter output, TextWriter error)
    {
        var dir = new Argument<DirectoryInfo>("DIR") { Description = "Folder of radiographs (DICOM, PNG, JPEG, TIFF; searched recursively)." };
        var size = new Option<int>("--size") { Description = "Output size of the X-ray recipe (square).", DefaultValueFactory = _ => 224 };
        var json = new Option<bool>("--json") { Description = "Print the measurement as JSON." };
        var command = new Command(
            "preprocess",
            "End-to-end data path per core: hash, decode, X-ray recipe (VOI, MONOCHROME1, percentile clip, resize, 3 channels) and fp16 cache write, " +
            "then every tensor read back from the memory-mapped cache (what later epochs cost).");
        command.Arguments.Add(dir);
        command.Options.Add(size);
        command.Options.Add(json);
        command.SetAction(parse => DicomCommands.Guard(error, () =>
        {
            IReadOnlyList<string> files = IngestBenchmark.ListFiles(parse.GetValue(dir)!.FullName);
            var recipe = new XrayRecipe { Resize = new ResizeOptions(parse.GetValue(size), ResizeMethod.Area, 0f) };
            string cache = Path.Combine(Path.GetTempPath(), "medtransfer-bench-cache-" + Guid.NewGuid().ToString("N"));
            PreprocessMeasurement m;
            try
            {
                m = PreprocessBenchmark.Run(files, recipe, cache);
            }
            finally
            {
                if (Directory.Exists(cache))
                {
                    Directory.Delete(cache, recursive: true);
                }
            }

            if (parse.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(new { m.Images, m.Succeeded, m.ColdSeconds, m.WarmSeconds, m.ColdImagesPerSecond, m.WarmImagesPerSecond, m.FailuresByReason }, new JsonSerializerOptions { WriteIndented = true }));
            }
            else
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{m.Succeeded}/{m.Images} images: cold {m.ColdImagesPerSecond:F1} images/s (hash + decode + normalise + cache), warm {m.WarmImagesPerSecond:F1} images/s (cache reads); failures {m.FailuresByReason.Values.Sum()}."));
            }

            return CliApp.ExitCodes.Success;
        }));
        return command;
    }

    private static Command Corpus(IAnsiConsole console, TextWriter output, TextWriter error)
    {
        var dir = new Argument<DirectoryInfo>("OUT") { Description = "Folder to write the corpus into." };
        var files = new Option<int>("--files") { Description = "Number of files.", DefaultValueFactory = _ => 300 };
        var size = new Option<int>("--size") { Description = "Rows and columns of each image.", DefaultValueFactory = _ => 1024 };
        var seed = new Option<ulong>("--seed") { Description = "Random seed (same seed, same bytes).", DefaultValueFactory = _ => 2026UL };
        var command = new Command(
            "corpus",
            "Write a synthetic benchmark corpus: radiograph-like CR files (16/12 bits) rotating explicit VR LE, implicit VR LE and RLE Lossless. No patient data.");
        command.Arguments.Add(dir);
        command.Options.Add(files);
        command.Options.Add(size);
        command.Options.Add(seed);
        command.SetAction(parse => DicomCommands.Guard(error, () =>
        {
            int count = parse.GetValue(files);
            int pixels = parse.GetValue(size);
            if (count < 1 || pixels < 8)
            {
                error.WriteLine("error: --files must be at least 1 and --size at least 8.");
                return CliApp.ExitCodes.Usage;
            }

            string root = parse.GetValue(dir)!.FullName;
            if (console.Profile.Capabilities.Interactive)
            {
                console.Progress().Start(ctx =>
                {
                    ProgressTask task = ctx.AddTask("Writing corpus", maxValue: count);
                    IngestCorpus.Generate(root, count, pixels, parse.GetValue(seed), new Progress<int>(done => task.Value = done));
                });
            }
            else
            {
                IngestCorpus.Generate(root, count, pixels, parse.GetValue(seed));
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Wrote {count} files of {pixels}x{pixels} to {root}"));
            return CliApp.ExitCodes.Success;
        }));
        return command;
    }

    private static Command Ingest(IAnsiConsole console, TextWriter output, TextWriter error)
    {
        var dir = new Argument<DirectoryInfo>("DIR") { Description = "Folder of DICOM files (searched recursively)." };
        var mode = new Option<string>("--mode") { Description = "header (parse up to Pixel Data), full (decode every frame), or both.", DefaultValueFactory = _ => "both" };
        mode.AcceptOnlyFromAmong("header", "full", "both");
        var threads = new Option<int>("--threads") { Description = "Worker threads. Default 1, the fair comparison with single-threaded pydicom.", DefaultValueFactory = _ => 1 };
        var reference = new Option<string>("--reference") { Description = "none, or pydicom (Debian python3-pydicom on the same files in the same run).", DefaultValueFactory = _ => "none" };
        reference.AcceptOnlyFromAmong("none", "pydicom");
        var json = new Option<bool>("--json") { Description = "Print the measurements as JSON." };
        var minimum = new Option<double>("--min-seconds") { Description = "Read the folder repeatedly until this much time was measured, for both tools (short runs are mostly timer and JIT noise).", DefaultValueFactory = _ => 2.0 };
        var inProcess = new Option<bool>("--in-process-native") { Description = "Decode JPEG-LS/JPEG 2000 in this process (faster; a native codec crash then ends the run). By default they decode in worker processes." };
        var command = new Command("ingest", "Read every file under DIR and report files/s, decoded MB/s and failures by reason; a bad file never stops the run.");
        command.Options.Add(inProcess);
        command.Options.Add(minimum);
        command.Arguments.Add(dir);
        command.Options.Add(mode);
        command.Options.Add(threads);
        command.Options.Add(reference);
        command.Options.Add(json);
        command.SetAction(parse => DicomCommands.Guard(error, () =>
        {
            string root = parse.GetValue(dir)!.FullName;
            IReadOnlyList<string> files = IngestBenchmark.ListFiles(root);
            int workers = parse.GetValue(threads);
            if (workers < 1)
            {
                error.WriteLine("error: --threads must be at least 1.");
                return CliApp.ExitCodes.Usage;
            }

            IngestMode[] modes = parse.GetValue(mode) switch
            {
                "header" => [IngestMode.Header],
                "full" => [IngestMode.Full],
                _ => [IngestMode.Header, IngestMode.Full],
            };
            bool asJson = parse.GetValue(json);
            bool withReference = parse.GetValue(reference) == "pydicom";
            var rows = new List<(IngestMeasurement Ours, IngestMeasurement? Reference)>();
            string? referenceMissing = null;
            foreach (IngestMode m in modes)
            {
                WorkerCommand? isolation = parse.GetValue(inProcess) ? null : WorkerCommand.ForCurrentProgram();
                double seconds = Math.Max(0, parse.GetValue(minimum));
                IngestMeasurement ours = Measure(console, files, m, workers, isolation, seconds, showProgress: !asJson);
                IngestMeasurement? theirs = withReference ? IngestBenchmark.RunPydicomReference(root, m, seconds, out referenceMissing) : null;
                rows.Add((ours, theirs));
            }

            if (asJson)
            {
                output.WriteLine(JsonSerializer.Serialize(
                    rows.Select(r => new
                    {
                        mode = r.Ours.Mode.ToString().ToLowerInvariant(),
                        medtransfer = ToJson(r.Ours),
                        reference = r.Reference is null ? null : ToJson(r.Reference),
                        speedup = r.Reference is null || r.Reference.FilesPerSecond == 0 ? (double?)null : r.Ours.FilesPerSecond / r.Reference.FilesPerSecond,
                    }),
                    new JsonSerializerOptions { WriteIndented = true }));
            }
            else
            {
                Render(console, rows, referenceMissing, withReference);
            }

            return CliApp.ExitCodes.Success;
        }));
        return command;
    }

    private static IngestMeasurement Measure(IAnsiConsole console, IReadOnlyList<string> files, IngestMode mode, int threads, WorkerCommand? isolation, double minimumSeconds, bool showProgress)
    {
        if (!showProgress || !console.Profile.Capabilities.Interactive)
        {
            return IngestBenchmark.Run(files, mode, threads, isolateNativeCodecs: isolation, minimumSeconds: minimumSeconds);
        }

        IngestMeasurement? result = null;
        console.Progress().Start(ctx =>
        {
            ProgressTask task = ctx.AddTask($"MedTransfer {mode.ToString().ToLowerInvariant()}", maxValue: Math.Max(1, files.Count));
            result = IngestBenchmark.Run(files, mode, threads, new Progress<int>(done => task.Value = done), isolation, minimumSeconds);
            task.Value = task.MaxValue;
        });
        return result!;
    }

    private static object ToJson(IngestMeasurement m) => new
    {
        tool = m.Tool,
        files = m.Files,
        succeeded = m.Succeeded,
        seconds = m.Seconds,
        filesPerSecond = m.FilesPerSecond,
        decodedMegabytesPerSecond = m.DecodedMegabytesPerSecond,
        threads = m.Threads,
        passes = m.Passes,
        failuresByReason = m.FailuresByReason,
    };

    private static void Render(IAnsiConsole console, List<(IngestMeasurement Ours, IngestMeasurement? Reference)> rows, string? referenceMissing, bool withReference)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("Tool").AddColumn("Mode").AddColumn(new TableColumn("Files").RightAligned()).AddColumn(new TableColumn("Files/s").RightAligned())
            .AddColumn(new TableColumn("Decoded MB/s").RightAligned()).AddColumn("Failures").AddColumn(new TableColumn("Speed-up").RightAligned());
        foreach ((IngestMeasurement ours, IngestMeasurement? reference) in rows)
        {
            string ratio = reference is { FilesPerSecond: > 0 } ? string.Create(CultureInfo.InvariantCulture, $"{ours.FilesPerSecond / reference.FilesPerSecond:F2}x") : "-";
            AddRow(table, ours, ratio);
            if (reference is not null)
            {
                AddRow(table, reference, "1.00x");
            }
        }

        console.Write(table);
        if (withReference && referenceMissing is not null)
        {
            console.MarkupLine($"[yellow]Reference not run:[/] {Markup.Escape(referenceMissing)}");
        }
    }

    private static void AddRow(Table table, IngestMeasurement m, string ratio)
    {
        string failures = m.FailuresByReason.Count == 0
            ? "0"
            : string.Join(", ", m.FailuresByReason.OrderByDescending(p => p.Value).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key}: {p.Value}")));
        table.AddRow(
            Markup.Escape(m.Tool),
            m.Mode.ToString().ToLowerInvariant(),
            m.Files.ToString(CultureInfo.InvariantCulture),
            m.FilesPerSecond.ToString("F1", CultureInfo.InvariantCulture),
            m.Mode == IngestMode.Header ? "-" : m.DecodedMegabytesPerSecond.ToString("F1", CultureInfo.InvariantCulture),
            Markup.Escape(failures),
            ratio);
    }
}
