using MedTransfer.Dicom;

namespace MedTransfer.Imaging.Volumes;

/// <summary>
/// Siemens MOSAIC images (Image Type contains MOSAIC): one file per volume, its slices in a ⌈√n⌉ × ⌈√n⌉ grid, the
/// count in the CSA image header (NumberOfImagesInMosaic) or the legacy (0019,xx0A), the slice direction in the CSA
/// SliceNormalVector and per-slice times in MosaicRefAcqTimes.
/// </summary>
internal static class SiemensMosaic
{
    /// <exception cref="SeriesScanner.SkipFileException">The image count or the geometry is missing, or the frame does not tile.</exception>
    internal static SliceHeader Read(string path, DicomDataset ds, int rows, int columns, int order)
    {
        Dictionary<string, string[]>? csa = SiemensCsaHeader.ImageHeader(ds);
        double? count = SiemensCsaHeader.Number(csa, "NumberOfImagesInMosaic");
        if (count is null && PrivateTags.Find(ds, 0x0019, "SIEMENS MR HEADER", 0x0A) is { } legacy)
        {
            count = ds.GetDouble(legacy);
        }

        if (count is not { } n || n < 1 || n > 4096 || Math.Floor(n) != n)
        {
            throw new SeriesScanner.SkipFileException(SeriesScanFailureReason.UnsupportedImage, "a mosaic without a readable NumberOfImagesInMosaic (CSA header or (0019,xx0A))");
        }

        int tiles = (int)Math.Ceiling(Math.Sqrt(n));
        if (rows % tiles != 0 || columns % tiles != 0)
        {
            throw new SeriesScanner.SkipFileException(SeriesScanFailureReason.UnsupportedImage, "the mosaic size is not a whole number of tiles");
        }

        double[] ipp = SeriesScanner.Vector(ds, Tag.ImagePositionPatient, 3);
        double[] iop = SeriesScanner.Vector(ds, Tag.ImageOrientationPatient, 6);
        double[] spacing = SeriesScanner.Vector(ds, Tag.PixelSpacing, 2);
        if (ipp.Length == 0 || iop.Length == 0 || spacing.Length == 0)
        {
            throw new SeriesScanner.SkipFileException(SeriesScanFailureReason.MissingGeometry, "Image Position (Patient), Image Orientation (Patient) or Pixel Spacing is missing");
        }

        SeriesScanner.ValidateGeometry(ipp, iop, spacing);
        double[]? normal = null;
        if (SiemensCsaHeader.Number(csa, "SliceNormalVector", 0) is { } nx
            && SiemensCsaHeader.Number(csa, "SliceNormalVector", 1) is { } ny
            && SiemensCsaHeader.Number(csa, "SliceNormalVector", 2) is { } nz)
        {
            double[] v = [nx, ny, nz];
            double length = Geometry.Norm(v);
            normal = length > 0.5 && length < 1.5 ? Geometry.Scale(v, 1 / length) : null;
        }

        return SeriesScanner.MosaicHeader(path, ds, ipp, iop, spacing, (rows, columns), (int)n, MosaicTimes(csa, (int)n), DiffusionHeader.Read(ds, null, csa, iop), order)
            with { MosaicSliceNormal = normal };
    }

    /// <summary>The CSA MosaicRefAcqTimes (milliseconds, one per tile) as seconds, or null when absent or incomplete.</summary>
    private static double[]? MosaicTimes(Dictionary<string, string[]>? csa, int tiles)
    {
        double[] times = [.. Enumerable.Range(0, tiles).Select(i => SiemensCsaHeader.Number(csa, "MosaicRefAcqTimes", i) / 1000.0 ?? double.NaN)];
        return times.All(double.IsFinite) ? times : null;
    }
}
