namespace MedTransfer.Dicom;

/// <summary>The one place the data model turns value bytes into text and back (PS3.5 §6.1), through <see cref="DicomCharacterSets"/>.</summary>
internal static class TextCodec
{
    public static string Decode(ReadOnlySpan<byte> bytes, IReadOnlyList<string> specificCharacterSet, DicomVR vr) =>
        DicomCharacterSets.Decode(bytes, specificCharacterSet, vr);

    public static byte[] Encode(string text, IReadOnlyList<string> specificCharacterSet, DicomVR vr) =>
        DicomCharacterSets.Encode(text, specificCharacterSet, vr);
}
