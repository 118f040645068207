using System.Buffers.Binary;

namespace MedTransfer.Dicom.Pixels;

/// <summary>
/// The grayscale pipeline of PS3.4 N.2 over one decoded frame, as pure functions: stored values (masked to
/// BitsStored below HighBit, sign-extended for Pixel Representation 1) → Modality LUT (PS3.3 C.11.1) →
/// VOI LUT (C.11.2) → presentation (MONOCHROME1 inverted so that bright means dense), in that order (the order PS3.3 prescribes).
/// </summary>
public static class PixelPipeline
{
    /// <summary>
    /// The stored values of a decoded frame, one per sample (interleaved for colour): <c>byte[]</c> for
    /// BitsAllocated 1 and unsigned 8, <c>sbyte[]</c> signed 8, <c>ushort[]</c>/<c>short[]</c> for 16,
    /// <c>uint[]</c>/<c>int[]</c> for 32. Bits above HighBit and below HighBit − BitsStored + 1 are removed.
    /// </summary>
    /// <param name="module">The pixel module.</param>
    /// <param name="decodedFrame">A frame in the layout <see cref="PixelDecoder"/> produces.</param>
    public static Array StoredValues(PixelModule module, ReadOnlySpan<byte> decodedFrame)
    {
        ArgumentNullException.ThrowIfNull(module);
        int count = SampleCount(module, decodedFrame);
        bool signed = module.IsSigned;
        switch (module.BitsAllocated)
        {
            case 1:
            case 8:
                if (signed && module.BitsAllocated == 8)
                {
                    var s8 = new sbyte[count];
                    for (int i = 0; i < count; i++)
                    {
                        s8[i] = (sbyte)Extract(module, decodedFrame[i]);
                    }

                    return s8;
                }

                var u8 = new byte[count];
                for (int i = 0; i < count; i++)
                {
                    u8[i] = (byte)Extract(module, decodedFrame[i]);
                }

                return u8;
            case 16:
                if (signed)
                {
                    var s16 = new short[count];
                    for (int i = 0; i < count; i++)
                    {
                        s16[i] = (short)Extract(module, BinaryPrimitives.ReadUInt16LittleEndian(decodedFrame[(2 * i)..]));
                    }

                    return s16;
                }

                var u16 = new ushort[count];
                for (int i = 0; i < count; i++)
                {
                    u16[i] = (ushort)Extract(module, BinaryPrimitives.ReadUInt16LittleEndian(decodedFrame[(2 * i)..]));
                }

                return u16;
            default:
                if (signed)
                {
                    var s32 = new int[count];
                    for (int i = 0; i < count; i++)
                    {
                        s32[i] = (int)Extract(module, BinaryPrimitives.ReadUInt32LittleEndian(decodedFrame[(4 * i)..]));
                    }

                    return s32;
                }

                var u32 = new uint[count];
                for (int i = 0; i < count; i++)
                {
                    u32[i] = (uint)Extract(module, BinaryPrimitives.ReadUInt32LittleEndian(decodedFrame[(4 * i)..]));
                }

                return u32;
        }
    }

    /// <summary>The stored values widened to 64-bit integers (one per sample).</summary>
    public static long[] StoredValuesInt64(PixelModule module, ReadOnlySpan<byte> decodedFrame)
    {
        ArgumentNullException.ThrowIfNull(module);
        int count = SampleCount(module, decodedFrame);
        var values = new long[count];
        int bytes = module.BytesPerDecodedSample;
        for (int i = 0; i < count; i++)
        {
            ulong raw = bytes switch
            {
                1 => decodedFrame[i],
                2 => BinaryPrimitives.ReadUInt16LittleEndian(decodedFrame[(2 * i)..]),
                _ => BinaryPrimitives.ReadUInt32LittleEndian(decodedFrame[(4 * i)..]),
            };
            values[i] = Extract(module, raw);
        }

        return values;
    }

    /// <summary>The smallest and largest stored value the module allows (e.g. 0..4095 for 12 unsigned bits, −2048..2047 signed).</summary>
    public static (long Min, long Max) StoredRange(PixelModule module)
    {
        ArgumentNullException.ThrowIfNull(module);
        int bits = Math.Clamp(module.BitsStored, 1, 32);
        return module.IsSigned ? (-(1L << (bits - 1)), (1L << (bits - 1)) - 1) : (0, (1L << bits) - 1);
    }

