using System.Reflection;
using Xunit;

namespace MedTransfer.Dicom.Tests.Dictionary;

public sealed class DicomDictionaryTests
{
    [Fact]
    public void TryGetEntry_Rows_IsUSWithVM1()
    {
        Assert.True(DicomDictionary.TryGetEntry(new DicomTag(0x0028, 0x0010), out DicomDictionaryEntry? entry));
        Assert.Equal("Rows", entry.Keyword);
        Assert.Equal("Rows", entry.Name);
        Assert.Equal(DicomVR.US, entry.VR);
        Assert.Equal(new[] { DicomVR.US }, entry.AllowedVRs);
        Assert.Equal("1", entry.VM);
        Assert.False(entry.IsRetired);
    }

    [Fact]
    public void TryGetEntry_PixelData_AllowsOBAndOWAndChoosesOW()
    {
        Assert.True(DicomDictionary.TryGetEntry("PixelData", out DicomDictionaryEntry? entry));
        Assert.Equal(new DicomTag(0x7FE0, 0x0010), entry.Tag);
        Assert.Equal(new[] { DicomVR.OB, DicomVR.OW }, entry.AllowedVRs);
        Assert.Equal(DicomVR.OW, entry.VR);
        Assert.Equal(DicomVR.OW, DicomDictionary.GetVR(DicomTag.PixelData));
    }

    [Fact]
    public void TryGetEntry_PatientName_IsPNWithTheStandardsName()
    {
        Assert.True(DicomDictionary.TryGetEntry(new DicomTag(0x0010, 0x0010), out DicomDictionaryEntry? entry));
        Assert.Equal("PatientName", entry.Keyword);
        Assert.Equal("Patient's Name", entry.Name);
        Assert.Equal(DicomVR.PN, entry.VR);
    }

    [Theory]
    [InlineData(0x6000, DicomVR.OW)]
    [InlineData(0x6002, DicomVR.OW)]
    [InlineData(0x601E, DicomVR.OW)]
    public void GetVR_OverlayDataInAnyEvenOverlayGroup_IsOW(int group, DicomVR expected)
    {
        var tag = new DicomTag((ushort)group, 0x3000);
        Assert.Equal(expected, DicomDictionary.GetVR(tag));
        Assert.Equal("OverlayData", DicomDictionary.GetKeyword(tag));
        Assert.True(DicomDictionary.TryGetEntry(tag, out DicomDictionaryEntry? entry));
        Assert.Equal(tag, entry.Tag);
        Assert.False(entry.IsRetired);
    }

    [Fact]
    public void GetVR_OddOverlayGroup_IsPrivateNotOverlay()
    {
        Assert.Equal(DicomVR.UN, DicomDictionary.GetVR(new DicomTag(0x6001, 0x3000)));
        Assert.Equal(DicomVR.LO, DicomDictionary.GetVR(new DicomTag(0x6001, 0x0010)));
    }

    [Fact]
    public void GetVR_CurveAndVariablePixelDataRepeatingGroups_Resolve()
    {
        Assert.Equal(DicomVR.US, DicomDictionary.GetVR(new DicomTag(0x5002, 0x0005)));
        Assert.Equal("CurveDimensions", DicomDictionary.GetKeyword(new DicomTag(0x5002, 0x0005)));
        Assert.Equal(DicomVR.OW, DicomDictionary.GetVR(new DicomTag(0x7F02, 0x0010)));
        Assert.Equal("VariablePixelData", DicomDictionary.GetKeyword(new DicomTag(0x7F02, 0x0010)));
    }

    [Fact]
    public void GetVR_PixelDataIsNotMistakenForVariablePixelData()
    {
        Assert.Equal("PixelData", DicomDictionary.GetKeyword(new DicomTag(0x7FE0, 0x0010)));
    }

    [Theory]
    [InlineData(0x0009, 0x0010)]
    [InlineData(0x0009, 0x00FF)]
    [InlineData(0x0029, 0x0011)]
    public void GetVR_PrivateCreator_IsLO(int group, int element)
    {
        Assert.Equal(DicomVR.LO, DicomDictionary.GetVR(new DicomTag((ushort)group, (ushort)element)));
    }

