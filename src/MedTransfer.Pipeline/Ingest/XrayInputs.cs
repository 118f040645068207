using System.Collections.Concurrent;
using MedTransfer.Imaging.Index;
using MedTransfer.Imaging.Normalization;
using MedTransfer.Pipeline.Diagnose;

namespace MedTransfer.Pipeline.Ingest;

/// <summary>
/// Radiographs of a manifest as model inputs, shared by `run` and `train`: each row normalized once
/// with an X-ray recipe to a single S×S channel (the backbone replicates it), in parallel; rows that
/// fail are skipped and named by a keyed pseudonym of their id with the exception type only (messages
/// may quote paths, and paths can hold patient names). With a run cache, an image whose file (by SHA-256) was
/// normalized the same way before is read from it instead of decoded.
/// </summary>
internal static class XrayInputs
{
    /// <summary>Normalizes every row; returns the images by row id and how many files were missing.</summary>
    public static (Dictionary<string, float[]> Images, int Missing) Normalize(
        IReadOnlyList<ManifestRow> rows,
        IReadOnlyList<string> roots,
        XrayRecipe recipe,
        StudyPseudonyms pseudonyms,
        ICollection<string> skipped,
        IProgress<(int Done, int Total)>? progress,
        CancellationToken ct,
        Runs.RunCache? cache = null)
    {
        var result = new ConcurrentDictionary<string, float[]>(StringComparer.Ordinal);
        var failures = new ConcurrentBag<string>();
        int missing = 0;
        int done = 0;
        int length = recipe.Resize.Size * recipe.Resize.Size;
        Parallel.ForEach(rows, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount), CancellationToken = ct }, row =>
        {
            try
            {
                if (cache?.TryGetImage(row.Sha256, length) is { } cached)
                {
                    result[row.Id] = cached;
                }
                else
                {
                    XrayTensor t = XrayNormalizer.NormalizeFile(Manifest.ResolvePath(row, roots), recipe);
                    float[] pixels = t.Tensor.AsSpan(0, t.Height * t.Width).ToArray();
                    cache?.PutImage(row.Sha256, pixels);
                    result[row.Id] = pixels;
                }
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                Interlocked.Increment(ref missing);
                failures.Add($"normalize: image {pseudonyms.Of("image", row.Id)} (sha256 {Prefix(row.Sha256)}): file not found");
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
            {
                failures.Add($"normalize: image {pseudonyms.Of("image", row.Id)} (sha256 {Prefix(row.Sha256)}): {ex.GetType().Name}");
            }

            int n = Interlocked.Increment(ref done);
            if (n % 16 == 0 || n == rows.Count)
            {
                progress?.Report((n, rows.Count));
            }
        });
        foreach (string f in failures.Order(StringComparer.Ordinal))
        {
            skipped.Add(f);
        }

        return (new Dictionary<string, float[]>(result, StringComparer.Ordinal), missing);
    }

    private static string Prefix(string sha256) => sha256.Length >= 12 ? sha256[..12] : sha256;
}