    /// <summary>Modality values (PS3.3 C.11.1) of a monochrome frame, as 32-bit floats.</summary>
    public static float[] ToModalityFloats(PixelModule module, ReadOnlySpan<byte> decodedFrame, ModalityLut modality)
    {
        ArgumentNullException.ThrowIfNull(modality);
        long[] stored = StoredValuesInt64(module, decodedFrame);
        var result = new float[stored.Length];
        for (int i = 0; i < stored.Length; i++)
        {
            result[i] = (float)modality.Apply(stored[i]);
        }

        return result;
    }

    /// <summary>
    /// Presentation values of a MONOCHROME1/MONOCHROME2 frame where larger always means brighter on a
    /// MONOCHROME2 display (dense tissue bright), so a MONOCHROME1 and a MONOCHROME2 copy of the same image give
    /// the same values (the two encodings of one image must train alike).
    /// </summary>
    /// <param name="module">The pixel module; must be MONOCHROME1 or MONOCHROME2.</param>
    /// <param name="decodedFrame">A frame in the layout <see cref="PixelDecoder"/> produces.</param>
    /// <param name="modality">The Modality LUT stage (<see cref="ModalityLut.Identity"/> when absent).</param>
    /// <param name="voi">
    /// The VOI stage, or null. With a VOI the result is in [0, 1] and MONOCHROME1 becomes 1 − y. Without a VOI
    /// the result is the modality values, and MONOCHROME1 is mirrored about the range the module allows
    /// (<see cref="ModalityLut.OutputRange"/>): y = min + max − x, which keeps the units and does not depend on
    /// the image's own minimum and maximum.
    /// </param>
    /// <param name="invertMonochrome1">False keeps MONOCHROME1 values as they are.</param>
    /// <exception cref="DicomFormatException"><see cref="DicomErrorCode.InvalidPixelModule"/> for colour images (use <see cref="PhotometricConversion.ToRgbFloats"/>).</exception>
    public static float[] ToPresentationFloats(PixelModule module, ReadOnlySpan<byte> decodedFrame, ModalityLut modality, VoiTransform? voi, bool invertMonochrome1 = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(modality);
        if (!module.IsMonochrome)
        {
            throw new DicomFormatException(DicomErrorCode.InvalidPixelModule, "the grayscale pipeline needs MONOCHROME1 or MONOCHROME2; convert colour with PhotometricConversion", tag: DicomTag.PixelData);
        }

        bool invert = invertMonochrome1 && module.Photometric == "MONOCHROME1";
        long[] stored = StoredValuesInt64(module, decodedFrame);
        var result = new float[stored.Length];
        if (voi is null)
        {
            (double lo, double hi) = modality.OutputRange(module);
            for (int i = 0; i < stored.Length; i++)
            {
                double x = modality.Apply(stored[i]);
                result[i] = (float)(invert ? lo + hi - x : x);
            }

            return result;
        }

        for (int i = 0; i < stored.Length; i++)
        {
            double y = voi.Apply(modality.Apply(stored[i]));
            result[i] = (float)(invert ? 1 - y : y);
        }

        return result;
    }

    /// <summary>Masks the stored bits (HighBit − BitsStored + 1 .. HighBit) out of a raw sample and sign-extends them.</summary>
    internal static long Extract(PixelModule module, ulong raw)
    {
        if (module.BitsAllocated == 1)
        {
            return (long)(raw & 1);
        }

        int bits = module.BitsStored;
        int shift = Math.Max(0, module.HighBit - bits + 1);
        ulong mask = bits >= 64 ? ulong.MaxValue : (1UL << bits) - 1;
        long value = (long)((raw >> shift) & mask);
        if (module.IsSigned && bits < 64 && (value & (1L << (bits - 1))) != 0)
        {
            value -= 1L << bits;
        }

        return value;
    }

    private static int SampleCount(PixelModule module, ReadOnlySpan<byte> decodedFrame)
    {
        long needed = module.DecodedFrameLength;
        if (decodedFrame.Length < needed)
        {
            throw new ArgumentException("The decoded frame is shorter than the pixel module requires.", nameof(decodedFrame));
        }

        return checked((int)(module.PixelsPerFrame * module.SamplesPerPixel));
    }
}
