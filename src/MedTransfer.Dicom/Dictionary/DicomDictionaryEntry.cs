namespace MedTransfer.Dicom;

/// <summary>
/// One row of the DICOM data dictionary (PS3.6 Table 6-1, with the file meta elements of Table 7-1, the directory
/// elements of Table 8-1 and the command elements of PS3.7 Table E.1-1).
/// </summary>
/// <param name="Tag">
/// The tag. For a repeating group such as Overlay Data (60xx,3000) an entry found by tag carries the tag that was
/// looked up; an entry found by keyword carries the first member of the group, e.g. (6000,3000).
/// </param>
/// <param name="Keyword">The standard's keyword, e.g. "PatientName"; empty for the few retired entries the standard leaves unnamed.</param>
/// <param name="Name">The standard's name, e.g. "Patient's Name", as PS3.6 spells it (not derived from the keyword).</param>
/// <param name="VR">
/// The VR to use when the stream does not say (implicit VR): the single VR, or for entries listing several
/// ("US or SS", "US or SS or OW", "US or OW") the first one, except "OB or OW", which gives OW, as PS3.5 §A.1 requires
/// for Pixel Data and Overlay Data in Implicit VR Little Endian. <see cref="DicomVR.None"/> for items and delimiters.
/// </param>
/// <param name="AllowedVRs">Every VR the standard lists for the element, in its order; <see cref="DicomVR.None"/> alone for items and delimiters.</param>
/// <param name="VM">The value multiplicity as PS3.6 writes it: "1", "1-n", "2-2n", ...</param>
/// <param name="IsRetired">True when PS3.6 marks the element as retired.</param>
internal sealed record DicomDictionaryEntry(
    DicomTag Tag,
    string Keyword,
    string Name,
    DicomVR VR,
    IReadOnlyList<DicomVR> AllowedVRs,
    string VM,
    bool IsRetired);
