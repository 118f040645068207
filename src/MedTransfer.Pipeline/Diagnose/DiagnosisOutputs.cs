using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MedTransfer.Pipeline.Diagnose;

/// <summary>Counts over a finished run's records.</summary>
/// <param name="Studies">Studies with a result.</param>
/// <param name="Ok">Studies with every image scored.</param>
/// <param name="Partial">Studies scored from some of their images.</param>
/// <param name="Quarantined">Studies with no score.</param>
/// <param name="ShiftFlagged">Studies the shift monitor flagged.</param>
/// <param name="Reasons">Failed images per reason code.</param>
public sealed record DiagnosisTotals(int Studies, int Ok, int Partial, int Quarantined, int ShiftFlagged, IReadOnlyDictionary<string, int> Reasons)
{
    /// <summary>True when some input failed (exit code 3 in the CLI).</summary>
    public bool SomeFailed => Partial + Quarantined > 0;
}

/// <summary>
/// The final outputs of a run or a merge, written from the journal's records sorted by study key, each through a
/// temporary file, fsync and rename (so no reader ever sees half a file): <c>predictions.csv</c>,
/// <c>quarantine.jsonl</c> (one line per partial or quarantined study, with the failed images and reasons) and
/// <c>summary.json</c>. Nothing in them depends on timing, threads or the order of work, so a sharded run merged
/// gives the same bytes as the unsharded run.
/// </summary>
public static class DiagnosisOutputs
{
    /// <summary>The per-study CSV.</summary>
    public const string PredictionsFile = "predictions.csv";

    /// <summary>The quarantine records.</summary>
    public const string QuarantineFile = "quarantine.jsonl";

    /// <summary>The run summary.</summary>
    public const string SummaryFile = "summary.json";

    /// <summary>Writes the three outputs into <paramref name="folder"/> and returns the totals.</summary>
    internal static DiagnosisTotals Write(string folder, JournalHeader header, IEnumerable<DiagnosisRecord> records)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(records);
        List<DiagnosisRecord> sorted = [.. records.OrderBy(r => r.Key, StringComparer.Ordinal)];
        var csv = new StringBuilder(DiagnosisCsv.HeaderFor(header.Identifiers)).Append('\n');
        var quarantine = new StringBuilder();
        foreach (DiagnosisRecord r in sorted)
        {
            csv.Append(DiagnosisCsv.Row(r, header.Identifiers)).Append('\n');
            if (r.Status != StudyStatus.Ok)
            {
                var line = new JsonObject
                {
                    ["studyKey"] = r.Key,
                    ["source"] = r.Source,
                    ["status"] = r.Status.ToString().ToLowerInvariant(),
                    ["reason"] = r.Reason,
                    ["failures"] = new JsonArray([.. r.Failures.Select(f => (JsonNode)new JsonObject { ["name"] = f.Name, ["reason"] = f.Reason })]),
                };
                quarantine.Append(line.ToJsonString()).Append('\n');
            }
        }

        var reasons = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (ImageFailure f in sorted.SelectMany(r => r.Failures))
        {
            reasons[f.Reason] = reasons.GetValueOrDefault(f.Reason) + 1;
        }

        var totals = new DiagnosisTotals(
            sorted.Count,
            sorted.Count(r => r.Status == StudyStatus.Ok),
            sorted.Count(r => r.Status == StudyStatus.Partial),
            sorted.Count(r => r.Status == StudyStatus.Quarantined),
            sorted.Count(r => r.ShiftFlag == true),
            reasons);
        var summary = new JsonObject
        {
            ["format"] = "medtransfer-diagnose/1",
            ["model"] = header.Model,
            ["keyFingerprint"] = header.KeyFingerprint,
            ["shard"] = header.Shard,
            ["identifiers"] = header.Identifiers,
            ["studies"] = totals.Studies,
            ["ok"] = totals.Ok,
            ["partial"] = totals.Partial,
            ["quarantined"] = totals.Quarantined,
            ["shiftFlagged"] = totals.ShiftFlagged,
            ["failedImagesByReason"] = new JsonObject([.. reasons.Select(p => new KeyValuePair<string, JsonNode?>(p.Key, p.Value))]),
        };
        WriteAtomically(Path.Combine(folder, PredictionsFile), csv.ToString());
        WriteAtomically(Path.Combine(folder, QuarantineFile), quarantine.ToString());
        WriteAtomically(Path.Combine(folder, SummaryFile), summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return totals;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The write failed already; a temporary file left behind is named *.tmp and replaced by the next write.
        }
    }

    /// <summary>Writes text through a temporary file in the same folder, fsync, then rename over the target.</summary>
    internal static void WriteAtomically(string path, string text)
    {
        string temp = path + ".tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                stream.Write(new UTF8Encoding(false).GetBytes(text));
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new DiagnosisException(DiagnosisError.OutputNotWritable, $"cannot write {Path.GetFileName(path)}: {IoCause.Of(ex)}", ex);
        }
    }
}

