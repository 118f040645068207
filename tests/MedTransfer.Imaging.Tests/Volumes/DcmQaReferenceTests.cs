using MedTransfer.Imaging.Nifti;
using MedTransfer.Imaging.Normalization;
using MedTransfer.Imaging.Volumes;
using MedTransfer.Testing;

namespace MedTransfer.Imaging.Tests.Volumes;

/// <summary>
/// Real Siemens mosaics against dcm2niix's conversions (../shared/data, BSD-2-Clause). Both volumes are brought to
/// the nearest RAS orientation (axes permuted/flipped, never resampled); then the affines must agree within 1e-3 mm
/// and the voxels exactly (dcm2niix stores these int16 without rescale: scl_slope 1, scl_inter 0).
/// </summary>
[Trait("Category", "Integration")]
public sealed class DcmQaReferenceTests
{
    private const string Orientation = "dcm_qa_siemens_orientation";
    private const string TransferSyntaxes = "dcm_qa_ts";
    private const double AffineTolerance = 1e-3;

    [SkippableFact]
    public void SiemensOrientation_EverySeries_MatchesDcm2niix()
    {
        string? root = TestPaths.SharedData(Orientation);
        Skip.If(root is null, TestPaths.MissingReason(Orientation));

        SeriesScanResult scan = SeriesScanner.Scan(Path.Combine(root, "In"));

        // The folder also holds notes.txt and a PDF: both are reported, nothing stops.
        Assert.Equal(2, scan.Failures.Count);
        Assert.Equal(21, scan.Series.Count);
        int volumes = 0;
        foreach (DicomSeries series in scan.Series)
        {
            // Ref files are named <SeriesDescription>_<SeriesNumber>.nii (see the folder's README and Ref/*.json).
            string reference = Path.Combine(root, "Ref", $"{series.SeriesDescription}_{series.SeriesNumber}.nii");
            NiftiImage expected = NiftiReader.Read(reference);
            Assert.Equal(expected.VolumeCount, series.Stacks.Count);
            for (int t = 0; t < series.Stacks.Count; t++)
            {
                AssembledVolume ours = VolumeAssembler.Assemble(series.Stacks[t]);
                Assert.True(ours.Report.IsMosaic);
                Assert.True(ours.Report.IsRegular, string.Join("; ", ours.Report.Warnings));
                AssertSame(expected.ToVolume(t), ours.Volume, $"{series.SeriesDescription} volume {t}");
                volumes++;
            }
        }

        Assert.Equal(42, volumes);
    }

    [SkippableFact]
    public void SiemensOrientation_Sagittal_NeedsTheCsaSliceNormal()
    {
        string? root = TestPaths.SharedData(Orientation);
        Skip.If(root is null, TestPaths.MissingReason(Orientation));

        // In these sagittal mosaics the CSA SliceNormalVector points against row × column: the slice direction
        // comes from the CSA header, and the cross product alone would put every slice on the wrong side.
        DicomSeries series = Assert.Single(SeriesScanner.Scan(Path.Combine(root, "In", "Orientation", "sag", "sagasc35")).Series);
        SliceStack stack = series.Stacks[0];
        SliceHeader mosaic = Assert.Single(stack.Slices);
        Assert.NotNull(mosaic.MosaicSliceNormal);
        Assert.True(Geometry.Dot(mosaic.MosaicSliceNormal, mosaic.Normal) < -0.99);
        var withoutCsa = new SliceStack([new SliceHeader
        {
            Path = mosaic.Path,
            Position = mosaic.Position,
            Orientation = mosaic.Orientation,
            RowSpacing = mosaic.RowSpacing,
            ColumnSpacing = mosaic.ColumnSpacing,
            Rows = mosaic.Rows,
            Columns = mosaic.Columns,
            SpacingBetweenSlices = mosaic.SpacingBetweenSlices,
            MosaicImages = mosaic.MosaicImages,
        }], StackSplitReason.None, "no CSA");
        Volume reference = VolumeOrientation.ToRas(NiftiReader.Read(Path.Combine(root, "Ref", "sag_asc_35sl_22.nii")).ToVolume(0));

        Volume with = VolumeOrientation.ToRas(VolumeAssembler.Assemble(stack).Volume);
        Volume without = VolumeOrientation.ToRas(VolumeAssembler.Assemble(withoutCsa).Volume);

        Assert.True(Math.Abs(with.Affine[3] - reference.Affine[3]) < AffineTolerance);
        Assert.True(Math.Abs(without.Affine[3] - reference.Affine[3]) > 10, "the cross-product direction must not match dcm2niix here");
    }

    [SkippableFact]
    public void TransferSyntaxes_EveryFile_WritesTheReferenceNifti()
    {
        string? root = TestPaths.SharedData(TransferSyntaxes);
        Skip.If(root is null, TestPaths.MissingReason(TransferSyntaxes));
        string temp = TestPaths.NewTempDirectory("medtransfer-dcmqa-ts");
        try
        {
            for (int n = 1; n <= 9; n++)
            {
                string file = Path.Combine(root, "In", $"{n}.dcm");
                SeriesScanResult scan = SeriesScanner.ScanFiles([file], Path.Combine(root, "In"));
                AssembledVolume assembled = VolumeAssembler.Assemble(Assert.Single(Assert.Single(scan.Series).Stacks));
                string written = Path.Combine(temp, $"{n}.nii");
                NiftiWriter.Write(assembled.Volume, written);

                NiftiImage ours = NiftiReader.Read(written);
                NiftiImage expected = NiftiReader.Read(Path.Combine(root, "Ref", $"{n}.nii"));
                AssertSame(expected.ToVolume(), ours.ToVolume(), $"{n}.dcm");
            }
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }

    [SkippableFact]
    public void CsaHeader_RealMosaic_HasTheImageCount()
    {
        string? root = TestPaths.SharedData(TransferSyntaxes);
        Skip.If(root is null, TestPaths.MissingReason(TransferSyntaxes));

        var file = MedTransfer.Dicom.DicomFile.Open(Path.Combine(root, "In", "1.dcm"), new MedTransfer.Dicom.DicomReaderOptions { StopAtPixelData = true });
        Dictionary<string, string[]>? csa = SiemensCsaHeader.ImageHeader(file.Dataset);

        Assert.NotNull(csa);
        Assert.Equal(35, SiemensCsaHeader.Number(csa, "NumberOfImagesInMosaic"));
        Assert.NotNull(SiemensCsaHeader.Number(csa, "SliceNormalVector", 2));
    }

    private static void AssertSame(Volume expected, Volume actual, string what)
    {
        Volume e = VolumeOrientation.ToRas(expected);
        Volume a = VolumeOrientation.ToRas(actual);
        Assert.Equal((e.NX, e.NY, e.NZ), (a.NX, a.NY, a.NZ));
        for (int i = 0; i < 12; i++)
        {
            Assert.True(Math.Abs(e.Affine[i] - a.Affine[i]) <= AffineTolerance, $"{what}: affine[{i}] {a.Affine[i]} vs dcm2niix {e.Affine[i]}");
        }

        int differing = 0;
        for (int i = 0; i < e.Voxels.Length; i++)
        {
            differing += e.Voxels[i] == a.Voxels[i] ? 0 : 1;
        }

        Assert.True(differing == 0, $"{what}: {differing} of {e.Voxels.Length} voxels differ from dcm2niix");
    }
}
