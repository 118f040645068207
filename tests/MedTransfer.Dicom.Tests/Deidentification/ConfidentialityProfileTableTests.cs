using MedTransfer.Dicom.Deidentification;
using Xunit;

namespace MedTransfer.Dicom.Tests.Deidentification;

public sealed class ConfidentialityProfileTableTests
{
    [Fact]
    public void Rows_HoldEveryAttributeOfTheExtraction_OncePerTag()
    {
        // 460 rows in the extraction; the "private attributes (odd groups)" row is a rule, not a row.
        Assert.Equal(459, ConfidentialityProfileTable.Rows.Length);
        Assert.Equal(459, ConfidentialityProfileTable.Rows.Select(r => (r.Tag, r.Mask)).Distinct().Count());
    }

    [Fact]
    public void Rows_AreSortedByTag()
    {
        uint[] tags = [.. ConfidentialityProfileTable.Rows.Select(r => r.Tag)];
        Assert.Equal(tags.Order(), tags);
    }

    [Fact]
    public void Rows_NoBasicProfileActionIsKeep()
    {
        Assert.DoesNotContain(ConfidentialityProfileTable.Rows, r => r.Basic == ProfileAction.K || r.Basic == ProfileAction.C);
    }

    [Fact]
    public void Rows_EveryExactTagIsInTheDataDictionary()
    {
        foreach (ProfileRow row in ConfidentialityProfileTable.Rows.Where(r => r.Mask == 0xFFFF_FFFF))
        {
            Assert.True(DicomDictionary.TryGetEntry(new DicomTag(row.Tag), out _), $"{new DicomTag(row.Tag)} is not in the dictionary");
        }
    }

    [Theory]
    [InlineData(0x0010_0010u, "Z")]          // Patient's Name
    [InlineData(0x0010_0020u, "Z")]          // Patient ID
    [InlineData(0x0020_000Du, "U")]          // Study Instance UID
    [InlineData(0x0008_0018u, "U")]          // SOP Instance UID
    [InlineData(0x0008_0022u, "XZ")]         // Acquisition Date
    [InlineData(0x0008_002Au, "XZD")]        // Acquisition DateTime
    [InlineData(0x0008_0023u, "ZD")]         // Content Date
    [InlineData(0x0008_1140u, "XZU")]        // Referenced Image Sequence
    [InlineData(0x0018_1400u, "XD")]         // Acquisition Device Processing Description
    [InlineData(0x0040_A730u, "D")]          // Content Sequence
    [InlineData(0xFFFC_FFFCu, "X")]          // Data Set Trailing Padding
    public void TryGet_KnownRows_GiveTheStandardsBasicAction(uint tag, string expected)
    {
        Assert.True(ConfidentialityProfileTable.TryGet(new DicomTag(tag), out ProfileRow row));
        Assert.Equal(Enum.Parse<ProfileAction>(expected), row.Basic);
    }

    [Fact]
    public void TryGet_OptionColumns_MatchTheStandard()
    {
        Assert.True(ConfidentialityProfileTable.TryGet(new DicomTag(0x0008, 0x0020), out ProfileRow studyDate));
        Assert.Equal(ProfileAction.C, studyDate.Dates);
        Assert.True(ConfidentialityProfileTable.TryGet(new DicomTag(0x0018, 0x1002), out ProfileRow deviceUid));
        Assert.Equal(ProfileAction.K, deviceUid.Device);
        Assert.Equal(ProfileAction.K, deviceUid.Uids);
        Assert.True(ConfidentialityProfileTable.TryGet(new DicomTag(0x0010, 0x2110), out ProfileRow allergies));
        Assert.Equal(ProfileAction.C, allergies.PatientCharacteristics);
        Assert.True(ConfidentialityProfileTable.TryGet(new DicomTag(0x0008, 0x1120), out ProfileRow referencedPatient));
        Assert.Equal(ProfileAction.X, referencedPatient.Uids);
        Assert.True(ConfidentialityProfileTable.TryGet(new DicomTag(0x0010, 0x0030), out ProfileRow birthDate));
        Assert.Null(birthDate.Dates);
    }

    [Theory]
    [InlineData(0x5000_3000u)]
    [InlineData(0x501E_0022u)]
    [InlineData(0x6000_3000u)]
    [InlineData(0x601E_4000u)]
    public void TryGet_RepeatingGroups_MatchTheMaskedRows(uint tag)
    {
        Assert.True(ConfidentialityProfileTable.TryGet(new DicomTag(tag), out ProfileRow row));
        Assert.Equal(ProfileAction.X, row.Basic);
    }

    [Theory]
    [InlineData(0x6000_0010u)] // Overlay Rows: not in the table
    [InlineData(0x0008_0016u)] // SOP Class UID
    [InlineData(0x0028_0010u)] // Rows
    public void TryGet_UnlistedTags_ReturnFalse(uint tag)
    {
        Assert.False(ConfidentialityProfileTable.TryGet(new DicomTag(tag), out _));
    }
}
