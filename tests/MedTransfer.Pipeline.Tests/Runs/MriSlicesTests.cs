using System.Globalization;
using MedTransfer.Imaging.Resampling;
using System.Diagnostics;
using MedTransfer.Imaging;
using MedTransfer.Imaging.Images;
using MedTransfer.Imaging.Index;
using MedTransfer.Imaging.Normalization;
using MedTransfer.Pipeline.Protocols;
using MedTransfer.Pipeline.Runs;
using MedTransfer.Testing;

namespace MedTransfer.Pipeline.Tests.Runs;

public sealed class MriSlicesTests
{
    private static readonly string s_mriRoot = Path.Combine(TestPaths.RepoRoot, "sample-data", "mri");
    private static readonly Lazy<ExperimentProtocol> s_protocol = new(() => ProtocolLoader.Load(Path.Combine(TestPaths.RepoRoot, "protocols", "mri-contrast-shift.yaml")));
    private static readonly Lazy<List<ManifestRow>> s_sampleRows = new(() => Index(s_mriRoot));

    private static string SkipReason => "sample-data/mri is not present in this checkout";

    private static MriRecipe Recipe => s_protocol.Value.Preprocessing.Mri!;

    [SkippableFact]
    public void EveryMrRowOfSitesAbc_GetsOneSquareImageInUnitRange_Quickly()
    {
        Skip.IfNot(Directory.Exists(s_mriRoot), SkipReason);
        List<ManifestRow> rows = s_sampleRows.Value;
        Assert.Equal(["A", "B", "C"], rows.Select(r => r.Site).Distinct().Order(StringComparer.Ordinal));
        int size = s_protocol.Value.Preprocessing.MriSliceSize;
        var quarantine = new List<string>();
        var reports = new List<(int Done, int Total)>();

        var clock = Stopwatch.StartNew();
        Dictionary<string, float[]> images = MriSlices.Normalize(rows, [s_mriRoot], Recipe, size, ResizeMethod.Area, SafeName, new SyncProgress(reports), quarantine, CancellationToken.None);
        clock.Stop();

        Assert.Empty(quarantine);
        Assert.Equal(rows.Select(r => r.Id).Order(StringComparer.Ordinal), images.Keys.Order(StringComparer.Ordinal));
        foreach (float[] image in images.Values)
        {
            Assert.Equal(size * size, image.Length);
            Assert.All(image, v => Assert.InRange(v, 0f, 1f));
        }

        // Slices through the head have contrast; only the outermost slices of a series may be (nearly) all air.
        int withContrast = images.Values.Count(image => image.Max() - image.Min() > 0.3f);
        Assert.True(withContrast >= 0.8 * images.Count, $"{withContrast} of {images.Count} images have contrast");

        Assert.Equal((rows.Count, rows.Count), reports.MaxBy(r => r.Done));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [SkippableFact]
    public void SameSlicesNormalizedTwice_AreIdentical()
    {
        Skip.IfNot(Directory.Exists(s_mriRoot), SkipReason);
        List<ManifestRow> rows = [.. s_sampleRows.Value.Where(r => r.Site == "C").Take(40)];
        var first = MriSlices.Normalize(rows, [s_mriRoot], Recipe, 48, ResizeMethod.Area, SafeName, null, new List<string>(), CancellationToken.None);
        var second = MriSlices.Normalize(rows, [s_mriRoot], Recipe, 48, ResizeMethod.Area, SafeName, null, new List<string>(), CancellationToken.None);

        Assert.NotEmpty(first);
        Assert.Equal(first.Keys.Order(StringComparer.Ordinal), second.Keys.Order(StringComparer.Ordinal));
        foreach ((string id, float[] image) in first)
        {
            Assert.Equal(image, second[id]);
        }
    }

    [SkippableFact]
    public void Normalize_ResizeMethod_IsTheOneThePreprocessingNames()
    {
        Skip.IfNot(Directory.Exists(s_mriRoot), SkipReason);
        List<ManifestRow> rows = [.. s_sampleRows.Value.Where(r => r.Site == "A").Take(20)];
        var area = MriSlices.Normalize(rows, [s_mriRoot], Recipe, 40, ResizeMethod.Area, SafeName, null, new List<string>(), CancellationToken.None);
        var lanczos = MriSlices.Normalize(rows, [s_mriRoot], Recipe, 40, ResizeMethod.Lanczos3, SafeName, null, new List<string>(), CancellationToken.None);

        Assert.NotEmpty(area);
        Assert.Contains(area.Keys, id => !area[id].SequenceEqual(lanczos[id]));
    }

    /// <summary>
    /// Each row must get its own file's slice: at the native matrix (48) the image must match the row's own raw
    /// pixels (under the best of the 8 flips/transposes) better than any other slice of its series.
    /// </summary>
    [SkippableFact]
    public void EachRow_GetsItsOwnFilesSlice_InEverySite()
    {
        Skip.IfNot(Directory.Exists(s_mriRoot), SkipReason);
        foreach (string site in new[] { "A", "B", "C" })
        {
            List<ManifestRow> series = [.. s_sampleRows.Value.Where(r => r.Site == site).GroupBy(r => r.Series).OrderBy(g => g.Key, StringComparer.Ordinal).First()];
            var images = MriSlices.Normalize(series, [s_mriRoot], Recipe, 48, ResizeMethod.Area, SafeName, null, new List<string>(), CancellationToken.None);
            var raw = series.Select(r => RasterImageReader.Read(Manifest.ResolvePath(r, [s_mriRoot]), applyDicomVoi: false).Image).ToList();
            Assert.All(raw, img => Assert.Equal((48, 48), (img.Width, img.Height)));
            for (int i = 0; i < series.Count; i++)
            {
                double[] scores = [.. raw.Select(img => BestCorrelation(images[series[i].Id], img))];
                int best = Array.IndexOf(scores, scores.Max());
                Assert.True(best == i, $"site {site}: row {i} matched slice {best} best ({scores[best]:0.000} vs own {scores[i]:0.000})");
                Assert.True(scores[i] > 0.95, $"site {site}: row {i} own-slice correlation {scores[i]:0.000}");
            }
        }
    }

    [SkippableFact]
    public void SeriesWithATruncatedFile_IsQuarantined_OthersStillNormalize()
    {
        Skip.IfNot(Directory.Exists(s_mriRoot), SkipReason);
        string temp = TestPaths.NewTempDirectory("mri-slices");
        try
        {
            string root = Path.Combine(temp, "mri");
            (string bad, string good) = CopyTwoSeries(root);
            List<ManifestRow> rows = Index(root);
            string victim = Directory.GetFiles(bad).Order(StringComparer.Ordinal).ElementAt(5);
            byte[] bytes = File.ReadAllBytes(victim);
            File.WriteAllBytes(victim, bytes[..(bytes.Length / 2)]);

            var quarantine = new List<string>();
            var images = MriSlices.Normalize(rows, [root], Recipe, 32, ResizeMethod.Area, SafeName, null, quarantine, CancellationToken.None);

            // The series is named by the safe name of one of its rows, never by its folder (paths can hold patient names).
            string entry = Assert.Single(quarantine);
            string badFolder = Path.GetRelativePath(root, bad).Replace('\\', '/');
            ManifestRow first = rows.First(r => r.Path.StartsWith(badFolder, StringComparison.Ordinal));
            Assert.StartsWith("mri: series of image " + SafeName(first), entry, StringComparison.Ordinal);
            Assert.DoesNotContain(badFolder, entry, StringComparison.Ordinal);
            int goodCount = Directory.GetFiles(good).Length;
            Assert.Equal(goodCount, images.Count);
            Assert.All(rows.Where(r => images.ContainsKey(r.Id)), r => Assert.StartsWith(Path.GetRelativePath(root, good).Replace('\\', '/'), r.Path, StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }

    [SkippableFact]
    public void SeriesWithAMissingFile_IsQuarantined_WhetherDeletedBeforeOrAfterIndexing()
    {
        Skip.IfNot(Directory.Exists(s_mriRoot), SkipReason);
        string temp = TestPaths.NewTempDirectory("mri-slices");
        try
        {
            string root = Path.Combine(temp, "mri");
            (string bad, string good) = CopyTwoSeries(root);
            string[] badFiles = [.. Directory.GetFiles(bad).Order(StringComparer.Ordinal)];

            // A slice in the middle is gone before indexing: the stack has a gap.
            File.Delete(badFiles[7]);
            List<ManifestRow> rows = Index(root);
            var quarantine = new List<string>();
            var images = MriSlices.Normalize(rows, [root], Recipe, 32, ResizeMethod.Area, SafeName, null, quarantine, CancellationToken.None);
            Assert.Contains("missing", Assert.Single(quarantine), StringComparison.Ordinal);
            Assert.Equal(Directory.GetFiles(good).Length, images.Count);

            // Another is gone after indexing: the manifest names a file that is not there.
            File.Delete(badFiles[^1]);
            quarantine.Clear();
            images = MriSlices.Normalize(rows, [root], Recipe, 32, ResizeMethod.Area, SafeName, null, quarantine, CancellationToken.None);
            Assert.Contains("missing", Assert.Single(quarantine), StringComparison.Ordinal);
            Assert.Equal(Directory.GetFiles(good).Length, images.Count);
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }

    [SkippableFact]
    public void NonDicomRowsAndRowsWithoutSeries_AreQuarantinedOneByOne()
    {
        Skip.IfNot(Directory.Exists(s_mriRoot), SkipReason);
        ManifestRow template = s_sampleRows.Value[0];
        ManifestRow[] rows = [template with { Id = "x1", Series = string.Empty }, template with { Id = "x2", Series = "2.25.1", Format = SampleFormat.Png }];
        var quarantine = new List<string>();
        var images = MriSlices.Normalize(rows, [s_mriRoot], Recipe, 32, ResizeMethod.Area, SafeName, null, quarantine, CancellationToken.None);
        Assert.Empty(images);
        Assert.Equal(2, quarantine.Count);
    }

    [Fact]
    public void NyulSlabsResamplingAndSliceCounts_AreRefusedNamingTheField()
    {
        var nyul = new MriRecipe { Standardize = IntensityStandardization.Nyul, Nyul = new NyulModel([1, 50, 99], [0, 50, 100], 0, 100, ForegroundMethod.Otsu), Slices = new SliceOptions(SlabThickness: 1) };
        Assert.Equal("preprocessing.mri.standardize", Refused(nyul));
        Assert.Equal("preprocessing.mri.slab", Refused(new MriRecipe { Slices = new SliceOptions(SlabThickness: 3) }));
        Assert.Equal("preprocessing.mri.resample", Refused(new MriRecipe { ResampleSpacing = new VoxelSpacing(1, 1, 1), Slices = new SliceOptions(SlabThickness: 1) }));
        Assert.Equal("preprocessing.mri.slices", Refused(new MriRecipe { Slices = new SliceOptions(Count: 4, SlabThickness: 1) }));
    }

    [Fact]
    public void Cancellation_Throws()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        ManifestRow row = new() { Id = "1", Path = "a/b.dcm", Series = "2.25.1", Sha256 = new string('0', 64) };
        Assert.ThrowsAny<OperationCanceledException>(() => MriSlices.Normalize([row], ["/nonexistent"], new MriRecipe { Slices = new SliceOptions(SlabThickness: 1) }, 32, ResizeMethod.Area, SafeName, null, new List<string>(), cts.Token));
    }

    [Theory]
    [InlineData(-10f, 0f)]
    [InlineData(-3f, 0f)]
    [InlineData(0f, 0.5f)]
    [InlineData(1.5f, 0.75f)]
    [InlineData(3f, 1f)]
    [InlineData(7f, 1f)]
    [InlineData(float.NaN, 0f)]
    public void MapZ_ClipsToPlusMinusThreeAndScales(float z, float expected) => Assert.Equal(expected, MriSlices.MapZ(z), 6);

    private static string Refused(MriRecipe recipe)
    {
        var ex = Assert.Throws<ProtocolException>(() => MriSlices.Normalize([], ["/"], recipe, 32, ResizeMethod.Area, SafeName, null, new List<string>(), CancellationToken.None));
        return Assert.Single(ex.Errors).Field;
    }

    private static List<ManifestRow> Index(string root)
    {
        DatasetIndex index = new DatasetIndexer(s_protocol.Value.Data.ToIndexOptions()).IndexAsync([root]).GetAwaiter().GetResult();
        return [.. index.Manifest.Rows.Where(r => r.Modality == "MR")];
    }

    /// <summary>Copies the first series of site A (to damage) and of site B (to stay intact) under <paramref name="root"/>.</summary>
    private static (string Bad, string Good) CopyTwoSeries(string root)
    {
        string Copy(string site)
        {
            string source = Directory.GetDirectories(Path.Combine(s_mriRoot, site)).Order(StringComparer.Ordinal).First();
            string series = Directory.GetDirectories(source).Order(StringComparer.Ordinal).First();
            string target = Path.Combine(root, site, Path.GetFileName(source), Path.GetFileName(series));
            Directory.CreateDirectory(target);
            foreach (string f in Directory.GetFiles(series))
            {
                File.Copy(f, Path.Combine(target, Path.GetFileName(f)));
            }

            return target;
        }

        return (Copy("A"), Copy("B"));
    }

    private static double BestCorrelation(float[] image, ImageF raw)
    {
        int n = raw.Width;
        double best = double.NegativeInfinity;
        for (int t = 0; t < 8; t++)
        {
            var candidate = new float[n * n];
            for (int y = 0; y < n; y++)
            {
                for (int x = 0; x < n; x++)
                {
                    int sx = (t & 1) != 0 ? n - 1 - x : x;
                    int sy = (t & 2) != 0 ? n - 1 - y : y;
                    (int i, int j) = (t & 4) != 0 ? (sy, sx) : (sx, sy);
                    candidate[(y * n) + x] = raw.Pixels[(j * n) + i];
                }
            }

            best = Math.Max(best, Pearson(image, candidate));
        }

        return best;
    }

    private static double Pearson(float[] a, float[] b)
    {
        double ma = a.Average(v => (double)v);
        double mb = b.Average(v => (double)v);
        double sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }

        return sab / Math.Sqrt(saa * sbb);
    }

    private sealed class SyncProgress(List<(int Done, int Total)> reports) : IProgress<(int Done, int Total)>
    {
        public void Report((int Done, int Total) value)
        {
            lock (reports)
            {
                reports.Add(value);
            }
        }
    }

    private static string SafeName(ManifestRow row) => "row-" + row.Series.Length.ToString(CultureInfo.InvariantCulture);
}
