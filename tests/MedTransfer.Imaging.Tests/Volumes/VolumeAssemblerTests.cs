using MedTransfer.Imaging.Volumes;
using MedTransfer.Testing;

namespace MedTransfer.Imaging.Tests.Volumes;

public sealed class VolumeAssemblerTests : IDisposable
{
    private static readonly double[] s_axial = [1, 0, 0, 0, 1, 0];
    private static readonly double[] s_sagittal = [0, 1, 0, 0, 0, -1];
    private static readonly double[] s_coronal = [1, 0, 0, 0, 0, -1];

    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-volume");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Assemble_AxialShuffledFiles_SortsByPositionWithKnownAffine()
    {
        List<SliceSpec> specs = SyntheticSeries.Stack([-10, 20, 30], s_axial, [0, 2.5, 5, 7.5, 10]);
        foreach (int k in new[] { 3, 0, 4, 1, 2 })
        {
            SyntheticSeries.Write(_dir, specs[k], $"z{4 - k}.dcm");
        }

        AssembledVolume result = AssembleOnly();

        Assert.Equal(GeometryFlags.None, result.Report.Flags);
        Assert.Equal(SliceSpacingSource.Positions, result.Report.SpacingSource);
        Assert.Equal(2.5, result.Report.SliceSpacing, 9);
        Assert.Equal((5, 4, 5), (result.Volume.NX, result.Volume.NY, result.Volume.NZ));
        // LPS → RAS: x and y negated. Columns: row cosine × column spacing, column cosine × row spacing, slice step.
        double[] expected = [-0.6, 0, 0, 10, 0, -0.8, 0, -20, 0, 0, 2.5, 30, 0, 0, 0, 1];
        AssertAffine(expected, result.Volume.Affine, 1e-9);
        AssertMatchesSlices(result.Volume, specs);
    }

    [Theory]
    [InlineData("sagittal")]
    [InlineData("coronal")]
    [InlineData("oblique")]
    public void Assemble_Orientation_EveryPixelAtItsDicomPosition(string orientation)
    {
        double[] iop = orientation switch
        {
            "sagittal" => s_sagittal,
            "coronal" => s_coronal,
            _ => Oblique(20, -35, 10),
        };
        List<SliceSpec> specs = SyntheticSeries.Stack([12.5, -40, 7], iop, [-4, -1, 2, 5]);
        foreach (SliceSpec s in specs.AsEnumerable().Reverse())
        {
            SyntheticSeries.Write(_dir, s);
        }

        AssembledVolume result = AssembleOnly();

        Assert.Equal(GeometryFlags.None, result.Report.Flags);
        Assert.Equal(3, result.Report.SliceSpacing, 6);
        Assert.True(result.Report.TiltDegrees < 1e-3);
        AssertMatchesSlices(result.Volume, specs);
    }

    [FsCheck.Xunit.Property(MaxTest = 25)]
    public void Assemble_RandomObliqueShuffledStack_EveryPixelAtItsDicomPosition(byte a, byte b, byte g, byte slices, int shuffleSeed)
    {
        string folder = Path.Combine(_dir, Guid.NewGuid().ToString("N"));
        int count = 2 + (slices % 6);
        List<SliceSpec> specs = SyntheticSeries.Stack([a - 128.0, b * 0.5, -g * 0.25], Oblique(a * 1.4, b * 1.4 - 180, g * 0.7 - 90),
            [.. Enumerable.Range(0, count).Select(k => (k * 1.7) - 3)]);
        var random = new Random(shuffleSeed);
        int[] names = [.. Enumerable.Range(0, count).OrderBy(_ => random.Next())];
        for (int k = 0; k < count; k++)
        {
            // File names (the scan order) are a random permutation of the slice order.
            SyntheticSeries.Write(folder, specs[k], $"f{names[k]}.dcm");
        }

        SeriesScanResult scan = SeriesScanner.Scan(folder);
        AssembledVolume result = VolumeAssembler.Assemble(Assert.Single(Assert.Single(scan.Series).Stacks));

        Assert.Equal(GeometryFlags.None, result.Report.Flags);
        Assert.Equal(1.7, result.Report.SliceSpacing, 6);
        AssertMatchesSlices(result.Volume, specs);
    }

