using MedTransfer.Dicom;
using MedTransfer.Imaging.Volumes;
using MedTransfer.Testing;

namespace MedTransfer.Imaging.Tests.Volumes;

public sealed class SeriesScannerTests : IDisposable
{
    private static readonly double[] s_axial = [1, 0, 0, 0, 1, 0];
    private static readonly double[] s_sagittal = [0, 1, 0, 0, 0, -1];

    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-scan");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Scan_TwoSeries_GroupedByUidAndOrderedBySeriesNumber()
    {
        SyntheticSeries.Stack([0, 0, 0], s_axial, [0, 1, 2], s => s with { SeriesUid = "1.2.3.7", SeriesNumber = 7, Description = "b" })
            .ForEach(s => SyntheticSeries.Write(Path.Combine(_dir, "x"), s));
        SyntheticSeries.Stack([0, 0, 0], s_axial, [0, 1], s => s with { SeriesUid = "1.2.3.2", SeriesNumber = 2, Description = "a" })
            .ForEach(s => SyntheticSeries.Write(Path.Combine(_dir, "y", "z"), s));

        SeriesScanResult scan = SeriesScanner.Scan(_dir);

        Assert.Equal(["1.2.3.2", "1.2.3.7"], scan.Series.Select(s => s.SeriesInstanceUid));
        Assert.Equal([2, 3], scan.Series.Select(s => s.Files.Count));
        Assert.Equal("MR", scan.Series[0].Modality);
        Assert.Equal("a", scan.Series[0].SeriesDescription);
        Assert.All(scan.Series, s => Assert.Equal(StackSplitReason.None, Assert.Single(s.Stacks).Reason));
    }

    [Fact]
    public void Scan_MixedOrientations_SplitIntoStacks()
    {
        SyntheticSeries.Stack([0, 0, 0], s_axial, [0, 1, 2]).ForEach(s => SyntheticSeries.Write(_dir, s));
        SyntheticSeries.Stack([0, 0, 0], s_sagittal, [0, 1], s => s with { Instance = s.Instance + 10 }).ForEach(s => SyntheticSeries.Write(_dir, s));

        DicomSeries series = Assert.Single(SeriesScanner.Scan(_dir).Series);

        Assert.Equal(2, series.Stacks.Count);
        Assert.All(series.Stacks, s => Assert.Equal(StackSplitReason.Orientation, s.Reason));
        Assert.Equal(["axial", "sagittal"], series.Stacks.Select(s => s.Label));
        Assert.Equal([3, 2], series.Stacks.Select(s => s.ImageCount));
    }

    [Fact]
    public void Scan_MixedSizes_SplitByImageSize()
    {
        SyntheticSeries.Stack([0, 0, 0], s_axial, [0, 1, 2]).ForEach(s => SyntheticSeries.Write(_dir, s));
        SyntheticSeries.Stack([0, 0, 0], s_axial, [0, 1, 2], s => s with { Rows = 6, Instance = s.Instance + 10 }).ForEach(s => SyntheticSeries.Write(_dir, s));

        DicomSeries series = Assert.Single(SeriesScanner.Scan(_dir).Series);

        Assert.Equal(2, series.Stacks.Count);
        Assert.All(series.Stacks, s => Assert.Equal(StackSplitReason.ImageSize, s.Reason));
        Assert.Equal(["5x4", "5x6"], series.Stacks.Select(s => s.Label));
    }

    [Fact]
    public void Scan_MixedPixelSpacing_SplitByImageSize()
    {
        SyntheticSeries.Stack([0, 0, 0], s_axial, [0, 1, 2]).ForEach(s => SyntheticSeries.Write(_dir, s));
        SyntheticSeries.Stack([0, 0, 0], s_axial, [0, 1, 2], s => s with { PixelSpacing = [0.5, 0.5], Instance = s.Instance + 10 }).ForEach(s => SyntheticSeries.Write(_dir, s));

        DicomSeries series = Assert.Single(SeriesScanner.Scan(_dir).Series);

        Assert.Equal(["0.5x0.5mm", "0.8x0.6mm"], series.Stacks.Select(s => s.Label));
        Assert.All(series.Stacks, s => Assert.Equal(StackSplitReason.ImageSize, s.Reason));
    }

