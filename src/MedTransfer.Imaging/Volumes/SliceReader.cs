using System.Numerics;
using MedTransfer.Dicom;
using MedTransfer.Dicom.Pixels;

namespace MedTransfer.Imaging.Volumes;

/// <summary>
/// Reads the frames of a stack as floats: stored values through the modality stage (an enhanced frame's own rescale
/// when it has one, else the data set's Rescale Slope / Intercept or Modality LUT), then, for a Philips image with
/// MR Scale Slope and <see cref="PhilipsScaling.Float"/>, divided by RS × SS. Opens each file once (lazily, pixel
/// data read on demand) while consecutive slices come from it. Decoding is tolerant: a volume needs stored values,
/// and what the decoder recovered from stays in the image's warnings.
/// </summary>
internal sealed class SliceReader(PhilipsScaling philips)
{
    private static readonly DicomReaderOptions s_lazy = new() { PixelData = PixelDataLoading.Lazy };

    private string? _path;
    private DicomImage? _image;

    /// <summary>Writes the slice's Rows × Columns values into <paramref name="target"/>.</summary>
    /// <exception cref="VolumeAssemblyException">The image is not single-sample greyscale, or changed since the scan.</exception>
    public void Read(SliceHeader slice, Span<float> target)
    {
        (Array stored, ModalityLut lut) = Frame(slice);
        if (stored.Length != target.Length)
        {
            throw new VolumeAssemblyException(VolumeErrorCode.InconsistentSlices, "a decoded frame does not have Rows × Columns samples");
        }

        double divisor = Divisor(slice, lut);
        switch (stored)
        {
            case byte[] u8:
                Fill(u8, lut, divisor, target);
                break;
            case sbyte[] s8:
                Fill(s8, lut, divisor, target);
                break;
            case ushort[] u16:
                Fill(u16, lut, divisor, target);
                break;
            case short[] s16:
                Fill(s16, lut, divisor, target);
                break;
            case uint[] u32:
                Fill(u32, lut, divisor, target);
                break;
            case int[] s32:
                Fill(s32, lut, divisor, target);
                break;
            default:
                throw new VolumeAssemblyException(VolumeErrorCode.UnsupportedPixels, "the stored values have an unsupported sample type");
        }
    }

    /// <summary>What the values of <paramref name="slice"/> are, and the factors behind them.</summary>
    public VolumeScaling Scaling(SliceHeader slice)
    {
        ModalityLut lut = Modality(slice);
        double? rs = lut.Table is null ? lut.Slope : null;
        double? ri = lut.Table is null ? lut.Intercept : null;
        if (slice.PhilipsScaleSlope is not { } ss)
        {
            return VolumeScaling.Modality;
        }

        IntensityScale scale = philips == PhilipsScaling.Float && Divisor(slice, lut) != 1 ? IntensityScale.PhilipsFloat : IntensityScale.PhilipsDisplay;
        return new VolumeScaling(scale, rs, ri, ss);
    }

    /// <summary>RS × SS for Philips floating-point values; 1 otherwise (and when a Modality LUT table, not a rescale, maps the values).</summary>
    private double Divisor(SliceHeader slice, ModalityLut lut)
    {
        if (philips != PhilipsScaling.Float || slice.PhilipsScaleSlope is not { } ss || lut.Table is not null)
        {
            return 1;
        }

        double divisor = lut.Slope * ss;
        return double.IsFinite(divisor) && divisor != 0 ? divisor : 1;
    }

    private (Array Stored, ModalityLut Lut) Frame(SliceHeader slice)
    {
        DicomImage image = Open(slice);
        PixelModule module = image.Module;
        if (module.SamplesPerPixel != 1 || !module.IsMonochrome)
        {
            throw new VolumeAssemblyException(VolumeErrorCode.UnsupportedPixels, "only single-sample greyscale images become volumes");
        }

        if (module.Rows != slice.Rows || module.Columns != slice.Columns || slice.Frame >= module.NumberOfFrames)
        {
            throw new VolumeAssemblyException(VolumeErrorCode.InconsistentSlices, "a file changed between scanning and assembly");
        }

        return (image.StoredValues(slice.Frame), Modality(slice));
    }

    private ModalityLut Modality(SliceHeader slice) =>
        slice.Slope is not null || slice.Intercept is not null
            ? ModalityLut.Rescale(slice.Slope ?? 1, slice.Intercept ?? 0)
            : Open(slice).Modality;

    private DicomImage Open(SliceHeader slice)
    {
        if (_image is null || !string.Equals(_path, slice.Path, StringComparison.Ordinal))
        {
            DicomFile file = DicomFile.Open(slice.Path, s_lazy);
            _image = DicomImage.Create(file, PixelValidationMode.Tolerant);
            _path = slice.Path;
        }

        return _image;
    }

    private static void Fill<T>(T[] stored, ModalityLut lut, double divisor, Span<float> target)
        where T : IBinaryInteger<T>
    {
        for (int i = 0; i < target.Length; i++)
        {
            target[i] = (float)(lut.Apply(long.CreateTruncating(stored[i])) / divisor);
        }
    }
}
