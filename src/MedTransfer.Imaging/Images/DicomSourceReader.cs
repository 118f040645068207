using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using MedTransfer.Dicom;
using MedTransfer.Dicom.Pixels;

namespace MedTransfer.Imaging.Images;

/// <summary>
/// A DICOM frame as a <see cref="SourceImage"/>: the presentation values of <see cref="DicomImage.PresentationFloats"/>
/// (modality LUT → VOI when asked and present → MONOCHROME1 inversion, in the order of PS3.3 C.11) with the pixel
/// spacing of Pixel Spacing (0028,0030), else Imager Pixel Spacing (0018,1164); NaN when neither is present.
/// </summary>
/// <remarks>
/// Pixels are decoded strictly, but the VOI stage is chosen tolerantly: an invalid window (Window Width 0 is common)
/// is dropped and the next VOI source used, else none, and <see cref="SourceImage.VoiWarnings"/> says so. A training or diagnosis run then normalizes the modality values
/// instead of stopping on a header value that does not affect them.
/// </remarks>
internal static class DicomSourceReader
{
    /// <summary>Reads frame <paramref name="frame"/> of <paramref name="file"/>.</summary>
    /// <param name="file">An opened DICOM file.</param>
    /// <param name="frame">Zero-based frame.</param>
    /// <param name="applyVoi">Apply the file's first VOI LUT or window when it has one.</param>
    /// <exception cref="ImageFormatException">The image is not greyscale, its pixel data is malformed, or its codec is not
    /// installed (<see cref="ImageFormatError.Unsupported"/>); the DICOM error is the inner exception.</exception>
    public static SourceImage Read(DicomFile file, int frame = 0, bool applyVoi = true)
    {
        ArgumentNullException.ThrowIfNull(file);
        try
        {
            DicomImage image = DicomImage.Create(file);
            PixelModule module = image.Module;
            if (!module.IsMonochrome)
            {
                throw new ImageFormatException(ImageFormatError.Unsupported, $"DICOM photometric interpretation {module.Photometric} is not greyscale");
            }

            if (frame < 0 || frame >= image.FrameCount)
            {
                throw new ArgumentOutOfRangeException(nameof(frame), frame, $"The image has {image.FrameCount} frame(s).");
            }

            VoiTransform? chosen = applyVoi ? image.SelectVoi(PixelValidationMode.Tolerant) : null;
            bool voi = chosen is not null;
            string[] voiWarnings = [.. image.Warnings.Select(w => w.Detail)];
            DicomDataset ds = file.Dataset;
            double rowSpacing = Spacing(ds, 0);
            double columnSpacing = Spacing(ds, 1);
            bool monochrome1 = module.Photometric == "MONOCHROME1";
            if (IsIndexable(module))
            {
                IndexedImage indexed = ReadIndexed(image, module, frame, chosen, columnSpacing, rowSpacing);
                return SourceImage.FromIndexed(indexed, SourceImageFormat.Dicom, module.BitsStored, monochrome1, voi) with
                {
                    VoiWarnings = voiWarnings,
                    ReaderWarnings = [.. image.Warnings.Skip(voiWarnings.Length).Select(w => w.Detail)],
                };
            }

            float[] pixels = PixelPipeline.ToPresentationFloats(module, image.DecodeFrame(frame), image.Modality, chosen);
            return new SourceImage(
                new ImageF(module.Columns, module.Rows, pixels, columnSpacing, rowSpacing),
                SourceImageFormat.Dicom,
                module.BitsStored,
                WasMonochrome1: monochrome1,
                VoiApplied: voi)
            {
                VoiWarnings = voiWarnings,
                ReaderWarnings = [.. image.Warnings.Skip(voiWarnings.Length).Select(w => w.Detail)],
            };
        }
        catch (CodecUnavailableException ex)
        {
            throw new ImageFormatException(ImageFormatError.Unsupported, "the codec for this DICOM transfer syntax is not installed", -1, ex);
        }
        catch (DicomException ex)
        {
            throw new ImageFormatException(ImageFormatError.Corrupt, "the DICOM pixel data cannot be decoded", -1, ex);
        }
    }

