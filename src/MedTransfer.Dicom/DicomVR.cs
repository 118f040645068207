namespace MedTransfer.Dicom;

/// <summary>
/// Value Representations, PS3.5 §6.2. <see cref="None"/> marks "no VR" (items and delimiters),
/// and dictionary entries whose VR depends on context ("US or SS") use the first listed VR.
/// </summary>
public enum DicomVR
{
    /// <summary>No VR (item and delimitation tags).</summary>
    None = 0,
#pragma warning disable CS1591 // The two-letter codes are the standard's own names.
    AE, AS, AT, CS, DA, DS, DT, FD, FL, IS, LO, LT, OB, OD, OF, OL, OV, OW, PN, SH, SL, SQ, SS, ST, SV, TM, UC, UI, UL, UN, UR, US, UT, UV,
#pragma warning restore CS1591
}

/// <summary>Facts about each VR from PS3.5 §6.2 and §7.1.2.</summary>
public static class DicomVRInfo
{
    /// <summary>
    /// True when, in explicit VR encodings, the VR is followed by two reserved bytes and a 32-bit
    /// length (PS3.5 Table 7.1-1); false for the 16-bit-length VRs.
    /// </summary>
    public static bool HasLongLength(DicomVR vr) => vr switch
    {
        DicomVR.OB or DicomVR.OD or DicomVR.OF or DicomVR.OL or DicomVR.OV or DicomVR.OW or DicomVR.SQ
            or DicomVR.UC or DicomVR.UN or DicomVR.UR or DicomVR.UT or DicomVR.SV or DicomVR.UV => true,
        _ => false,
    };

    /// <summary>True for VRs whose values are character strings (affected by Specific Character Set or not).</summary>
    public static bool IsString(DicomVR vr) => vr switch
    {
        DicomVR.AE or DicomVR.AS or DicomVR.CS or DicomVR.DA or DicomVR.DS or DicomVR.DT or DicomVR.IS or DicomVR.LO
            or DicomVR.LT or DicomVR.PN or DicomVR.SH or DicomVR.ST or DicomVR.TM or DicomVR.UC or DicomVR.UI
            or DicomVR.UR or DicomVR.UT => true,
        _ => false,
    };

    /// <summary>The padding byte for an odd-length value: NUL for UI and binary VRs, space for other strings.</summary>
    public static byte PaddingByte(DicomVR vr) => IsString(vr) && vr != DicomVR.UI ? (byte)' ' : (byte)0;

    /// <summary>Size in bytes of one binary value (2 for US, 4 for UL/FL, 8 for FD ...), or 0 for strings and byte streams.</summary>
    public static int ValueSize(DicomVR vr) => vr switch
    {
        DicomVR.SS or DicomVR.US or DicomVR.OW => 2,
        DicomVR.AT or DicomVR.FL or DicomVR.SL or DicomVR.UL or DicomVR.OF or DicomVR.OL => 4,
        DicomVR.FD or DicomVR.SV or DicomVR.UV or DicomVR.OD or DicomVR.OV => 8,
        _ => 0,
    };

    /// <summary>Parses a two-letter VR code as read from an explicit VR stream; false when it is not a VR.</summary>
    public static bool TryParse(byte first, byte second, out DicomVR vr)
    {
        vr = DicomVR.None;
        if (first < 'A' || first > 'Z' || second < 'A' || second > 'Z')
        {
            return false;
        }

        return Enum.TryParse(new string([(char)first, (char)second]), ignoreCase: false, out vr) && vr != DicomVR.None;
    }
}
