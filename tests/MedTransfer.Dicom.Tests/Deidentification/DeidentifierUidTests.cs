using System.Text.RegularExpressions;
using MedTransfer.Dicom.Deidentification;
using MedTransfer.Testing;
using Xunit;

namespace MedTransfer.Dicom.Tests.Deidentification;

/// <summary>Replacement UIDs are consistent across a set, across runs with one key, and references follow.</summary>
public sealed partial class DeidentifierUidTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("deid-uid");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void DeidentifyFolder_TwoFilesOfOneStudy_ShareTheNewStudyUidAndReferencesFollow()
    {
        string inputRoot = Path.Combine(_dir, "in");
        Directory.CreateDirectory(inputRoot);
        DicomDataset a = TestInstances.Image(sopUid: "1.2.3.100.1.1");
        DicomDataset b = TestInstances.Image(sopUid: "1.2.3.100.1.2");
        b.SetSequence(TestInstances.ReferencedImageSequence, [TestInstances.ReferenceItem("1.2.3.100.1.1")]);
        TestInstances.Save(a, Path.Combine(inputRoot, "a.dcm"));
        TestInstances.Save(b, Path.Combine(inputRoot, "b.dcm"));

        DeidentificationBatchResult result = new Deidentifier(TestKeys.Options()).DeidentifyFolder(inputRoot, Path.Combine(_dir, "out"));

        Assert.Empty(result.Failures);
        DicomDataset outA = DicomFile.Open(result.Files[0].OutputPath).Dataset;
        DicomDataset outB = DicomFile.Open(result.Files[1].OutputPath).Dataset;
        Assert.Equal(outA.GetString(TestInstances.StudyInstanceUid), outB.GetString(TestInstances.StudyInstanceUid));
        Assert.Equal(outA.GetString(TestInstances.SeriesInstanceUid), outB.GetString(TestInstances.SeriesInstanceUid));
        Assert.Equal(outA.GetString(TestInstances.FrameOfReferenceUid), outB.GetString(TestInstances.FrameOfReferenceUid));
        Assert.NotEqual("1.2.3.100", outA.GetString(TestInstances.StudyInstanceUid));
        Assert.NotEqual(outA.GetString(Tag.SOPInstanceUID), outB.GetString(Tag.SOPInstanceUID));

        DicomDataset reference = outB.GetSequence(TestInstances.ReferencedImageSequence)[0];
        Assert.Equal(outA.GetString(Tag.SOPInstanceUID), reference.GetString(TestInstances.ReferencedSopInstanceUid));
        Assert.Equal(TestInstances.CtImageStorage, reference.GetString(TestInstances.ReferencedSopClassUid));
        Assert.Equal(TestInstances.CtImageStorage, outA.GetString(new DicomTag(0x0008, 0x0016)));
    }

    [Fact]
    public void Apply_SameKeyInTwoSessions_GivesTheSameUids()
    {
        DicomDataset first = TestInstances.Image();
        DicomDataset second = TestInstances.Image();
        new Deidentifier(TestKeys.Options()).Apply(first);
        new Deidentifier(TestKeys.Options()).Apply(second);
        Assert.Equal(first.GetString(Tag.SOPInstanceUID), second.GetString(Tag.SOPInstanceUID));
        Assert.Equal(first.GetString(TestInstances.StudyInstanceUid), second.GetString(TestInstances.StudyInstanceUid));
    }

    [Fact]
    public void Apply_DifferentKey_GivesDifferentUids()
    {
        DicomDataset first = TestInstances.Image();
        DicomDataset second = TestInstances.Image();
        new Deidentifier(TestKeys.Options(TestKeys.KeyA)).Apply(first);
        new Deidentifier(TestKeys.Options(TestKeys.KeyB)).Apply(second);
        Assert.NotEqual(first.GetString(TestInstances.StudyInstanceUid), second.GetString(TestInstances.StudyInstanceUid));
    }

    [Fact]
    public void Apply_UnlistedUidInANestedSequence_IsRemappedConsistently()
    {
        var ds = TestInstances.Image();
        var inner = new DicomDataset();
        inner.Set(TestInstances.SeriesInstanceUid, DicomVR.UI, "1.2.3.100.1");
        var outer = new DicomDataset();
        outer.SetSequence(new DicomTag(0x0008, 0x1115), [inner]); // Referenced Series Sequence: not in Table E.1-1
        ds.SetSequence(new DicomTag(0x0040, 0xA370), [outer]);    // Referenced Request Sequence: not in Table E.1-1
        new Deidentifier(TestKeys.Options()).Apply(ds);

        string? nested = ds.GetSequence(new DicomTag(0x0040, 0xA370))[0].GetSequence(new DicomTag(0x0008, 0x1115))[0].GetString(TestInstances.SeriesInstanceUid);
        Assert.Equal(ds.GetString(TestInstances.SeriesInstanceUid), nested);
    }

    [Fact]
    public void Apply_StandardAndClassUids_AreKept()
    {
        DicomDataset ds = TestInstances.Image();
        ds.Set(new DicomTag(0x0008, 0x0016), DicomVR.UI, "1.3.12.2.1107.5.9.1"); // a vendor's private SOP class
        var code = new DicomDataset();
        code.Set(Tag.CodingSchemeUID, DicomVR.UI, "2.16.840.1.113883.6.96");
        ds.SetSequence(new DicomTag(0x0008, 0x2218), [code]); // Anatomic Region Sequence
        ds.Set(new DicomTag(0x0008, 0x1195), DicomVR.UI, "1.2.840.10008.1.20"); // a well-known instance UID in a U row
        new Deidentifier(TestKeys.Options()).Apply(ds);

        Assert.Equal("1.3.12.2.1107.5.9.1", ds.GetString(new DicomTag(0x0008, 0x0016)));
        Assert.Equal("2.16.840.1.113883.6.96", ds.GetSequence(new DicomTag(0x0008, 0x2218))[0].GetString(Tag.CodingSchemeUID));
        Assert.Equal("1.2.840.10008.1.20", ds.GetString(new DicomTag(0x0008, 0x1195)));
    }

    [Fact]
    public void Apply_MultiValuedUid_RemapsEachValue()
    {
        DicomDataset ds = TestInstances.Image();
        var failed = new DicomTag(0x0008, 0x0058); // Failed SOP Instance UID List
        ds.Set(failed, DicomVR.UI, "1.2.3.100.1.1", "1.2.3.100.1.2");
        new Deidentifier(TestKeys.Options()).Apply(ds);
        string[] values = ds.GetStrings(failed);
        Assert.Equal(2, values.Length);
        Assert.Equal(ds.GetString(Tag.SOPInstanceUID), values[0]);
        Assert.NotEqual(values[0], values[1]);
    }

    [Fact]
    public void Apply_NewUids_AreValidUuidDerivedUids()
    {
        DicomDataset ds = TestInstances.Image();
        new Deidentifier(TestKeys.Options()).Apply(ds);
        string uid = ds.GetString(Tag.SOPInstanceUID)!;
        Assert.Matches(UuidDerivedUid(), uid);
        Assert.True(uid.Length <= 64);
    }

    [Fact]
    public void Apply_CustomRoot_UidsUseItAndFit64Characters()
    {
        const string root = "1.2.826.0.1.3680043.10.99999999.";
        DicomDataset ds = TestInstances.Image();
        new Deidentifier(TestKeys.Options() with { UidRoot = root }).Apply(ds);
        string uid = ds.GetString(Tag.SOPInstanceUID)!;
        Assert.StartsWith(root, uid, StringComparison.Ordinal);
        Assert.InRange(uid.Length, root.Length + 1, 64);
    }

    [Fact]
    public void GetMapping_WhenRecorded_MapsOldToNewUid_AndToStringHidesValues()
    {
        var deidentifier = new Deidentifier(TestKeys.Options() with { RecordMapping = true });
        DicomDataset ds = TestInstances.Image();
        deidentifier.Apply(ds);
        IReadOnlyList<DeidentificationMappingEntry> mapping = deidentifier.GetMapping();
        DeidentificationMappingEntry study = Assert.Single(mapping, e => e.Kind == DeidentificationMappingKind.Uid && e.Original == "1.2.3.100");
        Assert.Equal(ds.GetString(TestInstances.StudyInstanceUid), study.Replacement);
        Assert.Contains(mapping, e => e.Kind == DeidentificationMappingKind.PatientId && e.Original == "PAT-001");
        Assert.DoesNotContain("1.2.3.100", study.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ExportMapping_WritesQuotedCsv()
    {
        var deidentifier = new Deidentifier(TestKeys.Options() with { RecordMapping = true });
        deidentifier.Apply(TestInstances.Image(patientName: "O\"Brien^Pat"));
        using var writer = new StringWriter();
        deidentifier.ExportMapping(writer);
        string[] lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("kind,original,replacement", lines[0]);
        Assert.Contains("\"PatientName\",\"O\"\"Brien^Pat\",\"ANON^", writer.ToString(), StringComparison.Ordinal);
        Assert.Equal(deidentifier.GetMapping().Count + 1, lines.Length);
    }

    [Fact]
    public void GetMapping_NotRequested_Throws()
    {
        var deidentifier = new Deidentifier(TestKeys.Options());
        deidentifier.Apply(TestInstances.Image());
        Assert.Throws<InvalidOperationException>(() => deidentifier.GetMapping());
    }

    [GeneratedRegex("^2\\.25\\.[1-9][0-9]{0,38}$")]
    private static partial Regex UuidDerivedUid();
}
