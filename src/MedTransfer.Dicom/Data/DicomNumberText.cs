using System.Globalization;

namespace MedTransfer.Dicom;

/// <summary>Formatting and parsing of Decimal String (DS) and Integer String (IS) values, PS3.5 Table 6.2-1.</summary>
internal static class DicomNumberText
{
    /// <summary>The shortest round-trip text when it fits DS's 16 bytes, else the most precise text that does.</summary>
    public static string FormatDecimal(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), "DS values must be finite.");
        }

        string text = value.ToString("R", CultureInfo.InvariantCulture);
        for (int precision = 15; text.Length > 16 && precision > 0; precision--)
        {
            text = value.ToString("G" + precision.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        }

        return text;
    }

    public static bool TryParseDouble(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    public static string FormatDouble(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
