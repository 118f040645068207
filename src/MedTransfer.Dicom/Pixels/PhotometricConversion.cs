using System.Globalization;

namespace MedTransfer.Dicom.Pixels;

/// <summary>Red, green and blue Palette Color Lookup Tables (PS3.3 C.7.6.3.1.5–6, (0028,1101–1103) and (0028,1201–1203)).</summary>
/// <param name="Red">The red table.</param>
/// <param name="Green">The green table.</param>
/// <param name="Blue">The blue table.</param>
internal sealed record PaletteColorLut(LookupTable Red, LookupTable Green, LookupTable Blue);

/// <summary>
/// Colour frames to RGB (PS3.3 C.7.6.3.1.2), as floats in [0, 1], interleaved R, G, B per pixel.
/// </summary>
internal static class PhotometricConversion
{
    /// <summary>
    /// Converts a decoded colour frame to RGB floats in [0, 1]. RGB passes through (scaled by 2^BitsStored − 1);
    /// YBR_FULL uses the equations of C.7.6.3.1.2 with the chroma offset 2^(BitsStored − 1) and clamping;
    /// YBR_FULL_422 must already have been upsampled by the decoder (its decoded interpretation is YBR_FULL);
    /// PALETTE COLOR maps each stored value through the three tables, scaled by 2^bits − 1 of each table.
    /// </summary>
    /// <param name="module">The pixel module.</param>
    /// <param name="decodedPhotometric">The interpretation of the decoded bytes: <see cref="PixelDecoder.DecodedPhotometricInterpretation"/>.</param>
    /// <param name="decodedFrame">The decoded frame.</param>
    /// <param name="palette">The palette tables; required for PALETTE COLOR.</param>
    /// <param name="mode">
    /// Palette indices outside a table: strict (default) rejects them with <see cref="DicomErrorCode.InvalidLut"/>
    /// (an index past the table is how heap memory leaked into images in other viewers);
    /// tolerant maps them to the first/last entry as C.7.6.3.1.5 describes.
    /// </param>
    /// <exception cref="DicomFormatException">An unsupported interpretation, a missing or mismatched palette.</exception>
    public static float[] ToRgbFloats(PixelModule module, string decodedPhotometric, ReadOnlySpan<byte> decodedFrame, PaletteColorLut? palette = null, PixelValidationMode mode = PixelValidationMode.Strict)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(decodedPhotometric);
        string pi = decodedPhotometric.Trim();
        int pixels = checked((int)module.PixelsPerFrame);
        var rgb = new float[checked(pixels * 3)];
        if (pi == "PALETTE COLOR")
        {
            if (palette is null)
            {
                throw new DicomFormatException(DicomErrorCode.InvalidLut, "PALETTE COLOR without palette tables", tag: new DicomTag(0x0028, 0x1201));
            }

            long[] indices = PixelPipeline.StoredValuesInt64(module, decodedFrame);
            LookupTable[] tables = [palette.Red, palette.Green, palette.Blue];
            for (int p = 0; p < pixels; p++)
            {
                long index = indices[p];
                for (int c = 0; c < 3; c++)
                {
                    LookupTable t = tables[c];
                    if (mode == PixelValidationMode.Strict && !t.Contains(index))
                    {
                        throw new DicomFormatException(DicomErrorCode.InvalidLut, string.Create(CultureInfo.InvariantCulture, $"pixel {p}: palette index outside the {t.Descriptor.NumberOfEntries}-entry table"), tag: new DicomTag(0x0028, 0x1201));
                    }

                    rgb[(3 * p) + c] = t.LookupClamped(index) / (float)t.MaxEntryValue;
                }
            }

            return rgb;
        }

        if (module.SamplesPerPixel != 3)
        {
            throw new DicomFormatException(DicomErrorCode.InvalidPixelModule, "colour conversion needs SamplesPerPixel 3", tag: DicomTag.PixelData);
        }

        long[] samples = PixelPipeline.StoredValuesInt64(module, decodedFrame);
        double max = (1L << module.BitsStored) - 1;
        switch (pi)
        {
            case "RGB":
                for (int i = 0; i < samples.Length; i++)
                {
                    rgb[i] = (float)(Math.Clamp(samples[i], 0, (long)max) / max);
                }

                return rgb;
            case "YBR_FULL":
                double half = 1L << (module.BitsStored - 1);
                for (int p = 0; p < pixels; p++)
                {
                    double y = samples[3 * p];
                    double cb = samples[(3 * p) + 1] - half;
                    double cr = samples[(3 * p) + 2] - half;
                    rgb[3 * p] = (float)(Math.Clamp(y + (1.402 * cr), 0, max) / max);
                    rgb[(3 * p) + 1] = (float)(Math.Clamp(y - (0.344136 * cb) - (0.714136 * cr), 0, max) / max);
                    rgb[(3 * p) + 2] = (float)(Math.Clamp(y + (1.772 * cb), 0, max) / max);
                }

                return rgb;
            default:
                throw new DicomFormatException(DicomErrorCode.InvalidPixelModule, "the decoded photometric interpretation is not RGB, YBR_FULL or PALETTE COLOR", tag: new DicomTag(0x0028, 0x0004));
        }
    }
}
