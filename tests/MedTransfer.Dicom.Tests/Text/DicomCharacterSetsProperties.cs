using FsCheck;
using FsCheck.Xunit;

namespace MedTransfer.Dicom.Tests.Text;

/// <summary>Decode(Encode(s)) == s for strings each character set can hold (backslash excluded: it separates values).</summary>
public sealed class DicomCharacterSetsProperties
{
    [Property(MaxTest = 300)]
    public bool Ascii_RoundTrips_WithoutSpecificCharacterSet(NonNull<string> value)
    {
        string text = Clean(value.Get, c => (char)(c & 0x7F));
        return RoundTrips(text, [], DicomVR.LO);
    }

    [Property(MaxTest = 300)]
    public bool Latin1_RoundTrips_UnderIsoIr100(NonNull<string> value)
    {
        string text = Clean(value.Get, c => (char)(c & 0xFF));
        return RoundTrips(text, ["ISO_IR 100"], DicomVR.LO) && RoundTrips(text, ["ISO_IR 100"], DicomVR.UT);
    }

    [Property(MaxTest = 300)]
    public bool Unicode_RoundTrips_UnderIsoIr192(NonNull<string> value)
    {
        string text = Clean(value.Get, c => char.IsSurrogate(c) ? 'x' : c);
        return RoundTrips(text, ["ISO_IR 192"], DicomVR.LO) && RoundTrips(text, ["ISO_IR 192"], DicomVR.UT);
    }

    [Property(MaxTest = 300)]
    public bool Japanese_RoundTrips_WithCodeExtensions(NonNull<string> value)
    {
        const string kana = "やまだたろう山田太郎ﾔﾏﾀﾞabc ^=";
        string text = Clean(value.Get, c => kana[c % kana.Length]);
        return RoundTrips(text, ["ISO 2022 IR 13", "ISO 2022 IR 87"], DicomVR.PN);
    }

    private static string Clean(string value, Func<char, char> map)
    {
        // Backslash separates values; ESC belongs to code extensions and is never part of a character.
        char[] chars = value.Select(map).Where(c => c is not ('\\' or '\u001B')).ToArray();
        return new string(chars);
    }

    private static bool RoundTrips(string text, string[] terms, DicomVR vr) =>
        DicomCharacterSets.Decode(DicomCharacterSets.Encode(text, terms, vr), terms, vr) == text;
}
