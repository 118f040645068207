namespace MedTransfer.Imaging.Normalization;

/// <summary>Input-range sanity findings of a normalization (a warning when the input range looks wrong, e.g. an 8-bit export of a 12-bit image).</summary>
public enum NormalizationWarningCode
{
    /// <summary>The input already lies in [0, 1] (a float export, or an 8/16-bit file with max ≤ 1): probably normalised twice.</summary>
    AlreadyNormalized,

    /// <summary>Every pixel has the same value; the output is all zeros (plus padding).</summary>
    ConstantImage,

    /// <summary>Fewer than 16 distinct intensity levels: quantised, binary or a mask rather than an image.</summary>
    LowDynamicRange,

    /// <summary>More than 20% of the pixels end at 0 or 1 after the clip (saturation, large uniform background, or a narrow window).</summary>
    HeavyClipping,

    /// <summary>The DICOM image was MONOCHROME1 and has been inverted so that bright means dense.</summary>
    Monochrome1,

    /// <summary>The recipe asked for the file's VOI but the file has none; modality values were used.</summary>
    NoFileWindow,

    /// <summary>The file's VOI window (or LUT) is one the standard forbids (e.g. Window Width 0): it was dropped, and the
    /// next VOI source of the file, else the modality values, were used.</summary>
    InvalidFileWindow,

    /// <summary>The DICOM reader recovered from a deviation in the pixel data (e.g. bytes after a JPEG end marker).</summary>
    ReaderRecovered,

    /// <summary>Colour samples were reduced to BT.601 luma.</summary>
    ColourConverted,

    /// <summary>Uniform borders were cropped.</summary>
    BordersCropped,

    /// <summary>The foreground mask was empty; statistics were taken over the whole volume.</summary>
    EmptyForeground,

    /// <summary>The foreground has zero spread; z-scoring only subtracted the mean.</summary>
    ZeroSpread,
}

/// <summary>One finding: a stable code plus a plain-text explanation (never patient data).</summary>
/// <param name="Code">The code.</param>
/// <param name="Message">Plain text.</param>
public sealed record NormalizationWarning(NormalizationWarningCode Code, string Message);

/// <summary>The findings of one normalization.</summary>
/// <param name="Warnings">Findings in the order they were made.</param>
public sealed record NormalizationReport(IReadOnlyList<NormalizationWarning> Warnings)
{
    /// <summary>True when a finding with <paramref name="code"/> was made.</summary>
    public bool Has(NormalizationWarningCode code) => Warnings.Any(w => w.Code == code);
}
