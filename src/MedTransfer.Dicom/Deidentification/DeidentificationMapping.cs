namespace MedTransfer.Dicom.Deidentification;

/// <summary>What a mapping entry maps.</summary>
internal enum DeidentificationMappingKind
{
    /// <summary>An original UID and its replacement.</summary>
    Uid,

    /// <summary>An original Patient ID (0010,0020) and its pseudonym.</summary>
    PatientId,

    /// <summary>An original Patient's Name (0010,0010) and its pseudonym.</summary>
    PatientName,

    /// <summary>A patient identity (the original Patient ID, or "name:" and the name when the ID is empty) and the date offset in days applied to that patient's dates.</summary>
    DateShiftDays,
}

/// <summary>
/// One original value and its replacement, from <see cref="Deidentifier.GetMapping"/>. This is protected
/// health information: it re-identifies the output. Never log it; store it like the original images.
/// </summary>
/// <param name="Kind">What is mapped.</param>
/// <param name="Original">The original value.</param>
/// <param name="Replacement">The value written instead (for <see cref="DeidentificationMappingKind.DateShiftDays"/>, the offset in days).</param>
internal sealed record DeidentificationMappingEntry(DeidentificationMappingKind Kind, string Original, string Replacement)
{
    /// <summary>The kind only: the values are patient data and must not reach logs by accident.</summary>
    public override string ToString() => $"{Kind} mapping";
}
