using System.Globalization;

namespace MedTransfer.Dicom.Deidentification;

/// <summary>Shifting DA and DT values by whole days (PS3.5 §6.2 formats). Anything that is not a full calendar date is reported as unshiftable.</summary>
internal static class DicomDates
{
    private const string DateFormat = "yyyyMMdd";

    /// <summary>Shifts one DA value ("YYYYMMDD"); false for partial, old-style ("YYYY.MM.DD"), range or invalid values.</summary>
    internal static bool TryShiftDate(string value, int days, out string shifted)
    {
        shifted = string.Empty;
        if (value.Length != 8 || !DateOnly.TryParseExact(value, DateFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out DateOnly date))
        {
            return false;
        }

        return TryAddDays(date, days, out shifted);
    }

    /// <summary>
    /// Shifts the date part of one DT value ("YYYYMMDD[HH[MM[SS[.F{1-6}]]]][&amp;ZZXX]"), keeping the time
    /// and offset text as they were; false when the value has less than a full date or is not a DT.
    /// </summary>
    internal static bool TryShiftDateTime(string value, int days, out string shifted)
    {
        shifted = string.Empty;
        if (value.Length < 8 || !DateOnly.TryParseExact(value[..8], DateFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out DateOnly date))
        {
            return false;
        }

        string rest = value[8..];
        foreach (char c in rest)
        {
            if (!char.IsAsciiDigit(c) && c is not ('.' or '+' or '-'))
            {
                return false;
            }
        }

        if (!TryAddDays(date, days, out string datePart))
        {
            return false;
        }

        shifted = datePart + rest;
        return true;
    }

    /// <summary>
    /// True for a valid TM value "HH[MM[SS[.F{1-6}]]]" (PS3.5 §6.2) within range; kept times must be times,
    /// never free text that happened to sit in a TM element.
    /// </summary>
    internal static bool IsValidTime(string value)
    {
        string whole = value;
        string fraction = string.Empty;
        int dot = value.IndexOf('.', StringComparison.Ordinal);
        if (dot >= 0)
        {
            whole = value[..dot];
            fraction = value[(dot + 1)..];
            if (whole.Length != 6 || fraction.Length is < 1 or > 6 || !fraction.All(char.IsAsciiDigit))
            {
                return false;
            }
        }

        if (whole.Length is not (2 or 4 or 6) || !whole.All(char.IsAsciiDigit))
        {
            return false;
        }

        int hours = int.Parse(whole.AsSpan(0, 2), CultureInfo.InvariantCulture);
        int minutes = whole.Length >= 4 ? int.Parse(whole.AsSpan(2, 2), CultureInfo.InvariantCulture) : 0;
        int seconds = whole.Length == 6 ? int.Parse(whole.AsSpan(4, 2), CultureInfo.InvariantCulture) : 0;
        return hours < 24 && minutes < 60 && seconds < 61;
    }

    private static bool TryAddDays(DateOnly date, int days, out string shifted)
    {
        shifted = string.Empty;
        if ((days < 0 && date.DayNumber < DateOnly.MinValue.DayNumber - days) || (days > 0 && date.DayNumber > DateOnly.MaxValue.DayNumber - days))
        {
            return false;
        }

        shifted = date.AddDays(days).ToString(DateFormat, CultureInfo.InvariantCulture);
        return true;
    }
}
