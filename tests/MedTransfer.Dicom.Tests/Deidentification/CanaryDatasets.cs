using System.Text;
using MedTransfer.Dicom.Deidentification;

namespace MedTransfer.Dicom.Tests.Deidentification;

/// <summary>
/// De-identification canaries, built in code: a unique canary in every attribute of PS3.15 Table E.1-1 (all of
/// them have a Basic Profile action other than K), at the top level and inside sequence items two levels
/// down, in private elements (creator, values, a private sequence) and, as a non-ASCII canary, in names
/// encoded in UTF-8 (ISO_IR 192).
/// </summary>
internal static class CanaryDatasets
{
    /// <summary>The ASCII canary. It must appear nowhere in a de-identified output.</summary>
    public const string Canary = "CANARY7Q";

    /// <summary>A non-ASCII canary for person names under ISO_IR 192.</summary>
    public const string UnicodeCanary = "Çanärÿ7Q";

    public static readonly byte[] CanaryBytes = Encoding.ASCII.GetBytes(Canary);
    public static readonly byte[] UnicodeCanaryBytes = Encoding.UTF8.GetBytes(UnicodeCanary);

    public static readonly DicomTag ReferencedSeriesSequence = new(0x0008, 0x1115);
    public static readonly DicomTag ReferencedInstanceSequence = new(0x0008, 0x114A);
    public static readonly DicomTag PrivateCreator = new(0x0009, 0x0010);
    public static readonly DicomTag PrivateText = new(0x0009, 0x1001);
    public static readonly DicomTag PrivateBytes = new(0x0009, 0x1002);
    public static readonly DicomTag PrivateSequence = new(0x0009, 0x1003);
    public static readonly DicomTag SourceApplicationEntityTitle = new(0x0002, 0x0016);

    /// <summary>The concrete tags the canary goes into, one or two per table row (masked rows get a member of the repeating group).</summary>
    public static IReadOnlyList<DicomTag> CanaryTags(bool topLevel)
    {
        var tags = new List<DicomTag>();
        foreach (ProfileRow row in ConfidentialityProfileTable.Rows)
        {
            if (row.Mask == 0xFF00_0000)
            {
                tags.Add(new DicomTag(0x5000, 0x3000)); // Curve Data
                tags.Add(new DicomTag(0x5002, 0x0022)); // Curve Description
                continue;
            }

            var tag = new DicomTag(row.Tag);
            // Command (0000) and file meta (0002) elements belong to other structures than a data set;
            // the file meta is exercised through the file (its SOP Instance UID and an extra AE title).
            // Digital signatures and trailing padding are top-level only.
            if (tag.Group is 0x0000 or 0x0002 || (!topLevel && tag.Group >= 0xFFFA))
            {
                continue;
            }

            tags.Add(tag);
        }

        return tags;
    }

    /// <summary>A data set with the canary in every table attribute, nested twice, plus private elements.</summary>
    public static DicomDataset Build()
    {
        DicomDataset top = Level(topLevel: true);
        top.Set(new DicomTag(0x0008, 0x0005), DicomVR.CS, "ISO_IR 192");
        top.Set(new DicomTag(0x0008, 0x0016), DicomVR.UI, "1.2.840.10008.5.1.4.1.1.7");
        top.Set(new DicomTag(0x0010, 0x0010), DicomVR.PN, UnicodeCanary + "^" + Canary);
        top.Set(new DicomTag(0x0010, 0x1001), DicomVR.PN, UnicodeCanary + "^Other");

        DicomDataset level2 = Level(topLevel: false);
        DicomDataset level1 = Level(topLevel: false);
        level1.SetSequence(ReferencedInstanceSequence, [level2]);
        top.SetSequence(ReferencedSeriesSequence, [level1]);
        return top;
    }

    /// <summary>The canary in one data set level: every table attribute plus private elements.</summary>
    private static DicomDataset Level(bool topLevel)
    {
        var ds = new DicomDataset();
        foreach (DicomTag tag in CanaryTags(topLevel))
        {
            SetCanary(ds, tag);
        }

        ds.Set(PrivateCreator, DicomVR.LO, Canary + " CREATOR");
        ds.Set(PrivateText, DicomVR.LO, Canary);
        ds.SetBytes(PrivateBytes, DicomVR.UN, CanaryBytes);
        var privateItem = new DicomDataset();
        privateItem.Set(new DicomTag(0x0008, 0x0104), DicomVR.LO, Canary);
        ds.SetSequence(PrivateSequence, [privateItem]);
        return ds;
    }

    private static void SetCanary(DicomDataset ds, DicomTag tag)
    {
        DicomVR vr = DicomDictionary.GetVR(tag);
        if (vr == DicomVR.SQ)
        {
            var item = new DicomDataset();
            bool referencesImages = tag == new DicomTag(0x0008, 0x1140) || tag == new DicomTag(0x0008, 0x2112);
            if (referencesImages)
            {
                // X/Z/U*: the sequence is kept and its UIDs replaced, so the canary sits in the UID.
                item.Set(new DicomTag(0x0008, 0x1150), DicomVR.UI, "1.2.840.10008.5.1.4.1.1.2");
                item.Set(new DicomTag(0x0008, 0x1155), DicomVR.UI, Canary);
            }
            else
            {
                item.Set(new DicomTag(0x0008, 0x0100), DicomVR.SH, Canary);
                item.Set(new DicomTag(0x0008, 0x0104), DicomVR.LO, Canary);
                item.Set(new DicomTag(0x0040, 0xA160), DicomVR.UT, Canary);
            }

            ds.SetSequence(tag, [item]);
            return;
        }

        if (DicomVRInfo.IsString(vr))
        {
            ds.Set(tag, vr, Canary);
        }
        else
        {
            ds.SetBytes(tag, vr is DicomVR.None ? DicomVR.UN : vr, CanaryBytes);
        }
    }

    /// <summary>Number of non-overlapping occurrences of <paramref name="needle"/> in <paramref name="haystack"/>.</summary>
    public static int Count(ReadOnlySpan<byte> haystack, ReadOnlySpan<byte> needle)
    {
        int count = 0;
        int i;
        while ((i = haystack.IndexOf(needle)) >= 0)
        {
            count++;
            haystack = haystack[(i + needle.Length)..];
        }

        return count;
    }
}
