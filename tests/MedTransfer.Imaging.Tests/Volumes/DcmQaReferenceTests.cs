using MedTransfer.Imaging.Nifti;
using MedTransfer.Imaging.Normalization;
using MedTransfer.Imaging.Volumes;
using MedTransfer.Testing;

namespace MedTransfer.Imaging.Tests.Volumes;

/// <summary>
/// Real Siemens and UIH mosaics against dcm2niix's conversions (../shared/data, BSD-2-Clause). Both volumes are brought to
/// the nearest RAS orientation (axes permuted/flipped, never resampled); then the affines must agree within 1e-3 mm
/// and the voxels exactly (dcm2niix stores these int16 without rescale: scl_slope 1, scl_inter 0).
/// </summary>
[Trait("Category", "Integration")]
public sealed class DcmQaReferenceTests
{
    private const string Orientation = "dcm_qa_siemens_orientation";
    private const string TransferSyntaxes = "dcm_qa_ts";
    private const string Uih = "dcm_qa_uih_dti";
    private const string UihReference = "dti_tra_dir16_AP_9_134431";
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
    public void UihVFrameDiffusion_EveryDirection_MatchesDcm2niixVolumeByVolume()
    {
        string? root = TestPaths.SharedData(Uih);
        Skip.If(root is null, TestPaths.MissingReason(Uih));

        SeriesScanResult scan = SeriesScanner.Scan(Path.Combine(root, "In"));

        Assert.Empty(scan.Failures);
        DicomSeries series = Assert.Single(scan.Series);
        NiftiImage expected = NiftiReader.Read(Path.Combine(root, "Ref", UihReference + ".nii"));
        Assert.Equal(17, expected.VolumeCount);
        Assert.Equal(expected.VolumeCount, series.Stacks.Count);
        for (int t = 0; t < series.Stacks.Count; t++)
        {
            AssembledVolume ours = VolumeAssembler.Assemble(series.Stacks[t]);
            Assert.True(ours.Report.IsMosaic);
            Assert.True(ours.Report.IsRegular, string.Join("; ", ours.Report.Warnings));
            Assert.Equal((64, 64, 20), (ours.Volume.NX, ours.Volume.NY, ours.Volume.NZ));
            AssertSame(expected.ToVolume(t), ours.Volume, $"UIH volume {t}");
        }
    }

    [SkippableFact]
    public void UihVFrameDiffusion_BValuesGradientsAndSliceTiming_MatchDcm2niix()
    {
        string? root = TestPaths.SharedData(Uih);
        Skip.If(root is null, TestPaths.MissingReason(Uih));
        DicomSeries series = Assert.Single(SeriesScanner.Scan(Path.Combine(root, "In")).Series);
        string stem = Path.Combine(root, "Ref", UihReference);
        double[] bvals = Numbers(File.ReadAllText(stem + ".bval"));
        double[][] bvecs = [.. File.ReadAllLines(stem + ".bvec").Where(l => l.Trim().Length > 0).Select(Numbers)];
        NiftiImage reference = NiftiReader.Read(stem + ".nii");

        AssembledVolume[] volumes = [.. series.Stacks.Select(s => VolumeAssembler.Assemble(s))];

        for (int t = 0; t < volumes.Length; t++)
        {
            DiffusionWeighting d = Assert.IsType<DiffusionWeighting>(volumes[t].Diffusion);
            Assert.Equal(bvals[t], d.BValue, 0.01);

            // Both directions in world (RAS) space: ours from LPS, dcm2niix's from its FSL bvec and its affine.
            double[] ours = [-d.Gradient[0], -d.Gradient[1], d.Gradient[2]];
            double[] theirs = FslToWorld([bvecs[0][t], bvecs[1][t], bvecs[2][t]], reference.Affine);
            for (int i = 0; i < 3; i++)
            {
                Assert.True(Math.Abs(ours[i] - theirs[i]) < 1e-3, $"volume {t}: gradient {i} {ours[i]} vs dcm2niix {theirs[i]}");
            }
        }

        // dcm2niix holds the times as 32-bit floats of HHMMSS.FFFFFF (about 1.4e5, so in steps of 1/64 s): its slice
        // times are the same per-slice acquisition times, quantised to that step.
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(stem + ".json"));
        double[] timing = [.. json.RootElement.GetProperty("SliceTiming").EnumerateArray().Select(e => e.GetDouble())];
        IReadOnlyList<double> ourTiming = volumes[0].SliceTiming!;
        Assert.Equal(timing.Length, ourTiming.Count);
        for (int k = 0; k < timing.Length; k++)
        {
            Assert.True(Math.Abs(timing[k] - ourTiming[k]) <= 1.0 / 64, $"slice {k}: {ourTiming[k]} s vs dcm2niix {timing[k]} s");
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

    private static double[] Numbers(string line) =>
        [.. line.Split((char[])[' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries).Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>FSL bvec (voxel axes, the first flipped when the affine's determinant is positive) to a world (RAS) unit vector.</summary>
    private static double[] FslToWorld(double[] bvec, IReadOnlyList<double> affine)
    {
        double[][] columns = [.. Enumerable.Range(0, 3).Select(c => new[] { affine[c], affine[4 + c], affine[8 + c] })];
        double det = Geometry.Dot(columns[0], Geometry.Cross(columns[1], columns[2]));
        double[] v = [det > 0 ? -bvec[0] : bvec[0], bvec[1], bvec[2]];
        double[] world = [0, 0, 0];
        for (int c = 0; c < 3; c++)
        {
            world = Geometry.Add(world, Geometry.Scale(columns[c], v[c] / Geometry.Norm(columns[c])));
        }

        return world;
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
