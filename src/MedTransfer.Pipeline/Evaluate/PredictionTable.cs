using System.Globalization;
using System.Text.Json;
using MedTransfer.Imaging.Index;

namespace MedTransfer.Pipeline.Evaluate;

/// <summary>A predictions table or model card that cannot be used; names the line and column, never a value.</summary>
public sealed class PredictionTableException : Exception
{
    /// <summary>Creates the exception for the predictions table.</summary>
    public PredictionTableException(int line, string? column, string detail)
        : this("predictions", line, column, detail)
    {
    }

    /// <summary>Creates the exception for <paramref name="source"/> (e.g. "model card card.json"), so the message names the file that is wrong.</summary>
    public PredictionTableException(string source, int line, string? column, string detail)
        : base(line > 0
            ? $"{source} line {line}{(column is null ? string.Empty : $", {Kind(source)} '{column}'")}: {detail}"
            : $"{source}{(column is null ? string.Empty : $", {Kind(source)} '{column}'")}: {detail}")
    {
        Line = line;
        Column = column;
    }

    private static string Kind(string source) => source.StartsWith("model card", StringComparison.Ordinal) ? "field" : "column";

    /// <summary>1-based line, or 0 for the header/file.</summary>
    public int Line { get; }

    /// <summary>The column, or null.</summary>
    public string? Column { get; }
}

/// <summary>
/// Reads `medtransfer evaluate` inputs. Predictions CSV (RFC 4180, header row): required <c>id</c>, <c>label</c>
/// (0/1) and <c>score</c> (or <c>probability</c>); optional <c>patient</c>, <c>site</c>, <c>split</c>
/// (train/val/test) and subgroup columns (<c>sex</c>, <c>age_band</c>, <c>manufacturer</c>, <c>view</c> by
/// default, more by name). A manifest (from `medtransfer ingest`) fills patient, site and subgroups by id.
/// </summary>
public static class PredictionTable
{
    /// <summary>Subgroup columns used when present.</summary>
    public static IReadOnlyList<string> DefaultGroups { get; } = ["sex", "age_band", "manufacturer", "view"];

