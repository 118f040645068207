using System.Buffers.Binary;
using System.IO.Compression;

namespace MedTransfer.Imaging.Images;

/// <summary>
/// A managed PNG decoder (ISO/IEC 15948 / W3C PNG 2nd ed.) for greyscale, greyscale+alpha, RGB and RGBA at 8 and
/// 16 bits per sample, interlaced or not. It exists because 16-bit greyscale is the common export of radiographs
/// and general-purpose decoders (SkiaSharp among them) reduce it to 8 bits. Palette and sub-byte images are left to
/// SkiaSharp (<see cref="CanDecode"/> is false for them). Every length comes from the file and is checked before it
/// is used; chunk CRCs are verified; all failures are <see cref="ImageFormatException"/>.
/// </summary>
internal static class PngDecoder
{
    private static readonly byte[] s_signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    // Adam7 passes: x start, y start, x step, y step (PNG spec §8.2).
    private static readonly (int X0, int Y0, int Dx, int Dy)[] s_adam7 =
        [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];

    private static readonly uint[] s_crcTable = BuildCrcTable();

    internal static bool IsPng(ReadOnlySpan<byte> bytes) => bytes.Length >= 8 && bytes[..8].SequenceEqual(s_signature);

    /// <summary>Reads only IHDR and tells whether this decoder handles the colour type and bit depth.</summary>
    internal static bool CanDecode(ReadOnlySpan<byte> bytes)
    {
        Header h = ReadHeader(bytes);
        return h.BitDepth is 8 or 16 && h.ColourType is 0 or 2 or 4 or 6;
    }

    internal static SourceImage Decode(ReadOnlySpan<byte> bytes, ImageReadOptions options)
    {
        Header h = ReadHeader(bytes);
        if (h.BitDepth is not (8 or 16) || h.ColourType is not (0 or 2 or 4 or 6))
        {
            throw new ImageFormatException(ImageFormatError.Unsupported, $"PNG colour type {h.ColourType} at {h.BitDepth} bits is not handled by the managed decoder", 24);
        }

        options.CheckSize(h.Width, h.Height, 16);
        int channels = h.ColourType switch { 0 => 1, 2 => 3, 4 => 2, _ => 4 };
        int bytesPerSample = h.BitDepth / 8;
        int bpp = channels * bytesPerSample;

        byte[] compressed = CollectIdat(bytes);
        long expected = 0;
        foreach ((int pw, int ph) in PassSizes(h))
        {
            if (pw > 0 && ph > 0)
            {
                expected = checked(expected + (ph * (1 + ((long)pw * bpp))));
            }
        }

        if (expected > Array.MaxLength)
        {
            throw new ImageFormatException(ImageFormatError.TooLarge, "the decompressed image would exceed the largest buffer", 16);
        }

        byte[] raw = Inflate(compressed, (int)expected);

        // Greyscale samples are integers: keep them as indices into an identity table (the X-ray recipe's exact fast path).
        bool grey = h.ColourType is 0 or 4;
        var indices = grey ? new ushort[(long)h.Width * h.Height] : [];
        var pixels = grey ? [] : new float[(long)h.Width * h.Height];
        int at = 0;
        int pass = 0;
        foreach ((int pw, int ph) in PassSizes(h))
        {
            (int x0, int y0, int dx, int dy) = h.Interlaced ? s_adam7[pass] : (0, 0, 1, 1);
            pass++;
            if (pw == 0 || ph == 0)
            {
                continue;
            }

            int rowBytes = pw * bpp;
            var previous = new byte[rowBytes];
            var current = new byte[rowBytes];
            for (int y = 0; y < ph; y++)
            {
                byte filter = raw[at];
                raw.AsSpan(at + 1, rowBytes).CopyTo(current);
                at += 1 + rowBytes;
                Unfilter(filter, current, previous, bpp);
                int row = y0 + (y * dy);
                for (int x = 0; x < pw; x++)
                {
                    long i = ((long)row * h.Width) + x0 + (x * dx);
                    if (grey)
                    {
                        indices[i] = (ushort)Sample(current.AsSpan(x * bpp, bpp), 0, bytesPerSample);
                    }
                    else
                    {
                        pixels[i] = Luma(current.AsSpan(x * bpp, bpp), h.ColourType, bytesPerSample);
                    }
                }

                (previous, current) = (current, previous);
            }
        }

        if (grey)
        {
            float[] identity = new float[1 << h.BitDepth];
            for (int k = 0; k < identity.Length; k++)
            {
                identity[k] = k;
            }

            return SourceImage.FromIndexed(new IndexedImage(h.Width, h.Height, indices, identity, double.NaN, double.NaN, indicesKnownInRange: true), SourceImageFormat.Png, h.BitDepth);
        }

        return new SourceImage(new ImageF(h.Width, h.Height, pixels), SourceImageFormat.Png, h.BitDepth, ConvertedFromColour: h.ColourType is 2 or 6);
    }