    /// <summary>
    /// One frame in indexed form: index = stored bits (HighBit − BitsStored + 1 .. HighBit) in offset binary (the sign
    /// bit flipped for signed data, so the smallest stored value has index 0), and the value table is the DICOM
    /// layer's own <see cref="PixelPipeline.ToPresentationFloats"/> evaluated on every possible stored value, so each
    /// pixel gets exactly the float the per-pixel pipeline would give it.
    /// </summary>
    internal static IndexedImage ReadIndexed(DicomImage image, PixelModule module, int frame, VoiTransform? voi, double columnSpacing, double rowSpacing)
    {
        byte[] decoded = image.DecodeFrame(frame);
        int bits = module.BitsStored;
        int levels = 1 << bits;
        int shift = Math.Max(0, module.HighBit - bits + 1);
        ushort mask = (ushort)(levels - 1);
        ushort flip = module.IsSigned ? (ushort)(1 << (bits - 1)) : (ushort)0;
        int count = checked((int)module.PixelsPerFrame);
        var indices = new ushort[count];
        if (module.BitsAllocated == 16)
        {
            ExtractIndices(MemoryMarshal.Cast<byte, ushort>(decoded.AsSpan(0, count * 2)), indices, shift, mask, flip);
        }
        else
        {
            for (int i = 0; i < count; i++)
            {
                indices[i] = (ushort)(((decoded[i] >> shift) & mask) ^ flip);
            }
        }

        // Every stored value, written as the raw sample the decoder would produce, through the same pipeline.
        PixelModule table = module with { Rows = 1, Columns = levels, NumberOfFrames = 1 };
        var raw = new byte[levels * module.BytesPerDecodedSample];
        for (int k = 0; k < levels; k++)
        {
            int sample = (k ^ flip) << shift;
            if (module.BitsAllocated == 16)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(raw.AsSpan(2 * k), (ushort)sample);
            }
            else
            {
                raw[k] = (byte)sample;
            }
        }

        float[] values = PixelPipeline.ToPresentationFloats(table, raw, image.Modality, voi);
        return new IndexedImage(module.Columns, module.Rows, indices, values, columnSpacing, rowSpacing, indicesKnownInRange: true);
    }

    // Little-endian host assumed for the reinterpretation of the decoded bytes as 16-bit words.
    private static bool IsIndexable(PixelModule module) =>
        BitConverter.IsLittleEndian && module.SamplesPerPixel == 1 && module.BitsAllocated is 8 or 16 && module.BitsStored >= 1 && module.BitsStored <= module.BitsAllocated && module.HighBit < module.BitsAllocated && module.HighBit >= module.BitsStored - 1;

    private static void ExtractIndices(ReadOnlySpan<ushort> words, Span<ushort> indices, int shift, ushort mask, ushort flip)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && words.Length >= Vector<ushort>.Count)
        {
            var vMask = new Vector<ushort>(mask);
            var vFlip = new Vector<ushort>(flip);
            ReadOnlySpan<Vector<ushort>> source = MemoryMarshal.Cast<ushort, Vector<ushort>>(words);
            Span<Vector<ushort>> destination = MemoryMarshal.Cast<ushort, Vector<ushort>>(indices);
            for (int v = 0; v < source.Length; v++)
            {
                destination[v] = Vector.Xor(Vector.BitwiseAnd(Vector.ShiftRightLogical(source[v], shift), vMask), vFlip);
            }

            i = source.Length * Vector<ushort>.Count;
        }

        for (; i < words.Length; i++)
        {
            indices[i] = (ushort)(((words[i] >> shift) & mask) ^ flip);
        }
    }

    // PS3.3 C.7.6.2.1.1: Pixel Spacing = row spacing \ column spacing (mm); Imager Pixel Spacing (at the detector) as fallback.
    private static double Spacing(DicomDataset ds, int index)
    {
        double? value = ds.Contains(Tag.PixelSpacing) ? ds.GetDouble(Tag.PixelSpacing, index) : ds.GetDouble(Tag.ImagerPixelSpacing, index);
        return value is double v && double.IsFinite(v) && v > 0 ? v : double.NaN;
    }
}
