namespace MedTransfer.Pipeline.Protocols;

/// <summary>
/// Where each field of a loaded protocol was written (file, line, column), so that a problem found only once the
/// data is read — a site without images, a one-class target — is reported at the field that causes it, in the same
/// "file:line:col: field: message" form as the loader's own errors. Locations do not take part in equality or the
/// hash: two protocols that say the same thing are equal wherever they were written.
/// </summary>
public sealed class ProtocolLocations
{
    private readonly IReadOnlyDictionary<string, (int Line, int Column)> _fields;

    internal ProtocolLocations(string file, IReadOnlyDictionary<string, (int Line, int Column)> fields)
    {
        File = file;
        _fields = fields;
    }

    /// <summary>No locations (a protocol built in code).</summary>
    public static ProtocolLocations None { get; } = new("protocol", new Dictionary<string, (int, int)>());

    /// <summary>The protocol file's name as given.</summary>
    public string File { get; }

    /// <summary>
    /// An error at <paramref name="field"/> (a dotted path such as "data.target_sites"), placed at the field's value
    /// when the file gives it, else at its nearest written parent, else at the file.
    /// </summary>
    public ProtocolError ErrorAt(string field, string message)
    {
        ArgumentNullException.ThrowIfNull(field);
        for (string path = field; path.Length > 0; path = Parent(path))
        {
            if (_fields.TryGetValue(path, out (int Line, int Column) at))
            {
                return new ProtocolError(File, at.Line, at.Column, field, message);
            }
        }

        return new ProtocolError(File, 0, 0, field, message);
    }

    /// <summary>A <see cref="ProtocolException"/> with one <see cref="ErrorAt"/> error.</summary>
    public ProtocolException Refuse(string field, string message) => new([ErrorAt(field, message)]);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is ProtocolLocations;

    /// <inheritdoc/>
    public override int GetHashCode() => 0;

    private static string Parent(string path)
    {
        int dot = path.LastIndexOfAny(['.', '[']);
        return dot < 0 ? string.Empty : path[..dot];
    }
}