    [Fact]
    public void Assemble_MissingSlice_FlaggedNotResampled()
    {
        List<SliceSpec> specs = SyntheticSeries.Stack([0, 0, 0], s_axial, [0, 2, 4, 8, 10]);
        specs.ForEach(s => SyntheticSeries.Write(_dir, s));

        AssembledVolume result = AssembleOnly();

        Assert.True(result.Report.Flags.HasFlag(GeometryFlags.MissingSlices));
        Assert.Equal(1, result.Report.MissingSliceEstimate);
        Assert.Equal(4, result.Report.MaxGap, 6);
        Assert.Equal(2, result.Report.MedianGap, 6);
        Assert.Equal(5, result.Volume.NZ);
        Assert.Contains(result.Report.Warnings, w => w.Contains("missing", StringComparison.Ordinal));
        Assert.Equal(2, result.Report.SliceSpacing, 6);
        Assert.Equal(specs[3].Expected(1, 2), result.Volume[2, 1, 3]);
    }

    [Fact]
    public void Assemble_UnevenSpacing_FlaggedWithNumbers()
    {
        List<SliceSpec> specs = SyntheticSeries.Stack([0, 0, 0], s_axial, [0, 2, 4, 6.3, 8.3]);
        specs.ForEach(s => SyntheticSeries.Write(_dir, s));

        AssembledVolume result = AssembleOnly();

        Assert.True(result.Report.Flags.HasFlag(GeometryFlags.UnevenSpacing));
        Assert.False(result.Report.Flags.HasFlag(GeometryFlags.MissingSlices));
        Assert.Equal(0.15, result.Report.MaxRelativeDeviation, 6);
        Assert.False(result.Report.IsRegular);
    }

    [Fact]
    public void Assemble_WithinOnePercent_NotFlaggedUneven()
    {
        List<SliceSpec> specs = SyntheticSeries.Stack([0, 0, 0], s_axial, [0, 2, 4.01, 6.01, 8.01]);
        specs.ForEach(s => SyntheticSeries.Write(_dir, s));

        Assert.Equal(GeometryFlags.None, AssembleOnly().Report.Flags);
    }

    [Fact]
    public void Assemble_GantryTilt_ShearedAffineKeepsEveryPixelInPlace()
    {
        var specs = Enumerable.Range(0, 4).Select(k => new SliceSpec { Position = [0, 0.5 * k, 2.0 * k], Instance = k + 1 }).ToList();
        specs.ForEach(s => SyntheticSeries.Write(_dir, s));

        AssembledVolume result = AssembleOnly();

        Assert.True(result.Report.Flags.HasFlag(GeometryFlags.GantryTilt));
        Assert.Equal(Math.Atan(0.25) * 180 / Math.PI, result.Report.TiltDegrees, 6);
        AssertMatchesSlices(result.Volume, specs);
    }

    [Fact]
    public void Assemble_RescaleSlopeIntercept_AppliedPerSlice()
    {
        List<SliceSpec> specs = SyntheticSeries.Stack([0, 0, 0], s_axial, [0, 1, 2], s => s with { Slope = s.Instance, Intercept = -1024 });
        specs.ForEach(s => SyntheticSeries.Write(_dir, s));

        AssembledVolume result = AssembleOnly();

        AssertMatchesSlices(result.Volume, specs);
        Assert.Equal((3 * 302) - 1024, result.Volume[2, 0, 2]);
    }

    [Fact]
    public void Assemble_SingleSlice_SpacingFromHeader()
    {
        SyntheticSeries.Write(_dir, new SliceSpec { Position = [1, 2, 3] });

        AssembledVolume result = AssembleOnly();

        Assert.Equal(GeometryFlags.SingleSlice | GeometryFlags.SpacingFromHeader, result.Report.Flags);
        Assert.Equal(SliceSpacingSource.SliceThickness, result.Report.SpacingSource);
        Assert.True(result.Report.IsRegular);
    }

    [Fact]
    public void Assemble_EnhancedMultiFrame_UsesFunctionalGroups()
    {
        List<SliceSpec> specs = SyntheticSeries.Stack([5, 6, 7], s_coronal, [6, 3, 0], s => s with { Slope = 0.5, Intercept = 10 });
        SyntheticSeries.WriteEnhanced(_dir, specs);

        AssembledVolume result = AssembleOnly();

        Assert.Equal(GeometryFlags.None, result.Report.Flags);
        Assert.Equal(3, result.Volume.NZ);
        AssertMatchesSlices(result.Volume, specs);
    }

