using Microsoft.Win32.SafeHandles;

namespace MedTransfer.Dicom;

/// <summary>
/// The bytes the reader parses: either one in-memory buffer, or a file read front to back in growing
/// segments as the parser advances (the header), so that headers are parsed from memory without
/// per-element stream reads while Pixel Data left for lazy loading is never read. Offsets are absolute;
/// callers check every range against <see cref="Length"/> before asking for it. A value that straddles two
/// segments is copied once into its own array; values inside a segment are slices of it.
/// </summary>
internal sealed class DicomByteSource : IDisposable
{
    private const int FirstChunk = 16 * 1024;
    private const int MaxChunk = 1024 * 1024;
    private const int DirectValue = 4096;

    private readonly SafeFileHandle? _file;
    private readonly List<Segment> _segments = [];
    private long _loadedEnd;
    private int _loads;
    private long _deferredFrom = long.MaxValue;

    private DicomByteSource(SafeFileHandle? file, string? path, long length)
    {
        _file = file;
        Path = path;
        Length = length;
    }

    /// <summary>The path of a file-backed source (deferred values re-open it), else null.</summary>
    public string? Path { get; }

    /// <summary>Total number of bytes.</summary>
    public long Length { get; }

    /// <summary>True when values can be left in the file.</summary>
    public bool CanDefer => _file is not null;

    public static DicomByteSource FromMemory(ReadOnlyMemory<byte> bytes)
    {
        var source = new DicomByteSource(null, null, bytes.Length);
        source._segments.Add(new Segment(0, bytes));
        source._loadedEnd = bytes.Length;
        return source;
    }

    /// <summary>Opens a file-backed source; the caller disposes it once parsing is over.</summary>
    public static DicomByteSource FromFile(SafeFileHandle file, string path, long length) => new(file, path, length);

    /// <summary>
    /// <paramref name="count"/> (at most 16) bytes at <paramref name="offset"/>: a slice of a segment, or a copy in
    /// <paramref name="scratch"/> when they straddle segments or lie past a deferred region.
    /// </summary>
    public ReadOnlySpan<byte> Header(long offset, int count, Span<byte> scratch)
    {
        long end = offset + count;
        if (TryFind(offset, end, out ReadOnlyMemory<byte> slice))
        {
            return slice.Span;
        }

        Span<byte> dest = scratch[..count];
        Fill(offset, dest);
        return dest;
    }

    /// <summary>A value: a slice of a segment when it lies inside one, else a fresh copy.</summary>
    public ReadOnlyMemory<byte> Take(long offset, int count)
    {
        long end = offset + count;
        if (count >= DirectValue && end > _loadedEnd && offset < _deferredFrom && offset <= _loadedEnd && end <= Length && _file is not null)
        {
            // A large value running past the loaded part: read its remainder straight into its own array, which
            // then also serves as the next segment (no second read, no straddling copy of a chunk).
            byte[] value = new byte[count];
            int loaded = (int)(_loadedEnd - offset);
            Fill(offset, value.AsSpan(0, loaded));
            ReadAt(_loadedEnd, value.AsSpan(loaded));
            _segments.Add(new Segment(_loadedEnd, value.AsMemory(loaded)));
            _loadedEnd = end;
            return value;
        }

        if (TryFind(offset, end, out ReadOnlyMemory<byte> slice))
        {
            return slice;
        }

        byte[] copy = new byte[count];
        Fill(offset, copy);
        return copy;
    }

    /// <summary>Records that bytes from <paramref name="offset"/> on may hold deferred Pixel Data: no segment is read over them.</summary>
    public void MarkDeferred(long offset)
    {
        if (offset < _deferredFrom)
        {
            _deferredFrom = offset;
        }
    }

    public void Dispose() => _file?.Dispose();

    private bool TryFind(long offset, long end, out ReadOnlyMemory<byte> slice)
    {
        if (end > _loadedEnd && offset < _deferredFrom && _loadedEnd < Length)
        {
            Load(end);
        }

        for (int i = _segments.Count - 1; i >= 0; i--)
        {
            Segment s = _segments[i];
            if (offset >= s.Start)
            {
                if (end <= s.Start + s.Bytes.Length)
                {
                    slice = s.Bytes.Slice((int)(offset - s.Start), (int)(end - offset));
                    return true;
                }

                break;
            }
        }

        slice = default;
        return false;
    }

    /// <summary>Copies a range that straddles segments or lies past the loaded part (then read straight from the file).</summary>
    private void Fill(long offset, Span<byte> dest)
    {
        long end = offset + dest.Length;
        if (end > Length)
        {
            throw new DicomFormatException(DicomErrorCode.Truncated, "a range past the end of the data was requested", offset);
        }

        int done = 0;
        foreach (Segment s in _segments)
        {
            long segEnd = s.Start + s.Bytes.Length;
            long from = offset + done;
            if (done < dest.Length && from >= s.Start && from < segEnd)
            {
                int n = (int)Math.Min(segEnd - from, dest.Length - done);
                s.Bytes.Span.Slice((int)(from - s.Start), n).CopyTo(dest[done..]);
                done += n;
            }
        }

        if (done < dest.Length)
        {
            ReadAt(offset + done, dest[done..]);
        }
    }

    /// <summary>Appends a segment covering at least up to <paramref name="needed"/>; 16 KiB at first, growing up to 1 MiB for long headers.</summary>
    private void Load(long needed)
    {
        if (_file is null || needed > Length)
        {
            throw new DicomFormatException(DicomErrorCode.Truncated, "a range past the end of the data was requested", needed);
        }

        // Small chunks first (a header rarely needs more than a few, and every byte past it is wasted Pixel Data),
        // larger ones once a header proves long.
        long chunk = Math.Min(MaxChunk, (long)FirstChunk << Math.Min(_loads / 4, 6));
        _loads++;
        long target = Math.Min(Length, Math.Max(needed, _loadedEnd + chunk));
        if (target - _loadedEnd > Array.MaxLength)
        {
            throw new DicomFormatException(DicomErrorCode.ValueLengthExceedsData, "a value is larger than one in-memory buffer can hold", _loadedEnd);
        }

        byte[] bytes = new byte[target - _loadedEnd];
        ReadAt(_loadedEnd, bytes);
        _segments.Add(new Segment(_loadedEnd, bytes));
        _loadedEnd = target;
    }

    private void ReadAt(long offset, Span<byte> destination)
    {
        if (_file is null)
        {
            throw new DicomFormatException(DicomErrorCode.Truncated, "a range past the end of the data was requested", offset);
        }

        try
        {
            int done = 0;
            while (done < destination.Length)
            {
                int n = RandomAccess.Read(_file, destination[done..], offset + done);
                if (n <= 0)
                {
                    throw new DicomFormatException(DicomErrorCode.Truncated, "the file ended early (changed while being read?)", offset + done);
                }

                done += n;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DicomFormatException(DicomErrorCode.Unreadable, "the file could not be read", offset, null, ex);
        }
    }

    private readonly record struct Segment(long Start, ReadOnlyMemory<byte> Bytes);
}