    /// <summary>
    /// The predictions CSV every command writes (run, train): id, patient, label, score, site, split and the subgroup
    /// columns, with the ids already pseudonymous; the format <see cref="Read"/> and <c>medtransfer evaluate</c> read.
    /// Scores are written in round-trip form, so the file is byte-identical for identical predictions.
    /// </summary>
    public static string Format(IReadOnlyList<PredictionRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var sb = new System.Text.StringBuilder();
        string[] groups = [.. rows.SelectMany(r => r.Subgroups.Keys).Distinct(StringComparer.Ordinal)];
        sb.Append("id,patient,label,score,site,split");
        foreach (string g in groups)
        {
            sb.Append(',').Append(CsvTable.Quote(g));
        }

        sb.Append('\n');
        foreach (PredictionRow r in rows)
        {
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"{CsvTable.Quote(r.Id)},{CsvTable.Quote(r.Patient)},{r.Label},{r.Score.ToString("R", System.Globalization.CultureInfo.InvariantCulture)},{CsvTable.Quote(r.Site)},{CsvTable.Quote(r.Split)}");
            foreach (string g in groups)
            {
                sb.Append(',').Append(CsvTable.Quote(r.Subgroups.GetValueOrDefault(g, string.Empty)));
            }

            sb.Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>Reads the predictions, optionally joined with a manifest.</summary>
    /// <exception cref="PredictionTableException">A required column is missing, a value does not parse, an id repeats.</exception>
    public static IReadOnlyList<PredictionRow> Read(TextReader reader, Manifest? manifest = null, IReadOnlyList<string>? extraGroups = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        CsvTable.Record[] records;
        try
        {
            records = [.. CsvTable.Read(reader)];
        }
        catch (ManifestException ex)
        {
            throw new PredictionTableException(ex.Line, null, "malformed CSV (" + ex.Message + ")");
        }

        if (records.Length == 0)
        {
            throw new PredictionTableException(0, null, "the file is empty");
        }

        string[] header = [.. records[0].Fields.Select(h => h.Trim().ToLowerInvariant())];
        int Column(string name) => Array.IndexOf(header, name);
        int id = Require(Column("id"), "id");
        int label = Require(Column("label"), "label");
        int score = Column("score") >= 0 ? Column("score") : Require(Column("probability"), "score");
        int patient = Column("patient");
        int site = Column("site");
        int split = Column("split");
        string[] groups = [.. DefaultGroups.Concat(extraGroups ?? []).Select(g => g.ToLowerInvariant()).Distinct(StringComparer.Ordinal)];
        foreach (string g in extraGroups ?? [])
        {
            if (Column(g.ToLowerInvariant()) < 0 && manifest is null)
            {
                throw new PredictionTableException(0, g, "the subgroup column asked for is not in the table");
            }
        }

        Dictionary<string, ManifestRow>? byId = manifest?.Rows.ToDictionary(r => r.Id, StringComparer.Ordinal);
        var rows = new List<PredictionRow>(records.Length - 1);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (CsvTable.Record record in records.Skip(1))
        {
            string[] f = record.Fields;
            if (f.Length == 1 && f[0].Length == 0)
            {
                continue;
            }

            if (f.Length != header.Length)
            {
                throw new PredictionTableException(record.Line, null, $"{f.Length} fields where the header has {header.Length}");
            }

            string key = f[id].Trim();
            if (key.Length == 0 || !seen.Add(key))
            {
                throw new PredictionTableException(record.Line, "id", key.Length == 0 ? "empty id" : "the id appears twice");
            }

            if (!int.TryParse(f[label].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int y) || y is not (0 or 1))
            {
                throw new PredictionTableException(record.Line, "label", "the label must be 0 or 1");
            }

            if (!double.TryParse(f[score].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double s) || !double.IsFinite(s))
            {
                throw new PredictionTableException(record.Line, header[score], "not a finite number");
            }

            ManifestRow? m = null;
            if (byId is not null && !byId.TryGetValue(key, out m))
            {
                throw new PredictionTableException(record.Line, "id", "the id is not in the manifest");
            }

            var subgroupValues = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (string g in groups)
            {
                int c = Column(g);
                string value = c >= 0 ? f[c].Trim() : FromManifest(m, g);
                if (c >= 0 || (m is not null && value.Length > 0))
                {
                    subgroupValues[g] = value;
                }
            }

            rows.Add(new PredictionRow(
                key,
                patient >= 0 && f[patient].Trim().Length > 0 ? f[patient].Trim() : m is { Patient.Length: > 0 } ? m.Patient : key,
                y,
                s,
                site >= 0 && f[site].Trim().Length > 0 ? f[site].Trim() : m is { Site.Length: > 0 } ? m.Site : "all",
                split >= 0 ? f[split].Trim() : m is null ? string.Empty : m.Split switch { Partition.Train => "train", Partition.Validation => "val", Partition.Test => "test", _ => string.Empty },
                subgroupValues));
        }

        if (rows.Count == 0)
        {
            throw new PredictionTableException(0, null, "no prediction rows");
        }

        return rows;

        int Require(int index, string name) => index >= 0 ? index : throw new PredictionTableException(0, name, "required column missing (need id, label and score)");
    }

    /// <summary>Reads a model card (JSON with the <see cref="ModelCard"/> property names, camelCase).</summary>
    /// <exception cref="PredictionTableException">The JSON is malformed.</exception>
    public static ModelCard ReadCard(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string source = "model card " + System.IO.Path.GetFileName(path);
        try
        {
            return JsonSerializer.Deserialize<ModelCard>(File.ReadAllText(path), new JsonSerializerOptions { PropertyNameCaseInsensitive = true, ReadCommentHandling = JsonCommentHandling.Skip })
                ?? throw new PredictionTableException(source, 0, null, "the model card is empty (JSON null)");
        }
        catch (JsonException ex)
        {
            // The serializer's own message can quote the text it choked on: give its position and path only.
            throw new PredictionTableException(source, (int)(ex.LineNumber ?? 0) + 1, ex.Path, "not valid JSON, or a value of the wrong type (text, list or object)");
        }
    }

    private static string FromManifest(ManifestRow? m, string group) => m is null ? string.Empty : group switch
    {
        "sex" => m.Sex,
        "age_band" => m.AgeBand,
        "manufacturer" => m.Manufacturer,
        "view" => m.View,
        "model" => m.Model,
        "modality" => m.Modality,
        _ => string.Empty,
    };
}