    [Fact]
    public void Assemble_ClassicMultiFrame_StepsBySpacingBetweenSlices()
    {
        List<SliceSpec> specs = SyntheticSeries.Stack([0, 0, 0], s_sagittal, [0, 4, 8, 12]);
        SyntheticSeries.WriteClassicMultiFrame(_dir, specs, spacing: 4);

        AssembledVolume result = AssembleOnly();

        Assert.Equal(SliceSpacingSource.SpacingBetweenSlices, result.Report.SpacingSource);
        Assert.True(result.Report.Flags.HasFlag(GeometryFlags.SpacingFromHeader));
        AssertMatchesSlices(result.Volume, specs);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public void Assemble_Mosaic_UnpacksTilesAtTheirTruePositions(bool withCsa, bool reversedNormal)
    {
        double[] iop = Oblique(0, 10, 0);
        double[] normal = [(iop[1] * iop[5]) - (iop[2] * iop[4]), (iop[2] * iop[3]) - (iop[0] * iop[5]), (iop[0] * iop[4]) - (iop[1] * iop[3])];
        double[] sliceNormal = reversedNormal ? [-normal[0], -normal[1], -normal[2]] : normal;
        double spacing = 3.5;
        // 5 tiles → a 3×3 grid of 4×5 tiles in a 12×15 mosaic; the tiles' true positions step along the slice normal.
        var mosaicCorner = new SliceSpec { Position = [-100, -80, 20], Orientation = iop };
        double[] firstTile = Add(mosaicCorner.Position, Add(Scale(iop[..3], (15 - 5) / 2.0 * 0.6), Scale(iop[3..], (12 - 4) / 2.0 * 0.8)));
        var tiles = Enumerable.Range(0, 5)
            .Select(k => new SliceSpec { Position = Add(firstTile, Scale(sliceNormal, k * spacing)), Orientation = iop, Instance = k + 1 })
            .ToList();
        SyntheticSeries.WriteMosaic(_dir, mosaicCorner, tiles, withCsa, withCsa ? sliceNormal : null, spacing);

        SeriesScanResult scan = SeriesScanner.Scan(_dir);
        SliceStack stack = Assert.Single(Assert.Single(scan.Series).Stacks);
        AssembledVolume result = VolumeAssembler.Assemble(stack);

        Assert.True(stack.IsMosaic);
        Assert.True(result.Report.IsMosaic);
        Assert.Equal((5, 4, 5), (result.Volume.NX, result.Volume.NY, result.Volume.NZ));
        Assert.Equal(SliceSpacingSource.SpacingBetweenSlices, result.Report.SpacingSource);
        AssertMatchesSlices(result.Volume, tiles);
    }

    [Fact]
    public void Assemble_OverTheVoxelLimit_TooLargeBeforeDecoding()
    {
        SyntheticSeries.Stack([0, 0, 0], s_axial, [0, 1, 2]).ForEach(s => SyntheticSeries.Write(_dir, s));
        SliceStack stack = Assert.Single(Assert.Single(SeriesScanner.Scan(_dir).Series).Stacks);

        VolumeAssemblyException ex = Assert.Throws<VolumeAssemblyException>(() => VolumeAssembler.Assemble(stack, new VolumeAssemblyOptions { MaxVoxels = 59 }));

        Assert.Equal(VolumeErrorCode.TooLarge, ex.Reason);
        Assert.Equal(3, VolumeAssembler.Assemble(stack, new VolumeAssemblyOptions { MaxVoxels = 60 }).Volume.NZ);
    }

    [Fact]
    public void Assemble_WholeSeries_OneVolumePerStack()
    {
        List<SliceSpec> first = SyntheticSeries.Stack([0, 0, 0], s_axial, [0, 2, 4], s => s with { Acquisition = 1 });
        List<SliceSpec> second = SyntheticSeries.Stack([0, 0, 0], s_axial, [0, 2, 4], s => s with { Acquisition = 2, Instance = s.Instance + 10 });
        first.Concat(second).ToList().ForEach(s => SyntheticSeries.Write(_dir, s));

        DicomSeries series = Assert.Single(SeriesScanner.Scan(_dir).Series);
        IReadOnlyList<AssembledVolume> volumes = VolumeAssembler.Assemble(series);

        Assert.Equal(2, volumes.Count);
        AssertMatchesSlices(volumes[0].Volume, first);
        AssertMatchesSlices(volumes[1].Volume, second);
    }

    internal static double[] Oblique(double alphaDegrees, double betaDegrees, double gammaDegrees)
    {
        double a = alphaDegrees * Math.PI / 180, b = betaDegrees * Math.PI / 180, g = gammaDegrees * Math.PI / 180;
        // R = Rz(a)·Ry(g)·Rx(b): the first two columns are the row and column cosines.
        double[,] rz = { { Math.Cos(a), -Math.Sin(a), 0 }, { Math.Sin(a), Math.Cos(a), 0 }, { 0, 0, 1 } };
        double[,] ry = { { Math.Cos(g), 0, Math.Sin(g) }, { 0, 1, 0 }, { -Math.Sin(g), 0, Math.Cos(g) } };
        double[,] rx = { { 1, 0, 0 }, { 0, Math.Cos(b), -Math.Sin(b) }, { 0, Math.Sin(b), Math.Cos(b) } };
        double[,] r = Multiply(Multiply(rz, ry), rx);
        return [r[0, 0], r[1, 0], r[2, 0], r[0, 1], r[1, 1], r[2, 1]];
    }

    /// <summary>
    /// Every generated slice's pixels are in the volume at the voxels whose affine position is the DICOM position of
    /// that pixel (IPP + column·Δc·R + row·Δr·C, LPS → RAS).
    /// </summary>
    internal static void AssertMatchesSlices(Volume volume, IReadOnlyList<SliceSpec> specs)
    {
        Assert.Equal(specs.Count, volume.NZ);
        double[] m = volume.Affine;
        foreach (SliceSpec s in specs)
        {
            double[] corner = [-s.Position[0], -s.Position[1], s.Position[2]];
            int k = Enumerable.Range(0, volume.NZ).Single(z => Distance(World(m, 0, 0, z), corner) < 1e-4);
            for (int j = 0; j < s.Rows; j++)
            {
                for (int i = 0; i < s.Columns; i++)
                {
                    double[] lps = Add(s.Position, Add(Scale(s.Orientation[..3], i * s.PixelSpacing[1]), Scale(s.Orientation[3..], j * s.PixelSpacing[0])));
                    Assert.True(Distance(World(m, i, j, k), [-lps[0], -lps[1], lps[2]]) < 1e-4, $"voxel ({i},{j},{k}) is not at its DICOM position");
                    Assert.Equal(s.Expected(j, i), volume[i, j, k]);
                }
            }
        }
    }

    internal static void AssertAffine(IReadOnlyList<double> expected, IReadOnlyList<double> actual, double tolerance)
    {
        for (int i = 0; i < 16; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"affine[{i}]: expected {expected[i]}, got {actual[i]}");
        }
    }

