using System.Text;

namespace MedTransfer.Imaging.Index;

/// <summary>Saves and loads manifests as files: JSON when the name ends in ".json", CSV otherwise.</summary>
public static class ManifestFile
{
    /// <summary>
    /// Writes <paramref name="manifest"/> atomically, so a crash never leaves half a manifest: a temporary file in the same folder, flushed
    /// to disk, then renamed over <paramref name="path"/>; a crash leaves the previous file or the new one, never half.
    /// </summary>
    public static void Save(Manifest manifest, string path)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(path);
        string full = Path.GetFullPath(path);
        WriteAtomically(full, stream =>
        {
            if (IsJson(full))
            {
                ManifestJson.Write(manifest, stream);
            }
            else
            {
                using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
                ManifestCsv.Write(manifest, writer);
            }
        });
    }

    /// <summary>Reads a manifest saved by <see cref="Save"/>.</summary>
    /// <exception cref="ManifestException">The content is not a valid manifest.</exception>
    public static Manifest Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        if (IsJson(path))
        {
            return ManifestJson.Read(stream);
        }

        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return ManifestCsv.Read(reader);
    }

    internal static void WriteAtomically(string fullPath, Action<Stream> write)
    {
        string directory = Path.GetDirectoryName(fullPath) ?? ".";
        Directory.CreateDirectory(directory);
        string temp = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, fullPath, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    private static bool IsJson(string path) => path.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
}
