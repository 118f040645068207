namespace MedTransfer.Dicom.Deidentification;

/// <summary>
/// One row of PS3.15 Table E.1-1: the tag (or, with <paramref name="Mask"/>, a repeating-group pattern),
/// the Basic Profile action, and the action of each supported option column when the option is in use
/// (null when the column is empty, meaning the Basic Profile action stands).
/// </summary>
/// <param name="Tag">The tag as a 32-bit value (group in the high 16 bits).</param>
/// <param name="Basic">The Basic Application Level Confidentiality Profile action.</param>
/// <param name="Dates">Retain Longitudinal Temporal Information with Modified Dates Option (C = shift).</param>
/// <param name="Device">Retain Device Identity Option.</param>
/// <param name="Uids">Retain UIDs Option.</param>
/// <param name="PatientCharacteristics">Retain Patient Characteristics Option.</param>
/// <param name="Mask">Bits of a tag that must equal <paramref name="Tag"/>; 0xFFFFFFFF for an exact tag.</param>
internal readonly record struct ProfileRow(
    uint Tag,
    ProfileAction Basic,
    ProfileAction? Dates = null,
    ProfileAction? Device = null,
    ProfileAction? Uids = null,
    ProfileAction? PatientCharacteristics = null,
    uint Mask = 0xFFFF_FFFF)
{
    /// <summary>True when <paramref name="tag"/> matches this row.</summary>
    internal bool Matches(DicomTag tag) => (tag.Value & Mask) == Tag;
}
