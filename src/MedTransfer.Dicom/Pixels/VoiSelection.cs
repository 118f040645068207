using System.Globalization;

namespace MedTransfer.Dicom.Pixels;

/// <summary>
/// Chooses the VOI stage of an image from its data set (PS3.3 C.11.2): the items of the VOI LUT Sequence
/// (0028,3010) first, then the Window Center / Window Width (0028,1050/1051) value pairs in order, with the VOI LUT
/// Function (0028,1056). Strict mode uses the first source and rejects it when it is invalid; tolerant mode drops
/// each invalid source with a warning and takes the next, and returns null when none is usable (callers then fall
/// back to the modality value range, as for an image without VOI attributes).
/// </summary>
/// <remarks>
/// Run only when presentation values are asked for: a window the standard forbids (Window Width 0 is common in
/// real series) says nothing about the stored values, so it must not stop a caller that needs only those.
/// </remarks>
internal static class VoiSelection
{
    private static readonly DicomTag s_voiLutSequence = new(0x0028, 0x3010);
    private static readonly DicomTag s_windowCenter = new(0x0028, 0x1050);
    private static readonly DicomTag s_windowWidth = new(0x0028, 0x1051);
    private static readonly DicomTag s_voiLutFunction = new(0x0028, 0x1056);

    /// <summary>The VOI stage, or null when the data set has none (or, tolerant, none that is valid).</summary>
    /// <exception cref="DicomFormatException">Strict mode: the first VOI source is invalid.</exception>
    public static VoiTransform? Select(DicomDataset dataset, PixelModule module, PixelValidationMode mode, Action<DicomWarning> warnings)
    {
        bool strict = mode == PixelValidationMode.Strict;
        IReadOnlyList<DicomDataset> tables = dataset.GetSequence(s_voiLutSequence);
        for (int i = 0; i < tables.Count; i++)
        {
            try
            {
                return VoiTransform.FromTable(LookupTable.FromSequenceItem(tables[i], module, mode));
            }
            catch (DicomFormatException ex) when (!strict)
            {
                warnings(Dropped(ex, Invariant($"VOI LUT Sequence item {i + 1} of {tables.Count} is invalid ({ex.Reason}) and was dropped")));
            }
        }

        double[] centers;
        double[] widths;
        try
        {
            centers = dataset.GetDoubles(s_windowCenter);
            widths = dataset.GetDoubles(s_windowWidth);
        }
        catch (DicomFormatException ex) when (!strict)
        {
            warnings(Dropped(ex, "Window Center or Window Width is not a number: the window was dropped"));
            return null;
        }

        if (centers.Length == 0 || widths.Length == 0)
        {
            return null;
        }

        if (centers.Length != widths.Length)
        {
            const string Detail = "Window Center and Window Width have different numbers of values";
            if (strict)
            {
                throw new DicomFormatException(DicomErrorCode.InvalidValue, Detail, tag: s_windowWidth);
            }

            warnings(new DicomWarning(DicomErrorCode.InvalidValue, -1, s_windowWidth, Detail + ": only the pairs present in both are used"));
        }

        VoiLutFunction function = Function(dataset, strict, warnings);
        int pairs = Math.Min(centers.Length, widths.Length);
        for (int i = 0; i < pairs; i++)
        {
            try
            {
                return VoiTransform.Window(centers[i], widths[i], function);
            }
            catch (DicomFormatException ex) when (!strict)
            {
                string next = i + 1 < pairs ? "the next window is used" : "no VOI is applied";
                warnings(Dropped(ex, Invariant($"window {i + 1} of {pairs} is not allowed for VOI LUT Function {function} (Window Width below {(function == VoiLutFunction.Linear ? "1" : "or equal to 0")}, or not finite) and was dropped: {next}")));
            }
        }

        return null;
    }

    private static VoiLutFunction Function(DicomDataset dataset, bool strict, Action<DicomWarning> warnings)
    {
        try
        {
            return VoiTransform.ParseFunction(dataset.GetString(s_voiLutFunction));
        }
        catch (DicomFormatException ex) when (!strict)
        {
            // LINEAR is what the standard prescribes when the attribute is absent.
            warnings(Dropped(ex, "VOI LUT Function is not LINEAR, LINEAR_EXACT or SIGMOID: LINEAR is used"));
            return VoiLutFunction.Linear;
        }
    }

    private static DicomWarning Dropped(DicomFormatException ex, string detail) => new(ex.Reason, -1, ex.Tag, detail);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
