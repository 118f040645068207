using MedTransfer.Dicom.Deidentification;
using Xunit;

namespace MedTransfer.Dicom.Tests.Deidentification;

/// <summary>How actions apply to structure: sequences, unknown encodings, depth, private groups, repeating groups.</summary>
public sealed class DeidentifierStructureTests
{
    [Fact]
    public void Apply_UnElementThatShouldBeASequence_IsRemovedWithAWarning()
    {
        DicomDataset ds = TestInstances.Image();
        var referencedRequest = new DicomTag(0x0040, 0xA370); // a sequence the table does not list
        ds.SetBytes(referencedRequest, DicomVR.UN, CanaryDatasets.CanaryBytes);
        DeidentificationResult result = new Deidentifier(TestKeys.Options()).Apply(ds);
        Assert.False(ds.Contains(referencedRequest));
        Assert.Contains(result.Warnings, w => w.Contains("(UN)", StringComparison.Ordinal));
    }

    [Fact]
    public void Apply_NestingDeeperThanTheReaderLimit_ThrowsTyped()
    {
        DicomDataset ds = TestInstances.Image();
        var seq = new DicomTag(0x0040, 0xA370);
        DicomDataset current = ds;
        for (int i = 0; i < 300; i++)
        {
            var item = new DicomDataset();
            current.SetSequence(seq, [item]);
            current = item;
        }

        DicomFormatException ex = Assert.Throws<DicomFormatException>(() => new Deidentifier(TestKeys.Options()).Apply(ds));
        Assert.Equal(DicomErrorCode.SequenceTooDeep, ex.Reason);
    }

    [Fact]
    public void Apply_SequenceActions_XRemovesZEmptiesDGivesOneEmptyItemUStarKeepsAndRemaps()
    {
        DicomDataset ds = TestInstances.Image();
        var otherPatientIds = new DicomTag(0x0010, 0x1002);   // X
        var issuerOfContainer = new DicomTag(0x0040, 0x0513); // Z
        var contentSequence = new DicomTag(0x0040, 0xA730);   // D
        foreach (DicomTag tag in new[] { otherPatientIds, issuerOfContainer, contentSequence })
        {
            var item = new DicomDataset();
            item.Set(new DicomTag(0x0040, 0xA160), DicomVR.UT, "secret text");
            ds.SetSequence(tag, [item]);
        }

        ds.SetSequence(TestInstances.ReferencedImageSequence, [TestInstances.ReferenceItem("1.2.3.100.1.1")]); // X/Z/U*
        new Deidentifier(TestKeys.Options()).Apply(ds);

        Assert.False(ds.Contains(otherPatientIds));
        Assert.True(ds.Contains(issuerOfContainer));
        Assert.Empty(ds.GetSequence(issuerOfContainer));
        DicomDataset dummy = Assert.Single(ds.GetSequence(contentSequence));
        Assert.Equal(0, dummy.Count);
        DicomDataset reference = Assert.Single(ds.GetSequence(TestInstances.ReferencedImageSequence));
        Assert.Equal(ds.GetString(Tag.SOPInstanceUID), reference.GetString(TestInstances.ReferencedSopInstanceUid));
    }

    [Fact]
    public void Apply_PrivateGroupsCurvesAndOverlays_RemovedAtEveryLevel()
    {
        DicomDataset ds = TestInstances.Image();
        var item = new DicomDataset();
        item.Set(new DicomTag(0x0029, 0x0010), DicomVR.LO, "VENDOR");
        item.Set(new DicomTag(0x0029, 0x1001), DicomVR.LO, "secret");
        ds.SetSequence(new DicomTag(0x0040, 0xA370), [item]);
        ds.Set(new DicomTag(0x0029, 0x0010), DicomVR.LO, "VENDOR");
        ds.SetBytes(new DicomTag(0x0029, 0x1010), DicomVR.OB, new byte[] { 1, 2 });
        ds.SetBytes(new DicomTag(0x6002, 0x3000), DicomVR.OW, new byte[] { 1, 0 });
        ds.Set(new DicomTag(0x6002, 0x4000), DicomVR.LT, "overlay note");
        ds.SetNumbers(new DicomTag(0x6002, 0x0010), DicomVR.US, 2); // Overlay Rows: not in the table, kept
        ds.Set(new DicomTag(0x5004, 0x0022), DicomVR.LO, "curve note");
        new Deidentifier(TestKeys.Options()).Apply(ds);

        Assert.DoesNotContain(ds, e => (e.Tag.Group & 1) == 1);
        Assert.DoesNotContain(ds.GetSequence(new DicomTag(0x0040, 0xA370))[0], e => (e.Tag.Group & 1) == 1);
        Assert.False(ds.Contains(new DicomTag(0x6002, 0x3000)));
        Assert.False(ds.Contains(new DicomTag(0x6002, 0x4000)));
        Assert.False(ds.Contains(new DicomTag(0x5004, 0x0022)));
        Assert.True(ds.Contains(new DicomTag(0x6002, 0x0010)));
    }

    [Fact]
    public void Apply_DummyValues_FitTheirVR()
    {
        DicomDataset ds = TestInstances.Image();
        var contentCreatorName = new DicomTag(0x0070, 0x0084); // PN, Z/D
        var verifyingOrganization = new DicomTag(0x0040, 0xA027); // LO, D
        ds.Set(contentCreatorName, DicomVR.PN, "Smith^John");
        ds.Set(verifyingOrganization, DicomVR.LO, "Hospital");
        new Deidentifier(TestKeys.Options()).Apply(ds);
        Assert.Equal("ANONYMIZED", ds.GetString(contentCreatorName));
        Assert.Equal("ANONYMIZED", ds.GetString(verifyingOrganization));
    }
}
