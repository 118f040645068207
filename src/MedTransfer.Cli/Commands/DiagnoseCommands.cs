using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using MedTransfer.Pipeline.Diagnose;
using MedTransfer.Pipeline.DicomWeb;
using MedTransfer.Pipeline.Ingest;
using MedTransfer.Pipeline.Runs;
using MedTransfer.Pipeline.Sharding;
using Spectre.Console;

namespace MedTransfer.Cli.Commands;

/// <summary>`medtransfer diagnose`, `medtransfer merge` and `medtransfer bench diagnose`: clinicians' batch runs.</summary>
internal static class DiagnoseCommands
{
    /// <summary>Some inputs were quarantined or only partly scored (the others have results).</summary>
    public const int SomeInputsFailed = 3;

    private static readonly JsonSerializerOptions _json = new() { WriteIndented = true };

    public static Command Diagnose(IAnsiConsole console, TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model") { Description = "RUN_DIR (uses RUN_DIR/model/model.onnx; the run must be complete, and its model the one the run finished with) or MODEL.onnx.", Required = true };
        var input = new Option<string>("--input") { Description = "A folder of DICOM files (recursive) or a DICOMweb root URL (http[s]://host/dicom-web).", Required = true };
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Output folder: predictions.csv, quarantine.jsonl, summary.json and the journal that makes the run resumable.", Required = true };
        var shard = new Option<string?>("--shard") { Description = "Do only shard i/n of the studies (by study key), e.g. 2/8; merge the shard folders with `medtransfer merge`. Needs --key-file." };
        var keyFile = new Option<FileInfo?>("--key-file")
        {
            Description = $"Secret pseudonym key (hex, at least 32 digits). Default: ${StudyPseudonyms.EnvironmentVariable}, else a key generated on the first run " +
                $"in OUT/{StudyPseudonyms.PrivateFolderName}/ (never among the shareable outputs; never share that folder). Shards of one run must share one key: " +
                $"pass the same --key-file (or set ${StudyPseudonyms.EnvironmentVariable}) for every shard.",
        };
        var threads = new Option<int>("--threads") { Description = "Threads for decoding and inference.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var batch = new Option<int>("--batch") { Description = "Studies per inference batch.", DefaultValueFactory = _ => 32 };
        var identifiers = new Option<bool>("--include-identifiers") { Description = "Add the Study Instance UID column and show relative paths as they are (both are, or may hold, identifiers). Off by default: outputs carry keyed pseudonyms and path hashes only." };
        var writeBack = new Option<bool>("--write-back") { Description = "Store each study's result back to the DICOMweb server as a Basic Text SR (STOW-RS) in the same study." };
        var noIsolation = new Option<bool>("--in-process-native") { Description = "Decode JPEG-LS/JPEG 2000 in this process (a native codec crash then ends the run; resume continues it)." };
        var json = new Option<bool>("--json") { Description = "Print the run summary as JSON." };
        var repair = new Option<bool>("--repair") { Description = "Before resuming, set aside journal lines that are damaged in the middle (or a study written twice) and redo those studies; the original journal is kept as OUT/journal.damaged-N.jsonl. Needed only when a resume fails with JournalCorrupt." };
        var timeout = new Option<double>("--timeout") { Description = "DICOMweb: seconds the server may stay silent (before it answers a request, or between two pieces of an answer) before the run stops with a Timeout error (exit 1, resumable).", DefaultValueFactory = _ => 60 };
        var command = new Command(
            "diagnose",
            "Batch diagnosis: score every study of a folder or DICOMweb server with an X-ray model (ONNX Runtime, CPU).\n" +
            "One row per study in predictions.csv: study_key (HMAC pseudonym), source (keyed hash of the relative path, the path itself with --include-identifiers, or a keyed hash of the DICOMweb study URL), " +
            "images, score (probability of the model's positive class; for a study with several images the MAXIMUM over its images), label, " +
            "shift_score and shift_flag (the model's shift monitor; 1 = unlike the training data; empty when the model has none), " +
            "status (ok | partial: some images failed, scored from the rest | quarantined: no score, never 'no finding'), reason (failure codes).\n" +
            "Bad files never stop the run: they go to quarantine.jsonl with their reason. Interrupted runs (even kill -9) resume from the journal " +
            "when started again with the same arguments: no duplicates, no gaps; a resume with another --input is refused. " +
            "One run per output folder: OUT/diagnose.lock holds the running process's pid and a second run is refused; a lock left by a killed run is taken over. " +
            "Symbolic links in a folder input are not followed; only regular files are read (pipes, sockets and devices are quarantined).\n" +
            "Exit codes: 0 every study scored; 3 some inputs were quarantined or partly scored (the others have results); 2 usage errors (including a resume with another --input); 1 the run could not go on (resumable).");
        foreach (Option o in new Option[] { model, input, outDir, shard, keyFile, threads, batch, identifiers, writeBack, noIsolation, timeout, repair, json })
        {
            command.Options.Add(o);
        }

        command.SetAction((parse, cancellation) => Task.FromResult(Guard(error, () =>
        {
            string folder = parse.GetValue(outDir)!.FullName;
            ShardSpec spec = ShardSpec.All;
            if (parse.GetValue(shard) is { } text)
            {
                try
                {
                    spec = ShardSpec.Parse(text);
                }
                catch (FormatException ex)
                {
                    error.WriteLine($"error: {ex.Message}");
                    return CliApp.ExitCodes.Usage;
                }
            }

            FileInfo? key = parse.GetValue(keyFile);
            if (spec.Count > 1 && key is null && string.IsNullOrEmpty(Environment.GetEnvironmentVariable(StudyPseudonyms.EnvironmentVariable)))
            {
                error.WriteLine($"error: --shard needs --key-file (or ${StudyPseudonyms.EnvironmentVariable}): every shard must pseudonymise with the same key (create one with: openssl rand -hex 32 > key.hex).");
                return CliApp.ExitCodes.Usage;
            }

            if (parse.GetValue(threads) < 1 || parse.GetValue(batch) < 1)
            {
                error.WriteLine("error: --threads and --batch must be at least 1.");
                return CliApp.ExitCodes.Usage;
            }

            double seconds = parse.GetValue(timeout);
            if (!(seconds > 0 && seconds <= 24 * 3600))
            {
                error.WriteLine("error: --timeout must be a number of seconds above 0 (at most a day).");
                return CliApp.ExitCodes.Usage;
            }

            string source = parse.GetValue(input)!;
            bool web = Uri.TryCreate(source, UriKind.Absolute, out Uri? url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps);
            if (!web && !Directory.Exists(source))
            {
                error.WriteLine("error: --input is neither an existing folder nor an http(s) DICOMweb URL.");
                return CliApp.ExitCodes.Usage;
            }

            if (parse.GetValue(writeBack) && !web)
            {
                error.WriteLine("error: --write-back needs a DICOMweb --input.");
                return CliApp.ExitCodes.Usage;
            }

            // The model first: an unusable --model (e.g. an unfinished run folder) is refused before anything is written into OUT.
            using DiagnosisModel loaded = DiagnosisModel.Load(parse.GetValue(model)!, parse.GetValue(threads));
            StudyPseudonyms pseudonyms;
            string privateFolder = Path.Combine(folder, StudyPseudonyms.PrivateFolderName);
            try
            {
                if (key is null && MoveKeyOutOfTheSharedOutputs(folder, privateFolder) is { } moved)
                {
                    error.WriteLine($"warning: {moved}");
                }

                pseudonyms = StudyPseudonyms.Resolve(key?.FullName, privateFolder, out string? keyWarning);
                if (keyWarning is not null)
                {
                    error.WriteLine($"warning: {keyWarning}");
                }
            }
            catch (FormatException ex)
            {
                error.WriteLine($"error: {ex.Message}");
                return CliApp.ExitCodes.Usage;
            }

            using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
            var webOptions = new DicomWebClientOptions { Timeout = TimeSpan.FromSeconds(seconds), Progress = new LineProgress(error) };
            DicomWebClient? client = web ? new DicomWebClient(http, url!, webOptions) : null;
            var options = new DiagnosisOptions
            {
                OutputDirectory = folder,
                Shard = spec,
                Threads = parse.GetValue(threads),
                BatchSize = parse.GetValue(batch),
                IncludeIdentifiers = parse.GetValue(identifiers),
                IsolationWorker = parse.GetValue(noIsolation) ? null : WorkerCommand.ForCurrentProgram(),
                WriteBack = parse.GetValue(writeBack) ? client : null,
                Repair = parse.GetValue(repair),
            };
            IStudySource studies = client is null ? new FolderStudySource(source) : new DicomWebStudySource(client);
            DiagnosisRunResult result;
            try
            {
                result = WithProgress(console, "Diagnosing", p => DiagnosisRunner.Run(loaded, studies, pseudonyms, options, p, cancellation));
            }
            catch (DiagnosisException ex) when (ex.Reason == DiagnosisError.InputMismatch)
            {
                error.WriteLine($"error: {ex.Message}");
                return CliApp.ExitCodes.Usage;
            }

            Notes(error, result);
            Report(output, console, parse.GetValue(json), result, folder);
            return result.Totals.SomeFailed ? SomeInputsFailed : CliApp.ExitCodes.Success;
        })));
        return command;
    }

    public static Command Merge(IAnsiConsole console, TextWriter output, TextWriter error)
    {
        var outDir = new Argument<DirectoryInfo>("OUT") { Description = "Folder for the merged predictions.csv, quarantine.jsonl, summary.json and journal." };
        var shards = new Argument<DirectoryInfo[]>("SHARD_DIR") { Description = "The finished shard folders (every shard 1..n of one run).", Arity = ArgumentArity.OneOrMore };
        var json = new Option<bool>("--json") { Description = "Print the merged summary as JSON." };
        var command = new Command(
            "merge",
            "Merge the output folders of `diagnose --shard i/n` runs into one. Idempotent: merging again, or a folder twice, gives the same bytes; " +
            "the result equals an unsharded run's. Fails (exit 1) when a shard is missing or unfinished, or shards are from different runs. Exit 3 when some inputs failed.");
        command.Arguments.Add(outDir);
        command.Arguments.Add(shards);
        command.Options.Add(json);
        command.SetAction(parse => Guard(error, () =>
        {
            string folder = parse.GetValue(outDir)!.FullName;
            DiagnosisTotals totals = DiagnosisMerge.Merge(folder, [.. parse.GetValue(shards)!.Select(d => d.FullName)]);
            if (parse.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(Totals(totals, folder), _json));
            }
            else
            {
                console.MarkupLine(Markup.Escape(Line(totals)));
                console.MarkupLine($"Results: {Markup.Escape(Path.Combine(folder, DiagnosisOutputs.PredictionsFile))}");
            }

            return totals.SomeFailed ? SomeInputsFailed : CliApp.ExitCodes.Success;
        }));
        return command;
    }

