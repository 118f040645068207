using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace MedTransfer.Imaging.Cache;

/// <summary>
/// The on-disk tensor cache: float tensors keyed by (file SHA-256, a hash of how they were derived from the file),
/// in shard files that hold many samples each and are memory-mapped for reading. `medtransfer run` keeps its
/// normalized images and its frozen-backbone activations here (full precision), so a second run of a protocol that
/// only changes methods, seeds, selection or evaluation decodes no image and computes no feature.
/// <para>
/// <b>Precision.</b> <see cref="CachePrecision.Single"/> stores float32 bits as given (what comes back is what went
/// in). <see cref="CachePrecision.Half"/> (the default) halves the size with IEEE 754 binary16: 11 significant bits
/// with round-to-nearest-even, so a value in the normal range (6.1e-5 ≤ |x| ≤ 65504) comes back with a relative
/// error of at most 2⁻¹¹ ≈ 4.88e-4; below that (subnormals) the absolute error is at most 2⁻²⁵ ≈ 3.0e-8. Values that
/// binary16 cannot hold (|x| &gt; 65504) are rejected by <see cref="Put"/> rather than silently turned into
/// infinities; NaN and ±∞ are rejected at either precision. Normalised image tensors (z-scores, [0,1], or the ResNet
/// preprocessing's 0–255 minus a mean) are well inside the binary16 range.
/// </para>
/// <para>
/// <b>Durability (a kill must never leave a half-written shard that is read as good).</b> Put tensors are buffered and written as one shard: a temporary file in the
/// cache folder is written, flushed to disk (fsync), renamed to its final name, and only then is a line naming the
/// shard, its length and its header checksum appended to <c>index.log</c> and flushed. A kill at any point leaves
/// either a temporary file (deleted at the next writer open), a shard no journal line names (deleted likewise), or a
/// torn last journal line (ignored and truncated): never an entry that points at incomplete data. Each shard header
/// carries a SHA-256 of itself and of every tensor; a shard whose length or header checksum is wrong is not loaded,
/// and a tensor whose checksum is wrong is not served (it is verified on first read), so the caller rebuilds it and
/// the new copy supersedes it. Directory entries are not fsynced (.NET offers no handle on a directory); a rename lost
/// to a power cut shows up as a missing shard, which is detected the same way.
/// </para>
/// <para>
/// <b>Concurrency.</b> One writer per folder, enforced with an exclusive lock file (a second writer gets an
/// <see cref="IOException"/>); <see cref="Put"/> may be called from several threads (calls are serialised).
/// <see cref="TryGet"/> is thread-safe and lock-free for committed entries; other processes may open the folder with
/// <see cref="PreprocessedCacheOptions.ReadOnly"/> and see every shard committed before they opened it.
/// Superseded entries are not compacted: delete the folder to reclaim their space.
/// </para>
/// </summary>
public sealed class PreprocessedCache : IDisposable
{
    /// <summary>The largest magnitude binary16 holds (<see cref="Half.MaxValue"/>).</summary>
    public const float MaxMagnitude = 65504f;

    /// <summary>The documented bound on the relative error of a normal-range value after the binary16 round trip: 2⁻¹¹.</summary>
    public const double MaxRelativeError = 1.0 / 2048;

    internal const string JournalName = "index.log";
    internal const string LockName = "writer.lock";
    internal const string ShardPrefix = "shard-";
    internal const string ShardSuffix = ".tensors";
    private const int Alignment = 64;

    // 2: each entry names its element size (2 = binary16, 4 = float32). Shards of another version are not read (the
    // cache rebuilds what they held).
    private const int FormatVersion = 2;
    private const int MaxRank = 8;
    private static readonly byte[] _magic = "MTCACHE\n"u8.ToArray();

    private readonly string _root;
    private readonly PreprocessedCacheOptions _options;
    private readonly FileStream? _lock;
    private readonly ConcurrentDictionary<CacheKey, Entry> _committed = new();
    private readonly ConcurrentDictionary<CacheKey, PendingEntry> _pending = new();
    private readonly List<Shard> _shards = [];
    private readonly Lock _writeLock = new();
    private long _pendingBytes;
    private int _nextShard = 1;
    private long _hits;
    private long _misses;
    private long _corrupt;
    private long _puts;
    private bool _disposed;

