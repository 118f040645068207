using System.Buffers.Binary;
using System.IO.Compression;

namespace MedTransfer.Imaging.Index;

/// <summary>
/// Recognises a file by its leading bytes and reads only the image size from its header (pixels are never
/// decoded). Every check is bounded: a header that is not where it must be, or sizes that are not positive,
/// make the file unreadable rather than an exception from deep inside.
/// </summary>
internal static class ImageHeaders
{
    /// <summary>Bytes read from the start of every file to recognise it.</summary>
    public const int ProbeLength = 1024;

    private const int JpegScanLimit = 1 << 20;

    internal enum Kind
    {
        Unknown,
        Dicom,
        Png,
        Jpeg,
        Tiff,
        Nifti,
        Gzip,
    }

    internal readonly record struct Size(int Width, int Height, int Depth);

    public static Kind Recognise(ReadOnlySpan<byte> head)
    {
        if (head.Length >= 132 && head.Slice(128, 4).SequenceEqual("DICM"u8))
        {
            return Kind.Dicom;
        }

        if (head.StartsWith(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }))
        {
            return Kind.Png;
        }

        if (head.StartsWith(new byte[] { 0xFF, 0xD8, 0xFF }))
        {
            return Kind.Jpeg;
        }

        if (head.StartsWith("II*\0"u8) || head.StartsWith("MM\0*"u8))
        {
            return Kind.Tiff;
        }

        if (head.StartsWith(new byte[] { 0x1F, 0x8B }))
        {
            return Kind.Gzip;
        }

        if (IsNifti(head))
        {
            return Kind.Nifti;
        }

        // A bare DICOM data set (no preamble): group 0x0002 or 0x0008 little endian, then an explicit VR or an implicit length.
        if (head.Length >= 8 && head[1] == 0x00 && head[0] is 0x02 or 0x08 && head[3] == 0x00)
        {
            return Kind.Dicom;
        }

