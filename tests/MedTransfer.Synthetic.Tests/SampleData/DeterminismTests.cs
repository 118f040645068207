using MedTransfer.Testing;

namespace MedTransfer.Synthetic.Tests.SampleData;

/// <summary>Same seed → same bytes, different seed → different bytes, on tiny sets from all three site profiles.</summary>
public sealed class DeterminismTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-synthetic");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static IReadOnlyList<SiteProfile> TinySites { get; } =
    [
        .. SiteProfile.Defaults.Select(s => s with
        {
            Radiograph = s.Radiograph with { Images = 4, Size = 40, PixelSpacingMm = 10.0 },
            Mri = s.Mri with { Series = 2, Matrix = 12, PixelSpacingMm = 18.0, Slices = 3 },
        }),
    ];

    [Fact]
    public void SameSeed_GivesTheSameBytes_DifferentSeed_DifferentBytes()
    {
        string first = Path.Combine(_dir, "first");
        string second = Path.Combine(_dir, "second");
        string other = Path.Combine(_dir, "other");
        SampleDataGenerator.Generate(first, SampleDataScale.Small, 42, sites: TinySites);
        SampleDataGenerator.Generate(second, SampleDataScale.Small, 42, sites: TinySites);
        SampleDataGenerator.Generate(other, SampleDataScale.Small, 43, sites: TinySites);

        string sums = File.ReadAllText(Path.Combine(first, SampleDataGenerator.ChecksumFileName));
        Assert.Equal(sums, File.ReadAllText(Path.Combine(second, SampleDataGenerator.ChecksumFileName)));
        Assert.Equal(SampleDataGenerator.ComputeChecksums(second), sums);
        string[] otherDicom = [.. File.ReadAllLines(Path.Combine(other, SampleDataGenerator.ChecksumFileName)).Where(l => l.EndsWith(".dcm", StringComparison.Ordinal)).Select(l => l[..64])];
        string[] firstDicom = [.. sums.Split('\n').Where(l => l.EndsWith(".dcm", StringComparison.Ordinal)).Select(l => l[..64])];
        Assert.Empty(firstDicom.Intersect(otherDicom));
    }

    [Fact]
    public void Generate_ReplacesItsOwnOutput_ButRefusesAForeignFolder()
    {
        string target = Path.Combine(_dir, "set");
        SampleDataSummary summary = SampleDataGenerator.Generate(target, SampleDataScale.Small, 7, sites: TinySites);
        string before = File.ReadAllText(Path.Combine(target, SampleDataGenerator.ChecksumFileName));
        SampleDataGenerator.Generate(target, SampleDataScale.Small, 7, sites: TinySites);
        Assert.Equal(before, File.ReadAllText(Path.Combine(target, SampleDataGenerator.ChecksumFileName)));
        Assert.Equal(3 * 4, summary.Radiographs);
        Assert.Equal(3 * 2, summary.MriSeries);

        string foreign = Path.Combine(_dir, "foreign");
        Directory.CreateDirectory(foreign);
        File.WriteAllText(Path.Combine(foreign, "notes.txt"), "mine");
        Assert.Throws<IOException>(() => SampleDataGenerator.Generate(foreign, SampleDataScale.Small, 7, sites: TinySites));
        Assert.True(File.Exists(Path.Combine(foreign, "notes.txt")));
    }

    [Fact]
    public void Progress_CountsEveryRadiographAndSlice()
    {
        var reports = new List<SampleDataProgress>();
        var progress = new SynchronousProgress(reports);
        SampleDataGenerator.Generate(Path.Combine(_dir, "p"), SampleDataScale.Small, 1, progress, TinySites);
        int total = (3 * 4) + (3 * 2 * 3);
        Assert.Equal(total, reports.Count);
        Assert.All(reports, r => Assert.Equal(total, r.Total));
        Assert.Equal(Enumerable.Range(1, total), reports.Select(r => r.Done).Order());
    }

    private sealed class SynchronousProgress(List<SampleDataProgress> reports) : IProgress<SampleDataProgress>
    {
        public void Report(SampleDataProgress value)
        {
            lock (reports)
            {
                reports.Add(value);
            }
        }
    }
}
