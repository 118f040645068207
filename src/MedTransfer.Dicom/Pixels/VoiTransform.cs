using System.Globalization;

namespace MedTransfer.Dicom.Pixels;

/// <summary>VOI LUT Function (0028,1056), PS3.3 C.11.2.1.3.</summary>
public enum VoiLutFunction
{
    /// <summary>LINEAR (the default when the attribute is absent), C.11.2.1.2.1.</summary>
    Linear,

    /// <summary>LINEAR_EXACT, C.11.2.1.3.2.</summary>
    LinearExact,

    /// <summary>SIGMOID, C.11.2.1.3.1.</summary>
    Sigmoid,
}

/// <summary>
/// The VOI LUT stage (PS3.3 C.11.2): modality values to display values, here normalised to [0, 1]
/// (y_min = 0, y_max = 1 in the standard's formulas), either by a window (Window Center/Width (0028,1050/1051)
/// with a VOI LUT Function) or by a VOI LUT Sequence (0028,3010) table scaled by 2^bits − 1.
/// </summary>
public sealed class VoiTransform
{
    private VoiTransform(double center, double width, VoiLutFunction function, LookupTable? table)
    {
        Center = center;
        Width = width;
        Function = function;
        Table = table;
    }

    /// <summary>Window Center (unused for a table).</summary>
    public double Center { get; }

    /// <summary>Window Width (unused for a table).</summary>
    public double Width { get; }

    /// <summary>The VOI LUT Function (unused for a table).</summary>
    public VoiLutFunction Function { get; }

    /// <summary>The VOI LUT table, or null for a window.</summary>
    public LookupTable? Table { get; }

    /// <summary>A window. LINEAR requires width ≥ 1; LINEAR_EXACT and SIGMOID require width &gt; 0 (C.11.2.1.2.1, C.11.2.1.3).</summary>
    /// <exception cref="DicomFormatException"><see cref="DicomErrorCode.InvalidValue"/> for a width the function does not allow or non-finite values.</exception>
    public static VoiTransform Window(double center, double width, VoiLutFunction function = VoiLutFunction.Linear)
    {
        bool widthOk = function == VoiLutFunction.Linear ? width >= 1 : width > 0;
        if (!double.IsFinite(center) || !double.IsFinite(width) || !widthOk)
        {
            throw new DicomFormatException(DicomErrorCode.InvalidValue, string.Create(CultureInfo.InvariantCulture, $"Window Width is not allowed for VOI LUT Function {function}"), tag: new DicomTag(0x0028, 0x1051));
        }

        return new VoiTransform(center, width, function, null);
    }

    /// <summary>A VOI LUT table; output = entry / (2^bits − 1).</summary>
    public static VoiTransform FromTable(LookupTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        return new VoiTransform(0, 0, VoiLutFunction.Linear, table);
    }

    /// <summary>Parses VOI LUT Function (0028,1056): absent or empty means LINEAR.</summary>
    /// <exception cref="DicomFormatException"><see cref="DicomErrorCode.InvalidValue"/> for an unknown value.</exception>
    public static VoiLutFunction ParseFunction(string? value) => value?.Trim() switch
    {
        null or "" or "LINEAR" => VoiLutFunction.Linear,
        "LINEAR_EXACT" => VoiLutFunction.LinearExact,
        "SIGMOID" => VoiLutFunction.Sigmoid,
        _ => throw new DicomFormatException(DicomErrorCode.InvalidValue, "VOI LUT Function is not LINEAR, LINEAR_EXACT or SIGMOID", tag: new DicomTag(0x0028, 0x1056)),
    };

    /// <summary>The display value in [0, 1] for modality value <paramref name="x"/>.</summary>
    public double Apply(double x)
    {
        if (Table is { } t)
        {
            long input = (long)Math.Floor(Math.Clamp(x, long.MinValue / 2, long.MaxValue / 2));
            return t.LookupClamped(input) / (double)t.MaxEntryValue;
        }

        double c = Center;
        double w = Width;
        switch (Function)
        {
            case VoiLutFunction.Linear:
                // C.11.2.1.2.1: the window is centred on c − 0.5 and spans w − 1 values.
                if (x <= c - 0.5 - ((w - 1) / 2))
                {
                    return 0;
                }

                if (x > c - 0.5 + ((w - 1) / 2))
                {
                    return 1;
                }

                return ((x - (c - 0.5)) / (w - 1)) + 0.5;
            case VoiLutFunction.LinearExact:
                if (x <= c - (w / 2))
                {
                    return 0;
                }

                if (x > c + (w / 2))
                {
                    return 1;
                }

                return ((x - c) / w) + 0.5;
            default:
                return 1 / (1 + Math.Exp(-4 * (x - c) / w));
        }
    }
}