    private static float Luma(ReadOnlySpan<byte> pixel, int colourType, int bytesPerSample)
    {
        // Alpha (the last channel of types 4 and 6) is ignored: radiographs are opaque; see RasterImageReader.
        if (colourType is 0 or 4)
        {
            return Sample(pixel, 0, bytesPerSample);
        }

        return (float)RasterImageReader.Bt601Luma(Sample(pixel, 0, bytesPerSample), Sample(pixel, 1, bytesPerSample), Sample(pixel, 2, bytesPerSample));
    }

    private static int Sample(ReadOnlySpan<byte> pixel, int index, int bytesPerSample) =>
        bytesPerSample == 2 ? BinaryPrimitives.ReadUInt16BigEndian(pixel[(index * 2)..]) : pixel[index];

    private static void Unfilter(byte filter, Span<byte> row, ReadOnlySpan<byte> prior, int bpp)
    {
        switch (filter)
        {
            case 0:
                break;
            case 1:
                for (int i = bpp; i < row.Length; i++)
                {
                    row[i] += row[i - bpp];
                }

                break;
            case 2:
                for (int i = 0; i < row.Length; i++)
                {
                    row[i] += prior[i];
                }

                break;
            case 3:
                for (int i = 0; i < row.Length; i++)
                {
                    int left = i >= bpp ? row[i - bpp] : 0;
                    row[i] += (byte)((left + prior[i]) >> 1);
                }

                break;
            case 4:
                for (int i = 0; i < row.Length; i++)
                {
                    int a = i >= bpp ? row[i - bpp] : 0;
                    int b = prior[i];
                    int c = i >= bpp ? prior[i - bpp] : 0;
                    row[i] += (byte)Paeth(a, b, c);
                }

                break;
            default:
                throw new ImageFormatException(ImageFormatError.Corrupt, $"unknown PNG filter type {filter}");
        }
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a);
        int pb = Math.Abs(p - b);
        int pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static IEnumerable<(int Width, int Height)> PassSizes(Header h)
    {
        if (!h.Interlaced)
        {
            yield return (h.Width, h.Height);
            yield break;
        }

        foreach ((int x0, int y0, int dx, int dy) in s_adam7)
        {
            yield return ((h.Width - x0 + dx - 1) / dx, (h.Height - y0 + dy - 1) / dy);
        }
    }

    private static byte[] Inflate(byte[] compressed, int expected)
    {
        var raw = new byte[expected];
        try
        {
            using var input = new MemoryStream(compressed, writable: false);
            using var zlib = new ZLibStream(input, CompressionMode.Decompress);
            int read = 0;
            while (read < expected)
            {
                int n = zlib.Read(raw, read, expected - read);
                if (n == 0)
                {
                    throw new ImageFormatException(ImageFormatError.Truncated, $"the image data inflates to {read} of {expected} bytes");
                }

                read += n;
            }
        }
        catch (InvalidDataException ex)
        {
            throw new ImageFormatException(ImageFormatError.Corrupt, "the zlib stream of the image data is invalid", -1, ex);
        }

        return raw;
    }

