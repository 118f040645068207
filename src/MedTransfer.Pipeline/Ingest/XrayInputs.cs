using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using MedTransfer.Imaging.Index;
using MedTransfer.Imaging.Normalization;

namespace MedTransfer.Pipeline.Ingest;

/// <summary>
/// Radiographs of a manifest as model inputs, shared by `run` and `train`: each row normalized once
/// with an X-ray recipe to a single S×S channel (the backbone replicates it), in parallel; rows that
/// fail are skipped with a pseudonymous id and the exception type only (messages may quote paths,
/// which hold patient ids: RELIABILITY D1).
/// </summary>
internal static class XrayInputs
{
    /// <summary>A stable 16-hex pseudonym of an identifier (the same in `run` and `train` outputs, so they join).</summary>
    public static string PseudonymousId(string id) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("medtransfer-run:" + id)))[..16];

    /// <summary>Normalizes every row; returns the images by row id and how many files were missing.</summary>
    public static (Dictionary<string, float[]> Images, int Missing) Normalize(
        IReadOnlyList<ManifestRow> rows,
        IReadOnlyList<string> roots,
        XrayRecipe recipe,
        ConcurrentBag<string> skipped,
        IProgress<(int Done, int Total)>? progress,
        CancellationToken ct)
    {
        var result = new ConcurrentDictionary<string, float[]>(StringComparer.Ordinal);
        int missing = 0;
        int done = 0;
        Parallel.ForEach(rows, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount), CancellationToken = ct }, row =>
        {
            try
            {
                XrayTensor t = XrayNormalizer.NormalizeFile(Manifest.ResolvePath(row, roots), recipe);
                result[row.Id] = t.Tensor.AsSpan(0, t.Height * t.Width).ToArray();
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                Interlocked.Increment(ref missing);
                skipped.Add($"{PseudonymousId(row.Id)}: file not found");
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
            {
                skipped.Add($"{PseudonymousId(row.Id)}: {ex.GetType().Name}");
            }

            int n = Interlocked.Increment(ref done);
            if (n % 16 == 0 || n == rows.Count)
            {
                progress?.Report((n, rows.Count));
            }
        });
        return (new Dictionary<string, float[]>(result, StringComparer.Ordinal), missing);
    }
}
