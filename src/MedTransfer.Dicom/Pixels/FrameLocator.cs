using System.Buffers.Binary;
using System.Globalization;

namespace MedTransfer.Dicom.Pixels;

/// <summary>
/// Finds the fragments of each frame of encapsulated Pixel Data, as PS3.5 §A.4 says: by the Extended Offset Table
/// (7FE0,0001) when present, else by the Basic Offset Table, else one fragment per frame when the counts agree,
/// else (one frame) all fragments together, else at the fragments that open with a JPEG-family start marker
/// (FF D8 for JPEG and JPEG-LS, FF 4F for a JPEG 2000 codestream).
/// </summary>
/// <remarks>
/// An offset table must have one entry per frame, start at 0, increase, and point at fragment starts. Strict mode
/// rejects a table that does not; tolerant mode records a warning and finds the frames the way it would without a
/// table (real encoders write tables a few bytes off, or with one entry too many). The layout of every frame is
/// worked out once, on the first request, so a bad table is reported the same whichever frame is asked for.
/// </remarks>
internal sealed class FrameLocator
{
    private static readonly DicomTag s_extendedOffsetTable = new(0x7FE0, 0x0001);

    private readonly DicomDataset _dataset;
    private readonly DicomFragments _fragments;
    private readonly int _frameCount;
    private readonly PixelValidationMode _mode;
    private readonly Action<DicomWarning> _warn;
    private (int First, int Count)[]? _layout;

    public FrameLocator(DicomDataset dataset, DicomFragments fragments, int frameCount, PixelValidationMode mode, Action<DicomWarning> warn)
    {
        _dataset = dataset;
        _fragments = fragments;
        _frameCount = frameCount;
        _mode = mode;
        _warn = warn;
    }

    /// <summary>The first fragment of <paramref name="frame"/> and how many fragments it spans.</summary>
    /// <exception cref="DicomFormatException">The fragments cannot be assigned to frames.</exception>
    public (int First, int Count) Locate(int frame)
    {
        _layout ??= Resolve(_fragments.Fragments);
        return _layout[frame];
    }

    private (int First, int Count)[] Resolve(IReadOnlyList<ReadOnlyMemory<byte>> items)
    {
        if (items.Count == 0)
        {
            throw new DicomFormatException(DicomErrorCode.InvalidPixelModule, "encapsulated Pixel Data has no fragments", tag: DicomTag.PixelData);
        }

        ReadOnlyMemory<byte> extended = _dataset.GetBytes(s_extendedOffsetTable);
        (ulong[] Offsets, string Name)? table = extended.Length > 0
            ? (ReadUInt64s(extended.Span), "Extended Offset Table")
            : _fragments.BasicOffsetTable.Count > 0 ? ([.. _fragments.BasicOffsetTable.Select(o => (ulong)o)], "Basic Offset Table") : null;
        if (table is { } t)
        {
            if (TryByOffsets(t.Offsets, items, t.Name, out (int First, int Count)[] layout, out string problem))
            {
                return layout;
            }

            if (_mode == PixelValidationMode.Strict)
            {
                throw new DicomFormatException(DicomErrorCode.InvalidPixelModule, problem, tag: DicomTag.PixelData);
            }

            (int First, int Count)[] recovered = WithoutTable(items, out string how);
            _warn(new DicomWarning(DicomErrorCode.InvalidPixelModule, -1, DicomTag.PixelData, $"{problem}: {how} instead"));
            return recovered;
        }

        return WithoutTable(items, out _);
    }

    private (int First, int Count)[] WithoutTable(IReadOnlyList<ReadOnlyMemory<byte>> items, out string how)
    {
        if (items.Count == _frameCount)
        {
            how = "one fragment per frame is used";
            return [.. Enumerable.Range(0, _frameCount).Select(f => (f, 1))];
        }

        if (_frameCount == 1)
        {
            how = "all fragments form the one frame";
            return [(0, items.Count)];
        }

        // More fragments than frames: frames start where a start-of-image marker opens a fragment.
        var starts = new List<int>();
        for (int i = 0; i < items.Count; i++)
        {
            ReadOnlySpan<byte> f = items[i].Span;
            if (f.Length >= 2 && f[0] == 0xFF && (f[1] == 0xD8 || f[1] == 0x4F))
            {
                starts.Add(i);
            }
        }

        if (starts.Count != _frameCount || starts[0] != 0)
        {
            throw new DicomFormatException(DicomErrorCode.InvalidPixelModule, Invariant($"cannot tell which of {items.Count} fragments belong to which of {_frameCount} frames (no usable offset table)"), tag: DicomTag.PixelData);
        }

        how = "frames start at the fragments that open with a start-of-image marker";
        var layout = new (int First, int Count)[_frameCount];
        for (int f = 0; f < _frameCount; f++)
        {
            int end = f + 1 < starts.Count ? starts[f + 1] : items.Count;
            layout[f] = (starts[f], end - starts[f]);
        }

        return layout;
    }

    private bool TryByOffsets(ulong[] offsets, IReadOnlyList<ReadOnlyMemory<byte>> items, string table, out (int First, int Count)[] layout, out string problem)
    {
        layout = [];
        if (offsets.Length != _frameCount)
        {
            problem = Invariant($"the {table} has {offsets.Length} entries for {_frameCount} frames");
            return false;
        }

        // Offsets count from the first byte of the first fragment's item tag: each item adds 8 header bytes.
        long[] itemStarts = ItemOffsets(items);
        var firsts = new int[offsets.Length];
        for (int f = 0; f < offsets.Length; f++)
        {
            firsts[f] = Array.BinarySearch(itemStarts, (long)Math.Min(offsets[f], long.MaxValue));
            problem = firsts[f] < 0 ? Invariant($"the {table} entry for frame {f} does not point at a fragment")
                : f == 0 && firsts[0] != 0 ? Invariant($"the {table} does not start at the first fragment")
                : f > 0 && firsts[f] <= firsts[f - 1] ? Invariant($"the {table} entries for frames {f - 1} and {f} are out of order")
                : string.Empty;
            if (problem.Length > 0)
            {
                return false;
            }
        }

        layout = new (int First, int Count)[offsets.Length];
        for (int f = 0; f < offsets.Length; f++)
        {
            int end = f + 1 < offsets.Length ? firsts[f + 1] : items.Count;
            layout[f] = (firsts[f], end - firsts[f]);
        }

        problem = string.Empty;
        return true;
    }

    private static long[] ItemOffsets(IReadOnlyList<ReadOnlyMemory<byte>> items)
    {
        var offsets = new long[items.Count];
        long at = 0;
        for (int i = 0; i < items.Count; i++)
        {
            offsets[i] = at;
            at = checked(at + 8 + items[i].Length);
        }

        return offsets;
    }

    private static ulong[] ReadUInt64s(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % 8 != 0)
        {
            throw new DicomFormatException(DicomErrorCode.InvalidLength, "the Extended Offset Table length is not a multiple of 8", tag: s_extendedOffsetTable);
        }

        var values = new ulong[bytes.Length / 8];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadUInt64LittleEndian(bytes.Slice(i * 8, 8));
        }

        return values;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