    [Fact]
    public void GetVR_PrivateDataElement_IsUN()
    {
        Assert.Equal(DicomVR.UN, DicomDictionary.GetVR(new DicomTag(0x0009, 0x1010)));
        Assert.False(DicomDictionary.TryGetEntry(new DicomTag(0x0009, 0x0010), out _));
    }

    [Theory]
    [InlineData(0x0028)]
    [InlineData(0x0008)]
    [InlineData(0x0009)]
    [InlineData(0x0002)]
    [InlineData(0x6000)]
    public void GetVR_GroupLength_IsUL(int group)
    {
        Assert.Equal(DicomVR.UL, DicomDictionary.GetVR(new DicomTag((ushort)group, 0x0000)));
    }

    [Fact]
    public void GetVR_UnknownTag_IsUNWithEmptyKeyword()
    {
        var unknown = new DicomTag(0x0008, 0xFFF0);
        Assert.Equal(DicomVR.UN, DicomDictionary.GetVR(unknown));
        Assert.Equal(string.Empty, DicomDictionary.GetKeyword(unknown));
        Assert.False(DicomDictionary.TryGetEntry(unknown, out _));
        Assert.False(DicomDictionary.TryGetTag("NoSuchKeyword", out _));
        Assert.False(DicomDictionary.TryGetEntry("rows", out _));
    }

    [Fact]
    public void GetVR_ItemsAndDelimiters_AreNone()
    {
        Assert.Equal(DicomVR.None, DicomDictionary.GetVR(DicomTag.Item));
        Assert.Equal(DicomVR.None, DicomDictionary.GetVR(DicomTag.ItemDelimitation));
        Assert.Equal(DicomVR.None, DicomDictionary.GetVR(DicomTag.SequenceDelimitation));
    }

    [Fact]
    public void TryGetEntry_AmbiguousUSorSS_ChoosesTheFirst()
    {
        Assert.True(DicomDictionary.TryGetEntry("SmallestImagePixelValue", out DicomDictionaryEntry? entry));
        Assert.Equal(new[] { DicomVR.US, DicomVR.SS }, entry.AllowedVRs);
        Assert.Equal(DicomVR.US, entry.VR);
        Assert.True(DicomDictionary.TryGetEntry("LUTData", out DicomDictionaryEntry? lut));
        Assert.Equal(new[] { DicomVR.US, DicomVR.OW }, lut.AllowedVRs);
        Assert.Equal(DicomVR.US, lut.VR);
    }

    [Fact]
    public void TryGetEntry_RetiredElement_IsFlagged()
    {
        Assert.True(DicomDictionary.TryGetEntry(new DicomTag(0x0028, 0x0005), out DicomDictionaryEntry? entry));
        Assert.Equal("ImageDimensions", entry.Keyword);
        Assert.True(entry.IsRetired);
    }

    [Fact]
    public void TryGetTag_RepeatingElementRange_GivesTheFirstMemberThatIsNotAGroupLength()
    {
        Assert.True(DicomDictionary.TryGetTag("EscapeTriplet", out DicomTag tag));
        Assert.Equal(new DicomTag(0x1000, 0x0010), tag);
        Assert.Equal(DicomVR.US, DicomDictionary.GetVR(new DicomTag(0x1000, 0x0120)));
        Assert.Equal(DicomVR.UL, DicomDictionary.GetVR(new DicomTag(0x1000, 0x0000)));
    }

    [Fact]
    public void TryGetTag_RepeatingRangeSharingATagWithAnElement_SkipsThatTag()
    {
        // (0028,0400) is Transform Label (LO); Rows For Nth Order Coefficients is (0028,04x0) for the other x.
        Assert.Equal(DicomVR.LO, DicomDictionary.GetVR(new DicomTag(0x0028, 0x0400)));
        Assert.True(DicomDictionary.TryGetTag("RowsForNthOrderCoefficients", out DicomTag tag));
        Assert.Equal(new DicomTag(0x0028, 0x0410), tag);
        Assert.Equal(DicomVR.US, DicomDictionary.GetVR(new DicomTag(0x0028, 0x04F0)));
    }

