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
        : this("manifest", line, column, detail)
    {
    }

    /// <summary>Creates the exception for another table than a manifest, e.g. "label table labels.csv", so the message names the file at fault.</summary>
    /// <param name="source">What and which file, without a path.</param>
    /// <param name="line">1-based physical line; 0 when not tied to a line.</param>
    /// <param name="column">The column name, or null.</param>
    /// <param name="detail">What is wrong, without values from the file.</param>
    public ManifestException(string source, int line, string? column, string detail)
        : base(Format(source, line, column, detail))
    {
        Line = line;
        Column = column;
        Detail = detail;
    }

    /// <summary>What is wrong (the message without its place).</summary>
    public string Detail { get; }

    /// <summary>The same problem, said of <paramref name="source"/>.</summary>
    internal ManifestException In(string source) => new(source, Line, Column, Detail);

    /// <summary>1-based line (CSV) or row (JSON) where the problem was found; 0 when not tied to a line.</summary>
    public int Line { get; }

    /// <summary>The column involved, or null.</summary>
    public string? Column { get; }

    private static string Format(string source, int line, string? column, string detail)
    {
        string where = line > 0 ? FormattableString.Invariant($"line {line}") : "header";
        return column is null ? $"{source} {where}: {detail}" : $"{source} {where}, column '{column}': {detail}";
    }
}