    /// <summary>Opens (creating when needed) the cache in <paramref name="root"/>.</summary>
    /// <exception cref="IOException">Another writer holds the folder, or it cannot be created.</exception>
    /// <exception cref="DirectoryNotFoundException">Read-only and the folder does not exist.</exception>
    public PreprocessedCache(string root, PreprocessedCacheOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        _root = Path.GetFullPath(root);
        _options = options ?? new PreprocessedCacheOptions();
        if (_options.ReadOnly)
        {
            if (!Directory.Exists(_root))
            {
                throw new DirectoryNotFoundException("The cache folder does not exist.");
            }
        }
        else
        {
            Directory.CreateDirectory(_root);
            try
            {
                _lock = new FileStream(Path.Combine(_root, LockName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException ex)
            {
                throw new IOException("Another writer holds this cache folder (one writer at a time; open readers with ReadOnly).", ex);
            }
        }

        try
        {
            Load();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The cache folder.</summary>
    public string Root => _root;

    /// <summary>Counters since opening.</summary>
    public CacheStats Stats
    {
        get
        {
            lock (_writeLock)
            {
                int entries = _committed.Keys.Union(_pending.Keys).Count();
                return new CacheStats(entries, _pending.Count, _shards.Count, _shards.Sum(s => s.Length),
                    Interlocked.Read(ref _hits), Interlocked.Read(ref _misses), Interlocked.Read(ref _corrupt), Interlocked.Read(ref _puts));
            }
        }
    }

    /// <summary>
    /// The tensor stored under <paramref name="key"/>, as float32 (from binary16), and its shape. False when the key
    /// is absent or its stored bytes fail their checksum (then it is dropped, and counted in <see cref="CacheStats.CorruptDetected"/>).
    /// </summary>
    public bool TryGet(CacheKey key, [NotNullWhen(true)] out float[]? tensor, [NotNullWhen(true)] out int[]? shape)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_pending.TryGetValue(key, out PendingEntry? pending))
        {
            tensor = ToFloat(pending.Data, pending.ElementSize);
            shape = [.. pending.Shape];
            Interlocked.Increment(ref _hits);
            return true;
        }

        if (_committed.TryGetValue(key, out Entry? entry))
        {
            byte[] data = new byte[(long)entry.Count * entry.ElementSize];
            entry.Shard.View.ReadArray(entry.Offset, data, 0, data.Length);
            if (Volatile.Read(ref entry.Verified) == 0)
            {
                if (!SHA256.HashData(data).AsSpan().SequenceEqual(entry.Checksum))
                {
                    _committed.TryRemove(new KeyValuePair<CacheKey, Entry>(key, entry));
                    Interlocked.Increment(ref _corrupt);
                    Interlocked.Increment(ref _misses);
                    tensor = null;
                    shape = null;
                    return false;
                }

                Volatile.Write(ref entry.Verified, 1);
            }

            tensor = ToFloat(data, entry.ElementSize);
            shape = [.. entry.Shape];
            Interlocked.Increment(ref _hits);
            return true;
        }

        Interlocked.Increment(ref _misses);
        tensor = null;
        shape = null;
        return false;
    }

    /// <summary>
    /// Stores <paramref name="tensor"/> (row-major, of <paramref name="shape"/>) under <paramref name="key"/>, replacing
    /// any earlier value. It is served at once from memory and becomes durable with the next shard write
    /// (<see cref="PreprocessedCacheOptions.ShardTargetBytes"/> reached, <see cref="Flush"/> or <see cref="Dispose"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The shape is empty, has more than 8 dimensions, a dimension &lt; 1, or does not match the length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value is NaN or infinite, or (half precision) larger in magnitude than <see cref="MaxMagnitude"/>.</exception>
    /// <exception cref="InvalidOperationException">The cache is read-only.</exception>
    public void Put(CacheKey key, ReadOnlySpan<float> tensor, ReadOnlySpan<int> shape)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_options.ReadOnly)
        {
            throw new InvalidOperationException("The cache was opened read-only.");
        }

        CheckShape(shape, tensor.Length);
        byte[] data = Encode(tensor, _options.Precision);
        var entry = new PendingEntry(data, _options.Precision == CachePrecision.Half ? 2 : 4, shape.ToArray());
        lock (_writeLock)
        {
            if (_pending.TryGetValue(key, out PendingEntry? previous))
            {
                _pendingBytes -= previous.Data.Length;
            }

            _pending[key] = entry;
            _pendingBytes += data.Length;
            Interlocked.Increment(ref _puts);
            if (_pendingBytes >= _options.ShardTargetBytes)
            {
                FlushLocked();
            }
        }
    }

