using System.Security.Cryptography;
using System.Text;
using MedTransfer.Dicom.Deidentification;
using Xunit;

namespace MedTransfer.Dicom.Tests.Deidentification;

/// <summary>Pseudonyms are keyed, consistent per patient, and not a plain hash of the identifier.</summary>
public sealed class DeidentifierPseudonymTests
{
    [Fact]
    public void Apply_Pseudonyms_HaveThePrefixAndTwelveHexDigits()
    {
        DicomDataset ds = TestInstances.Image();
        new Deidentifier(TestKeys.Options()).Apply(ds);
        Assert.Matches("^ANON[0-9A-F]{12}$", ds.GetString(Tag.PatientID));
        Assert.Matches("^ANON\\^[0-9A-F]{12}$", ds.GetString(Tag.PatientName));
        Assert.Equal(ds.GetString(Tag.PatientID)![4..], ds.GetString(Tag.PatientName)![5..]);
    }

    [Fact]
    public void Apply_SamePatientTwoFiles_SamePseudonym_OtherPatientDiffers()
    {
        var deidentifier = new Deidentifier(TestKeys.Options());
        DicomDataset a = TestInstances.Image(patientId: "PAT-001", sopUid: "1.2.3.1");
        DicomDataset b = TestInstances.Image(patientId: "PAT-001", sopUid: "1.2.3.2");
        DicomDataset c = TestInstances.Image(patientId: "PAT-002", sopUid: "1.2.3.3");
        deidentifier.Apply(a);
        deidentifier.Apply(b);
        deidentifier.Apply(c);
        Assert.Equal(a.GetString(Tag.PatientID), b.GetString(Tag.PatientID));
        Assert.NotEqual(a.GetString(Tag.PatientID), c.GetString(Tag.PatientID));
    }

    [Fact]
    public void Apply_DifferentKey_GivesADifferentPseudonym()
    {
        DicomDataset a = TestInstances.Image();
        DicomDataset b = TestInstances.Image();
        new Deidentifier(TestKeys.Options(TestKeys.KeyA)).Apply(a);
        new Deidentifier(TestKeys.Options(TestKeys.KeyB)).Apply(b);
        Assert.NotEqual(a.GetString(Tag.PatientID), b.GetString(Tag.PatientID));
    }

    [Theory]
    [InlineData("PAT-001")]
    [InlineData("12345678")]
    [InlineData("")]
    public void Apply_Pseudonym_IsNotAPlainHashOfThePatientId(string patientId)
    {
        DicomDataset ds = TestInstances.Image(patientId: patientId);
        new Deidentifier(TestKeys.Options()).Apply(ds);
        string token = ds.GetString(Tag.PatientID)![4..];
        byte[] id = Encoding.UTF8.GetBytes(patientId);
        string[] plainHashes =
        [
            Convert.ToHexString(SHA256.HashData(id)),
            Convert.ToHexString(SHA1.HashData(id)),
            Convert.ToHexString(MD5.HashData(id)),
            Convert.ToHexString(SHA512.HashData(id)),
            Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(patientId.ToUpperInvariant()))),
        ];
        Assert.All(plainHashes, h => Assert.DoesNotContain(token, h, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Apply_NoPatientId_DerivesFromTheName_AndNeverKeepsIt()
    {
        DicomDataset a = TestInstances.Image(patientId: "", patientName: "Doe^Jane");
        DicomDataset b = TestInstances.Image(patientId: "", patientName: "Roe^Richard");
        var deidentifier = new Deidentifier(TestKeys.Options());
        deidentifier.Apply(a);
        deidentifier.Apply(b);
        Assert.NotEqual(a.GetString(Tag.PatientName), b.GetString(Tag.PatientName));
        Assert.DoesNotContain("Doe", a.GetString(Tag.PatientName), StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_CustomPrefix_IsUsed()
    {
        DicomDataset ds = TestInstances.Image();
        new Deidentifier(TestKeys.Options() with { PatientPseudonymPrefix = "TRIAL7_" }).Apply(ds);
        Assert.StartsWith("TRIAL7_", ds.GetString(Tag.PatientID), StringComparison.Ordinal);
        Assert.StartsWith("TRIAL7_^", ds.GetString(Tag.PatientName), StringComparison.Ordinal);
    }
}