    private static double[] World(double[] m, int i, int j, int k) =>
    [
        (m[0] * i) + (m[1] * j) + (m[2] * k) + m[3],
        (m[4] * i) + (m[5] * j) + (m[6] * k) + m[7],
        (m[8] * i) + (m[9] * j) + (m[10] * k) + m[11],
    ];

    private static double Distance(double[] a, double[] b) => Math.Sqrt(Math.Pow(a[0] - b[0], 2) + Math.Pow(a[1] - b[1], 2) + Math.Pow(a[2] - b[2], 2));

    private static double[] Add(double[] a, double[] b) => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];

    private static double[] Scale(double[] a, double s) => [a[0] * s, a[1] * s, a[2] * s];

    private static double[,] Multiply(double[,] x, double[,] y)
    {
        var r = new double[3, 3];
        for (int i = 0; i < 3; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                for (int t = 0; t < 3; t++)
                {
                    r[i, j] += x[i, t] * y[t, j];
                }
            }
        }

        return r;
    }

    private AssembledVolume AssembleOnly()
    {
        SeriesScanResult scan = SeriesScanner.Scan(_dir);
        Assert.Empty(scan.Failures);
        DicomSeries series = Assert.Single(scan.Series);
        return VolumeAssembler.Assemble(Assert.Single(series.Stacks));
    }
}