    [Theory]
    [InlineData(false, null)]
    [InlineData(true, 10)]
    [InlineData(true, 0)]
    public void Scan_MosaicWithoutUsableImageCount_UnsupportedImage(bool withCsa, int? declared)
    {
        var tiles = Enumerable.Range(0, 4).Select(k => new SliceSpec { Position = [0, 0, k], Instance = k + 1 }).ToList();
        SyntheticSeries.WriteMosaic(_dir, new SliceSpec { Position = [0, 0, 0] }, tiles, withCsa, null, 1, withLegacyCount: false, declaredCount: declared);

        SeriesScanResult scan = SeriesScanner.Scan(_dir);

        Assert.Empty(scan.Series);
        Assert.Equal(SeriesScanFailureReason.UnsupportedImage, Assert.Single(scan.Failures).Reason);
    }

    [Fact]
    public void Scan_MosaicCountOnlyInLegacyTag_Used()
    {
        var tiles = Enumerable.Range(0, 4).Select(k => new SliceSpec { Position = [0, 0, k], Instance = k + 1 }).ToList();
        SyntheticSeries.WriteMosaic(_dir, new SliceSpec { Position = [0, 0, 0] }, tiles, withCsa: false, null, 1);

        SliceStack stack = Assert.Single(Assert.Single(SeriesScanner.Scan(_dir).Series).Stacks);

        Assert.True(stack.IsMosaic);
        Assert.Equal(4, VolumeAssembler.Assemble(stack).Volume.NZ);
    }

    [Fact]
    public void Scan_TwoEchoes_SplitByEchoNumber()
    {
        SyntheticSeries.Stack([0, 0, 0], s_axial, [0, 3, 6], s => s with { Echo = 2, Instance = s.Instance + 10 }).ForEach(s => SyntheticSeries.Write(_dir, s));
        SyntheticSeries.Stack([0, 0, 0], s_axial, [0, 3, 6], s => s with { Echo = 1 }).ForEach(s => SyntheticSeries.Write(_dir, s));

        DicomSeries series = Assert.Single(SeriesScanner.Scan(_dir).Series);

        Assert.Equal(["echo 1", "echo 2"], series.Stacks.Select(s => s.Label));
        Assert.All(series.Stacks, s => Assert.Equal(StackSplitReason.Echo, s.Reason));
        Assert.All(series.Stacks.Select(s => VolumeAssembler.Assemble(s)), v => Assert.Equal(GeometryFlags.None, v.Report.Flags));
    }

    [Fact]
    public void Scan_RepeatedPositionsWithAcquisitions_SplitByAcquisition()
    {
        for (int a = 1; a <= 3; a++)
        {
            int acquisition = a;
            SyntheticSeries.Stack([0, 0, 0], s_axial, [0, 3, 6], s => s with { Acquisition = acquisition, Instance = s.Instance + (10 * acquisition) })
                .ForEach(s => SyntheticSeries.Write(_dir, s));
        }

        DicomSeries series = Assert.Single(SeriesScanner.Scan(_dir).Series);

        Assert.Equal(["acquisition 1", "acquisition 2", "acquisition 3"], series.Stacks.Select(s => s.Label));
        Assert.All(series.Stacks, s => Assert.Equal(StackSplitReason.Acquisition, s.Reason));
    }

    [Fact]
    public void Scan_DifferentAcquisitionsWithoutRepeats_StayOneStack()
    {
        // Acquisition Number alone never splits: only when positions repeat does it tell volumes apart.
        SyntheticSeries.Stack([0, 0, 0], s_axial, [0, 3, 6, 9], s => s with { Acquisition = s.Instance }).ForEach(s => SyntheticSeries.Write(_dir, s));

        DicomSeries series = Assert.Single(SeriesScanner.Scan(_dir).Series);

        Assert.Equal(StackSplitReason.None, Assert.Single(series.Stacks).Reason);
    }

