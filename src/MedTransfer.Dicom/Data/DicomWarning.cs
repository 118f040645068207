namespace MedTransfer.Dicom;

/// <summary>
/// A problem the tolerant reader recovered from (PS3.5 deviations such as odd lengths or missing delimiters).
/// Holds no value from the file: only a code, the byte offset and the tag.
/// </summary>
/// <param name="Code">What went wrong, with the same codes strict mode raises.</param>
/// <param name="Offset">Byte offset in the (inflated) stream where it was found, or -1.</param>
/// <param name="Tag">The element concerned, where known.</param>
/// <param name="Detail">A fixed description (never file content).</param>
public sealed record DicomWarning(DicomErrorCode Code, long Offset, DicomTag? Tag, string Detail);
