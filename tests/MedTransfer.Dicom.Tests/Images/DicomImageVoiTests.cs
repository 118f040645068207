using MedTransfer.Dicom.Pixels;
using Xunit;

namespace MedTransfer.Dicom.Tests.Images;

/// <summary>
/// The VOI stage is read only when presentation values are asked for: a window the standard forbids (Window Width
/// 0 is common in real MR series) must not stop stored-value callers; strict presentation rejects it; tolerant
/// presentation drops it with a warning and takes the next VOI source.
/// </summary>
public sealed class DicomImageVoiTests
{
    private static readonly DicomTag s_windowCenter = new(0x0028, 0x1050);
    private static readonly DicomTag s_windowWidth = new(0x0028, 0x1051);

    [Fact]
    public void Create_WindowWidthZero_StrictStillGivesStoredAndModalityValues()
    {
        DicomDataset ds = Image([100, 200, 300, 400]);
        Window(ds, [250.0], [0.0]);

        DicomImage image = DicomImage.Create(ds, TransferSyntax.ExplicitVRLittleEndian.Uid);

        Assert.Equal(new ushort[] { 100, 200, 300, 400 }, (ushort[])image.StoredValues(0));
        Assert.Equal([100f, 200f, 300f, 400f], image.PresentationFloats(0, applyVoi: false));
        Assert.Empty(image.Warnings);
    }

    [Fact]
    public void PresentationFloats_WindowWidthZeroInStrictMode_ThrowsInvalidValueNamingTheTag()
    {
        DicomDataset ds = Image([100, 200, 300, 400]);
        Window(ds, [250.0], [0.0]);
        DicomImage image = DicomImage.Create(ds, TransferSyntax.ExplicitVRLittleEndian.Uid);

        var ex = Assert.Throws<DicomFormatException>(() => image.PresentationFloats(0));

        Assert.Equal(DicomErrorCode.InvalidValue, ex.Reason);
        Assert.Equal(s_windowWidth, ex.Tag);
    }

