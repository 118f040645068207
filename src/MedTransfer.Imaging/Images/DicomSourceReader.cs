using MedTransfer.Dicom;
using MedTransfer.Dicom.Pixels;

namespace MedTransfer.Imaging.Images;

/// <summary>
/// A DICOM frame as a <see cref="SourceImage"/>: the presentation values of <see cref="DicomImage.PresentationFloats"/>
/// (modality LUT → VOI when asked and present → MONOCHROME1 inversion, PS3.3 C.11; RELIABILITY B1, B2) with the pixel
/// spacing of Pixel Spacing (0028,0030), else Imager Pixel Spacing (0018,1164); NaN when neither is present.
/// </summary>
public static class DicomSourceReader
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

            bool voi = applyVoi && image.Voi is not null;
            float[] pixels = image.PresentationFloats(frame, voi);
            DicomDataset ds = file.Dataset;
            double rowSpacing = Spacing(ds, 0);
            double columnSpacing = Spacing(ds, 1);
            return new SourceImage(
                new ImageF(module.Columns, module.Rows, pixels, columnSpacing, rowSpacing),
                SourceImageFormat.Dicom,
                module.BitsStored,
                WasMonochrome1: module.Photometric == "MONOCHROME1",
                VoiApplied: voi);
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

    // PS3.3 C.7.6.2.1.1: Pixel Spacing = row spacing \ column spacing (mm); Imager Pixel Spacing (at the detector) as fallback.
    private static double Spacing(DicomDataset ds, int index)
    {
        double? value = ds.Contains(Tag.PixelSpacing) ? ds.GetDouble(Tag.PixelSpacing, index) : ds.GetDouble(Tag.ImagerPixelSpacing, index);
        return value is double v && double.IsFinite(v) && v > 0 ? v : double.NaN;
    }
}
