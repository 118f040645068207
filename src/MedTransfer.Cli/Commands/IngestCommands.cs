using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MedTransfer.Imaging.Index;
using MedTransfer.Imaging.Splits;
using Spectre.Console;

namespace MedTransfer.Cli.Commands;

/// <summary>`medtransfer ingest DIR... --out manifest.csv`: the dataset index, labels, sites and a patient-level split.</summary>
internal static class IngestCommands
{
    public static Command Create(IAnsiConsole console, TextWriter output, TextWriter error)
    {
        var dirs = new Argument<string[]>("DIR") { Description = "Folders to index (searched recursively; symbolic links are not followed).", Arity = ArgumentArity.OneOrMore };
        var outPath = new Option<FileInfo>("--out") { Description = "The manifest to write: CSV, or JSON when the name ends in .json. Failures go to <out>.failures.csv.", Required = true };
        var labels = new Option<FileInfo?>("--labels") { Description = "CSV of labels to join (header row; RFC 4180). A key given two different labels is refused, naming the file, line and column." };
        var labelColumn = new Option<string>("--label-column") { Description = "The label column of --labels.", DefaultValueFactory = _ => "label" };
        var key = new Option<string>("--key") { Description = "What the key column of --labels holds: id, path, patient or sop (the column has the same name).", DefaultValueFactory = _ => "id" };
        key.AcceptOnlyFromAmong("id", "path", "patient", "sop");
        var site = new Option<string?>("--site") { Description = "Site (domain) rule: tag:KEYWORD (e.g. tag:InstitutionName), folder:N (N-th folder below the root) or column:NAME (a --labels column)." };
        var patientFolder = new Option<int?>("--patient-folder") { Description = "Folder level naming the patient of files that carry none (PNG, JPEG, TIFF, NIfTI)." };
        var split = new Option<string?>("--split") { Description = "Patient-level train,val,test fractions, e.g. 0.7,0.15,0.15 (stratified by label)." };
        var seed = new Option<ulong>("--seed") { Description = "Split seed (same seed, same split).", DefaultValueFactory = _ => 42UL };
        var bySite = new Option<bool>("--stratify-site") { Description = "Stratify the split by site as well as label." };
        var targetSite = new Option<string?>("--target-site") { Description = "Leave-site-out: every patient of this site goes to test; the others are split train/val in the --split ratio." };
        var threads = new Option<int>("--threads") { Description = "Files read at once.", DefaultValueFactory = _ => Math.Clamp(Environment.ProcessorCount, 1, 8) };
        var json = new Option<bool>("--json") { Description = "Print the summary as JSON (no progress bar)." };
        var command = new Command(
            "ingest",
            "Index DICOM, NIfTI, PNG, JPEG and TIFF files (recognised by content, headers only, SHA-256 of every file) into a manifest " +
            "with patient, study, series, site, label and split. Only regular files are read (named pipes, sockets and devices are listed as failures); " +
            "a name that is not UTF-8 is shown with \\xNN escapes. A bad file never stops the run: it is listed in <out>.failures.csv " +
            "and the exit code is 1. The manifest holds patient identifiers and paths: store it like the originals.");
        command.Arguments.Add(dirs);
        foreach (Option option in new Option[] { outPath, labels, labelColumn, key, site, patientFolder, split, seed, bySite, targetSite, threads, json })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse => DicomCommands.Guard(error, () =>
        {
            try
            {
                SiteRule siteRule = parse.GetValue(site) is { } siteText ? SiteRule.Parse(siteText) : SiteRule.None;
                SplitOptions? splitOptions = parse.GetValue(split) is { } fractions ? SplitOptions.ParseFractions(fractions, parse.GetValue(seed)) with { StratifyBySite = parse.GetValue(bySite) } : null;
                string? target = parse.GetValue(targetSite);
                if (target is not null && splitOptions is null)
                {
                    splitOptions = new SplitOptions { Seed = parse.GetValue(seed), StratifyBySite = parse.GetValue(bySite) };
                }

                FileInfo? labelFile = parse.GetValue(labels);
                var options = new DatasetIndexOptions
                {
                    Site = siteRule,
                    PatientFolderLevel = parse.GetValue(patientFolder),
                    MaxDegreeOfParallelism = Math.Clamp(parse.GetValue(threads), 1, 64),
                    Labels = labelFile is null ? null : new LabelSource
                    {
                        CsvPath = labelFile.FullName,
                        LabelColumn = parse.GetValue(labelColumn)!,
                        Key = parse.GetValue(key) switch
                        {
                            "path" => LabelKey.Path,
                            "patient" => LabelKey.Patient,
                            "sop" => LabelKey.SopInstanceUid,
                            _ => LabelKey.Id,
                        },
                    },
                };

                bool asJson = parse.GetValue(json);
                DatasetIndex index = Index(console, new DatasetIndexer(options), parse.GetValue(dirs)!, showProgress: !asJson);
                Manifest manifest = index.Manifest;
                SplitCheck? check = null;
                if (splitOptions is not null)
                {
                    manifest = target is null ? PatientSplitter.Assign(manifest, splitOptions) : PatientSplitter.LeaveSiteOut(manifest, target, splitOptions);
                    check = SplitValidator.Check(manifest);
                }

                string manifestPath = parse.GetValue(outPath)!.FullName;
                ManifestFile.Save(manifest, manifestPath);
                string? failuresPath = null;
                if (index.Failures.Count > 0)
                {
                    failuresPath = manifestPath + ".failures.csv";
                    WriteFailures(failuresPath, index.Failures);
                }

                if (asJson)
                {
                    WriteJson(output, manifestPath, failuresPath, manifest, index, check);
                }
                else
                {
                    WriteTables(console, output, manifestPath, failuresPath, manifest, index, check);
                }

                return index.Failures.Count == 0 ? CliApp.ExitCodes.Success : CliApp.ExitCodes.Failure;
            }
            catch (ManifestException ex)
            {
                error.WriteLine($"error: {ex.Message}");
                return CliApp.ExitCodes.Failure;
            }
            catch (SplitLeakageException ex)
            {
                error.WriteLine($"error: {ex.Message}");
                return CliApp.ExitCodes.Failure;
            }
        }));
        return command;
    }

    private static DatasetIndex Index(IAnsiConsole console, DatasetIndexer indexer, string[] roots, bool showProgress)
    {
        if (!showProgress || !console.Profile.Capabilities.Interactive)
        {
            return indexer.IndexAsync(roots).GetAwaiter().GetResult();
        }

        DatasetIndex? result = null;
        console.Progress().Start(ctx =>
        {
            ProgressTask task = ctx.AddTask("Indexing", maxValue: 1);
            result = indexer.IndexAsync(roots, new TaskProgress(task)).GetAwaiter().GetResult();
        });
        return result!;
    }

    private static void WriteFailures(string path, IReadOnlyList<IndexFailure> failures)
    {
        var text = new StringBuilder("root,path,reason,detail\r\n");
        foreach (IndexFailure f in failures)
        {
            text.Append(string.Join(',', new[] { f.Root.ToString(CultureInfo.InvariantCulture), f.Path, f.Reason.ToString(), f.Detail }.Select(Quote))).Append("\r\n");
        }

        string temp = path + ".tmp";
        File.WriteAllText(temp, text.ToString(), new UTF8Encoding(false));
        File.Move(temp, path, overwrite: true);

        static string Quote(string field) => field.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : field;
    }

    private sealed record SiteSummary(string Site, int Samples, int Patients, IReadOnlyDictionary<string, int> Labels);

    private static List<SiteSummary> Sites(Manifest manifest) =>
        [.. manifest.Rows
            .GroupBy(r => r.Site, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new SiteSummary(
                g.Key,
                g.Count(),
                g.Where(r => r.Patient.Length > 0).Select(r => r.Patient).Distinct(StringComparer.Ordinal).Count(),
                g.GroupBy(r => r.Label, StringComparer.Ordinal).OrderBy(l => l.Key, StringComparer.Ordinal).ToDictionary(l => l.Key, l => l.Count(), StringComparer.Ordinal)))];

    private static void WriteJson(TextWriter output, string manifestPath, string? failuresPath, Manifest manifest, DatasetIndex index, SplitCheck? check)
    {
        var summary = new
        {
            manifest = manifestPath,
            manifestHash = manifest.ManifestHash,
            samples = manifest.Rows.Count,
            failed = index.Failures.Count,
            failures = failuresPath,
            failuresByReason = index.Failures.GroupBy(f => f.Reason).OrderBy(g => g.Key).ToDictionary(g => g.Key.ToString(), g => g.Count()),
            flags = Enum.GetValues<QualityFlags>().Where(f => f != QualityFlags.None)
                .Select(f => (Flag: f, Count: manifest.Rows.Count(r => r.Flags.HasFlag(f))))
                .Where(x => x.Count > 0)
                .ToDictionary(x => x.Flag.ToString(), x => x.Count),
            sites = Sites(manifest).Select(s => new { site = s.Site, samples = s.Samples, patients = s.Patients, labels = s.Labels }),
            labels = index.Labels is { } l ? new { tableRows = l.TableRows, matchedRows = l.MatchedRows, unmatchedRows = l.UnmatchedLines.Count, unmatchedLines = l.UnmatchedLines, unlabeledSamples = l.UnlabeledSamples } : null,
            split = check?.Partitions.Select(p => new { partition = p.Partition.ToString(), patients = p.Patients, samples = p.Samples, labels = p.LabelCounts }),
            warnings = check?.Warnings ?? [],
        };
        output.WriteLine(JsonSerializer.Serialize(summary));
    }

    private static void WriteTables(IAnsiConsole console, TextWriter output, string manifestPath, string? failuresPath, Manifest manifest, DatasetIndex index, SplitCheck? check)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Indexed {manifest.Rows.Count} sample(s); {index.Failures.Count} file(s) failed. Manifest: {manifestPath}"));
        output.WriteLine($"Manifest hash (SHA-256 over sorted id, sha256): {manifest.ManifestHash}");

        var sites = new Table().AddColumns("Site", "Samples", "Patients", "Label prevalence");
        foreach (SiteSummary s in Sites(manifest))
        {
            string prevalence = string.Join(", ", s.Labels.Select(l => string.Create(CultureInfo.InvariantCulture, $"{(l.Key.Length == 0 ? "(none)" : l.Key)} {100.0 * l.Value / s.Samples:0.#}% ({l.Value})")));
            sites.AddRow(
                Markup.Escape(s.Site.Length == 0 ? "(none)" : s.Site),
                s.Samples.ToString(CultureInfo.InvariantCulture),
                s.Patients.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(prevalence));
        }

        console.Write(sites);
        if (index.Labels is { } labels)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Labels: {labels.MatchedRows} of {labels.TableRows} table row(s) matched; {labels.UnmatchedLines.Count} matched no sample; {labels.UnlabeledSamples} sample(s) unlabeled."));
        }

        if (check is not null)
        {
            var partitions = new Table().AddColumns("Partition", "Patients", "Samples");
            foreach (PartitionSummary p in check.Partitions)
            {
                partitions.AddRow(p.Partition.ToString(), p.Patients.ToString(CultureInfo.InvariantCulture), p.Samples.ToString(CultureInfo.InvariantCulture));
            }

            console.Write(partitions);
            foreach (string warning in check.Warnings)
            {
                output.WriteLine($"warning: {warning}");
            }
        }

        if (index.Failures.Count > 0)
        {
            var failures = new Table().AddColumns("Failure reason", "Files");
            foreach (var group in index.Failures.GroupBy(f => f.Reason).OrderBy(g => g.Key))
            {
                failures.AddRow(group.Key.ToString(), group.Count().ToString(CultureInfo.InvariantCulture));
            }

            console.Write(failures);
            output.WriteLine($"Failed files are listed in {failuresPath}.");
        }
    }

    /// <summary>Updates a progress bar from the indexer's worker threads (counts only).</summary>
    private sealed class TaskProgress(ProgressTask task) : IProgress<IndexProgress>
    {
        public void Report(IndexProgress value)
        {
            task.MaxValue = Math.Max(1, value.Total);
            task.Value = value.Completed;
            task.Description = value.Failed == 0 ? "Indexing" : string.Create(CultureInfo.InvariantCulture, $"Indexing ({value.Failed} failed)");
        }
    }
}