    [Fact]
    public void FileMetaAndDirectoryElements_ArePresent()
    {
        Assert.Equal(DicomVR.UI, DicomDictionary.GetVR(new DicomTag(0x0002, 0x0010)));
        Assert.Equal(DicomVR.UL, DicomDictionary.GetVR(new DicomTag(0x0002, 0x0000)));
        Assert.Equal("DirectoryRecordSequence", DicomDictionary.GetKeyword(new DicomTag(0x0004, 0x1220)));
    }

    [Fact]
    public void TagConstants_MatchTheStandard()
    {
        Assert.Equal(new DicomTag(0x0028, 0x0010), Tag.Rows);
        Assert.Equal(new DicomTag(0x0028, 0x0011), Tag.Columns);
        Assert.Equal(new DicomTag(0x7FE0, 0x0010), Tag.PixelData);
        Assert.Equal(new DicomTag(0x0008, 0x0005), Tag.SpecificCharacterSet);
        Assert.Equal(new DicomTag(0x0010, 0x0010), Tag.PatientName);
        Assert.Equal(new DicomTag(0x0002, 0x0010), Tag.TransferSyntaxUID);
        Assert.Equal(new DicomTag(0x0028, 0x1053), Tag.RescaleSlope);
        Assert.Equal(new DicomTag(0x6000, 0x3000), Tag.OverlayData);
    }

    [Fact]
    public void TagConstants_EveryMemberIsItsKeywordsTag()
    {
        PropertyInfo[] members = typeof(Tag).GetProperties(BindingFlags.Public | BindingFlags.Static);
        Assert.True(members.Length > 4000, $"only {members.Length} Tag members");
        foreach (PropertyInfo member in members)
        {
            Assert.True(DicomDictionary.TryGetEntry(member.Name, out DicomDictionaryEntry? entry), member.Name);
            Assert.False(entry.IsRetired, member.Name);
            Assert.Equal(entry.Tag, (DicomTag)member.GetValue(null)!);
        }
    }

    [Fact]
    public void EveryEntry_KeywordAndTagRoundTrip()
    {
        int checkedEntries = 0;
        foreach (DicomDictionaryEntry entry in DicomDictionary.AllEntries)
        {
            Assert.Contains(entry.VR, entry.AllowedVRs);
            Assert.Equal(entry.VR, DicomDictionary.GetVR(entry.Tag));
            if (entry.Keyword.Length == 0)
            {
                Assert.True(entry.IsRetired, $"{entry.Tag} has no keyword but is not retired");
                continue;
            }

            Assert.True(DicomDictionary.TryGetTag(entry.Keyword, out DicomTag tag), entry.Keyword);
            Assert.Equal(entry.Tag, tag);
            Assert.Equal(entry.Keyword, DicomDictionary.GetKeyword(tag));
            checkedEntries++;
        }

        Assert.True(checkedEntries > 4500, $"only {checkedEntries} keywords");
    }

    [Fact]
    public void EveryEntry_KeywordsAreUnique()
    {
        string[] duplicates = DicomDictionary.AllEntries
            .Where(e => e.Keyword.Length > 0)
            .GroupBy(e => e.Keyword, StringComparer.Ordinal)
            .Where(g => g.Count() > 1)
            .Select(g => g.Key)
            .ToArray();
        Assert.Empty(duplicates);
    }

    [Fact]
    public void Count_IsTheNumberOfEntries()
    {
        Assert.Equal(DicomDictionary.AllEntries.Count(), DicomDictionary.Count);
        Assert.InRange(DicomDictionary.Count, 4900, 6000);
    }

    [Fact]
    public void Lookups_FromManyThreads_AgreeWithTheTable()
    {
        DicomVR[] results = new DicomVR[64];
        Parallel.For(0, results.Length, i => results[i] = DicomDictionary.GetVR(Tag.Rows));
        Assert.All(results, vr => Assert.Equal(DicomVR.US, vr));
    }
}
