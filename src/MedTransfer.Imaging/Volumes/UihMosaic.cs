using System.Globalization;
using MedTransfer.Dicom;

namespace MedTransfer.Imaging.Volumes;

/// <summary>
/// UIH "VFRAME" images (UIH calls them GRID): one file per volume, its slices tiled row by row in the one frame,
/// Image Type (0008,0008) containing VFRAME, no Image Position (Patient) at the top level. The geometry of each slice
/// is an item of the private MR VFrame Sequence (0065,xx51) of creator "Image Private Header" (Image Position
/// (Patient), Acquisition Time, …), and MR Number Of Slice In Volume (0065,xx50) gives the count. As UIH documents
/// it (dcm2niix's UIH notes), the tiles are ⌈√n⌉ columns by ⌈n / ⌈√n⌉⌉ rows; tile k is item k.
/// </summary>
internal static class UihMosaic
{
    private const string Creator = "Image Private Header";

    public static bool IsVFrame(DicomDataset ds) => ds.GetStrings(Tag.ImageType).Any(v => string.Equals(v.Trim(), "VFRAME", StringComparison.OrdinalIgnoreCase));

    /// <exception cref="SeriesScanner.SkipFileException">The geometry is missing or does not tile the frame.</exception>
    public static SliceHeader Read(string path, DicomDataset ds, int rows, int columns, int order)
    {
        IReadOnlyList<DicomDataset> items = PrivateTags.Find(ds, 0x0065, Creator, 0x51) is { } sequence ? ds.GetSequence(sequence) : [];
        if (items.Count == 0)
        {
            throw new SeriesScanner.SkipFileException(SeriesScanFailureReason.MissingGeometry, "a UIH VFRAME image without its per-slice geometry (private sequence (0065,xx51) of \"Image Private Header\")");
        }

        int n = items.Count;
        if (n > 4096)
        {
            throw new SeriesScanner.SkipFileException(SeriesScanFailureReason.UnsupportedImage, "a UIH VFRAME image with more than 4096 slices");
        }

        if (PrivateTags.Find(ds, 0x0065, Creator, 0x50) is { } countTag && ds.GetDouble(countTag) is { } declared && declared != n)
        {
            throw new SeriesScanner.SkipFileException(SeriesScanFailureReason.InvalidGeometry, "the UIH slice count (0065,xx50) disagrees with the items of (0065,xx51)");
        }

        int gridColumns = (int)Math.Ceiling(Math.Sqrt(n));
        int gridRows = (n + gridColumns - 1) / gridColumns;
        if (rows % gridRows != 0 || columns % gridColumns != 0)
        {
            throw new SeriesScanner.SkipFileException(SeriesScanFailureReason.UnsupportedImage, "the UIH VFRAME image is not a whole number of tiles");
        }

        double[] iop = SeriesScanner.Vector(ds, Tag.ImageOrientationPatient, 6);
        double[] spacing = SeriesScanner.Vector(ds, Tag.PixelSpacing, 2);
        var positions = new double[n][];
        for (int k = 0; k < n; k++)
        {
            positions[k] = SeriesScanner.Vector(items[k], Tag.ImagePositionPatient, 3);
        }

        if (iop.Length == 0 || spacing.Length == 0 || positions.Any(p => p.Length == 0))
        {
            throw new SeriesScanner.SkipFileException(SeriesScanFailureReason.MissingGeometry, "Image Orientation (Patient), Pixel Spacing or a slice's Image Position (Patient) in (0065,xx51) is missing");
        }

        foreach (double[] p in positions)
        {
            SeriesScanner.ValidateGeometry(p, iop, spacing);
        }

        double[] times = [.. items.Select(item => Seconds(item.GetString(Tag.AcquisitionTime)) ?? double.NaN)];
        return SeriesScanner.MosaicHeader(path, ds, positions[0], iop, spacing, (rows, columns), n, times.All(double.IsFinite) ? times : null, DiffusionHeader.Read(ds, null, null, iop), order)
            with { MosaicGrid = (gridRows, gridColumns), TilePositions = positions };
    }

    /// <summary>A DICOM TM value (HHMMSS.FFFFFF, or the old HH:MM:SS form) as seconds after midnight, or null.</summary>
    internal static double? Seconds(string? tm)
    {
        string text = (tm ?? string.Empty).Trim().Replace(":", string.Empty, StringComparison.Ordinal);
        if (text.Length < 2 || !text[..Math.Min(6, text.Length)].All(char.IsAsciiDigit))
        {
            return null;
        }

        int hours = int.Parse(text[..2], CultureInfo.InvariantCulture);
        int minutes = text.Length >= 4 ? int.Parse(text[2..4], CultureInfo.InvariantCulture) : 0;
        double seconds = text.Length >= 6 && double.TryParse(text[4..], NumberStyles.Float, CultureInfo.InvariantCulture, out double s) ? s : 0;
        return hours < 24 && minutes < 60 && seconds < 61 ? (hours * 3600) + (minutes * 60) + seconds : null;
    }
}