    [Fact]
    public void Scan_DiffusionSeriesOneFilePerSlice_OneStackPerWeightingInAcquisitionOrder()
    {
        // Two b=0 volumes and two directions, instances interleaved by slice, no acquisition numbers: the weighting
        // tells the volumes apart, and the repeated b=0 falls back to occurrence.
        (double B, double[] G)[] weightings = [(0, [0, 0, 0]), (1000, [1, 0, 0]), (0, [0, 0, 0]), (1000, [0, 0.6, 0.8])];
        for (int v = 0; v < weightings.Length; v++)
        {
            int volume = v;
            SyntheticSeries.Stack([0, 0, 0], s_axial, [0, 3, 6], s => s with { Instance = (s.Instance * 10) + volume, BValue = weightings[volume].B, Gradient = weightings[volume].G })
                .ForEach(s => SyntheticSeries.Write(_dir, s));
        }

        DicomSeries series = Assert.Single(SeriesScanner.Scan(_dir).Series);
        AssembledVolume[] volumes = [.. series.Stacks.Select(s => VolumeAssembler.Assemble(s))];

        Assert.All(series.Stacks, s => Assert.True(s.Reason.HasFlag(StackSplitReason.Diffusion)));
        Assert.Equal(weightings.Select(w => w.B), volumes.Select(v => v.Diffusion!.BValue));
        for (int v = 0; v < weightings.Length; v++)
        {
            Assert.Equal(weightings[v].G, volumes[v].Diffusion!.Gradient);
        }

        Assert.All(volumes, v => Assert.Equal((3, GeometryFlags.None), (v.Volume.NZ, v.Report.Flags)));
    }

    [Fact]
    public void Scan_DuplicateSliceWithoutDistinguishingAttribute_SplitByOccurrence()
    {
        List<SliceSpec> specs = SyntheticSeries.Stack([0, 0, 0], s_axial, [0, 3, 6]);
        specs.ForEach(s => SyntheticSeries.Write(_dir, s));
        SyntheticSeries.Write(_dir, specs[1] with { Instance = 9 });

        DicomSeries series = Assert.Single(SeriesScanner.Scan(_dir).Series);

        Assert.Equal([3, 1], series.Stacks.Select(s => s.ImageCount));
        Assert.All(series.Stacks, s => Assert.Equal(StackSplitReason.RepeatedPosition, s.Reason));
    }

    [Fact]
    public void Scan_CopiedFile_ReportedAsDuplicateInstanceNotAStack()
    {
        List<SliceSpec> specs = SyntheticSeries.Stack([0, 0, 0], s_axial, [0, 3, 6]);
        specs.ForEach(s => SyntheticSeries.Write(_dir, s, $"a{s.Instance}.dcm"));
        File.Copy(Path.Combine(_dir, "a2.dcm"), Path.Combine(_dir, "b2.dcm"));

        SeriesScanResult scan = SeriesScanner.Scan(_dir);

        Assert.Equal(3, Assert.Single(Assert.Single(scan.Series).Stacks).ImageCount);
        SeriesScanFailure duplicate = Assert.Single(scan.Failures);
        Assert.Equal(("b2.dcm", SeriesScanFailureReason.DuplicateInstance), (duplicate.Path, duplicate.Reason));
    }

    [Fact]
    public void Scan_SameUidDifferentSeriesNumbers_KeptApart()
    {
        SyntheticSeries.Write(_dir, new SliceSpec { Position = [0, 0, 0], SeriesNumber = 1 });
        SyntheticSeries.Write(_dir, new SliceSpec { Position = [0, 0, 0], SeriesNumber = 2 });

        Assert.Equal([1, 2], SeriesScanner.Scan(_dir).Series.Select(s => s.SeriesNumber));
    }

