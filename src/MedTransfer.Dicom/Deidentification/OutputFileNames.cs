namespace MedTransfer.Dicom.Deidentification;

/// <summary>
/// Output file names derived from values, which must never write outside the output folder: whatever the value holds ("../", an absolute
/// path, NUL, 300 characters, a device name), the result is one plain file name made of
/// [0-9A-Za-z._-], and the full path is proven to sit directly inside the output root.
/// </summary>
internal static class OutputFileNames
{
    /// <summary>The longest stem kept; UIDs are at most 64 characters.</summary>
    internal const int MaxStemLength = 100;

    internal const string Extension = ".dcm";

    private static readonly HashSet<string> _reservedWindowsNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "CON", "PRN", "AUX", "NUL",
        "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
        "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    };

    /// <summary>A safe file stem: unsafe characters become '_', leading dots are dropped, length is capped; never empty.</summary>
    internal static string SafeStem(string? value)
    {
        string text = value ?? string.Empty;
        int length = Math.Min(text.Length, MaxStemLength);
        var chars = new char[length];
        for (int i = 0; i < length; i++)
        {
            char c = text[i];
            chars[i] = char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_';
        }

        string stem = new string(chars).TrimStart('.').TrimEnd('.');
        if (stem.Length == 0)
        {
            stem = "unnamed";
        }

        if (_reservedWindowsNames.Contains(stem.Split('.')[0]))
        {
            stem = "_" + stem;
        }

        return stem;
    }

    /// <summary>
    /// The full path of "&lt;safe stem&gt;.dcm" inside <paramref name="outputRoot"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The path would leave the root (cannot happen for a safe stem; checked anyway).</exception>
    internal static string PathInside(string outputRoot, string? value)
    {
        string root = Path.GetFullPath(outputRoot);
        string full = Path.GetFullPath(Path.Combine(root, SafeStem(value) + Extension));
        string? parent = Path.GetDirectoryName(full);
        if (parent is null || !string.Equals(Path.TrimEndingDirectorySeparator(parent), Path.TrimEndingDirectorySeparator(root), StringComparison.Ordinal))
        {
            throw new InvalidOperationException("A derived output file name left the output root.");
        }

        return full;
    }
}