    /// <summary>The cached tensor, or — only when the key is missing or corrupt — the one <paramref name="build"/> makes, stored first.
    /// The result is the stored tensor (binary16-rounded at half precision), exactly what later reads return.</summary>
    public (float[] Tensor, int[] Shape) GetOrAdd(CacheKey key, Func<CacheKey, (float[] Tensor, int[] Shape)> build)
    {
        ArgumentNullException.ThrowIfNull(build);
        if (TryGet(key, out float[]? tensor, out int[]? shape))
        {
            return (tensor, shape);
        }

        (float[] built, int[] builtShape) = build(key);
        Put(key, built, builtShape);
        return TryGet(key, out tensor, out shape) ? (tensor, shape) : throw new InvalidOperationException("A tensor just stored could not be read back.");
    }

    /// <summary>True when <paramref name="key"/> is present (without verifying its checksum).</summary>
    public bool Contains(CacheKey key) => _pending.ContainsKey(key) || _committed.ContainsKey(key);

    /// <summary>Writes pending tensors as a durable shard now.</summary>
    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_writeLock)
        {
            FlushLocked();
        }
    }

    /// <summary>Test hook: called at "temp-written" (before the rename) and "renamed" (before the journal append); a hook that throws simulates a kill there.</summary>
    internal Action<string>? CrashHook { get; set; }

    /// <summary>Test hook: releases the files as a killed process would, without flushing anything.</summary>
    internal void Abandon()
    {
        _disposed = true;
        foreach (Shard shard in _shards)
        {
            shard.Dispose();
        }

        _lock?.Dispose();
    }

    /// <summary>Flushes pending tensors (writer), unmaps shards and releases the writer lock.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        try
        {
            if (!_options.ReadOnly && _lock is not null && !_pending.IsEmpty)
            {
                lock (_writeLock)
                {
                    FlushLocked();
                }
            }
        }
        finally
        {
            _disposed = true;
            foreach (Shard shard in _shards)
            {
                shard.Dispose();
            }

            _lock?.Dispose();
        }
    }

    private static void CheckShape(ReadOnlySpan<int> shape, int length)
    {
        if (shape.Length is 0 or > MaxRank)
        {
            throw new ArgumentException("A shape has 1 to 8 dimensions.", nameof(shape));
        }

        long product = 1;
        foreach (int d in shape)
        {
            if (d < 1)
            {
                throw new ArgumentException("Every dimension must be at least 1.", nameof(shape));
            }

            product *= d;
            if (product > int.MaxValue)
            {
                throw new ArgumentException("The shape is too large.", nameof(shape));
            }
        }

        if (product != length)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The shape holds {product} elements, the tensor {length}."), nameof(shape));
        }
    }

    private static byte[] Encode(ReadOnlySpan<float> tensor, CachePrecision precision)
    {
        for (int i = 0; i < tensor.Length; i++)
        {
            float v = tensor[i];
            if (!float.IsFinite(v) || (precision == CachePrecision.Half && Math.Abs(v) > MaxMagnitude))
            {
                throw new ArgumentOutOfRangeException(nameof(tensor), precision == CachePrecision.Half
                    ? string.Create(CultureInfo.InvariantCulture, $"Element {i} is NaN, infinite or beyond ±65504: binary16 cannot hold it.")
                    : string.Create(CultureInfo.InvariantCulture, $"Element {i} is NaN or infinite."));
            }
        }

        if (precision == CachePrecision.Single)
        {
            return MemoryMarshal.AsBytes(tensor).ToArray();
        }

        var data = new byte[tensor.Length * 2];
        Span<Half> halves = MemoryMarshal.Cast<byte, Half>(data.AsSpan());
        for (int i = 0; i < tensor.Length; i++)
        {
            halves[i] = (Half)tensor[i];
        }

        return data;
    }

    private static float[] ToFloat(byte[] data, int elementSize)
    {
        if (elementSize == 4)
        {
            return MemoryMarshal.Cast<byte, float>(data.AsSpan()).ToArray();
        }

        ReadOnlySpan<Half> halves = MemoryMarshal.Cast<byte, Half>(data.AsSpan());
        var result = new float[halves.Length];
        for (int i = 0; i < halves.Length; i++)
        {
            result[i] = (float)halves[i];
        }

        return result;
    }

    private static string ShardName(int number) => string.Create(CultureInfo.InvariantCulture, $"{ShardPrefix}{number:D6}{ShardSuffix}");

    private static int? ShardNumber(string fileName) =>
        fileName.StartsWith(ShardPrefix, StringComparison.Ordinal) && fileName.EndsWith(ShardSuffix, StringComparison.Ordinal)
        && int.TryParse(fileName.AsSpan(ShardPrefix.Length, fileName.Length - ShardPrefix.Length - ShardSuffix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int n)
            ? n
            : null;

    private void Load()
    {
        bool writer = !_options.ReadOnly;
        if (writer)
        {
            foreach (string temp in Directory.EnumerateFiles(_root, "*.tmp"))
            {
                File.Delete(temp); // a shard write that never completed
            }
        }

        string journal = Path.Combine(_root, JournalName);
        var named = new HashSet<string>(StringComparer.Ordinal);
        if (File.Exists(journal))
        {
            byte[] bytes = File.ReadAllBytes(journal);
            int complete = bytes.AsSpan().LastIndexOf((byte)'\n') + 1;
            if (writer && complete < bytes.Length)
            {
                // A torn last line (killed while appending): cut it so the next line starts clean.
                using var truncate = new FileStream(journal, FileMode.Open, FileAccess.Write, FileShare.None);
                truncate.SetLength(complete);
                truncate.Flush(flushToDisk: true);
            }

            foreach (string line in Encoding.UTF8.GetString(bytes, 0, complete).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                string[] parts = line.Split(' ');
                if (parts.Length != 3 || ShardNumber(parts[0]) is not { } number
                    || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long length) || parts[2].Length != 64)
                {
                    Interlocked.Increment(ref _corrupt);
                    continue;
                }

                named.Add(parts[0]);
                _nextShard = Math.Max(_nextShard, number + 1);
                if (!TryOpenShard(parts[0], length, parts[2]))
                {
                    Interlocked.Increment(ref _corrupt);
                }
            }
        }

        foreach (string file in Directory.EnumerateFiles(_root, ShardPrefix + "*" + ShardSuffix))
        {
            string name = Path.GetFileName(file);
            if (ShardNumber(name) is { } number)
            {
                _nextShard = Math.Max(_nextShard, number + 1);
                if (writer && !named.Contains(name))
                {
                    File.Delete(file); // renamed but never committed to the journal
                }
            }
        }
    }

    private bool TryOpenShard(string name, long expectedLength, string headerSha)
    {
        string path = Path.Combine(_root, name);
        var info = new FileInfo(path);
        if (!info.Exists || info.Length != expectedLength || expectedLength < 32)
        {
            return false;
        }

        List<(CacheKey Key, int[] Shape, long Offset, int Count, int ElementSize, byte[] Checksum)> entries;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            entries = ReadHeader(stream, expectedLength, headerSha);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or FormatException or ArgumentException or EndOfStreamException)
        {
            return false;
        }

        var shard = new Shard(path, expectedLength);
        _shards.Add(shard);
        foreach ((CacheKey key, int[] shape, long offset, int count, int elementSize, byte[] checksum) in entries)
        {
            _committed[key] = new Entry(shard, offset, count, elementSize, shape, checksum);
        }

        return true;
    }

    private static List<(CacheKey, int[], long, int, int, byte[])> ReadHeader(Stream stream, long length, string headerSha)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] fixedPart = reader.ReadBytes(24);
        if (fixedPart.Length != 24 || !fixedPart.AsSpan(0, 8).SequenceEqual(_magic) || BinaryPrimitives.ReadInt32LittleEndian(fixedPart.AsSpan(8)) != FormatVersion)
        {
            throw new InvalidDataException("not a cache shard");
        }

        hash.AppendData(fixedPart);
        int count = BinaryPrimitives.ReadInt32LittleEndian(fixedPart.AsSpan(12));
        long dataStart = BinaryPrimitives.ReadInt64LittleEndian(fixedPart.AsSpan(16));
        if (count < 0 || dataStart < 24 || dataStart > length)
        {
            throw new InvalidDataException("bad shard header");
        }

        var entries = new List<(CacheKey, int[], long, int, int, byte[])>(Math.Min(count, 1 << 16));
        for (int i = 0; i < count; i++)
        {
            if (stream.Position + 2 > dataStart)
            {
                throw new InvalidDataException("bad shard header");
            }

            ushort keyLength = reader.ReadUInt16();
            byte[] keyBytes = reader.ReadBytes(keyLength);
            int rank = reader.ReadByte();
            int elementSize = reader.ReadByte();
            if (keyBytes.Length != keyLength || rank is 0 or > MaxRank || elementSize is not (2 or 4))
            {
                throw new InvalidDataException("bad shard entry");
            }

            int[] shape = new int[rank];
            for (int d = 0; d < rank; d++)
            {
                shape[d] = reader.ReadInt32();
            }

            long offset = reader.ReadInt64();
            long elements = reader.ReadInt64();
            byte[] checksum = reader.ReadBytes(32);
            long product = 1;
            foreach (int d in shape)
            {
                product = d < 1 || product * d > int.MaxValue ? -1 : product * d;
                if (product < 0)
                {
                    throw new InvalidDataException("bad shard entry");
                }
            }

            if (checksum.Length != 32 || elements != product || offset < dataStart || offset + (elements * elementSize) > length)
            {
                throw new InvalidDataException("bad shard entry");
            }

            entries.Add((CacheKey.Parse(Encoding.UTF8.GetString(keyBytes)), shape, offset, (int)elements, elementSize, checksum));
        }

        long headerEnd = stream.Position;
        stream.Position = 24;
        byte[] rest = reader.ReadBytes((int)(headerEnd - 24));
        hash.AppendData(rest);
        byte[] expected = reader.ReadBytes(32);
        byte[] actual = hash.GetHashAndReset();
        if (!actual.AsSpan().SequenceEqual(expected) || !string.Equals(Convert.ToHexStringLower(actual), headerSha, StringComparison.Ordinal))
        {
            throw new InvalidDataException("shard header checksum mismatch");
        }

        return entries;
    }

    private void FlushLocked()
    {
        if (_pending.IsEmpty)
        {
            return;
        }

        var items = _pending.ToArray().OrderBy(kv => kv.Key.ToString(), StringComparer.Ordinal).ToList();
        string name = ShardName(_nextShard);
        string final = Path.Combine(_root, name);
        string temp = Path.Combine(_root, $"{name}.{Guid.NewGuid():N}.tmp");

        // Header: fixed part, entries, SHA-256 of everything before it; data 64-byte aligned after it.
        var header = new MemoryStream();
        var writer = new BinaryWriter(header, Encoding.UTF8, leaveOpen: true);
        writer.Write(_magic);
        writer.Write(FormatVersion);
        writer.Write(items.Count);
        writer.Write(0L); // data start, patched below
        var keyBytes = items.Select(kv => Encoding.UTF8.GetBytes(kv.Key.ToString())).ToList();
        long headerLength = 24 + items.Select((kv, i) => 2 + keyBytes[i].Length + 2 + (4 * kv.Value.Shape.Length) + 8 + 8 + 32).Sum() + 32;
        long dataStart = Align(headerLength);
        long offset = dataStart;
        var offsets = new long[items.Count];
        for (int i = 0; i < items.Count; i++)
        {
            offsets[i] = offset;
            offset = Align(offset + items[i].Value.Data.Length);
        }

        byte[][] checksums = [.. items.Select(kv => SHA256.HashData(kv.Value.Data))];
        header.Position = 16;
        writer.Write(dataStart);
        header.Position = 24;
        for (int i = 0; i < items.Count; i++)
        {
            PendingEntry e = items[i].Value;
            writer.Write((ushort)keyBytes[i].Length);
            writer.Write(keyBytes[i]);
            writer.Write((byte)e.Shape.Length);
            writer.Write((byte)e.ElementSize);
            foreach (int d in e.Shape)
            {
                writer.Write(d);
            }

            writer.Write(offsets[i]);
            writer.Write((long)(e.Data.Length / e.ElementSize));
            writer.Write(checksums[i]);
        }

        writer.Flush();
        byte[] headerSha = SHA256.HashData(header.GetBuffer().AsSpan(0, (int)header.Length));
        writer.Write(headerSha);
        writer.Flush();

        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                stream.Write(header.GetBuffer(), 0, (int)header.Length);
                for (int i = 0; i < items.Count; i++)
                {
                    stream.Position = offsets[i];
                    stream.Write(items[i].Value.Data);
                }

                stream.SetLength(offset);
                stream.Flush(flushToDisk: true);
            }

            CrashHook?.Invoke("temp-written");
            File.Move(temp, final, overwrite: false);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }

        CrashHook?.Invoke("renamed");

        // The data is durable under its final name: only now does the journal say so.
        using (var journal = new FileStream(Path.Combine(_root, JournalName), FileMode.Append, FileAccess.Write, FileShare.Read))
        {
            journal.Write(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{name} {offset} {Convert.ToHexStringLower(headerSha)}\n")));
            journal.Flush(flushToDisk: true);
        }

        _nextShard++;
        var shard = new Shard(final, offset);
        _shards.Add(shard);
        for (int i = 0; i < items.Count; i++)
        {
            PendingEntry e = items[i].Value;
            _committed[items[i].Key] = new Entry(shard, offsets[i], e.Data.Length / e.ElementSize, e.ElementSize, e.Shape, checksums[i]) { Verified = 1 };
            _pending.TryRemove(items[i]);
        }

        _pendingBytes = _pending.Values.Sum(p => (long)p.Data.Length);
    }

    private static long Align(long value) => (value + Alignment - 1) / Alignment * Alignment;

    // Data: the stored bytes (binary16 or float32, little-endian as this machine writes them).
    private sealed record PendingEntry(byte[] Data, int ElementSize, int[] Shape);

    private sealed class Entry(Shard shard, long offset, int count, int elementSize, int[] shape, byte[] checksum)
    {
        public int Verified;

        public int ElementSize { get; } = elementSize;

        public Shard Shard { get; } = shard;

        public long Offset { get; } = offset;

        public int Count { get; } = count;

        public int[] Shape { get; } = shape;

        public byte[] Checksum { get; } = checksum;
    }

    /// <summary>A committed shard, mapped read-only on first use.</summary>
    private sealed class Shard(string path, long length) : IDisposable
    {
        private readonly Lazy<(MemoryMappedFile File, MemoryMappedViewAccessor View)> _map = new(() =>
        {
            MemoryMappedFile file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            return (file, file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read));
        }, LazyThreadSafetyMode.ExecutionAndPublication);

        public long Length { get; } = length;

        public MemoryMappedViewAccessor View => _map.Value.View;

        public void Dispose()
        {
            if (_map.IsValueCreated)
            {
                _map.Value.View.Dispose();
                _map.Value.File.Dispose();
            }
        }
    }
}
