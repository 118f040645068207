using System.Globalization;
using System.Text;

namespace MedTransfer.Imaging.Index;

/// <summary>
/// The manifest as CSV (RFC 4180): a header row with the columns of <see cref="Columns"/> in that fixed order,
/// CRLF line ends, fields quoted only when needed, numbers in the invariant culture, flags as
/// <c>MissingPatientId|DuplicateSop</c>, partitions as <c>train</c>, <c>val</c>, <c>test</c> or empty.
/// </summary>
internal static class ManifestCsv
{
    /// <summary>The columns, in the order they are written. Reading requires exactly these (in any order).</summary>
    public static IReadOnlyList<string> Columns { get; } =
    [
        "id", "root", "path", "format", "patient", "study", "series", "modality", "manufacturer", "model", "site",
        "label", "sex", "age_band", "view", "width", "height", "depth", "size_bytes", "sha256", "flags", "split",
    ];

    /// <summary>Writes <paramref name="manifest"/> with a header row.</summary>
    public static void Write(Manifest manifest, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(writer);
        CsvTable.WriteRecord(writer, [.. Columns]);
        foreach (ManifestRow row in manifest.Rows)
        {
            CsvTable.WriteRecord(writer, ManifestFields.ToFields(row));
        }
    }

    /// <summary>Reads a manifest written by <see cref="Write"/> (or by hand with the same columns).</summary>
    /// <exception cref="ManifestException">Malformed CSV, a missing, unknown or repeated column, a row with the wrong
    /// number of fields, a value that does not parse, an unsafe path, or a repeated id; names the line and column.</exception>
    public static Manifest Read(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        using IEnumerator<CsvTable.Record> records = CsvTable.Read(reader).GetEnumerator();
        if (!records.MoveNext())
        {
            throw new ManifestException(1, null, "the file is empty (a header row is required)");
        }

        CsvTable.Record header = records.Current;
        int[] order = ColumnOrder(header);
        var rows = new List<ManifestRow>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        while (records.MoveNext())
        {
            CsvTable.Record record = records.Current;
            if (record.Fields.Length != Columns.Count)
            {
                throw new ManifestException(record.Line, null, FormattableString.Invariant($"{record.Fields.Length} field(s), expected {Columns.Count}"));
            }

            var values = new string[Columns.Count];
            for (int i = 0; i < order.Length; i++)
            {
                values[order[i]] = record.Fields[i];
            }

            ManifestRow row = ManifestFields.FromFields(values, record.Line);
            if (!ids.Add(row.Id))
            {
                throw new ManifestException(record.Line, "id", "the id repeats an earlier row");
            }

            rows.Add(row);
        }

        return new Manifest(rows);
    }

    /// <summary>The manifest as one CSV string.</summary>
    public static string ToCsv(Manifest manifest)
    {
        var writer = new StringWriter(CultureInfo.InvariantCulture);
        Write(manifest, writer);
        return writer.ToString();
    }

    private static int[] ColumnOrder(CsvTable.Record header)
    {
        var order = new int[header.Fields.Length];
        var seen = new HashSet<int>();
        for (int i = 0; i < header.Fields.Length; i++)
        {
            string name = header.Fields[i].Trim();
            int index = IndexOf(name);
            if (index < 0)
            {
                throw new ManifestException(header.Line, SafeName(name), "unknown column");
            }

            if (!seen.Add(index))
            {
                throw new ManifestException(header.Line, name, "the column appears twice");
            }

            order[i] = index;
        }

        foreach (string column in Columns)
        {
            if (!seen.Contains(IndexOf(column)))
            {
                throw new ManifestException(header.Line, column, "required column is missing");
            }
        }

        return order;
    }

    private static int IndexOf(string name)
    {
        for (int i = 0; i < Columns.Count; i++)
        {
            if (string.Equals(Columns[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    // A header cell is a column name, not patient data, but keep it short and printable all the same.
    private static string SafeName(string name)
    {
        var builder = new StringBuilder();
        foreach (char c in name.Take(40))
        {
            builder.Append(char.IsControl(c) ? '?' : c);
        }

        return builder.ToString();
    }
}
