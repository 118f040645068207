namespace MedTransfer.Dicom.Deidentification;

/// <summary>
/// Where a path really leads, so that two spellings of one place ("a/x.dcm", "./a/x.dcm", "a/../a/x.dcm", a path
/// through a symbolic link) compare equal. De-identification must never write over the identifiable original, and a
/// plain string comparison would miss every one of those spellings.
/// </summary>
internal static class PathIdentity
{
    /// <summary>As many link hops as Linux follows before it gives up (ELOOP).</summary>
    private const int MaxLinkHops = 40;

    private static readonly StringComparison s_comparison =
        OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> name the same file or folder (which need not exist yet).</summary>
    public static bool Same(string a, string b) => string.Equals(Resolve(a), Resolve(b), s_comparison);

    /// <summary>True when <paramref name="inner"/> lies strictly inside the folder <paramref name="outer"/>.</summary>
    public static bool Inside(string inner, string outer) =>
        Resolve(inner).StartsWith(Resolve(outer) + Path.DirectorySeparatorChar, s_comparison);

    /// <summary>The absolute path without "." or ".." and with every symbolic link on the way replaced by its target.</summary>
    public static string Resolve(string path)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        int hops = 0;
        while (true)
        {
            string root = Path.GetPathRoot(full) ?? string.Empty;
            string[] parts = full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
            string current = root;
            string? restart = null;
            for (int i = 0; i < parts.Length && restart is null; i++)
            {
                string next = Path.Combine(current, parts[i]);
                string? target = LinkTarget(next);
                if (target is not null && hops < MaxLinkHops)
                {
                    // Resolve the target again from the top: it may itself run through links.
                    hops++;
                    string resolved = Path.GetFullPath(target, current);
                    restart = Path.Combine([resolved, .. parts[(i + 1)..]]);
                }

                current = next;
            }

            if (restart is null)
            {
                return full;
            }

            full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(restart));
        }
    }

    private static string? LinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // An unreadable link is compared as spelled.
            return null;
        }
    }
}
