using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MedTransfer.Dicom;

/// <summary>A value left in its file by the lazy reader: offset and length are recorded, bytes read on first access.</summary>
internal sealed class DeferredValue
{
    private readonly string _path;
    private readonly long _offset;
    private readonly int _swapSize;
    private readonly DicomTag _tag;
    private readonly Lock _gate = new();
    private ReadOnlyMemory<byte>? _loaded;

    public DeferredValue(string path, long offset, long length, int swapSize, DicomTag tag)
    {
        _path = path;
        _offset = offset;
        Length = length;
        _swapSize = swapSize;
        _tag = tag;
    }

    public long Length { get; }

    public bool IsLoaded => _loaded.HasValue;

    public ReadOnlyMemory<byte> Load()
    {
        lock (_gate)
        {
            if (_loaded is { } done)
            {
                return done;
            }

            if (Length > Array.MaxLength)
            {
                throw new DicomFormatException(DicomErrorCode.PixelDataTooLarge, "the value is larger than one in-memory buffer can hold", _offset, _tag);
            }

            byte[] bytes = DeferredFile.ReadExactly(_path, _offset, (int)Length, _tag);
            if (_swapSize > 1)
            {
                ByteSwap.InPlace(bytes, _swapSize);
            }

            _loaded = bytes;
            return bytes;
        }
    }
}

/// <summary>Encapsulated fragments left in their file by the lazy reader.</summary>
internal sealed class DeferredFragments
{
    private readonly string _path;
    private readonly long[] _offsets;
    private readonly int[] _lengths;
    private readonly DicomTag _tag;
    private readonly Lock _gate = new();
    private ReadOnlyMemory<byte>[]? _loaded;

    public DeferredFragments(string path, long[] offsets, int[] lengths, DicomTag tag)
    {
        _path = path;
        _offsets = offsets;
        _lengths = lengths;
        _tag = tag;
        long total = 0;
        foreach (int l in lengths)
        {
            total += l;
        }

        TotalLength = total;
    }

    public int Count => _offsets.Length;

    public long TotalLength { get; }

    public bool IsLoaded => _loaded is not null;

    public ReadOnlyMemory<byte>[] Load()
    {
        lock (_gate)
        {
            if (_loaded is not null)
            {
                return _loaded;
            }

            var result = new ReadOnlyMemory<byte>[_offsets.Length];
            if (_offsets.Length > 0)
            {
                long start = _offsets[0];
                long end = _offsets[^1] + _lengths[^1];
                if (end - start > Array.MaxLength)
                {
                    throw new DicomFormatException(DicomErrorCode.PixelDataTooLarge, "the fragments are larger than one in-memory buffer can hold", start, _tag);
                }

                byte[] region = DeferredFile.ReadExactly(_path, start, (int)(end - start), _tag);
                for (int i = 0; i < _offsets.Length; i++)
                {
                    result[i] = region.AsMemory((int)(_offsets[i] - start), _lengths[i]);
                }
            }

            _loaded = result;
            return result;
        }
    }
}

/// <summary>Positioned reads for deferred values; every I/O failure becomes a <see cref="DicomFormatException"/>.</summary>
internal static class DeferredFile
{
    public static byte[] ReadExactly(string path, long offset, int length, DicomTag tag)
    {
        try
        {
            using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            long fileLength = RandomAccess.GetLength(handle);
            if (offset + length > fileLength)
            {
                throw new DicomFormatException(DicomErrorCode.Truncated, "the file is shorter than when its header was read", offset, tag);
            }

            byte[] bytes = new byte[length];
            int done = 0;
            while (done < length)
            {
                int n = RandomAccess.Read(handle, bytes.AsSpan(done), offset + done);
                if (n <= 0)
                {
                    throw new DicomFormatException(DicomErrorCode.Truncated, "the file ended while reading a deferred value", offset + done, tag);
                }

                done += n;
            }

            return bytes;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DicomFormatException(DicomErrorCode.Unreadable, "the file could not be re-read for a deferred value", offset, tag, ex);
        }
    }
}

/// <summary>Byte-order reversal of fixed-size values (Explicit VR Big Endian to the in-memory little-endian form and back).</summary>
internal static class ByteSwap
{
    public static void InPlace(Span<byte> bytes, int size)
    {
        int whole = bytes.Length - (bytes.Length % size);
        Span<byte> body = bytes[..whole];
        switch (size)
        {
            case 2:
                Span<ushort> u16 = MemoryMarshal.Cast<byte, ushort>(body);
                BinaryPrimitives.ReverseEndianness(u16, u16);
                break;
            case 4:
                Span<uint> u32 = MemoryMarshal.Cast<byte, uint>(body);
                BinaryPrimitives.ReverseEndianness(u32, u32);
                break;
            case 8:
                Span<ulong> u64 = MemoryMarshal.Cast<byte, ulong>(body);
                BinaryPrimitives.ReverseEndianness(u64, u64);
                break;
            default:
                for (int i = 0; i < whole; i += size)
                {
                    body.Slice(i, size).Reverse();
                }

                break;
        }
    }

    /// <summary>The unit of byte swapping for a VR: 2 for US/SS/OW/AT (AT is two 16-bit numbers), 4, 8, or 1 for none.</summary>
    public static int UnitFor(DicomVR vr) => vr == DicomVR.AT ? 2 : Math.Max(1, DicomVRInfo.ValueSize(vr));
}
