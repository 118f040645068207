using MedTransfer.Dicom.Deidentification;
using Xunit;

namespace MedTransfer.Dicom.Tests.Deidentification;

public sealed class DeidentificationOptionsTests
{
    [Fact]
    public void Key_ShorterThan16Bytes_Throws()
    {
        Assert.Throws<ArgumentException>(() => new DeidentificationOptions { Key = new byte[15] });
    }

    [Fact]
    public void Key_IsCopied_CallerChangesDoNotLeakIn()
    {
        byte[] key = [.. TestKeys.KeyA];
        var options = new DeidentificationOptions { Key = key };
        DicomDataset before = TestInstances.Image();
        new Deidentifier(options).Apply(before);
        key[0] ^= 0xFF;
        options.Key[1] ^= 0xFF;
        DicomDataset after = TestInstances.Image();
        new Deidentifier(options).Apply(after);
        Assert.Equal(before.GetString(Tag.PatientID), after.GetString(Tag.PatientID));
    }

    [Theory]
    [InlineData("")]
    [InlineData("anon")]
    [InlineData("A^B")]
    [InlineData("A\\B")]
    [InlineData("ABCDEFGHIJKLMNOPQ")]
    public void PatientPseudonymPrefix_Invalid_Throws(string prefix)
    {
        Assert.Throws<ArgumentException>(() => TestKeys.Options() with { PatientPseudonymPrefix = prefix });
    }

    [Theory]
    [InlineData("1.2.03.")]
    [InlineData("1..2.")]
    [InlineData("1.2.a.")]
    [InlineData("1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.")]
    [InlineData(".")]
    public void UidRoot_Invalid_Throws(string root)
    {
        Assert.Throws<ArgumentException>(() => TestKeys.Options() with { UidRoot = root });
    }

    [Fact]
    public void UidRoot_WithoutTrailingDot_GetsOne()
    {
        Assert.Equal("1.2.3.", (TestKeys.Options() with { UidRoot = "1.2.3" }).UidRoot);
    }

    [Fact]
    public void Defaults_AreTheBasicProfile()
    {
        DeidentificationOptions options = TestKeys.Options();
        Assert.Equal(DateHandling.Remove, options.DateHandling);
        Assert.True(options.RemovePrivateTags);
        Assert.False(options.RetainDeviceIdentity);
        Assert.False(options.RetainPatientCharacteristics);
        Assert.False(options.RecordMapping);
        Assert.Null(options.UidRoot);
        Assert.Equal("ANON", options.PatientPseudonymPrefix);
    }

    [Fact]
    public void RemovePrivateTagsOff_KeepsThemAndWarns()
    {
        DicomDataset ds = TestInstances.Image();
        ds.Set(new DicomTag(0x0009, 0x0010), DicomVR.LO, "VENDOR");
        DeidentificationResult result = new Deidentifier(TestKeys.Options() with { RemovePrivateTags = false }).Apply(ds);
        Assert.True(ds.Contains(new DicomTag(0x0009, 0x0010)));
        Assert.Contains(result.Warnings, w => w.Contains("Private", StringComparison.Ordinal));
    }
}
