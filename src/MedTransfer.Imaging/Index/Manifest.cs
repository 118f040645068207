using System.Security.Cryptography;
using System.Text;

namespace MedTransfer.Imaging.Index;

/// <summary>
/// A dataset index: one <see cref="ManifestRow"/> per sample, in a deterministic order (root, then path, ordinal).
/// Immutable. <see cref="ManifestHash"/> identifies the data for provenance (reports name exactly which data they used).
/// </summary>
public sealed class Manifest
{
    private string? _hash;

    /// <summary>Creates a manifest over <paramref name="rows"/> (copied).</summary>
    /// <exception cref="ArgumentException">Two rows share an id.</exception>
    public Manifest(IEnumerable<ManifestRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        Rows = [.. rows];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (ManifestRow row in Rows)
        {
            if (!seen.Add(row.Id))
            {
                throw new ArgumentException("Two manifest rows share an id.", nameof(rows));
            }
        }
    }

    /// <summary>The rows.</summary>
    public IReadOnlyList<ManifestRow> Rows { get; }

    /// <summary>
    /// SHA-256 (lowercase hex) over the rows' (id, sha256) pairs sorted by id (ordinal): for each pair the UTF-8
    /// bytes of <c>id + '\t' + sha256 + '\n'</c>. Independent of row order and of every other column, so it names
    /// exactly which bytes were used, whatever labels or splits were attached later.
    /// </summary>
    public string ManifestHash => _hash ??= ComputeHash(Rows);

    /// <summary>A copy with every row passed through <paramref name="update"/>.</summary>
    public Manifest With(Func<ManifestRow, ManifestRow> update)
    {
        ArgumentNullException.ThrowIfNull(update);
        return new Manifest(Rows.Select(update));
    }

    /// <summary>
    /// The absolute path of <paramref name="row"/> under <paramref name="roots"/> (the folders of the scan, in
    /// order), checked to stay inside its root (an edited manifest must not reach other files).
    /// </summary>
    /// <exception cref="ArgumentException">The root index is out of range or the path leaves the root.</exception>
    public static string ResolvePath(ManifestRow row, IReadOnlyList<string> roots)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(roots);
        if (row.Root < 0 || row.Root >= roots.Count)
        {
            throw new ArgumentException("The row's root index is outside the roots given.", nameof(row));
        }

        string root = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(roots[row.Root]));
        string full = System.IO.Path.GetFullPath(System.IO.Path.Combine(root, row.Path));
        if (!full.StartsWith(root + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException("The row's path leaves its root.", nameof(row));
        }

        return full;
    }

    internal static string ComputeHash(IEnumerable<ManifestRow> rows)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (ManifestRow row in rows.OrderBy(r => r.Id, StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(row.Id + "\t" + row.Sha256 + "\n"));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
