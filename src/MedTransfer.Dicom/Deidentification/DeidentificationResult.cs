namespace MedTransfer.Dicom.Deidentification;

/// <summary>What <see cref="Deidentifier.Apply"/> did to one data set. Holds no patient data: counts, the new SOP Instance UID and plain-language warnings only.</summary>
public sealed record DeidentificationResult
{
    /// <summary>The replacement SOP Instance UID (0008,0018), or null when the data set has none.</summary>
    public string? SopInstanceUid { get; init; }

    /// <summary>
    /// True when the data set holds pixel data and its Burned In Annotation (0028,0301) is absent, "YES" or
    /// not a valid value: text burned into the pixels (names, dates, IDs) may remain, and the engine neither
    /// removes nor verifies it, so it never claims an image clean. The engine never sets (0028,0301) to "NO"; a "NO" in the
    /// output was the source's own statement.
    /// </summary>
    public bool BurnedInAnnotationUnverified { get; init; }

    /// <summary>Plain-language warnings for the person releasing the data; never contain values from the data set.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Elements removed (private elements included).</summary>
    public int ElementsRemoved { get; init; }

    /// <summary>Elements emptied, replaced with dummies or pseudonyms, or date-shifted.</summary>
    public int ElementsReplaced { get; init; }

    /// <summary>UID values replaced.</summary>
    public int UidsRemapped { get; init; }
}
