namespace MedTransfer.Dicom;

/// <summary>
/// The tag of every non-retired keyword in the data dictionary, e.g. <c>Tag.PatientName</c> = (0010,0010).
/// Members are generated with <see cref="DicomDictionary"/> by <c>tools/dictgen/dictgen.py</c> (Tag.Generated.cs);
/// a repeating group such as Overlay Data (60xx,3000) gives its first member, (6000,3000). Retired elements are
/// reached through <see cref="DicomDictionary.TryGetTag(string, out DicomTag)"/>.
/// </summary>
public static partial class Tag
{
}
