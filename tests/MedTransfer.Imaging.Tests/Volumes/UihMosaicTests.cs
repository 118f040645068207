using MedTransfer.Imaging.Volumes;
using MedTransfer.Testing;

namespace MedTransfer.Imaging.Tests.Volumes;

/// <summary>UIH VFRAME mosaics generated in code: tiles in a ⌈√n⌉-column grid, each tile at its private item's position.</summary>
public sealed class UihMosaicTests : IDisposable
{
    private static readonly double[] s_oblique = VolumeAssemblerTests.Oblique(12, -20, 5);

    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-uih");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Assemble_FiveTilesInATwoByThreeGrid_EachTileAtItsItemsPosition()
    {
        // Items listed from the highest slice down: the volume must still run along the normal.
        List<SliceSpec> tiles = SyntheticSeries.Stack([-30, 12, 40], s_oblique, [8, 6, 4, 2, 0]);
        SyntheticSeries.WriteUihMosaic(_dir, tiles[0], tiles, [100.5, 101.5, 100, 101, 102]);

        SeriesScanResult scan = SeriesScanner.Scan(_dir);
        SliceStack stack = Assert.Single(Assert.Single(scan.Series).Stacks);
        AssembledVolume result = VolumeAssembler.Assemble(stack);

        Assert.Empty(scan.Failures);
        Assert.True(stack.IsMosaic);
        Assert.True(result.Report.IsMosaic);
        Assert.True(result.Report.IsRegular, string.Join("; ", result.Report.Warnings));
        Assert.Equal(SliceSpacingSource.Positions, result.Report.SpacingSource);
        Assert.Equal(2, result.Report.SliceSpacing, 6);
        Assert.Equal((5, 4, 5), (result.Volume.NX, result.Volume.NY, result.Volume.NZ));
        VolumeAssemblerTests.AssertMatchesSlices(result.Volume, tiles);

        // Slice k = 0 is the lowest tile (item 4, acquired at 102 s); times count from the earliest tile (item 2).
        Assert.Equal([2, 1, 0, 1.5, 0.5], result.SliceTiming!);
    }

    [Theory]
    [InlineData(2001, true)]
    [InlineData(2000, false)]
    public void Assemble_SliceTimesSpanningARepetitionTime_AreLeftOutWithAWarning(double repetitionTimeMs, bool kept)
    {
        List<SliceSpec> tiles = SyntheticSeries.Stack([0, 0, 0], s_oblique, [0, 3, 6]);
        SyntheticSeries.WriteUihMosaic(_dir, tiles[0], tiles, [10, 11, 12], repetitionTimeMs: repetitionTimeMs);

        AssembledVolume result = VolumeAssembler.Assemble(Assert.Single(Assert.Single(SeriesScanner.Scan(_dir).Series).Stacks));

        Assert.Equal(kept, result.SliceTiming is not null);
        Assert.Equal(!kept, result.Report.Warnings.Any(w => w.Contains("span a repetition time or more", StringComparison.Ordinal)));
    }

    [Fact]
    public void Assemble_DiffusionInTheImageFrame_IsReportedInThePatientFrame()
    {
        List<SliceSpec> tiles = SyntheticSeries.Stack([0, 0, 0], s_oblique, [0, 3, 6, 9]);
        SyntheticSeries.WriteUihMosaic(_dir, tiles[0], tiles, [1, 2, 3, 4], bValue: 1000, imageGradient: [0.6, 0, 0.8]);

        AssembledVolume result = VolumeAssembler.Assemble(Assert.Single(Assert.Single(SeriesScanner.Scan(_dir).Series).Stacks));

        DiffusionWeighting d = Assert.IsType<DiffusionWeighting>(result.Diffusion);
        Assert.Equal(1000, d.BValue);
        double[] row = s_oblique[..3];
        double[] column = s_oblique[3..];
        double[] normal = Geometry.Cross(row, column);
        double[] expected = Geometry.Add(Geometry.Scale(row, 0.6), Geometry.Scale(normal, 0.8));
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(expected[i], d.Gradient[i], 9);
        }
    }

    [Fact]
    public void Scan_SeveralVolumes_OneStackEachInInstanceOrder()
    {
        List<SliceSpec> tiles = SyntheticSeries.Stack([0, 0, 0], s_oblique, [0, 3, 6]);
        SyntheticSeries.WriteUihMosaic(_dir, tiles[0] with { Instance = 2 }, [.. tiles.Select(t => t with { Instance = t.Instance + 10 })], [1, 2, 3], bValue: 800, imageGradient: [1, 0, 0]);
        SyntheticSeries.WriteUihMosaic(_dir, tiles[0] with { Instance = 1 }, tiles, [1, 2, 3], bValue: 0);

        DicomSeries series = Assert.Single(SeriesScanner.Scan(_dir).Series);
        AssembledVolume[] volumes = [.. series.Stacks.Select(s => VolumeAssembler.Assemble(s))];

        Assert.Equal([0.0, 800.0], volumes.Select(v => v.Diffusion!.BValue));
        VolumeAssemblerTests.AssertMatchesSlices(volumes[0].Volume, tiles);
    }

    [Fact]
    public void Scan_WithoutThePrivateSequence_SkipsTheFileForMissingGeometry()
    {
        List<SliceSpec> tiles = SyntheticSeries.Stack([0, 0, 0], s_oblique, [0, 3, 6]);
        SyntheticSeries.WriteUihMosaic(_dir, tiles[0], tiles, [1, 2, 3], withSequence: false);

        SeriesScanFailure failure = Assert.Single(SeriesScanner.Scan(_dir).Failures);

        Assert.Equal(SeriesScanFailureReason.MissingGeometry, failure.Reason);
        Assert.Contains("(0065,xx51)", failure.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Scan_CountThatDisagreesWithTheItems_IsInvalidGeometry()
    {
        List<SliceSpec> tiles = SyntheticSeries.Stack([0, 0, 0], s_oblique, [0, 3, 6]);
        SyntheticSeries.WriteUihMosaic(_dir, tiles[0], tiles, [1, 2, 3], declaredCount: 4);

        Assert.Equal(SeriesScanFailureReason.InvalidGeometry, Assert.Single(SeriesScanner.Scan(_dir).Failures).Reason);
    }

    [Fact]
    public void Scan_FrameThatDoesNotTileIntoTheDocumentedGrid_IsUnsupported()
    {
        // Five tiles laid out in five columns: the frame is 4 × 25, not the documented 3-column grid's 8 × 15.
        List<SliceSpec> tiles = SyntheticSeries.Stack([0, 0, 0], s_oblique, [0, 1, 2, 3, 4]);
        SyntheticSeries.WriteUihMosaic(_dir, tiles[0], tiles, [1, 2, 3, 4, 5], gridColumns: 5);

        Assert.Equal(SeriesScanFailureReason.UnsupportedImage, Assert.Single(SeriesScanner.Scan(_dir).Failures).Reason);
    }

    [Theory]
    [InlineData("135718.843000", 50238.843)]
    [InlineData("13:57:18", 50238.0)]
    [InlineData("0930", 34200.0)]
    [InlineData("", null)]
    [InlineData("25", null)]
    [InlineData("ab1234", null)]
    public void Seconds_DicomTime_AfterMidnight(string tm, double? expected)
    {
        double? seconds = UihMosaic.Seconds(tm);

        Assert.Equal(expected is null, seconds is null);
        if (expected is { } e)
        {
            Assert.Equal(e, seconds!.Value, 6);
        }
    }
}
