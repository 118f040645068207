using System.Diagnostics;
using System.Security.Cryptography;
using MedTransfer.Dicom;
using MedTransfer.Imaging.Cache;
using MedTransfer.Imaging.Images;
using MedTransfer.Imaging.Normalization;

namespace MedTransfer.Bench.Ingest;

/// <summary>End-to-end preprocessing throughput: what a training epoch's data path costs, cold and from the cache.</summary>
/// <param name="Images">Images attempted.</param>
/// <param name="Succeeded">Images normalised and cached.</param>
/// <param name="ColdSeconds">Hash + decode + normalise + write to the fp16 cache, all images.</param>
/// <param name="WarmSeconds">Read every tensor back from the memory-mapped cache.</param>
/// <param name="FailuresByReason">Failures per reason.</param>
public sealed record PreprocessMeasurement(int Images, int Succeeded, double ColdSeconds, double WarmSeconds, IReadOnlyDictionary<string, int> FailuresByReason)
{
    /// <summary>Cold images per second (ingest + normalise + cache).</summary>
    public double ColdImagesPerSecond => ColdSeconds > 0 ? Images / ColdSeconds : 0;

    /// <summary>Warm images per second (cache reads, as in later epochs).</summary>
    public double WarmImagesPerSecond => WarmSeconds > 0 ? Succeeded / WarmSeconds : 0;
}

/// <summary>
/// `medtransfer bench preprocess`: for every image file, SHA-256 of the bytes, decode (DICOM/PNG/JPEG/TIFF),
/// the X-ray recipe, and a write into a fresh preprocessed cache keyed by (file hash, recipe hash); then every
/// tensor is read back from the cache. Single-threaded, so the figure is per core.
/// </summary>
public static class PreprocessBenchmark
{
    /// <summary>Runs the measurement with a cache in <paramref name="cacheFolder"/> (emptied first by the caller).</summary>
    public static PreprocessMeasurement Run(IReadOnlyList<string> files, XrayRecipe recipe, string cacheFolder, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(recipe);
        string recipeHash = recipe.ComputeHash();
        var failures = new Dictionary<string, int>(StringComparer.Ordinal);
        var keys = new List<CacheKey>(files.Count);
        using var cache = new PreprocessedCache(cacheFolder);
        var cold = Stopwatch.StartNew();
        for (int i = 0; i < files.Count; i++)
        {
            try
            {
                byte[] bytes = File.ReadAllBytes(files[i]);
                var key = new CacheKey(Convert.ToHexStringLower(SHA256.HashData(bytes)), recipeHash);
                XrayTensor tensor = XrayNormalizer.Normalize(RasterImageReader.Read(bytes), recipe);
                cache.Put(key, tensor.Tensor, [tensor.Channels, tensor.Height, tensor.Width]);
                keys.Add(key);
            }
            catch (Exception ex) when (ex is DicomException or ImageFormatException or IOException or UnauthorizedAccessException)
            {
                string reason = ex switch
                {
                    DicomFormatException d => d.Reason.ToString(),
                    ImageFormatException f => f.Reason.ToString(),
                    _ => ex.GetType().Name,
                };
                failures[reason] = failures.GetValueOrDefault(reason) + 1;
            }

            progress?.Report(i + 1);
        }

        cache.Flush();
        cold.Stop();
        var warm = Stopwatch.StartNew();
        foreach (CacheKey key in keys)
        {
            if (!cache.TryGet(key, out _, out _))
            {
                failures["CacheMiss"] = failures.GetValueOrDefault("CacheMiss") + 1;
            }
        }

        warm.Stop();
        return new PreprocessMeasurement(files.Count, keys.Count, cold.Elapsed.TotalSeconds, warm.Elapsed.TotalSeconds, failures);
    }
}
