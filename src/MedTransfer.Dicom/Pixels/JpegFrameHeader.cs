using System.Buffers.Binary;
using System.Globalization;

namespace MedTransfer.Dicom.Pixels;

/// <summary>
/// A managed walk over the marker segments of a JPEG (ITU-T T.81 B.1) or JPEG-LS (ITU-T T.87) stream up to the
/// frame header (SOFn, or SOF55 for JPEG-LS, which has the same layout), checking its size and component count
/// against the pixel module before any buffer is allocated or any codec runs.
/// </summary>
internal static class JpegFrameHeader
{
    public static void Check(PixelModule m, ReadOnlySpan<byte> stream, int frameIndex)
    {
        (int at, byte marker) = Find(stream, frameIndex);
        int lines = BinaryPrimitives.ReadUInt16BigEndian(stream[(at + 5)..]);
        int samplesPerLine = BinaryPrimitives.ReadUInt16BigEndian(stream[(at + 7)..]);
        int components = stream[at + 9];
        if (lines != m.Rows || samplesPerLine != m.Columns || components != m.SamplesPerPixel)
        {
            throw PixelDecoder.Corrupt(frameIndex, string.Create(CultureInfo.InvariantCulture, $"the JPEG frame is {samplesPerLine}x{lines} with {components} components; the pixel module says {m.Columns}x{m.Rows} with {m.SamplesPerPixel}"));
        }

        CheckEntropyBound(m, marker, stream.Length, frameIndex);
    }

    /// <summary>
    /// The horizontal and vertical sampling factors of each component, in frame-header order (ITU-T T.81 B.2.2:
    /// Hi in the high nibble, Vi in the low nibble of the byte after the component identifier).
    /// </summary>
    /// <exception cref="DicomFormatException">The stream has no complete frame header.</exception>
    public static (int Horizontal, int Vertical)[] SamplingFactors(ReadOnlySpan<byte> stream, int frameIndex)
    {
        (int at, _) = Find(stream, frameIndex);
        int length = BinaryPrimitives.ReadUInt16BigEndian(stream[(at + 2)..]);
        int components = stream[at + 9];
        if (length < 8 + (3 * components))
        {
            throw PixelDecoder.Corrupt(frameIndex, "the JPEG frame header is shorter than its component list");
        }

        var factors = new (int Horizontal, int Vertical)[components];
        for (int c = 0; c < components; c++)
        {
            byte hv = stream[at + 11 + (3 * c)];
            factors[c] = (hv >> 4, hv & 0x0F);
        }

        return factors;
    }

    /// <summary>The offset and marker of the frame header (SOFn, or SOF55 for JPEG-LS), its fixed part present in the stream.</summary>
    private static (int At, byte Marker) Find(ReadOnlySpan<byte> stream, int frameIndex)
    {
        if (stream.Length < 4 || stream[0] != 0xFF || stream[1] != 0xD8)
        {
            throw PixelDecoder.Corrupt(frameIndex, "the JPEG stream does not start with SOI");
        }

        int i = 2;
        while (i + 4 <= stream.Length)
        {
            if (stream[i] != 0xFF)
            {
                throw PixelDecoder.Corrupt(frameIndex, string.Create(CultureInfo.InvariantCulture, $"no JPEG marker at byte {i} of the header"));
            }

            byte marker = stream[i + 1];
            if (marker == 0xFF)
            {
                i++;
                continue;
            }

            if (marker is 0x01 or (>= 0xD0 and <= 0xD7))
            {
                i += 2;
                continue;
            }

            if (marker is 0xDA or 0xD9)
            {
                break;
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(stream[(i + 2)..]);
            if (length < 2 || i + 2 + length > stream.Length)
            {
                throw PixelDecoder.Corrupt(frameIndex, "a JPEG marker segment runs past the end of the stream");
            }

            bool frameHeader = marker is (>= 0xC0 and <= 0xCF) and not (0xC4 or 0xC8 or 0xCC) || marker == 0xF7;
            if (frameHeader)
            {
                if (length < 8)
                {
                    throw PixelDecoder.Corrupt(frameIndex, "the JPEG frame header is truncated");
                }

                return (i, marker);
            }

            i += 2 + length;
        }

        throw PixelDecoder.Corrupt(frameIndex, "the JPEG stream has no frame header before its first scan");
    }

    /// <summary>
    /// Lower bounds on the coded size that every valid stream meets, so a frame whose declared size the stream
    /// cannot possibly hold is rejected before its buffer is allocated: Huffman lossless codes every sample with
    /// at least one bit (T.81 H.1.2); Huffman DCT codes every luminance block with at least a DC code in its first
    /// scan (one bit per 64 pixels); JPEG-LS run mode codes at most 2^15 samples per bit (T.87 A.7.1, J[31] = 15).
    /// Arithmetic-coded JPEG has no useful bound and is not checked.
    /// </summary>
    private static void CheckEntropyBound(PixelModule m, byte marker, long streamLength, int frameIndex)
    {
        long samples = checked(m.PixelsPerFrame * m.SamplesPerPixel);
        long bits = checked(streamLength * 8);
        long maxSamples = marker switch
        {
            0xC3 or 0xC7 => bits,
            0xC0 or 0xC1 or 0xC2 or 0xC5 or 0xC6 => checked(bits * 64 * m.SamplesPerPixel),
            0xF7 => checked(bits * 32768),
            _ => long.MaxValue,
        };
        if (samples > maxSamples)
        {
            throw PixelDecoder.Corrupt(frameIndex, string.Create(CultureInfo.InvariantCulture, $"a stream of {streamLength} bytes cannot code {samples} samples"));
        }
    }
}
