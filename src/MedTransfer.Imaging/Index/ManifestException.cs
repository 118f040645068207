namespace MedTransfer.Imaging.Index;

/// <summary>
/// A manifest or label table that cannot be read: malformed CSV (RFC 4180), a missing or unknown column, or a
/// value that does not parse. Names the line and the column, never the offending value (it may be patient data).
/// </summary>
public sealed class ManifestException : Exception
{
    /// <summary>Creates the exception. <paramref name="detail"/> must not contain values from the file.</summary>
    /// <param name="line">1-based physical line of the CSV (or 1-based row of a JSON manifest); 0 when not tied to a line.</param>
    /// <param name="column">The column name, or null when the problem is not tied to one.</param>
    /// <param name="detail">What is wrong, without values from the file.</param>
    public ManifestException(int line, string? column, string detail)
        : base(Format(line, column, detail))
    {
        Line = line;
        Column = column;
    }

    /// <summary>1-based line (CSV) or row (JSON) where the problem was found; 0 when not tied to a line.</summary>
    public int Line { get; }

    /// <summary>The column involved, or null.</summary>
    public string? Column { get; }

    private static string Format(int line, string? column, string detail)
    {
        string where = line > 0 ? FormattableString.Invariant($"line {line}") : "header";
        return column is null ? $"manifest {where}: {detail}" : $"manifest {where}, column '{column}': {detail}";
    }
}
