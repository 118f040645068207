using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;

namespace MedTransfer.Dicom.Pixels;

/// <summary>
/// RLE Lossless decoding (PS3.5 Annex G), fully bounds-checked: a header of 16 little-endian uint32 (segment
/// count, then 15 offsets), one PackBits-compressed segment per byte plane, most significant byte plane first,
/// sample by sample. A segment offset or a literal run past the buffer, a segment that ends early, or a run that
/// overflows its plane (strict mode) is <see cref="DicomErrorCode.CorruptPixelStream"/>.
/// </summary>
internal static class RleCodec
{
    public const int HeaderLength = 64;
    public const int MaxSegments = 15;

    public static void Decode(PixelModule m, ReadOnlySpan<byte> frame, int frameIndex, Span<byte> destination, PixelValidationMode mode)
    {
        if (frame.Length < HeaderLength)
        {
            throw PixelDecoder.Corrupt(frameIndex, "RLE frame is shorter than its 64-byte header");
        }

        bool bitPacked = m.BitsAllocated == 1;
        int bytesPerSample = bitPacked ? 1 : m.BitsAllocated / 8;
        int expectedSegments = bitPacked ? 1 : m.SamplesPerPixel * bytesPerSample;
        uint segments = BinaryPrimitives.ReadUInt32LittleEndian(frame);
        if (segments != expectedSegments)
        {
            throw PixelDecoder.Corrupt(frameIndex, string.Create(CultureInfo.InvariantCulture, $"RLE header declares {segments} segments; the pixel module needs {expectedSegments}"));
        }

        int pixels = (int)m.PixelsPerFrame;
        int planeLength = bitPacked ? (pixels + 7) / 8 : pixels;
        Span<int> offsets = stackalloc int[MaxSegments + 1];
        for (int s = 0; s < segments; s++)
        {
            uint offset = BinaryPrimitives.ReadUInt32LittleEndian(frame[(4 + (4 * s))..]);
            uint previous = s == 0 ? HeaderLength - 1 : (uint)offsets[s - 1];
            if (offset < HeaderLength || offset >= (uint)frame.Length || offset <= previous)
            {
                throw PixelDecoder.Corrupt(frameIndex, string.Create(CultureInfo.InvariantCulture, $"RLE segment {s} offset {offset} is outside the frame or out of order"));
            }

            offsets[s] = (int)offset;
        }

        offsets[(int)segments] = frame.Length;
        byte[] plane = ArrayPool<byte>.Shared.Rent(planeLength);
        try
        {
            Span<byte> planeSpan = plane.AsSpan(0, planeLength);
            for (int s = 0; s < segments; s++)
            {
                ReadOnlySpan<byte> segment = frame[offsets[s]..offsets[s + 1]];
                UnpackBits(segment, planeSpan, frameIndex, s, mode);
                if (bitPacked)
                {
                    for (int p = 0; p < pixels; p++)
                    {
                        destination[p] = (byte)((planeSpan[p >> 3] >> (p & 7)) & 1);
                    }

                    continue;
                }

                int sample = s / bytesPerSample;
                int byteInSample = bytesPerSample - 1 - (s % bytesPerSample);
                int stride = m.SamplesPerPixel * bytesPerSample;
                int position = (sample * bytesPerSample) + byteInSample;
                for (int p = 0; p < pixels; p++, position += stride)
                {
                    destination[position] = planeSpan[p];
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(plane);
        }
    }

    /// <summary>PackBits (PS3.5 G.3.1): n in 0..127 copies n+1 literal bytes; −127..−1 repeats the next byte 1−n times; −128 is a no-op.</summary>
    private static void UnpackBits(ReadOnlySpan<byte> input, Span<byte> output, int frameIndex, int segment, PixelValidationMode mode)
    {
        int i = 0;
        int o = 0;
        while (o < output.Length)
        {
            if (i >= input.Length)
            {
                throw PixelDecoder.Corrupt(frameIndex, string.Create(CultureInfo.InvariantCulture, $"RLE segment {segment} ends after {o} of {output.Length} bytes"));
            }

            int n = unchecked((sbyte)input[i++]);
            if (n >= 0)
            {
                int count = n + 1;
                if (i + count > input.Length)
                {
                    throw PixelDecoder.Corrupt(frameIndex, string.Create(CultureInfo.InvariantCulture, $"RLE segment {segment}: a literal run reads past the end of the segment"));
                }

                count = Fit(count, output.Length - o, frameIndex, segment, mode);
                input.Slice(i, count).CopyTo(output[o..]);
                i += n + 1;
                o += count;
            }
            else if (n != -128)
            {
                if (i >= input.Length)
                {
                    throw PixelDecoder.Corrupt(frameIndex, string.Create(CultureInfo.InvariantCulture, $"RLE segment {segment}: a replicate run has no byte to repeat"));
                }

                int count = Fit(1 - n, output.Length - o, frameIndex, segment, mode);
                output.Slice(o, count).Fill(input[i++]);
                o += count;
            }
        }

        // A segment holds exactly one byte plane plus at most one padding byte (G.3.1, even segment lengths).
        // More left over means the header's dimensions do not describe this stream.
        if (mode == PixelValidationMode.Strict && input.Length - i > 1)
        {
            throw PixelDecoder.Corrupt(frameIndex, string.Create(CultureInfo.InvariantCulture, $"RLE segment {segment} has {input.Length - i} bytes after its byte plane is complete"));
        }
    }

    private static int Fit(int count, int room, int frameIndex, int segment, PixelValidationMode mode)
    {
        if (count <= room)
        {
            return count;
        }

        if (mode == PixelValidationMode.Strict)
        {
            throw PixelDecoder.Corrupt(frameIndex, string.Create(CultureInfo.InvariantCulture, $"RLE segment {segment}: a run overflows the byte plane"));
        }

        return room;
    }
}
