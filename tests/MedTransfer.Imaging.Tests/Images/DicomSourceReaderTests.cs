using MedTransfer.Dicom;
using MedTransfer.Imaging.Images;
using MedTransfer.Imaging.Normalization;

namespace MedTransfer.Imaging.Tests.Images;

/// <summary>
/// What ingest, run and diagnose read from a DICOM radiograph when its VOI window is one the standard forbids
/// (Window Width 0 is common in real series): the modality values, with the reason recorded, never a refusal.
/// </summary>
public sealed class DicomSourceReaderTests
{
    private const int W = 20;
    private const int H = 10;

    private static readonly ushort[] s_values = [.. Enumerable.Range(0, W * H).Select(i => (ushort)((i * 37) % 4096))];

    [Fact]
    public void Read_WindowWidthZero_GivesTheModalityValuesAndTheReason()
    {
        DicomFile file = File(window: (2048, 0));

        SourceImage withVoi = DicomSourceReader.Read(file, applyVoi: true);
        SourceImage withoutVoi = DicomSourceReader.Read(File(window: null), applyVoi: false);

        Assert.False(withVoi.VoiApplied);
        Assert.Equal(withoutVoi.Image.Pixels, withVoi.Image.Pixels);
        Assert.Contains("was dropped", Assert.Single(withVoi.VoiWarnings), StringComparison.Ordinal);
        Assert.Empty(withVoi.ReaderWarnings);
    }

    [Fact]
    public void Read_ValidWindow_IsAppliedWithoutWarnings()
    {
        SourceImage image = DicomSourceReader.Read(File(window: (2048, 4096)), applyVoi: true);

        Assert.True(image.VoiApplied);
        Assert.Empty(image.VoiWarnings);
        Assert.All(image.Image.Pixels, v => Assert.InRange(v, 0f, 1f));
    }

    [Fact]
    public void Normalize_FileWindowAskedButInvalid_RecordsInvalidFileWindowAndNormalizesTheModalityValues()
    {
        var recipe = new XrayRecipe { Voi = VoiMode.UseFileWindow };

        XrayTensor invalid = XrayNormalizer.Normalize(File(window: (2048, 0)), recipe);
        XrayTensor none = XrayNormalizer.Normalize(File(window: null), recipe);

        Assert.True(invalid.Report.Has(NormalizationWarningCode.InvalidFileWindow));
        Assert.False(invalid.Report.Has(NormalizationWarningCode.NoFileWindow));
        Assert.True(none.Report.Has(NormalizationWarningCode.NoFileWindow));
        Assert.Equal(none.Tensor, invalid.Tensor);
    }

    private static DicomFile File((double Center, double Width)? window)
    {
        using var stream = new MemoryStream();
        new DicomFile(DicomTestFiles.Dataset(W, H, s_values, "MONOCHROME2", bitsStored: 12, window: window), TransferSyntax.ExplicitVRLittleEndian).Save(stream);
        return DicomFile.Read(stream.ToArray(), new DicomReaderOptions { Validation = ValidationMode.Strict });
    }
}