    private static byte[] CollectIdat(ReadOnlySpan<byte> bytes)
    {
        using var idat = new MemoryStream();
        int at = 8;
        bool sawIdat = false;
        while (true)
        {
            if (bytes.Length - at < 12)
            {
                if (sawIdat)
                {
                    // IEND missing after complete IDAT data: the inflater decides whether the data is complete.
                    return idat.ToArray();
                }

                throw new ImageFormatException(ImageFormatError.Truncated, "the file ends before the image data", at);
            }

            uint length = BinaryPrimitives.ReadUInt32BigEndian(bytes[at..]);
            if (length > int.MaxValue || length > bytes.Length - at - 12)
            {
                throw new ImageFormatException(length > int.MaxValue ? ImageFormatError.Corrupt : ImageFormatError.Truncated, $"chunk length {length} runs past the end of the file", at);
            }

            ReadOnlySpan<byte> typeAndData = bytes.Slice(at + 4, 4 + (int)length);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(bytes[(at + 8 + (int)length)..]);
            if (Crc32(typeAndData) != crc)
            {
                throw new ImageFormatException(ImageFormatError.Corrupt, "chunk CRC mismatch", at);
            }

            ReadOnlySpan<byte> type = typeAndData[..4];
            if (type.SequenceEqual("IDAT"u8))
            {
                idat.Write(typeAndData[4..]);
                sawIdat = true;
            }
            else if (type.SequenceEqual("IEND"u8))
            {
                if (!sawIdat)
                {
                    throw new ImageFormatException(ImageFormatError.Corrupt, "the PNG has no IDAT chunk", at);
                }

                return idat.ToArray();
            }

            at += 12 + (int)length;
        }
    }

    private static Header ReadHeader(ReadOnlySpan<byte> bytes)
    {
        if (!IsPng(bytes))
        {
            throw new ImageFormatException(ImageFormatError.UnknownFormat, "not a PNG signature", 0);
        }

        if (bytes.Length < 33)
        {
            throw new ImageFormatException(ImageFormatError.Truncated, "the file ends inside the PNG header", bytes.Length);
        }

        if (BinaryPrimitives.ReadUInt32BigEndian(bytes[8..]) != 13 || !bytes.Slice(12, 4).SequenceEqual("IHDR"u8))
        {
            throw new ImageFormatException(ImageFormatError.Corrupt, "the first chunk is not a 13-byte IHDR", 8);
        }

        if (Crc32(bytes.Slice(12, 17)) != BinaryPrimitives.ReadUInt32BigEndian(bytes[29..]))
        {
            throw new ImageFormatException(ImageFormatError.Corrupt, "IHDR CRC mismatch", 8);
        }

        uint width = BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]);
        uint height = BinaryPrimitives.ReadUInt32BigEndian(bytes[20..]);
        byte depth = bytes[24];
        byte colour = bytes[25];
        if (width == 0 || height == 0 || width > int.MaxValue || height > int.MaxValue)
        {
            throw new ImageFormatException(ImageFormatError.Corrupt, "the PNG size is zero or exceeds 2^31-1", 16);
        }

        if (bytes[26] != 0 || bytes[27] != 0 || bytes[28] > 1)
        {
            throw new ImageFormatException(ImageFormatError.Corrupt, "unknown compression, filter or interlace method", 26);
        }

        return new Header((int)width, (int)height, depth, colour, bytes[28] == 1);
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFFu;
        foreach (byte b in data)
        {
            c = s_crcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        }

        return c ^ 0xFFFFFFFFu;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }

    private readonly record struct Header(int Width, int Height, byte BitDepth, byte ColourType, bool Interlaced);
}
