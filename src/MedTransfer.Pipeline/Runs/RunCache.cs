using System.Security.Cryptography;
using System.Text;
using MedTransfer.Imaging.Cache;
using MedTransfer.Imaging.Normalization;
using MedTransfer.Pipeline.Protocols;
using MedTransfer.Training.FineTuning;

namespace MedTransfer.Pipeline.Runs;

/// <summary>What a run's cache served and computed.</summary>
/// <param name="ImagesRead">Normalized images read from the cache.</param>
/// <param name="ImagesNormalized">Images decoded and normalized (and stored).</param>
/// <param name="ActivationsRead">Frozen-backbone activations read from the cache (per image and set).</param>
/// <param name="ActivationsComputed">Activations computed (and stored).</param>
/// <param name="CorruptEntries">Entries whose checksum failed: never used, rebuilt.</param>
/// <param name="ReadOnly">True when another run held the folder, so this one only read from it.</param>
public sealed record CacheUse(int ImagesRead, int ImagesNormalized, int ActivationsRead, int ActivationsComputed, long CorruptEntries, bool ReadOnly);

/// <summary>
/// The run's on-disk cache of normalized X-ray images and frozen-backbone activations (in float32, so a warm run
/// gives the same bits as a cold one), under <c>OUT/private/cache/</c> or a folder shared between runs (<c>--cache DIR</c>).
/// An image is keyed by its file's SHA-256 and by a hash of the recipe, the input size and the build of the code that
/// decodes and normalizes it; activations add a hash of the frozen layers' exact weights, the cut, the thread count
/// and the build of the training code. Anything that changes the bits changes the key, so a cache never serves a
/// stale tensor; a corrupt entry fails its checksum and is recomputed. The folder holds image-derived data: treat it
/// like the images.
/// </summary>
internal sealed class RunCache : IActivationStore, IDisposable
{
    private readonly PreprocessedCache _cache;
    private readonly string _imageDerivation;
    private int _imagesRead;
    private int _imagesNormalized;
    private int _activationsRead;
    private int _activationsComputed;

    private RunCache(PreprocessedCache cache, string imageDerivation, bool readOnly)
    {
        _cache = cache;
        _imageDerivation = imageDerivation;
        ReadOnly = readOnly;
    }

    /// <summary>The cache folder.</summary>
    public string Folder => _cache.Root;

    /// <summary>True when another process writes the folder, so this run reads only.</summary>
    public bool ReadOnly { get; }

    /// <summary>
    /// Opens the cache in <paramref name="folder"/> for images normalized as <paramref name="protocol"/> says. When
    /// another run holds the folder for writing, opens it read-only and says so in <paramref name="warning"/>.
    /// </summary>
    public static RunCache Open(string folder, ExperimentProtocol protocol, out string? warning)
    {
        warning = null;
        XrayRecipe recipe = protocol.Preprocessing.Xray ?? new XrayRecipe();
        int size = protocol.Preprocessing.InputSize;
        string derivation = Hash("medtransfer-image/1", recipe.ComputeHash(), size.ToString(System.Globalization.CultureInfo.InvariantCulture),
            typeof(XrayNormalizer).Assembly.ManifestModule.ModuleVersionId.ToString(), typeof(Dicom.DicomFile).Assembly.ManifestModule.ModuleVersionId.ToString());
        try
        {
            return new RunCache(new PreprocessedCache(folder, new PreprocessedCacheOptions { Precision = CachePrecision.Single }), derivation, readOnly: false);
        }
        catch (IOException) when (Directory.Exists(folder))
        {
            warning = $"the feature cache {folder} is being written by another run: this run reads from it but stores nothing new";
            return new RunCache(new PreprocessedCache(folder, new PreprocessedCacheOptions { ReadOnly = true, Precision = CachePrecision.Single }), derivation, readOnly: true);
        }
    }

    /// <summary>The content key of an image: what its normalized pixels are a function of.</summary>
    public string ContentKey(string fileSha256) => fileSha256.ToLowerInvariant() + ":" + _imageDerivation;

    /// <summary>The normalized image of the file with this SHA-256, or null.</summary>
    public float[]? TryGetImage(string fileSha256, int length)
    {
        if (!IsSha256(fileSha256) || !_cache.TryGet(new CacheKey(fileSha256, "x-" + _imageDerivation), out float[]? pixels, out _) || pixels.Length != length)
        {
            return null;
        }

        Interlocked.Increment(ref _imagesRead);
        return pixels;
    }

    /// <summary>Stores a normalized image (nothing when read-only or the hash is not a SHA-256).</summary>
    public void PutImage(string fileSha256, float[] pixels)
    {
        Interlocked.Increment(ref _imagesNormalized);
        if (!ReadOnly && IsSha256(fileSha256))
        {
            _cache.Put(new CacheKey(fileSha256, "x-" + _imageDerivation), pixels, [pixels.Length]);
        }
    }

    /// <inheritdoc/>
    public bool TryGet(string contentKey, string derivation, out float[]? values, out int[]? shape)
    {
        values = null;
        shape = null;
        if (!TryKey(contentKey, derivation, out CacheKey key) || !_cache.TryGet(key, out values, out shape))
        {
            return false;
        }

        Interlocked.Increment(ref _activationsRead);
        return true;
    }

    /// <inheritdoc/>
    public void Put(string contentKey, string derivation, ReadOnlySpan<float> values, ReadOnlySpan<int> shape)
    {
        Interlocked.Increment(ref _activationsComputed);
        if (!ReadOnly && TryKey(contentKey, derivation, out CacheKey key))
        {
            _cache.Put(key, values, shape);
        }
    }

    /// <summary>What was read and computed so far.</summary>
    public CacheUse Use => new(_imagesRead, _imagesNormalized, _activationsRead, _activationsComputed, _cache.Stats.CorruptDetected, ReadOnly);

    /// <inheritdoc/>
    public void Dispose() => _cache.Dispose();

    // An activation's key: the image's file hash, and one hash of how its pixels and its activations were derived.
    private static bool TryKey(string contentKey, string derivation, out CacheKey key)
    {
        int colon = contentKey.IndexOf(':', StringComparison.Ordinal);
        string sha = colon < 0 ? contentKey : contentKey[..colon];
        if (!IsSha256(sha))
        {
            key = default;
            return false;
        }

        key = new CacheKey(sha, "a-" + Hash(contentKey[(colon + 1)..], derivation));
        return true;
    }

    private static bool IsSha256(string s) => s.Length == 64 && s.All(char.IsAsciiHexDigit);

    private static string Hash(params string[] parts) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", parts))))[..32];
}