    public static Command Bench(IAnsiConsole console, TextWriter output, TextWriter error)
    {
        var dir = new Argument<DirectoryInfo>("DIR") { Description = "Folder of DICOM radiographs (recursive)." };
        var model = new Option<string>("--model") { Description = "RUN_DIR or MODEL.onnx.", Required = true };
        var threads = new Option<int>("--threads") { Description = "Threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var batch = new Option<int>("--batch") { Description = "Studies per inference batch.", DefaultValueFactory = _ => 32 };
        var json = new Option<bool>("--json") { Description = "Print the measurement as JSON." };
        var command = new Command(
            "diagnose",
            "Batch-diagnosis throughput: a full `diagnose` run (decode, X-ray recipe, ONNX Runtime, fsynced journal, outputs) into a temporary folder; studies/s.");
        command.Arguments.Add(dir);
        foreach (Option o in new Option[] { model, threads, batch, json })
        {
            command.Options.Add(o);
        }

        command.SetAction(parse => Guard(error, () =>
        {
            string temp = Path.Combine(Path.GetTempPath(), "medtransfer-bench-diagnose-" + Guid.NewGuid().ToString("N"));
            try
            {
                int n = Math.Max(1, parse.GetValue(threads));
                using DiagnosisModel loaded = DiagnosisModel.Load(parse.GetValue(model)!, n);
                var options = new DiagnosisOptions { OutputDirectory = temp, Threads = n, BatchSize = Math.Max(1, parse.GetValue(batch)) };
                // A throwaway key: the measurement's outputs are deleted with its folder.
                var pseudonyms = new StudyPseudonyms(RandomNumberGenerator.GetBytes(32));
                DiagnosisRunResult r = DiagnosisRunner.Run(loaded, new FolderStudySource(parse.GetValue(dir)!.FullName), pseudonyms, options);
                if (parse.GetValue(json))
                {
                    output.WriteLine(JsonSerializer.Serialize(new { studies = r.Processed, seconds = r.Seconds, studiesPerSecond = r.StudiesPerSecond, threads = n, quarantined = r.Totals.Quarantined }, _json));
                }
                else
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.Processed} studies in {r.Seconds:F2} s: {r.StudiesPerSecond:F1} studies/s on {n} thread(s) ({r.Totals.Quarantined} quarantined)."));
                }

                return CliApp.ExitCodes.Success;
            }
            finally
            {
                if (Directory.Exists(temp))
                {
                    Directory.Delete(temp, recursive: true);
                }
            }
        }));
        return command;
    }

    /// <summary>
    /// Output folders of earlier versions kept the generated key at OUT/pseudonym.key, among the files people share. It is
    /// moved into the private part, so a resume keeps its pseudonyms (the journal records the key's fingerprint) and
    /// the shareable part no longer holds the secret. Returns what was done, or null when there was nothing to move.
    /// </summary>
    private static string? MoveKeyOutOfTheSharedOutputs(string folder, string privateFolder)
    {
        string old = Path.Combine(folder, StudyPseudonyms.DefaultKeyFileName);
        string target = Path.Combine(privateFolder, StudyPseudonyms.DefaultKeyFileName);
        if (!File.Exists(old) || File.Exists(target))
        {
            return null;
        }

        Directory.CreateDirectory(privateFolder);
        File.Move(old, target);
        return $"moved the pseudonym key from {old} to {target}: it was among the shareable outputs; if that folder was shared, the key was too.";
    }

    private static DiagnosisRunResult WithProgress(IAnsiConsole console, string title, Func<IProgress<DiagnosisProgress>?, DiagnosisRunResult> run)
    {
        if (!console.Profile.Capabilities.Interactive)
        {
            return run(null);
        }

        DiagnosisRunResult? result = null;
        console.Progress().Start(ctx =>
        {
            ProgressTask task = ctx.AddTask(title);
            result = run(new Progress<DiagnosisProgress>(p =>
            {
                task.MaxValue = Math.Max(1, p.Total);
                task.Value = p.Done;
            }));
        });
        return result!;
    }

    /// <summary>What the user should know about the folder and the input beyond the totals (on the error stream, so --json output stays clean).</summary>
    private static void Notes(TextWriter error, DiagnosisRunResult r)
    {
        if (r.StaleLockPid is { } pid)
        {
            error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"note: the output folder's lock was left by process {pid}, which ended without releasing it (killed?); this run took it over and resumed from the journal."));
        }

        if (r.RepairedLines > 0)
        {
            error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"note: --repair set aside {r.RepairedLines} damaged or repeated journal line(s) (the original is kept as journal.damaged-N.jsonl); their studies were done again."));
        }

        if (r.SkippedLinks > 0)
        {
            error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"note: {r.SkippedLinks} symbolic link(s) in the input were not followed."));
        }
    }

    private static void Report(TextWriter output, IAnsiConsole console, bool json, DiagnosisRunResult r, string folder)
    {
        if (json)
        {
            var summary = Totals(r.Totals, folder);
            summary["resumed"] = r.Resumed;
            summary["processed"] = r.Processed;
            summary["outsideShard"] = r.OutsideShard;
            summary["storedToPacs"] = r.Stored;
            summary["seconds"] = Math.Round(r.Seconds, 3);
            summary["studiesPerSecond"] = Math.Round(r.StudiesPerSecond, 1);
            output.WriteLine(JsonSerializer.Serialize(summary, _json));
            return;
        }

        console.MarkupLine(Markup.Escape(Line(r.Totals)));
        console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"This run: {r.Processed} studies in {r.Seconds:F1} s ({r.StudiesPerSecond:F1}/s); {r.Resumed} already done (resumed); {r.OutsideShard} left to other shards; {r.Stored} stored to the PACS.")));
        foreach ((string reason, int count) in r.Totals.Reasons)
        {
            console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"  failed images: {count} × {reason}")));
        }

        console.MarkupLine($"Results: {Markup.Escape(Path.Combine(folder, DiagnosisOutputs.PredictionsFile))}");
    }

    private static Dictionary<string, object> Totals(DiagnosisTotals t, string folder) => new()
    {
        ["studies"] = t.Studies,
        ["ok"] = t.Ok,
        ["partial"] = t.Partial,
        ["quarantined"] = t.Quarantined,
        ["shiftFlagged"] = t.ShiftFlagged,
        ["failedImagesByReason"] = t.Reasons,
        ["predictions"] = Path.Combine(folder, DiagnosisOutputs.PredictionsFile),
    };

    private static string Line(DiagnosisTotals t) =>
        string.Create(CultureInfo.InvariantCulture, $"{t.Studies} studies: {t.Ok} ok, {t.Partial} partial, {t.Quarantined} quarantined; {t.ShiftFlagged} flagged by the shift monitor.");

    /// <summary>Says on the error stream, one line at a time, what the DICOMweb client is doing, so a slow server is never silence.</summary>
    private sealed class LineProgress(TextWriter error) : IProgress<DicomWebActivity>
    {
        private readonly Lock _gate = new();

        public void Report(DicomWebActivity value)
        {
            lock (_gate)
            {
                error.WriteLine(value.Describe());
            }
        }
    }

    private static int Guard(TextWriter error, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (RunFolderException ex)
        {
            // A --model run folder that is unfinished or was changed after it finished: the argument is wrong, not the machine.
            error.WriteLine($"error: {ex.Message}");
            return CliApp.ExitCodes.Usage;
        }
        catch (Exception ex) when (ex is ModelLoadException or DiagnosisException or DicomWebException or IOException or UnauthorizedAccessException or FormatException)
        {
            error.WriteLine($"error: {ex.Message}");
            return CliApp.ExitCodes.Failure;
        }
    }
}
