using System.Buffers.Binary;
using System.CommandLine;
using System.Globalization;
using MedTransfer.Dicom;
using MedTransfer.Imaging.Nifti;
using MedTransfer.Testing;
using Spectre.Console;

namespace MedTransfer.Cli.Tests;

/// <summary>`medtransfer volume` on small generated series.</summary>
public sealed class VolumeCommandsTests : IDisposable
{
    private const string Canary = "CANARY^PATIENT";

    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-cli-volume");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Volume_OneSeries_WritesNiftiWithTheSliceAffine()
    {
        string input = Path.Combine(_dir, "in");
        WriteSeries(input, "1.2.3.1", 3, "T1 axial", [0, 2, 4]);
        string target = Path.Combine(_dir, "out", "t1.nii.gz");

        (int code, string output, string error) = Run(input, "--out", target);

        Assert.Equal(0, code);
        Assert.Empty(error);
        Assert.Contains("4x3x3", output, StringComparison.Ordinal);
        NiftiImage image = NiftiReader.Read(target);
        Assert.Equal([4L, 3, 3], image.Dimensions);
        Assert.Equal(2, image.Affine[10], 6);
        Assert.Equal(302, image.Data[(2 * 12) + 2]); // slice 2 (instance 3), row 0, column 2
    }

    [Fact]
    public void Volume_SeveralSeriesWithOut_FailsListingTheSeries()
    {
        WriteSeries(_dir, "1.2.3.1", 3, "T1", [0, 2, 4]);
        WriteSeries(_dir, "1.2.3.2", 4, "T2", [0, 2, 4]);

        (int code, _, string error) = Run(_dir, "--out", Path.Combine(_dir, "x.nii"));

        Assert.Equal(1, code);
        Assert.Contains("holds 2 series", error, StringComparison.Ordinal);
        Assert.Contains("series 3 [T1]", error, StringComparison.Ordinal);
        Assert.Contains("series 4 [T2]", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "x.nii")));
    }

    [Fact]
    public void Volume_OutDir_EverySeriesNamedSafelyInsideTheFolder()
    {
        string input = Path.Combine(_dir, "in");
        WriteSeries(input, "1.2.3.1", 3, "../../evil/\0name", [0, 2, 4]);
        WriteSeries(input, "1.2.3.2", 12, new string('x', 300), [0, 2, 5, 7]);
        string target = Path.Combine(_dir, "out");

        (int code, string output, _) = Run(input, "--out-dir", target);

        Assert.Equal(0, code);
        string[] files = [.. Directory.GetFiles(target, "*.nii.gz").Select(Path.GetFileName).Order(StringComparer.Ordinal)!];
        Assert.Equal(2, files.Length);
        Assert.All(files, f => Assert.True(File.Exists(Path.Combine(target, f[..^".nii.gz".Length] + ".json")), f));
        Assert.Equal(4, Directory.GetFiles(target).Length);
        Assert.StartsWith("003_evil_name_", files[0], StringComparison.Ordinal);
        Assert.StartsWith("012_" + new string('x', 40) + "_", files[1], StringComparison.Ordinal);
        Assert.All(files, f => Assert.EndsWith(".nii.gz", f, StringComparison.Ordinal));
        Assert.Empty(Directory.GetDirectories(target));
        Assert.Contains("warning: uneven slice spacing", output, StringComparison.Ordinal);
        Assert.DoesNotContain("CANARY", output, StringComparison.Ordinal);
        Assert.DoesNotContain(files, f => f.Contains("CANARY", StringComparison.Ordinal));
    }

    [Fact]
    public void Volume_RepeatedAcquisitions_OneFourDimensionalFile()
    {
        WriteSeries(_dir, "1.2.3.1", 5, "bold", [0, 3, 6], acquisition: 1);
        WriteSeries(_dir, "1.2.3.1", 5, "bold", [0, 3, 6], acquisition: 2);
        string target = Path.Combine(_dir, "bold.nii");

        (int code, string output, _) = Run(_dir, "--out", target, "--int16", "--nifti2");

        Assert.Equal(0, code);
        Assert.Contains("4x3x3x2", output, StringComparison.Ordinal);
        NiftiImage image = NiftiReader.Read(target);
        Assert.Equal(2, image.Version);
        Assert.Equal(NiftiDataType.Int16, image.DataType);
        Assert.Equal([4L, 3, 3, 2], image.Dimensions);
    }

    [Fact]
    public void Volume_DiffusionSeries_OneFourDimensionalFileWithBvalBvecAndSidecar()
    {
        // Volume 1: b = 0; volume 2: b = 1000 along the patient's left (+x in LPS), one file per slice.
        WriteSeries(_dir, "1.2.3.1", 7, "dwi", [0, 3, 6], acquisition: 1, diffusion: (0, [0, 0, 0]));
        WriteSeries(_dir, "1.2.3.1", 7, "dwi", [0, 3, 6], acquisition: 2, diffusion: (1000, [1, 0, 0]));
        string target = Path.Combine(_dir, "out", "dwi.nii.gz");

        (int code, string output, string error) = Run(_dir, "--out", target);

        Assert.True(code == 0, error);
        Assert.Contains("4x3x3x2", output, StringComparison.Ordinal);
        Assert.Contains("dwi.json, dwi.bval, dwi.bvec", output, StringComparison.Ordinal);
        string stem = Path.Combine(_dir, "out", "dwi");
        Assert.Equal("0 1000\n", File.ReadAllText(stem + ".bval"));

        // The first voxel axis runs toward the patient's left (RAS −x), along the gradient (+1); the affine's
        // determinant is positive (neurological storage), so FSL's convention flips the first component: −1.
        Assert.Equal("0 -1\n0 0\n0 0\n", File.ReadAllText(stem + ".bvec"));
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(stem + ".json"));
        Assert.Equal("MR", json.RootElement.GetProperty("Modality").GetString());
        Assert.Equal(2.5, json.RootElement.GetProperty("RepetitionTime").GetDouble());
        Assert.Equal("modality", json.RootElement.GetProperty("IntensityScaling").GetString());
        Assert.Equal(2.5f, Header(target).TimeStep);
    }

    [Theory]
    [InlineData(null, 1, "Philips float scaling")]
    [InlineData("float", 1, "Philips float scaling")]
    [InlineData("display", 0, "Philips display scaling")]
    public void Volume_PhilipsSeries_ScalingChosenAndRecorded(string? choice, int usesFloat, string description)
    {
        WriteSeries(_dir, "1.2.3.1", 3, "T1", [0, 2, 4], philipsScaleSlope: 0.25);
        string target = Path.Combine(_dir, "philips.nii");

        (int code, _, string error) = choice is null ? Run(_dir, "--out", target) : Run(_dir, "--out", target, "--philips-scaling", choice);

        Assert.True(code == 0, error);
        NiftiImage image = NiftiReader.Read(target);
        Assert.Contains(description, Header(target).Description, StringComparison.Ordinal);

        // Slice 2 (instance 3), row 0, column 2 stores 302; RS = 2, RI = 10: DV = 614, FP = DV / (RS × SS) = 1228.
        Assert.Equal(usesFloat == 1 ? 1228f : 614f, image.Data[(2 * 12) + 2]);
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "philips.json")));
        Assert.Equal(usesFloat, json.RootElement.GetProperty("UsePhilipsFloatNotDisplayScaling").GetInt32());
        Assert.Equal(0.25, json.RootElement.GetProperty("PhilipsScaleSlope").GetDouble());
        Assert.Equal(2, json.RootElement.GetProperty("PhilipsRescaleSlope").GetDouble());
        Assert.Equal(10, json.RootElement.GetProperty("PhilipsRescaleIntercept").GetDouble());
    }

    [Fact]
    public void Volume_Sidecar_HoldsNoPatientSiteOrFreeText()
    {
        WriteSeries(_dir, "1.2.3.1", 3, Canary, [0, 2, 4]);

        (int code, _, string error) = Run(_dir, "--out", Path.Combine(_dir, "v.nii"));

        Assert.True(code == 0, error);
        string json = File.ReadAllText(Path.Combine(_dir, "v.json"));
        Assert.DoesNotContain("CANARY", json, StringComparison.Ordinal);
        Assert.Contains("\"SeriesNumber\": 3", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Volume_BadFilesAndMissingSlice_ReportedNotFatal()
    {
        WriteSeries(_dir, "1.2.3.1", 3, "T1", [0, 2, 4, 8, 10]);
        File.WriteAllText(Path.Combine(_dir, "notes.txt"), "not dicom");

        (int code, string output, _) = Run(_dir, "--out", Path.Combine(_dir, "v.nii"));

        Assert.Equal(0, code);
        Assert.Contains("Skipped 1 file(s)", output, StringComparison.Ordinal);
        Assert.Contains("notes.txt: Unreadable (NotDicom)", output, StringComparison.Ordinal);
        Assert.Contains("warning: about 1 slice(s) missing", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Volume_NeitherOrBothOutputs_UsageError()
    {
        WriteSeries(_dir, "1.2.3.1", 3, "T1", [0, 2]);

        Assert.Equal(2, Run(_dir).Code);
        Assert.Equal(2, Run(_dir, "--out", Path.Combine(_dir, "a.nii"), "--out-dir", _dir).Code);
    }

    [SkippableFact]
    [Trait("Category", "Integration")]
    public void Volume_RealSiemensMosaicSeries_EqualsDcm2niix()
    {
        string? root = TestPaths.SharedData("dcm_qa_siemens_orientation");
        Skip.If(root is null, TestPaths.MissingReason("dcm_qa_siemens_orientation"));
        string target = Path.Combine(_dir, "sag.nii.gz");

        (int code, string output, _) = Run(Path.Combine(root, "In", "Orientation", "sag", "sagasc35"), "--out", target);

        Assert.Equal(0, code);
        Assert.Contains("64x64x35x2", output, StringComparison.Ordinal);
        NiftiImage ours = NiftiReader.Read(target);
        NiftiImage reference = NiftiReader.Read(Path.Combine(root, "Ref", "sag_asc_35sl_22.nii"));
        for (int t = 0; t < 2; t++)
        {
            var a = MedTransfer.Imaging.Normalization.VolumeOrientation.ToRas(ours.ToVolume(t));
            var e = MedTransfer.Imaging.Normalization.VolumeOrientation.ToRas(reference.ToVolume(t));
            Assert.Equal(e.Voxels, a.Voxels);
            Assert.All(Enumerable.Range(0, 12), i => Assert.True(Math.Abs(e.Affine[i] - a.Affine[i]) < 1e-3));
        }
    }

    [SkippableFact]
    [Trait("Category", "Integration")]
    public void Volume_RealUihDiffusionSeries_OneFourDimensionalFileWithDcm2niixsGradients()
    {
        string? root = TestPaths.SharedData("dcm_qa_uih_dti");
        Skip.If(root is null, TestPaths.MissingReason("dcm_qa_uih_dti"));
        string target = Path.Combine(_dir, "dti.nii.gz");

        (int code, string output, string error) = Run(Path.Combine(root, "In"), "--out", target);

        Assert.True(code == 0, error);
        Assert.Contains("64x64x20x17", output, StringComparison.Ordinal);
        string reference = Path.Combine(root, "Ref", "dti_tra_dir16_AP_9_134431");
        NiftiImage ours = NiftiReader.Read(target);
        NiftiImage theirs = NiftiReader.Read(reference + ".nii");
        double[][] ourDirections = WorldDirections(File.ReadAllLines(Path.Combine(_dir, "dti.bvec")), ours.Affine);
        double[][] theirDirections = WorldDirections(File.ReadAllLines(reference + ".bvec"), theirs.Affine);
        double[] ourB = [.. File.ReadAllText(Path.Combine(_dir, "dti.bval")).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => double.Parse(v, CultureInfo.InvariantCulture))];
        double[] theirB = [.. File.ReadAllText(reference + ".bval").Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => double.Parse(v, CultureInfo.InvariantCulture))];
        Assert.Equal(theirB, ourB);
        for (int t = 0; t < 17; t++)
        {
            Assert.All(Enumerable.Range(0, 3), i => Assert.True(Math.Abs(ourDirections[t][i] - theirDirections[t][i]) < 1e-3, $"volume {t}"));
        }
    }

    /// <summary>FSL bvec lines (voxel axes; the first flipped for a positive-determinant affine) as world (RAS) directions per volume.</summary>
    private static double[][] WorldDirections(string[] lines, IReadOnlyList<double> affine)
    {
        double[][] rows = [.. lines.Where(l => l.Trim().Length > 0).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray())];
        double[][] axes = [.. Enumerable.Range(0, 3).Select(c => new[] { affine[c], affine[4 + c], affine[8 + c] })];
        double det = (axes[0][0] * ((axes[1][1] * axes[2][2]) - (axes[1][2] * axes[2][1])))
            - (axes[1][0] * ((axes[0][1] * axes[2][2]) - (axes[0][2] * axes[2][1])))
            + (axes[2][0] * ((axes[0][1] * axes[1][2]) - (axes[0][2] * axes[1][1])));
        return [.. Enumerable.Range(0, rows[0].Length).Select(t =>
        {
            double[] v = [det > 0 ? -rows[0][t] : rows[0][t], rows[1][t], rows[2][t]];
            double[] world = new double[3];
            for (int a = 0; a < 3; a++)
            {
                double length = Math.Sqrt(axes[a].Sum(x => x * x));
                for (int i = 0; i < 3; i++)
                {
                    world[i] += axes[a][i] / length * v[a];
                }
            }

            return world;
        })];
    }

    [Fact]
    public void Volume_NoSeries_Fails()
    {
        (int code, _, string error) = Run(_dir, "--out", Path.Combine(_dir, "a.nii"));

        Assert.Equal(1, code);
        Assert.Contains("no image series", error, StringComparison.Ordinal);
    }

    private static (int Code, string Output, string Error) Run(params string[] args) => CliRunner.Run(["volume", .. args]);

    /// <summary>The descrip field and pixdim[4] of a NIfTI-1 file (.nii or .nii.gz), read from the header bytes.</summary>
    private static (string Description, float TimeStep) Header(string path)
    {
        using Stream file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.Ordinal) ? new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionMode.Decompress) : file;
        byte[] header = new byte[348];
        stream.ReadExactly(header);
        string description = System.Text.Encoding.ASCII.GetString(header, 148, 80).TrimEnd('\0');
        return (description, BinaryPrimitives.ReadSingleLittleEndian(header.AsSpan(76 + 16)));
    }

    /// <summary>An axial 4×3 MR series: slice k at z = offsets[k], pixel (row r, column c) = 100·instance + 10·r + c.</summary>
    private static void WriteSeries(string folder, string uid, int number, string description, double[] offsets, int acquisition = 1,
        (double B, double[] Gradient)? diffusion = null, double? philipsScaleSlope = null)
    {
        Directory.CreateDirectory(folder);
        for (int k = 0; k < offsets.Length; k++)
        {
            int instance = k + 1;
            var ds = new DicomDataset();
            ds.Set(Tag.SOPClassUID, DicomVR.UI, "1.2.840.10008.5.1.4.1.1.4");
            ds.Set(Tag.SOPInstanceUID, DicomVR.UI, string.Create(CultureInfo.InvariantCulture, $"{uid}.{acquisition}.{instance}"));
            ds.Set(Tag.Modality, DicomVR.CS, "MR");
            ds.Set(Tag.SeriesDescription, DicomVR.LO, description);
            ds.Set(Tag.PatientName, DicomVR.PN, Canary);
            ds.Set(Tag.PatientID, DicomVR.LO, Canary);
            ds.Set(Tag.SeriesInstanceUID, DicomVR.UI, uid);
            ds.SetNumbers(Tag.SeriesNumber, DicomVR.IS, number);
            ds.SetNumbers(Tag.AcquisitionNumber, DicomVR.IS, acquisition);
            ds.SetNumbers(Tag.InstanceNumber, DicomVR.IS, instance);
            ds.SetNumbers(Tag.ImagePositionPatient, DicomVR.DS, 0, 0, offsets[k]);
            ds.SetNumbers(Tag.ImageOrientationPatient, DicomVR.DS, 1, 0, 0, 0, 1, 0);
            ds.SetNumbers(Tag.PixelSpacing, DicomVR.DS, 1, 1);
            ds.SetNumbers(Tag.SamplesPerPixel, DicomVR.US, 1);
            ds.Set(Tag.PhotometricInterpretation, DicomVR.CS, "MONOCHROME2");
            ds.SetNumbers(Tag.Rows, DicomVR.US, 3);
            ds.SetNumbers(Tag.Columns, DicomVR.US, 4);
            ds.SetNumbers(Tag.BitsAllocated, DicomVR.US, 16);
            ds.SetNumbers(Tag.BitsStored, DicomVR.US, 16);
            ds.SetNumbers(Tag.HighBit, DicomVR.US, 15);
            ds.SetNumbers(Tag.PixelRepresentation, DicomVR.US, 1);
            ds.SetNumbers(Tag.RepetitionTime, DicomVR.DS, 2500);
            ds.Set(Tag.InstitutionName, DicomVR.LO, Canary);
            ds.Set(Tag.StationName, DicomVR.SH, "CANARY");
            ds.Set(Tag.ProtocolName, DicomVR.LO, Canary);
            if (diffusion is { } d)
            {
                ds.SetNumbers(Tag.DiffusionBValue, DicomVR.FD, d.B);
                ds.SetNumbers(Tag.DiffusionGradientOrientation, DicomVR.FD, d.Gradient);
            }

            if (philipsScaleSlope is { } ss)
            {
                ds.Set(Tag.Manufacturer, DicomVR.LO, "Philips Medical Systems");
                ds.SetNumbers(Tag.RescaleSlope, DicomVR.DS, 2);
                ds.SetNumbers(Tag.RescaleIntercept, DicomVR.DS, 10);
                ds.Set(new DicomTag(0x2005, 0x0010), DicomVR.LO, "Philips MR Imaging DD 001");
                ds.SetNumbers(new DicomTag(0x2005, 0x100E), DicomVR.FL, ss);
            }

            var pixels = new byte[3 * 4 * 2];
            for (int r = 0; r < 3; r++)
            {
                for (int c = 0; c < 4; c++)
                {
                    BinaryPrimitives.WriteInt16LittleEndian(pixels.AsSpan(((r * 4) + c) * 2), (short)((instance * 100) + (r * 10) + c));
                }
            }

            ds.SetBytes(DicomTag.PixelData, DicomVR.OW, pixels);
            new DicomFile(ds).Save(Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"{uid}_{acquisition}_{instance}.dcm")));
        }
    }
}
