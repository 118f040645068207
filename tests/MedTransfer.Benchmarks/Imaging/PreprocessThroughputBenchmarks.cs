using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using MedTransfer.Bench.Ingest;
using MedTransfer.Dicom;
using MedTransfer.Dicom.Pixels;
using MedTransfer.Imaging;
using MedTransfer.Imaging.Cache;
using MedTransfer.Imaging.Images;
using MedTransfer.Imaging.Normalization;

namespace MedTransfer.Benchmarks.Imaging;

/// <summary>
/// The `bench preprocess` data path (read, SHA-256, decode, X-ray recipe, fp16 cache write and flush) over a small
/// synthetic CR corpus (<see cref="IngestCorpus"/>: 2048², 12-bit, explicit/implicit VR LE and RLE in rotation), one
/// operation = the whole corpus: <see cref="PreprocessBenchmark.Run"/> as shipped (indexed reader + fast path) against
/// the same loop with per-pixel presentation floats and the general path (the previous reader), in the same run.
/// Divide by <see cref="Files"/> for the per-image cost.
/// Run: dotnet run -c Release --project tests/MedTransfer.Benchmarks -- --filter '*PreprocessThroughputBenchmarks*'.
/// </summary>
[MemoryDiagnoser]
public class PreprocessThroughputBenchmarks
{
    /// <summary>Files in the corpus.</summary>
    public const int Files = 6;

    private readonly XrayRecipe _recipe = new();
    private string _corpus = null!;
    private IReadOnlyList<string> _files = null!;

    [GlobalSetup]
    public void Setup()
    {
        _corpus = Path.Combine(Path.GetTempPath(), "medtransfer-bench-pre-" + Guid.NewGuid().ToString("N"));
        _files = IngestCorpus.Generate(_corpus, Files, 2048, seed: 7);
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_corpus, recursive: true);

    [Benchmark(Baseline = true)]
    public int PerPixelFloats()
    {
        string cacheFolder = NewCacheFolder();
        try
        {
            string recipeHash = _recipe.ComputeHash();
            int done = 0;
            using (var cache = new PreprocessedCache(cacheFolder))
            {
                foreach (string path in _files)
                {
                    byte[] bytes = File.ReadAllBytes(path);
                    var key = new CacheKey(Convert.ToHexStringLower(SHA256.HashData(bytes)), recipeHash);
                    DicomImage image = DicomImage.Create(DicomFile.Read(bytes));
                    bool voi = image.Voi is not null;
                    var source = new SourceImage(
                        new ImageF(image.Module.Columns, image.Module.Rows, image.PresentationFloats(0, voi)),
                        SourceImageFormat.Dicom,
                        image.Module.BitsStored,
                        WasMonochrome1: image.Module.Photometric == "MONOCHROME1",
                        VoiApplied: voi);
                    XrayTensor tensor = XrayNormalizer.Normalize(source, _recipe);
                    cache.Put(key, tensor.Tensor, [tensor.Channels, tensor.Height, tensor.Width]);
                    done++;
                }

                cache.Flush();
            }

            return done;
        }
        finally
        {
            Directory.Delete(cacheFolder, recursive: true);
        }
    }

    [Benchmark]
    public int ShippedPreprocess()
    {
        string cacheFolder = NewCacheFolder();
        try
        {
            return PreprocessBenchmark.Run(_files, _recipe, cacheFolder).Succeeded;
        }
        finally
        {
            Directory.Delete(cacheFolder, recursive: true);
        }
    }

    private static string NewCacheFolder() => Path.Combine(Path.GetTempPath(), "medtransfer-bench-cache-" + Guid.NewGuid().ToString("N"));
}
