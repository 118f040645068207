using System.Globalization;

namespace MedTransfer.Dicom.Pixels;

/// <summary>
/// The Modality LUT stage (PS3.3 C.11.1): stored values to modality values (e.g. Hounsfield units), either
/// linearly with Rescale Slope/Intercept (0028,1053/1052) or through a Modality LUT Sequence (0028,3000) table.
/// </summary>
public sealed class ModalityLut
{
    private ModalityLut(double slope, double intercept, LookupTable? table)
    {
        Slope = slope;
        Intercept = intercept;
        Table = table;
    }

    /// <summary>No transformation (slope 1, intercept 0): modality values are the stored values.</summary>
    public static ModalityLut Identity { get; } = new(1, 0, null);

    /// <summary>Rescale Slope (1 for a table).</summary>
    public double Slope { get; }

    /// <summary>Rescale Intercept (0 for a table).</summary>
    public double Intercept { get; }

    /// <summary>The Modality LUT table, or null for a linear rescale.</summary>
    public LookupTable? Table { get; }

    /// <summary>Linear rescale: output = slope × stored + intercept (C.11.1.1.2).</summary>
    /// <exception cref="DicomFormatException"><see cref="DicomErrorCode.InvalidValue"/> for a zero, infinite or NaN slope, or a non-finite intercept.</exception>
    public static ModalityLut Rescale(double slope, double intercept)
    {
        if (!double.IsFinite(slope) || slope == 0 || !double.IsFinite(intercept))
        {
            throw new DicomFormatException(DicomErrorCode.InvalidValue, string.Create(CultureInfo.InvariantCulture, $"Rescale Slope/Intercept must be finite and the slope non-zero"), tag: new DicomTag(0x0028, 0x1053));
        }

        return new ModalityLut(slope, intercept, null);
    }

    /// <summary>A Modality LUT table (C.11.1.1.1): inputs outside the table map to its first or last entry.</summary>
    public static ModalityLut FromTable(LookupTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        return new ModalityLut(1, 0, table);
    }

    /// <summary>The modality value of one stored value.</summary>
    public double Apply(long stored) => Table is { } t ? t.LookupClamped(stored) : (Slope * stored) + Intercept;

    /// <summary>
    /// The range of modality values the module's stored values can produce (not the range present in one image):
    /// for a table its smallest and largest entry, otherwise the image of the stored range. Used to invert
    /// MONOCHROME1 when no VOI is applied, so that inversion does not depend on image content.
    /// </summary>
    public (double Min, double Max) OutputRange(PixelModule module)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (Table is { } t)
        {
            return (t.MinEntry(), t.MaxEntry());
        }

        (long lo, long hi) = PixelPipeline.StoredRange(module);
        double a = Apply(lo);
        double b = Apply(hi);
        return (Math.Min(a, b), Math.Max(a, b));
    }
}