    [Fact]
    public void Voi_TolerantWithAnInvalidFirstWindow_UsesTheSecondWithAWarning()
    {
        DicomDataset ds = Image([100, 200, 300, 400]);
        Window(ds, [250.0, 250.5], [0.0, 301.0]);
        DicomImage image = DicomImage.Create(ds, TransferSyntax.ExplicitVRLittleEndian.Uid, PixelValidationMode.Tolerant);

        float[] values = image.PresentationFloats(0);

        Assert.Equal(301.0, image.Voi!.Width);
        // LINEAR, c = 250.5, w = 301: ((x − 250) / 300) + 0.5 → 100 → 0, 400 → 1.
        Assert.Equal([0f, 1 / 3f, 2 / 3f, 1f], values, new ToleranceComparer(1e-6f));
        DicomWarning warning = Assert.Single(image.Warnings);
        Assert.Equal(DicomErrorCode.InvalidValue, warning.Code);
        Assert.Equal(s_windowWidth, warning.Tag);
        Assert.Contains("window 1 of 2", warning.Detail, StringComparison.Ordinal);
        Assert.Contains("next window is used", warning.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Voi_TolerantWithOnlyAnInvalidWindow_AppliesNoVoi()
    {
        DicomDataset ds = Image([100, 200, 300, 400]);
        Window(ds, [250.0], [0.0]);
        DicomImage image = DicomImage.Create(ds, TransferSyntax.ExplicitVRLittleEndian.Uid, PixelValidationMode.Tolerant);

        Assert.Null(image.Voi);
        Assert.Equal([100f, 200f, 300f, 400f], image.PresentationFloats(0));
        Assert.Contains("no VOI is applied", Assert.Single(image.Warnings).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void SelectVoi_StrictImageAskedForTolerantVoi_DropsTheWindowWithoutFailing()
    {
        // What ingest and run do: strict decoding of the pixels, tolerant choice of the VOI.
        DicomDataset ds = Image([100, 200, 300, 400]);
        Window(ds, [250.0], [0.0]);
        DicomImage image = DicomImage.Create(ds, TransferSyntax.ExplicitVRLittleEndian.Uid);

        Assert.Null(image.SelectVoi(PixelValidationMode.Tolerant));
        Assert.Single(image.Warnings);
        Assert.Throws<DicomFormatException>(() => image.Voi);
    }

    [Fact]
    public void Voi_TolerantWithAMalformedVoiLutItem_FallsBackToTheWindow()
    {
        DicomDataset ds = Image([100, 200, 300, 400]);
        Window(ds, [250.5], [301.0]);
        var item = new DicomDataset();
        item.SetNumbers(new DicomTag(0x0028, 0x3002), DicomVR.US, 4, 0); // two values where three are required
        item.SetBytes(new DicomTag(0x0028, 0x3006), DicomVR.OW, new byte[8]);
        ds.SetSequence(new DicomTag(0x0028, 0x3010), [item]);

        Assert.Throws<DicomFormatException>(() => DicomImage.Create(ds, TransferSyntax.ExplicitVRLittleEndian.Uid).Voi);
        DicomImage tolerant = DicomImage.Create(ds, TransferSyntax.ExplicitVRLittleEndian.Uid, PixelValidationMode.Tolerant);

        Assert.Null(tolerant.Voi!.Table);
        Assert.Equal(301.0, tolerant.Voi.Width);
        Assert.Equal(DicomErrorCode.InvalidLut, Assert.Single(tolerant.Warnings).Code);
    }

    [Fact]
    public void Voi_CenterAndWidthCountsDiffer_StrictThrowsTolerantUsesThePairs()
    {
        DicomDataset ds = Image([100, 200, 300, 400]);
        Window(ds, [250.5, 300.0], [301.0]);

        Assert.Equal(DicomErrorCode.InvalidValue, Assert.Throws<DicomFormatException>(() => DicomImage.Create(ds, TransferSyntax.ExplicitVRLittleEndian.Uid).Voi).Reason);
        DicomImage tolerant = DicomImage.Create(ds, TransferSyntax.ExplicitVRLittleEndian.Uid, PixelValidationMode.Tolerant);
        Assert.Equal(250.5, tolerant.Voi!.Center);
        Assert.Single(tolerant.Warnings);
    }

    [Fact]
    public void Voi_UnknownFunctionInTolerantMode_IsReadAsLinear()
    {
        DicomDataset ds = Image([100, 200, 300, 400]);
        Window(ds, [250.5], [301.0]);
        ds.Set(new DicomTag(0x0028, 0x1056), DicomVR.CS, "CUBIC");

        DicomImage tolerant = DicomImage.Create(ds, TransferSyntax.ExplicitVRLittleEndian.Uid, PixelValidationMode.Tolerant);

        Assert.Equal(VoiLutFunction.Linear, tolerant.Voi!.Function);
        Assert.Single(tolerant.Warnings);
        Assert.Throws<DicomFormatException>(() => DicomImage.Create(ds, TransferSyntax.ExplicitVRLittleEndian.Uid).Voi);
    }

    [Fact]
    public void Warnings_OfADroppedWindow_HoldNoValueFromTheFile()
    {
        DicomDataset ds = Image([100, 200, 300, 400]);
        Window(ds, [98765.0], [-4321.0]);
        DicomImage image = DicomImage.Create(ds, TransferSyntax.ExplicitVRLittleEndian.Uid, PixelValidationMode.Tolerant);

        Assert.Null(image.Voi);
        string detail = Assert.Single(image.Warnings).Detail;
        Assert.DoesNotContain("98765", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("4321", detail, StringComparison.Ordinal);
    }

    private static DicomDataset Image(ushort[] values)
    {
        var ds = new DicomDataset();
        ds.SetNumbers(new DicomTag(0x0028, 0x0002), DicomVR.US, 1);
        ds.Set(new DicomTag(0x0028, 0x0004), DicomVR.CS, "MONOCHROME2");
        ds.SetNumbers(new DicomTag(0x0028, 0x0010), DicomVR.US, 1);
        ds.SetNumbers(new DicomTag(0x0028, 0x0011), DicomVR.US, values.Length);
        ds.SetNumbers(new DicomTag(0x0028, 0x0100), DicomVR.US, 16);
        ds.SetNumbers(new DicomTag(0x0028, 0x0101), DicomVR.US, 12);
        ds.SetNumbers(new DicomTag(0x0028, 0x0102), DicomVR.US, 11);
        ds.SetNumbers(new DicomTag(0x0028, 0x0103), DicomVR.US, 0);
        ds.SetBytes(DicomTag.PixelData, DicomVR.OW, values.SelectMany(BitConverter.GetBytes).ToArray());
        return ds;
    }

    private static void Window(DicomDataset ds, double[] centers, double[] widths)
    {
        ds.SetNumbers(s_windowCenter, DicomVR.DS, centers);
        ds.SetNumbers(s_windowWidth, DicomVR.DS, widths);
    }

    private sealed class ToleranceComparer(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }
}
