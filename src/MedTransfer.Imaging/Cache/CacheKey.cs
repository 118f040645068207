namespace MedTransfer.Imaging.Cache;

/// <summary>
/// What a cached tensor is a function of: the bytes of the source file (its SHA-256, as in the manifest) and the
/// preprocessing recipe (its hash). Either changing makes a new key, so a cache never serves stale tensors.
/// </summary>
public readonly record struct CacheKey
{
    /// <summary>Creates a key.</summary>
    /// <param name="fileSha256">SHA-256 of the source file, 64 hex digits (stored lowercase).</param>
    /// <param name="recipeHash">The recipe's hash: 1 to 128 characters of [0-9A-Za-z._-].</param>
    /// <exception cref="ArgumentException">A part is malformed.</exception>
    public CacheKey(string fileSha256, string recipeHash)
    {
        ArgumentNullException.ThrowIfNull(fileSha256);
        ArgumentNullException.ThrowIfNull(recipeHash);
        if (fileSha256.Length != 64 || !fileSha256.All(char.IsAsciiHexDigit))
        {
            throw new ArgumentException("A file SHA-256 is 64 hexadecimal digits.", nameof(fileSha256));
        }

        if (recipeHash.Length is 0 or > 128 || !recipeHash.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            throw new ArgumentException("A recipe hash is 1 to 128 characters of [0-9A-Za-z._-].", nameof(recipeHash));
        }

        FileSha256 = fileSha256.ToLowerInvariant();
        RecipeHash = recipeHash;
    }

    /// <summary>SHA-256 of the source file, lowercase hex.</summary>
    public string FileSha256 { get; }

    /// <summary>The recipe hash.</summary>
    public string RecipeHash { get; }

    /// <summary>"sha256/recipe".</summary>
    public override string ToString() => FileSha256 + "/" + RecipeHash;

    internal static CacheKey Parse(string text)
    {
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? throw new FormatException("not a cache key") : new CacheKey(text[..slash], text[(slash + 1)..]);
    }
}

/// <summary>Options of <see cref="PreprocessedCache"/>.</summary>
public sealed record PreprocessedCacheOptions
{
    private readonly long _shardTargetBytes = 64L * 1024 * 1024;

    /// <summary>Pending tensors are written as one shard when they reach this many bytes (and on Flush/Dispose). Default 64 MiB.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive.</exception>
    public long ShardTargetBytes
    {
        get => _shardTargetBytes;
        init => _shardTargetBytes = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), "Must be positive.");
    }

    /// <summary>Open for reading only: no writer lock, no clean-up, <see cref="PreprocessedCache.Put"/> throws. Default false.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>How <see cref="PreprocessedCache.Put"/> stores new tensors (entries already stored keep theirs). Default <see cref="CachePrecision.Half"/>.</summary>
    public CachePrecision Precision { get; init; } = CachePrecision.Half;
}

/// <summary>How a <see cref="PreprocessedCache"/> stores floats.</summary>
public enum CachePrecision
{
    /// <summary>IEEE 754 binary16: half the size, relative error ≤ 2⁻¹¹ in the normal range, |x| ≤ 65504.</summary>
    Half,

    /// <summary>float32 bits as given: what is read back equals what was stored.</summary>
    Single,
}

/// <summary>Counters of a <see cref="PreprocessedCache"/> since it was opened.</summary>
/// <param name="Entries">Keys served (committed and pending).</param>
/// <param name="PendingEntries">Keys put but not yet written as a shard (served from memory).</param>
/// <param name="Shards">Committed shard files.</param>
/// <param name="ShardBytes">Bytes of committed shard files.</param>
/// <param name="Hits">TryGet calls that returned a tensor.</param>
/// <param name="Misses">TryGet calls that did not (including corrupt entries).</param>
/// <param name="CorruptDetected">Shards or entries rejected by a checksum or length check (never served).</param>
/// <param name="Puts">Tensors stored.</param>
public sealed record CacheStats(int Entries, int PendingEntries, int Shards, long ShardBytes, long Hits, long Misses, long CorruptDetected, long Puts);