    [Fact]
    public void Scan_BadFiles_CollectedWithReasonsAndTheRestScanned()
    {
        SyntheticSeries.Stack([0, 0, 0], s_axial, [0, 1, 2]).ForEach(s => SyntheticSeries.Write(_dir, s));
        File.WriteAllBytes(Path.Combine(_dir, "empty.dcm"), []);
        File.WriteAllBytes(Path.Combine(_dir, "png.dcm"), "\u0089PNG\r\n\u001a\n0000000000000000"u8.ToArray());
        var report = new DicomDataset();
        report.Set(Tag.SOPClassUID, DicomVR.UI, "1.2.840.10008.5.1.4.1.1.88.11");
        report.Set(Tag.SeriesInstanceUID, DicomVR.UI, "1.2.3.4");
        new DicomFile(report).Save(Path.Combine(_dir, "sr.dcm"));
        var noGeometry = new DicomDataset();
        noGeometry.Set(Tag.SeriesInstanceUID, DicomVR.UI, "1.2.3.5");
        noGeometry.SetNumbers(Tag.Rows, DicomVR.US, 2);
        noGeometry.SetNumbers(Tag.Columns, DicomVR.US, 2);
        noGeometry.SetNumbers(Tag.BitsAllocated, DicomVR.US, 8);
        noGeometry.SetBytes(DicomTag.PixelData, DicomVR.OB, new byte[4]);
        new DicomFile(noGeometry).Save(Path.Combine(_dir, "xray.dcm"));
        var badCosines = new DicomDataset();
        badCosines.Set(Tag.SeriesInstanceUID, DicomVR.UI, "1.2.3.6");
        badCosines.SetNumbers(Tag.Rows, DicomVR.US, 2);
        badCosines.SetNumbers(Tag.Columns, DicomVR.US, 2);
        badCosines.SetNumbers(Tag.BitsAllocated, DicomVR.US, 8);
        badCosines.SetNumbers(Tag.ImagePositionPatient, DicomVR.DS, 0, 0, 0);
        badCosines.SetNumbers(Tag.ImageOrientationPatient, DicomVR.DS, 1, 0, 0, 1, 0, 0);
        badCosines.SetNumbers(Tag.PixelSpacing, DicomVR.DS, 1, 1);
        new DicomFile(badCosines).Save(Path.Combine(_dir, "cosines.dcm"));
        Directory.CreateDirectory(Path.Combine(_dir, "folder.dcm"));
        var reports = new List<SeriesScanProgress>();

        SeriesScanResult scan = SeriesScanner.Scan(_dir, new SynchronousProgress(reports));

        Assert.Equal(3, Assert.Single(scan.Series).Files.Count);
        Assert.Equal(5, scan.Failures.Count);
        Assert.Equal(SeriesScanFailureReason.Unreadable, scan.Failures.Single(f => f.Path == "empty.dcm").Reason);
        Assert.Equal(DicomErrorCode.NotDicom, scan.Failures.Single(f => f.Path == "png.dcm").DicomError);
        Assert.Equal(SeriesScanFailureReason.NotAnImage, scan.Failures.Single(f => f.Path == "sr.dcm").Reason);
        Assert.Equal(SeriesScanFailureReason.MissingGeometry, scan.Failures.Single(f => f.Path == "xray.dcm").Reason);
        Assert.Equal(SeriesScanFailureReason.InvalidGeometry, scan.Failures.Single(f => f.Path == "cosines.dcm").Reason);
        Assert.Equal(8, reports.Count);
        Assert.Equal(new SeriesScanProgress(8, 5, 8), reports[^1]);
        Assert.DoesNotContain(scan.Failures, f => f.Detail.Contains("CANARY", StringComparison.Ordinal));
    }

    [Fact]
    public void Scan_TruncatedPixelData_HeadersScannedAssemblyFailsTyped()
    {
        // The scan reads headers only, so a file cut inside its pixels still joins its series; decoding then fails typed.
        string path = SyntheticSeries.Write(_dir, new SliceSpec { Position = [0, 0, 0], Rows = 64, Columns = 64 });
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^1000]);

        SeriesScanResult scan = SeriesScanner.Scan(_dir);
        SliceStack stack = Assert.Single(Assert.Single(scan.Series).Stacks);

        Assert.Empty(scan.Failures);
        Assert.ThrowsAny<DicomException>(() => VolumeAssembler.Assemble(stack));
    }

    [Fact]
    public void Scan_Cancelled_Throws()
    {
        SyntheticSeries.Write(_dir, new SliceSpec { Position = [0, 0, 0] });
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();

        Assert.Throws<OperationCanceledException>(() => SeriesScanner.Scan(_dir, cancellationToken: cancel.Token));
    }

    [Fact]
    public void Scan_MissingFolder_Throws() =>
        Assert.Throws<DirectoryNotFoundException>(() => SeriesScanner.Scan(Path.Combine(_dir, "absent")));

    private sealed class SynchronousProgress(List<SeriesScanProgress> sink) : IProgress<SeriesScanProgress>
    {
        public void Report(SeriesScanProgress value) => sink.Add(value);
    }
}