        return Kind.Unknown;
    }

    public static bool IsNifti(ReadOnlySpan<byte> head)
    {
        if (head.Length >= 348)
        {
            int le = BinaryPrimitives.ReadInt32LittleEndian(head);
            int be = BinaryPrimitives.ReadInt32BigEndian(head);
            if ((le == 348 || be == 348) && (head.Slice(344, 4).SequenceEqual("n+1\0"u8) || head.Slice(344, 4).SequenceEqual("ni1\0"u8)))
            {
                return true;
            }
        }

        if (head.Length >= 540)
        {
            int le = BinaryPrimitives.ReadInt32LittleEndian(head);
            int be = BinaryPrimitives.ReadInt32BigEndian(head);
            return (le == 540 || be == 540) && (head.Slice(4, 4).SequenceEqual("n+2\0"u8) || head.Slice(4, 4).SequenceEqual("ni2\0"u8));
        }

        return false;
    }

    /// <summary>The first bytes of a gzip stream, decompressed (at most <paramref name="count"/>), or empty when it is not valid gzip.</summary>
    public static byte[] Gunzip(Stream stream, int count)
    {
        stream.Position = 0;
        var buffer = new byte[count];
        try
        {
            using var gzip = new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true);
            int total = 0;
            int n;
            while (total < count && (n = gzip.Read(buffer, total, count - total)) > 0)
            {
                total += n;
            }

            return buffer[..total];
        }
        catch (InvalidDataException)
        {
            return [];
        }
    }

    public static Size? Png(ReadOnlySpan<byte> head)
    {
        if (head.Length < 24 || !head.Slice(12, 4).SequenceEqual("IHDR"u8) || BinaryPrimitives.ReadInt32BigEndian(head[8..]) != 13)
        {
            return null;
        }

        int width = BinaryPrimitives.ReadInt32BigEndian(head[16..]);
        int height = BinaryPrimitives.ReadInt32BigEndian(head[20..]);
        return width > 0 && height > 0 ? new Size(width, height, 1) : null;
    }

    /// <summary>Walks the JPEG markers to the first SOFn (ITU-T T.81 §B.2.2) within the first MiB.</summary>
    public static Size? Jpeg(Stream stream)
    {
        stream.Position = 2;
        Span<byte> two = stackalloc byte[2];
        Span<byte> sof = stackalloc byte[6];
        while (stream.Position < JpegScanLimit)
        {
            int b = stream.ReadByte();
            if (b < 0)
            {
                return null;
            }

            if (b != 0xFF)
            {
                return null;
            }

            int marker;
            do
            {
                marker = stream.ReadByte();
            }
            while (marker == 0xFF);

            if (marker < 0 || marker == 0xD9 || marker == 0xDA)
            {
                return null;
            }

            if (marker is 0x01 or (>= 0xD0 and <= 0xD7))
            {
                continue;
            }

            if (stream.Read(two) != 2)
            {
                return null;
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(two);
            if (length < 2)
            {
                return null;
            }

            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
            {
                if (length < 8 || stream.Read(sof) != 6)
                {
                    return null;
                }

                int height = BinaryPrimitives.ReadUInt16BigEndian(sof[1..]);
                int width = BinaryPrimitives.ReadUInt16BigEndian(sof[3..]);
                return width > 0 ? new Size(width, height, 1) : null;
            }

            stream.Position += length - 2;
        }

        return null;
    }

    /// <summary>ImageWidth (256) and ImageLength (257) of the first IFD (TIFF 6.0 §2).</summary>
    public static Size? Tiff(Stream stream)
    {
        Span<byte> header = stackalloc byte[8];
        stream.Position = 0;
        if (stream.Read(header) != 8)
        {
            return null;
        }

        bool little = header[0] == (byte)'I';
        long ifd = little ? BinaryPrimitives.ReadUInt32LittleEndian(header[4..]) : BinaryPrimitives.ReadUInt32BigEndian(header[4..]);
        if (ifd < 8 || ifd + 2 > stream.Length)
        {
            return null;
        }

        stream.Position = ifd;
        Span<byte> count = stackalloc byte[2];
        if (stream.Read(count) != 2)
        {
            return null;
        }

        int entries = little ? BinaryPrimitives.ReadUInt16LittleEndian(count) : BinaryPrimitives.ReadUInt16BigEndian(count);
        Span<byte> entry = stackalloc byte[12];
        long width = 0;
        long height = 0;
        for (int i = 0; i < entries; i++)
        {
            if (stream.Read(entry) != 12)
            {
                return null;
            }

            int tag = little ? BinaryPrimitives.ReadUInt16LittleEndian(entry) : BinaryPrimitives.ReadUInt16BigEndian(entry);
            int type = little ? BinaryPrimitives.ReadUInt16LittleEndian(entry[2..]) : BinaryPrimitives.ReadUInt16BigEndian(entry[2..]);
            long value = type switch
            {
                3 => little ? BinaryPrimitives.ReadUInt16LittleEndian(entry[8..]) : BinaryPrimitives.ReadUInt16BigEndian(entry[8..]),
                4 => little ? BinaryPrimitives.ReadUInt32LittleEndian(entry[8..]) : BinaryPrimitives.ReadUInt32BigEndian(entry[8..]),
                _ => 0,
            };
            if (tag == 256)
            {
                width = value;
            }
            else if (tag == 257)
            {
                height = value;
            }
        }

        return width is > 0 and <= int.MaxValue && height is > 0 and <= int.MaxValue ? new Size((int)width, (int)height, 1) : null;
    }

    /// <summary>dim[1..3] of a NIfTI-1 (int16 at byte 40) or NIfTI-2 (int64 at byte 16) header.</summary>
    public static Size? Nifti(ReadOnlySpan<byte> head)
    {
        if (!IsNifti(head))
        {
            return null;
        }

        bool little = BinaryPrimitives.ReadInt32LittleEndian(head) is 348 or 540;
        bool two = (little ? BinaryPrimitives.ReadInt32LittleEndian(head) : BinaryPrimitives.ReadInt32BigEndian(head)) == 540;
        long rank = Dim(head, 0, two, little);
        if (rank is < 1 or > 7)
        {
            return null;
        }

        long x = Dim(head, 1, two, little);
        long y = rank >= 2 ? Dim(head, 2, two, little) : 1;
        long z = rank >= 3 ? Dim(head, 3, two, little) : 1;
        return x is > 0 and <= int.MaxValue && y is > 0 and <= int.MaxValue && z is > 0 and <= int.MaxValue ? new Size((int)x, (int)y, (int)z) : null;
    }

    private static long Dim(ReadOnlySpan<byte> head, int i, bool two, bool little) => two
        ? (little ? BinaryPrimitives.ReadInt64LittleEndian(head[(16 + (8 * i))..]) : BinaryPrimitives.ReadInt64BigEndian(head[(16 + (8 * i))..]))
        : (little ? BinaryPrimitives.ReadInt16LittleEndian(head[(40 + (2 * i))..]) : BinaryPrimitives.ReadInt16BigEndian(head[(40 + (2 * i))..]));
}
