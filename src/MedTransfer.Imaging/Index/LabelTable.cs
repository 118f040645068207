using System.Text;

namespace MedTransfer.Imaging.Index;

/// <summary>Which manifest value the key column of a label table holds.</summary>
public enum LabelKey
{
    /// <summary>The sample id (<see cref="ManifestRow.Id"/>).</summary>
    Id,

    /// <summary>The path relative to its root, '/'-separated (<see cref="ManifestRow.Path"/>).</summary>
    Path,

    /// <summary>The patient: the label applies to every sample of the patient.</summary>
    Patient,

    /// <summary>The SOP Instance UID of a DICOM sample.</summary>
    SopInstanceUid,
}

/// <summary>A CSV of labels (and optionally patient and site) to join onto the samples of a scan.</summary>
public sealed record LabelSource
{
    /// <summary>The CSV file (RFC 4180, header row, UTF-8).</summary>
    public required string CsvPath { get; init; }

    /// <summary>The column holding the label. Default "label".</summary>
    public string LabelColumn { get; init; } = "label";

    /// <summary>What the key column holds. Default <see cref="LabelKey.Id"/>.</summary>
    public LabelKey Key { get; init; } = LabelKey.Id;

    /// <summary>The key column's name; null for the default of <see cref="Key"/>: "id", "path", "patient" or "sop".</summary>
    public string? KeyColumn { get; init; }

    /// <summary>
    /// The column that gives the patient of samples whose files carry none (PNG, JPEG, TIFF, NIfTI), when present
    /// in the table. Default "patient".
    /// </summary>
    public string PatientColumn { get; init; } = "patient";

    internal string EffectiveKeyColumn => KeyColumn ?? Key switch
    {
        LabelKey.Path => "path",
        LabelKey.Patient => "patient",
        LabelKey.SopInstanceUid => "sop",
        _ => "id",
    };
}

/// <summary>
/// How the label join went. Unmatched rows are reported by line number only: their keys may be patient identifiers.
/// </summary>
/// <param name="TableRows">Data rows in the label table.</param>
/// <param name="MatchedRows">Rows whose key matched at least one sample.</param>
/// <param name="UnmatchedLines">1-based lines of rows that matched no sample.</param>
/// <param name="LabeledSamples">Samples that received a label.</param>
/// <param name="UnlabeledSamples">Samples without a label row (flagged <see cref="QualityFlags.Unlabeled"/>).</param>
public sealed record LabelJoinReport(int TableRows, int MatchedRows, IReadOnlyList<int> UnmatchedLines, int LabeledSamples, int UnlabeledSamples);

/// <summary>The label table, parsed and keyed.</summary>
internal sealed class LabelTable
{
    private readonly Dictionary<string, List<Entry>> _byKey = new(StringComparer.Ordinal);
    private readonly HashSet<int> _matchedLines = [];

    private LabelTable(LabelSource source, int rows)
    {
        Source = source;
        Rows = rows;
    }

    internal readonly record struct Entry(int Line, string Label, string? Patient, string? Site);

    public LabelSource Source { get; }

    public int Rows { get; }

    public IEnumerable<int> AllLines => _byKey.Values.SelectMany(v => v).Select(e => e.Line);

    /// <exception cref="ManifestException">Malformed CSV or a required column missing.</exception>
    /// <param name="source">The table.</param>
    /// <param name="siteColumn">A site column that must exist (the <c>column:</c> site rule), or null to read an optional "site" column.</param>
    public static LabelTable Load(LabelSource source, string? siteColumn)
    {
        using var reader = new StreamReader(source.CsvPath, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        try
        {
            return Parse(source, siteColumn, reader);
        }
        catch (ManifestException ex)
        {
            throw ex.In("label table " + System.IO.Path.GetFileName(source.CsvPath));
        }
    }

    public static LabelTable Parse(LabelSource source, string? siteColumn, TextReader reader)
    {
        using IEnumerator<CsvTable.Record> records = CsvTable.Read(reader).GetEnumerator();
        if (!records.MoveNext())
        {
            throw new ManifestException(1, null, "the label table is empty (a header row is required)");
        }

        string[] header = [.. records.Current.Fields.Select(h => h.Trim())];
        int keyIndex = Require(header, source.EffectiveKeyColumn);
        int labelIndex = Require(header, source.LabelColumn);
        int patientIndex = Array.IndexOf(header, source.PatientColumn);
        int siteIndex = siteColumn is null ? Array.IndexOf(header, "site") : Require(header, siteColumn);
        var entries = new List<(string Key, Entry Entry)>();
        while (records.MoveNext())
        {
            CsvTable.Record record = records.Current;
            if (record.Fields.Length != header.Length)
            {
                throw new ManifestException(record.Line, null, FormattableString.Invariant($"{record.Fields.Length} field(s), the header has {header.Length}"));
            }

            string key = record.Fields[keyIndex].Trim();
            if (key.Length == 0)
            {
                throw new ManifestException(record.Line, source.EffectiveKeyColumn, "the key is empty");
            }

            string? patient = patientIndex >= 0 && record.Fields[patientIndex].Trim().Length > 0 ? record.Fields[patientIndex].Trim() : null;
            string? site = siteIndex >= 0 && record.Fields[siteIndex].Trim().Length > 0 ? record.Fields[siteIndex].Trim() : null;
            entries.Add((key, new Entry(record.Line, record.Fields[labelIndex].Trim(), patient, site)));
        }

        var table = new LabelTable(source, entries.Count);
        foreach ((string key, Entry entry) in entries)
        {
            if (!table._byKey.TryGetValue(key, out List<Entry>? list))
            {
                list = [];
                table._byKey[key] = list;
            }
            else if (list.FirstOrDefault(e => !string.Equals(e.Label, entry.Label, StringComparison.Ordinal)) is { Line: > 0 } other)
            {
                // Keeping either label would be a silent guess at the truth: refuse, naming both lines (never the key,
                // which may be a patient ID).
                throw new ManifestException(entry.Line, source.LabelColumn, FormattableString.Invariant(
                    $"this row's {source.EffectiveKeyColumn} is also on line {other.Line} with a different label; one sample cannot have two labels: correct or remove one of the rows"));
            }

            list.Add(entry);
        }

        return table;
    }

    /// <summary>The entries for <paramref name="key"/>, marking them matched.</summary>
    public IReadOnlyList<Entry> Match(string key)
    {
        if (key.Length == 0 || !_byKey.TryGetValue(key, out List<Entry>? list))
        {
            return [];
        }

        foreach (Entry entry in list)
        {
            _matchedLines.Add(entry.Line);
        }

        return list;
    }

    public IReadOnlyList<int> UnmatchedLines() => [.. AllLines.Where(l => !_matchedLines.Contains(l)).Order()];

    public int MatchedRows => _matchedLines.Count;

    private static int Require(string[] header, string column)
    {
        int index = Array.IndexOf(header, column);
        return index >= 0 ? index : throw new ManifestException(1, column, "the label table has no such column");
    }
}
