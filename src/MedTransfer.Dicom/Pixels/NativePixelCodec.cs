using System.Buffers.Binary;
using System.Globalization;

namespace MedTransfer.Dicom.Pixels;

/// <summary>Uncompressed Pixel Data (PS3.5 §8.1.1, PS3.3 C.7.6.3): bit-packed, byte, word and double-word samples.</summary>
internal static class NativePixelCodec
{
    public static void Decode(PixelModule m, bool bigEndian, ReadOnlySpan<byte> pixelData, int frameIndex, Span<byte> destination, PixelValidationMode mode)
    {
        CheckLength(m, pixelData.Length, frameIndex, mode);
        long startBit = checked(m.FrameLengthBits * frameIndex);
        if (m.BitsAllocated == 1)
        {
            UnpackBits(pixelData, startBit, destination);
            return;
        }

        int bytesPerSample = m.BitsAllocated / 8;
        ReadOnlySpan<byte> frame = pixelData.Slice((int)(startBit / 8), (int)m.FrameLengthBytes);
        if (m.IsNativeYbr422)
        {
            Upsample422(m, frame, frameIndex, destination, bytesPerSample);
        }
        else if (m.SamplesPerPixel == 3 && m.PlanarConfiguration == 1)
        {
            Interleave(frame, destination, (int)m.PixelsPerFrame, bytesPerSample);
        }
        else
        {
            frame.CopyTo(destination);
        }

        if (bigEndian && bytesPerSample > 1)
        {
            SwapInPlace(destination, bytesPerSample);
        }
    }

    /// <summary>
    /// The Pixel Data value must hold the requested frame (both modes) and, in strict mode, exactly the declared
    /// frames plus at most the even-length padding byte (a short value must never be read past its end). Runs before anything is allocated.
    /// </summary>
    public static void CheckLength(PixelModule m, long length, int frameIndex, PixelValidationMode mode)
    {
        long frameBits = m.FrameLengthBits;
        long startBit = checked(frameBits * frameIndex);
        long endByte = checked((startBit + frameBits + 7) / 8);
        if (length < endByte)
        {
            throw new DicomFormatException(DicomErrorCode.InvalidPixelModule, string.Create(CultureInfo.InvariantCulture, $"pixel data holds {length} bytes; frame {frameIndex} needs {endByte}"), tag: DicomTag.PixelData);
        }

        if (mode == PixelValidationMode.Strict)
        {
            long total = m.TotalNativeBytes;
            long padded = total + (total & 1);
            if (length < total || length > padded)
            {
                throw new DicomFormatException(DicomErrorCode.InvalidPixelModule, string.Create(CultureInfo.InvariantCulture, $"pixel data holds {length} bytes; the pixel module declares {total}"), tag: DicomTag.PixelData);
            }
        }
    }

    /// <summary>Bits are packed least significant bit first (PS3.5 §8.1.1, Figure D-2); frames may begin mid-byte.</summary>
    private static void UnpackBits(ReadOnlySpan<byte> pixelData, long startBit, Span<byte> destination)
    {
        long bit = startBit;
        for (int i = 0; i < destination.Length; i++, bit++)
        {
            destination[i] = (byte)((pixelData[(int)(bit >> 3)] >> (int)(bit & 7)) & 1);
        }
    }

    /// <summary>Colour-by-plane (planar configuration 1): all first samples, then all second, then all third.</summary>
    private static void Interleave(ReadOnlySpan<byte> frame, Span<byte> destination, int pixels, int bytesPerSample)
    {
        int plane = pixels * bytesPerSample;
        for (int s = 0; s < 3; s++)
        {
            ReadOnlySpan<byte> source = frame.Slice(s * plane, plane);
            for (int p = 0; p < pixels; p++)
            {
                source.Slice(p * bytesPerSample, bytesPerSample).CopyTo(destination.Slice(((p * 3) + s) * bytesPerSample, bytesPerSample));
            }
        }
    }

    /// <summary>
    /// YBR_FULL_422 (PS3.3 C.7.6.3.1.2): each pair of pixels is stored Y1 Y2 Cb Cr; the shared chroma is
    /// replicated to both pixels, giving YBR_FULL.
    /// </summary>
    private static void Upsample422(PixelModule m, ReadOnlySpan<byte> frame, int frameIndex, Span<byte> destination, int bytesPerSample)
    {
        if ((m.Columns & 1) != 0)
        {
            throw new DicomFormatException(DicomErrorCode.InvalidPixelModule, string.Create(CultureInfo.InvariantCulture, $"frame {frameIndex}: YBR_FULL_422 needs an even number of columns"), tag: DicomTag.PixelData);
        }

        int pairs = (int)(m.PixelsPerFrame / 2);
        int b = bytesPerSample;
        for (int i = 0; i < pairs; i++)
        {
            ReadOnlySpan<byte> group = frame.Slice(i * 4 * b, 4 * b);
            Span<byte> output = destination.Slice(i * 6 * b, 6 * b);
            group[..b].CopyTo(output[..b]);
            group.Slice(2 * b, 2 * b).CopyTo(output.Slice(b, 2 * b));
            group.Slice(b, b).CopyTo(output.Slice(3 * b, b));
            group.Slice(2 * b, 2 * b).CopyTo(output.Slice(4 * b, 2 * b));
        }
    }

    private static void SwapInPlace(Span<byte> data, int bytesPerSample)
    {
        if (bytesPerSample == 2)
        {
            Span<ushort> words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(data);
            BinaryPrimitives.ReverseEndianness(words, words);
        }
        else
        {
            Span<uint> words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(data);
            BinaryPrimitives.ReverseEndianness(words, words);
        }
    }
}
