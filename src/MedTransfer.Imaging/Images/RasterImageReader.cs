using MedTransfer.Dicom;

namespace MedTransfer.Imaging.Images;

/// <summary>
/// Reads PNG, JPEG, TIFF and DICOM Part 10 files into a greyscale <see cref="SourceImage"/>. The container is
/// recognised by its signature, never by the file extension.
/// </summary>
/// <remarks>
/// <para>Greyscale samples are kept as stored (8-bit 0–255, 16-bit 0–65535; 16-bit PNG keeps all 16 bits through the
/// managed PNG decoder). Colour is reduced to ITU-R BT.601 luma, Y = 0.299 R + 0.587 G + 0.114 B, on the stored scale;
/// an alpha channel is ignored (radiographs are opaque; compositing onto a background would invent values).</para>
/// <para>PNG (8/16-bit grey, grey+alpha, RGB, RGBA) uses the managed decoder; palette and 1/2/4-bit PNG and all JPEG use
/// SkiaSharp; TIFF (8/16-bit unsigned grey including MinIsWhite, RGB/RGBA, strips or tiles, any LibTiff compression)
/// uses LibTiff.NET. Every failure, including a decoder's own exception, becomes <see cref="ImageFormatException"/>.</para>
/// </remarks>
public static class RasterImageReader
{
    /// <summary>ITU-R BT.601 luma weights (R, G, B).</summary>
    public static (double R, double G, double B) LumaWeights => (0.299, 0.587, 0.114);

    /// <summary>Reads a PNG, JPEG, TIFF or DICOM file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="applyDicomVoi">For DICOM only: apply the file's VOI window/LUT when it has one.</param>
    /// <param name="options">Resource limits; <see cref="ImageReadOptions.Default"/> when null.</param>
    /// <exception cref="ImageFormatException">The file is not a supported image or is corrupt.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static SourceImage Read(string path, bool applyDicomVoi = true, ImageReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes = File.ReadAllBytes(path);
        return Read(bytes, applyDicomVoi, options);
    }

    /// <summary>Reads a PNG, JPEG, TIFF or DICOM image from memory.</summary>
    /// <exception cref="ImageFormatException">The bytes are not a supported image or are corrupt.</exception>
    public static SourceImage Read(byte[] bytes, bool applyDicomVoi = true, ImageReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        options ??= ImageReadOptions.Default;
        if (bytes.Length < 8)
        {
            throw new ImageFormatException(ImageFormatError.Empty, $"{bytes.Length} bytes cannot hold an image header", 0);
        }

        if (PngDecoder.IsPng(bytes))
        {
            return PngDecoder.CanDecode(bytes) ? PngDecoder.Decode(bytes, options) : SkiaRasterDecoder.Decode(bytes, SourceImageFormat.Png, options);
        }

        if (bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF)
        {
            return SkiaRasterDecoder.Decode(bytes, SourceImageFormat.Jpeg, options);
        }

        if (TiffDecoder.IsTiff(bytes))
        {
            return TiffDecoder.Decode(bytes, options);
        }

        if (bytes.Length >= 132 && bytes.AsSpan(128, 4).SequenceEqual("DICM"u8))
        {
            DicomFile file;
            try
            {
                file = DicomFile.Read(bytes);
            }
            catch (DicomException ex)
            {
                throw new ImageFormatException(ImageFormatError.Corrupt, "the DICOM file cannot be parsed", -1, ex);
            }

            return DicomSourceReader.Read(file, 0, applyDicomVoi);
        }

        throw new ImageFormatException(ImageFormatError.UnknownFormat, "the signature is not PNG, JPEG, TIFF or DICOM", 0);
    }

    /// <summary>ITU-R BT.601 luma of an RGB triple on any scale.</summary>
    public static double Bt601Luma(double r, double g, double b) => (0.299 * r) + (0.587 * g) + (0.114 * b);
}