/// <summary>
/// `medtransfer merge`: combines finished shard folders into one output. Idempotent: a shard given twice, a merged
/// folder merged again, or a study found in two shards with the same result all give the same bytes; two different
/// results for one study, or shards of different runs, are a <see cref="DiagnosisError.ShardConflict"/>.
/// </summary>
public static class DiagnosisMerge
{
    /// <summary>Merges <paramref name="shardFolders"/> into <paramref name="outFolder"/> (which may be one of them).</summary>
    /// <exception cref="DiagnosisException">A shard is unfinished or missing, or shards conflict.</exception>
    public static DiagnosisTotals Merge(string outFolder, IReadOnlyList<string> shardFolders)
    {
        ArgumentNullException.ThrowIfNull(shardFolders);
        if (shardFolders.Count == 0)
        {
            throw new DiagnosisException(DiagnosisError.IncompleteShards, "no shard folders given");
        }

        JournalHeader? first = null;
        var covered = new HashSet<int>();
        int count = 0;
        var records = new Dictionary<string, DiagnosisRecord>(StringComparer.Ordinal);
        foreach (string folder in shardFolders)
        {
            if (!File.Exists(Path.Combine(folder, DiagnosisOutputs.SummaryFile)))
            {
                throw new DiagnosisException(DiagnosisError.IncompleteShards, $"shard folder '{Path.GetFileName(Path.GetFullPath(folder))}' has no finished run (no summary.json): run or resume that shard first");
            }

            (JournalHeader header, IReadOnlyList<DiagnosisRecord> shardRecords) = DiagnosisJournal.ReadFinished(folder);
            first ??= header;
            if (header.Model != first.Model || header.KeyFingerprint != first.KeyFingerprint || header.Identifiers != first.Identifiers)
            {
                throw new DiagnosisException(DiagnosisError.ShardConflict, "the shards come from different runs (model, pseudonym key or --include-identifiers differ)");
            }

            if (header.Input is not null && first.Input is not null && header.Input != first.Input)
            {
                throw new DiagnosisException(DiagnosisError.ShardConflict, "the shards were run on different inputs");
            }

            if (header.Shard == "all")
            {
                covered.Add(-1);
            }
            else
            {
                Sharding.ShardSpec spec = Sharding.ShardSpec.Parse(header.Shard);
                if (count != 0 && count != spec.Count)
                {
                    throw new DiagnosisException(DiagnosisError.ShardConflict, "the shards were cut with different shard counts");
                }

                count = spec.Count;
                covered.Add(spec.Index);
            }

            foreach (DiagnosisRecord r in shardRecords)
            {
                // The journal of a resumed run holds each study once; a repeat can only come from merging overlapping folders.
                if (records.TryGetValue(r.Key, out DiagnosisRecord? seen) && !SameResult(seen, r))
                {
                    throw new DiagnosisException(DiagnosisError.ShardConflict, $"study {r.Key} has two different results");
                }

                records[r.Key] = seen ?? r;
            }
        }

        bool complete = covered.Contains(-1) || (count > 0 && Enumerable.Range(1, count).All(covered.Contains));
        if (!complete)
        {
            int[] missing = [.. Enumerable.Range(1, count).Where(i => !covered.Contains(i))];
            throw new DiagnosisException(DiagnosisError.IncompleteShards, $"shards {string.Join(", ", missing)} of {count} are missing");
        }

        var header2 = first! with { Shard = "all" };
        List<DiagnosisRecord> sorted = [.. records.Values.OrderBy(r => r.Key, StringComparer.Ordinal)];
        using DiagnosisLock folderLock = DiagnosisLock.Acquire(outFolder);
        var journal = new StringBuilder(JsonSerializer.Serialize(header2, DiagnosisJournal.JsonOptions)).Append('\n');
        foreach (DiagnosisRecord r in sorted)
        {
            journal.Append(JsonSerializer.Serialize(r, DiagnosisJournal.JsonOptions)).Append('\n');
        }

        // summary.json goes first and comes back last: a folder counts as a finished run only while its journal is whole.
        File.Delete(Path.Combine(outFolder, DiagnosisOutputs.SummaryFile));
        DiagnosisOutputs.WriteAtomically(Path.Combine(outFolder, DiagnosisJournal.FileName), journal.ToString());
        return DiagnosisOutputs.Write(outFolder, header2, sorted);
    }

    private static bool SameResult(DiagnosisRecord a, DiagnosisRecord b) =>
        DiagnosisCsv.Row(a, includeIdentifiers: true) == DiagnosisCsv.Row(b, includeIdentifiers: true);
}
