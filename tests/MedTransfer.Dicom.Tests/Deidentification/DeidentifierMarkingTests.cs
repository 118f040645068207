using MedTransfer.Dicom.Deidentification;
using Xunit;

namespace MedTransfer.Dicom.Tests.Deidentification;

/// <summary>The output says it was de-identified, how, and with which options.</summary>
public sealed class DeidentifierMarkingTests
{
    [Fact]
    public void Apply_BasicProfile_MarksIdentityRemovedMethodAndDatesRemoved()
    {
        DicomDataset ds = TestInstances.Image();
        new Deidentifier(TestKeys.Options()).Apply(ds);

        Assert.Equal("YES", ds.GetString(Tag.PatientIdentityRemoved));
        Assert.Equal(Deidentifier.MethodDescription, ds.GetString(Tag.DeidentificationMethod));
        Assert.Equal(["113100"], Codes(ds));
        DicomDataset code = ds.GetSequence(Tag.DeidentificationMethodCodeSequence)[0];
        Assert.Equal("DCM", code.GetString(Tag.CodingSchemeDesignator));
        Assert.Equal("Basic Application Confidentiality Profile", code.GetString(Tag.CodeMeaning));
        Assert.Equal("REMOVED", ds.GetString(Tag.LongitudinalTemporalInformationModified));
    }

    [Fact]
    public void Apply_EveryOption_OneCodePerOptionAndDatesModified()
    {
        DicomDataset ds = TestInstances.Image();
        var options = TestKeys.Options() with
        {
            DateHandling = DateHandling.ShiftConsistently,
            RetainDeviceIdentity = true,
            RetainPatientCharacteristics = true,
        };
        new Deidentifier(options).Apply(ds);

        Assert.Equal(["113100", "113107", "113108", "113109"], Codes(ds));
        Assert.Equal("MODIFIED", ds.GetString(Tag.LongitudinalTemporalInformationModified));
        Assert.All(ds.GetSequence(Tag.DeidentificationMethodCodeSequence), c => Assert.Equal("DCM", c.GetString(Tag.CodingSchemeDesignator)));
    }

    [Fact]
    public void Apply_MarksSurviveWriteAndRead()
    {
        DicomDataset ds = TestInstances.Image();
        new Deidentifier(TestKeys.Options() with { DateHandling = DateHandling.ShiftConsistently }).Apply(ds);
        using var ms = new MemoryStream();
        new DicomFile(ds).Save(ms);
        DicomDataset back = DicomFile.Read(ms.ToArray(), new DicomReaderOptions { Validation = ValidationMode.Strict }).Dataset;
        Assert.Equal("YES", back.GetString(Tag.PatientIdentityRemoved));
        Assert.Equal(["113100", "113107"], Codes(back));
        Assert.Equal("MODIFIED", back.GetString(Tag.LongitudinalTemporalInformationModified));
    }

    [Fact]
    public void Apply_RetainedOptions_KeepTheirColumnsOnly()
    {
        DicomDataset ds = TestInstances.Image();
        new Deidentifier(TestKeys.Options() with { RetainDeviceIdentity = true, RetainPatientCharacteristics = true }).Apply(ds);
        Assert.Equal("CTSTATION1", ds.GetString(TestInstances.StationName));
        Assert.Equal("SN-12345", ds.GetString(TestInstances.DeviceSerialNumber));
        Assert.Equal("F", ds.GetString(TestInstances.PatientSex));
        Assert.Equal("050Y", ds.GetString(TestInstances.PatientAge));
        Assert.Equal("ANONYMIZED", ds.GetString(TestInstances.InstitutionName)); // X/Z/D: no option retains it here
    }

    [Fact]
    public void Apply_BasicProfile_RemovesOrBlanksDeviceAndPatientCharacteristics()
    {
        DicomDataset ds = TestInstances.Image();
        new Deidentifier(TestKeys.Options()).Apply(ds);
        Assert.Equal("ANONYMIZED", ds.GetString(TestInstances.StationName));     // X/Z/D → D
        Assert.Equal("ANONYMIZED", ds.GetString(TestInstances.DeviceSerialNumber)); // X/Z/D → D
        Assert.Equal(string.Empty, ds.GetString(TestInstances.PatientSex));       // Z
        Assert.True(ds.Contains(TestInstances.PatientSex));
        Assert.False(ds.Contains(TestInstances.PatientAge));                      // X
        Assert.Equal(string.Empty, ds.GetString(TestInstances.PatientBirthDate)); // Z
    }

    [Fact]
    public void Apply_RetainDeviceIdentity_KeepsTheDeviceUidVerbatim_OtherwiseRemapped()
    {
        var deviceUid = new DicomTag(0x0018, 0x1002);
        DicomDataset retained = TestInstances.Image();
        DicomDataset basic = TestInstances.Image();
        retained.Set(deviceUid, DicomVR.UI, "1.2.3.999");
        basic.Set(deviceUid, DicomVR.UI, "1.2.3.999");
        new Deidentifier(TestKeys.Options() with { RetainDeviceIdentity = true }).Apply(retained);
        new Deidentifier(TestKeys.Options()).Apply(basic);
        Assert.Equal("1.2.3.999", retained.GetString(deviceUid));
        Assert.StartsWith("2.25.", basic.GetString(deviceUid), StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_RetainPatientCharacteristics_FreeTextToCleanIsStillRemoved()
    {
        var allergies = new DicomTag(0x0010, 0x2110); // C in the option column: this engine cannot clean text
        DicomDataset ds = TestInstances.Image();
        ds.Set(allergies, DicomVR.LO, "penicillin (per Dr Smith)");
        new Deidentifier(TestKeys.Options() with { RetainPatientCharacteristics = true }).Apply(ds);
        Assert.False(ds.Contains(allergies));
    }

    private static string[] Codes(DicomDataset ds) =>
        [.. ds.GetSequence(Tag.DeidentificationMethodCodeSequence).Select(c => c.GetString(Tag.CodeValue)!)];
}
