using MedTransfer.Dicom.Deidentification;
using Xunit;

namespace MedTransfer.Dicom.Tests.Deidentification;

/// <summary>Burned-in annotation is never claimed clean by the engine.</summary>
public sealed class DeidentifierBurnedInAnnotationTests
{
    private static readonly DicomTag _burnedIn = new(0x0028, 0x0301);

    [Fact]
    public void Apply_AbsentWithPixels_StaysAbsentAndIsReportedUnverified()
    {
        DicomDataset ds = TestInstances.Image();
        DeidentificationResult result = new Deidentifier(TestKeys.Options()).Apply(ds);
        Assert.False(ds.Contains(_burnedIn));
        Assert.True(result.BurnedInAnnotationUnverified);
        Assert.Contains(result.Warnings, w => w.Contains("burned-in", StringComparison.Ordinal));
    }

    [Fact]
    public void Apply_Yes_StaysYesAndIsReportedUnverified()
    {
        DicomDataset ds = TestInstances.Image();
        ds.Set(_burnedIn, DicomVR.CS, "YES");
        DeidentificationResult result = new Deidentifier(TestKeys.Options()).Apply(ds);
        Assert.Equal("YES", ds.GetString(_burnedIn));
        Assert.True(result.BurnedInAnnotationUnverified);
    }

    [Fact]
    public void Apply_InvalidValue_BecomesYes()
    {
        DicomDataset ds = TestInstances.Image();
        ds.Set(_burnedIn, DicomVR.CS, "MAYBE");
        DeidentificationResult result = new Deidentifier(TestKeys.Options()).Apply(ds);
        Assert.Equal("YES", ds.GetString(_burnedIn));
        Assert.True(result.BurnedInAnnotationUnverified);
        Assert.DoesNotContain(result.Warnings, w => w.Contains("MAYBE", StringComparison.Ordinal));
    }

    [Fact]
    public void Apply_SourceSaysNo_KeptAsTheSourcesStatement()
    {
        DicomDataset ds = TestInstances.Image();
        ds.Set(_burnedIn, DicomVR.CS, "NO");
        DeidentificationResult result = new Deidentifier(TestKeys.Options()).Apply(ds);
        Assert.Equal("NO", ds.GetString(_burnedIn));
        Assert.False(result.BurnedInAnnotationUnverified);
    }

    [Fact]
    public void Apply_NoPixelData_NothingToVerify()
    {
        DicomDataset ds = TestInstances.Image(pixels: false);
        DeidentificationResult result = new Deidentifier(TestKeys.Options()).Apply(ds);
        Assert.False(result.BurnedInAnnotationUnverified);
        Assert.False(ds.Contains(_burnedIn));
    }
}
