using System.Buffers.Binary;
using System.Globalization;

namespace MedTransfer.Dicom.Pixels;

/// <summary>
/// RLE Lossless encoding (PS3.5 Annex G) of one frame, for the writer and for generated sample data.
/// The inverse of the RLE decoder behind <see cref="PixelDecoder"/>.
/// </summary>
public static class RleEncoder
{
    /// <summary>
    /// Encodes one decoded frame (the layout <see cref="PixelDecoder"/> produces: interleaved samples,
    /// little-endian, <see cref="PixelModule.BytesPerDecodedSample"/> bytes per sample; 0/1 bytes for BitsAllocated 1)
    /// as an RLE frame: the 64-byte header, then one segment per byte plane, most significant plane first
    /// (PS3.5 G.2). Each row is encoded separately (G.3.1: runs never cross a row) and each segment is padded
    /// to an even length.
    /// </summary>
    /// <param name="module">The pixel module. RLE stores full-resolution samples (PS3.5 A.4.2 uses YBR_FULL, not YBR_FULL_422).</param>
    /// <param name="decodedFrame">Exactly <see cref="PixelModule.DecodedFrameLength"/> bytes.</param>
    /// <returns>The RLE frame, the content of one Pixel Data fragment.</returns>
    /// <exception cref="ArgumentException">The frame length does not match the module, or too many segments would be needed.</exception>
    public static byte[] EncodeFrame(PixelModule module, ReadOnlySpan<byte> decodedFrame)
    {
        ArgumentNullException.ThrowIfNull(module);
        module.Validate();
        if (decodedFrame.Length != module.DecodedFrameLength)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The frame has {decodedFrame.Length} bytes; the module needs {module.DecodedFrameLength}."), nameof(decodedFrame));
        }

        bool bitPacked = module.BitsAllocated == 1;
        int bytesPerSample = module.BytesPerDecodedSample;
        int segments = bitPacked ? 1 : module.SamplesPerPixel * bytesPerSample;
        int rows = module.Rows;
        int columns = module.Columns;
        int pixels = (int)module.PixelsPerFrame;

        using var output = new MemoryStream();
        output.Write(new byte[RleCodec.HeaderLength]);
        byte[] header = new byte[RleCodec.HeaderLength];
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)segments);
        int rowLength = bitPacked ? (columns + 7) / 8 : columns;
        byte[] plane = bitPacked ? new byte[(pixels + 7) / 8] : new byte[pixels];
        for (int s = 0; s < segments; s++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4 + (4 * s)), checked((uint)output.Length));
            if (bitPacked)
            {
                Array.Clear(plane);
                for (int p = 0; p < pixels; p++)
                {
                    if (decodedFrame[p] != 0)
                    {
                        plane[p >> 3] |= (byte)(1 << (p & 7));
                    }
                }

                PackBits(plane, output);
            }
            else
            {
                int sample = s / bytesPerSample;
                int byteInSample = bytesPerSample - 1 - (s % bytesPerSample);
                int stride = module.SamplesPerPixel * bytesPerSample;
                for (int p = 0, position = (sample * bytesPerSample) + byteInSample; p < pixels; p++, position += stride)
                {
                    plane[p] = decodedFrame[position];
                }

                for (int r = 0; r < rows; r++)
                {
                    PackBits(plane.AsSpan(r * rowLength, rowLength), output);
                }
            }

            if ((output.Length & 1) != 0)
            {
                output.WriteByte(0);
            }
        }

        byte[] result = output.ToArray();
        header.CopyTo(result, 0);
        return result;
    }

    /// <summary>PackBits: runs of 3 or more equal bytes become replicate runs (at most 128), the rest literal runs (at most 128).</summary>
    private static void PackBits(ReadOnlySpan<byte> data, MemoryStream output)
    {
        int i = 0;
        while (i < data.Length)
        {
            int run = 1;
            while (i + run < data.Length && run < 128 && data[i + run] == data[i])
            {
                run++;
            }

            if (run >= 3)
            {
                output.WriteByte(unchecked((byte)(sbyte)(1 - run)));
                output.WriteByte(data[i]);
                i += run;
                continue;
            }

            int start = i;
            int literal = 0;
            while (i < data.Length && literal < 128)
            {
                if (i + 2 < data.Length && data[i] == data[i + 1] && data[i] == data[i + 2])
                {
                    break;
                }

                i++;
                literal++;
            }

            output.WriteByte((byte)(literal - 1));
            output.Write(data.Slice(start, literal));
        }
    }
}
