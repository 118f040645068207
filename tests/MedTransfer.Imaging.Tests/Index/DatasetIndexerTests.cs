using System.Security.Cryptography;
using MedTransfer.Imaging.Index;
using MedTransfer.Testing;

namespace MedTransfer.Imaging.Tests.Index;

public sealed class DatasetIndexerTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-index");
    private readonly string _root;
    private readonly List<TestDatasets.Written> _images;

    public DatasetIndexerTests()
    {
        _root = Path.Combine(_dir, "data");
        _images = TestDatasets.TwoSites(_root);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task IndexAsync_FolderWithPoisonFiles_IndexesEveryGoodFileAndRecordsEachFailure()
    {
        File.WriteAllBytes(Path.Combine(_root, "empty.dcm"), []);
        File.WriteAllBytes(Path.Combine(_root, "siteA", "fake.dcm"), [.. TestDatasets.Png(8, 8)[..8], .. "0000000000000000"u8]);
        byte[] good = File.ReadAllBytes(_images[0].Path);
        File.WriteAllBytes(Path.Combine(_root, "siteB", "truncated.dcm"), good[..200]);
        File.WriteAllText(Path.Combine(_root, "notes.txt"), "not an image");

        DatasetIndex index = await new DatasetIndexer().IndexAsync([_root]);

        Assert.Equal(_images.Count, index.Manifest.Rows.Count);
        Assert.Equal(4, index.Failures.Count);
        var reasons = index.Failures.ToDictionary(f => f.Path, f => f.Reason);
        Assert.Equal(IndexFailureReason.Empty, reasons["empty.dcm"]);
        Assert.Equal(IndexFailureReason.UnreadableHeader, reasons["siteA/fake.dcm"]);
        Assert.Equal(IndexFailureReason.UnreadableHeader, reasons["siteB/truncated.dcm"]);
        Assert.Equal(IndexFailureReason.UnknownFormat, reasons["notes.txt"]);
        Assert.All(index.Failures, f => Assert.DoesNotContain("TEST-", f.Detail, StringComparison.Ordinal));
    }

    [Fact]
    public async Task IndexAsync_DicomFolder_RowsCarryHeaderFieldsAndTheSopAsId()
    {
        DatasetIndex index = await new DatasetIndexer().IndexAsync([_root]);

        ManifestRow row = Assert.Single(index.Manifest.Rows, r => r.Id == _images[0].Sop);
        Assert.Equal("siteA/TEST-000/img-0.dcm", row.Path);
        Assert.Equal(SampleFormat.Dicom, row.Format);
        Assert.Equal("TEST-000", row.Patient);
        Assert.Equal(_images[0].Sop + ".100", row.Study);
        Assert.Equal(_images[0].Sop + ".200", row.Series);
        Assert.Equal("CR", row.Modality);
        Assert.Equal("ACME", row.Manufacturer);
        Assert.Equal("Model 9", row.Model);
        Assert.Equal("60-79", row.AgeBand);
        Assert.Equal("PA", row.View);
        Assert.Equal((6, 4, 1), (row.Width, row.Height, row.Depth));
        Assert.Equal(QualityFlags.None, row.Flags);
        Assert.Equal(index.Manifest.Rows.OrderBy(r => r.Path, StringComparer.Ordinal).Select(r => r.Id), index.Manifest.Rows.Select(r => r.Id));
    }

    [Fact]
    public async Task IndexAsync_Sha256_EqualsTheHashOfTheWholeFile()
    {
        DatasetIndex index = await new DatasetIndexer(new DatasetIndexOptions { MaxDegreeOfParallelism = 3 }).IndexAsync([_root]);

        foreach (TestDatasets.Written image in _images)
        {
            ManifestRow row = index.Manifest.Rows.Single(r => r.Id == image.Sop);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(image.Path))), row.Sha256);
            Assert.Equal(new FileInfo(image.Path).Length, row.SizeBytes);
        }
    }

    [Theory]
    [InlineData("tag:InstitutionName", "Hospital A", "Hospital B")]
    [InlineData("folder:1", "siteA", "siteB")]
    [InlineData("column:site", "north", "south")]
    public async Task IndexAsync_SiteRule_NamesTheSiteOfEverySample(string rule, string siteA, string siteB)
    {
        string labels = WriteLabels(key: "id", extraSite: true);
        var options = new DatasetIndexOptions
        {
            Site = SiteRule.Parse(rule),
            Labels = new LabelSource { CsvPath = labels, LabelColumn = "finding" },
        };

        DatasetIndex index = await new DatasetIndexer(options).IndexAsync([_root]);

        foreach (TestDatasets.Written image in _images)
        {
            ManifestRow row = index.Manifest.Rows.Single(r => r.Id == image.Sop);
            Assert.Equal(image.Site == "siteA" ? siteA : siteB, row.Site);
            Assert.False(row.Flags.HasFlag(QualityFlags.MissingSite));
        }
    }

    [Fact]
    public async Task IndexAsync_LabelsById_JoinsLabelsAndReportsUnmatchedRowsByLineOnly()
    {
        string labels = WriteLabels(key: "id", extraSite: false, skipFirst: true, unmatched: true);

        DatasetIndex index = await new DatasetIndexer(new DatasetIndexOptions { Labels = new LabelSource { CsvPath = labels, LabelColumn = "finding" } }).IndexAsync([_root]);

        LabelJoinReport report = index.Labels!;
        Assert.Equal(_images.Count, report.TableRows);
        Assert.Equal(_images.Count - 1, report.MatchedRows);
        Assert.Equal([_images.Count + 1], report.UnmatchedLines);
        Assert.Equal(1, report.UnlabeledSamples);
        ManifestRow first = index.Manifest.Rows.Single(r => r.Id == _images[0].Sop);
        Assert.True(first.Flags.HasFlag(QualityFlags.Unlabeled));
        ManifestRow second = index.Manifest.Rows.Single(r => r.Id == _images[1].Sop);
        Assert.Equal(LabelOf(1), second.Label);
    }

    [Theory]
    [InlineData(LabelKey.Patient)]
    [InlineData(LabelKey.Path)]
    [InlineData(LabelKey.SopInstanceUid)]
    public async Task IndexAsync_LabelKeys_EachMatchesEverySample(LabelKey key)
    {
        string csv = Path.Combine(_dir, "labels-" + key + ".csv");
        var lines = new List<string> { "key,finding" };
        lines.AddRange(key switch
        {
            LabelKey.Patient => _images.Select(i => i.Patient).Distinct().Select(p => p + ",pos"),
            LabelKey.Path => _images.Select(i => Path.GetRelativePath(_root, i.Path).Replace('\\', '/') + ",pos"),
            _ => _images.Select(i => i.Sop + ",pos"),
        });
        File.WriteAllLines(csv, lines);

        DatasetIndex index = await new DatasetIndexer(new DatasetIndexOptions { Labels = new LabelSource { CsvPath = csv, LabelColumn = "finding", Key = key, KeyColumn = "key" } }).IndexAsync([_root]);

        Assert.All(index.Manifest.Rows, r => Assert.Equal("pos", r.Label));
        Assert.Empty(index.Labels!.UnmatchedLines);
    }

    [Fact]
    public async Task IndexAsync_ImagesBySignature_RecognisedWhateverTheExtensionAndPatientFromTheLabelTable()
    {
        string images = Path.Combine(_dir, "images");
        Directory.CreateDirectory(Path.Combine(images, "site1"));
        File.WriteAllBytes(Path.Combine(images, "site1", "a.bin"), TestDatasets.Png(640, 480));
        File.WriteAllBytes(Path.Combine(images, "site1", "b.png"), TestDatasets.Jpeg(300, 200));
        File.WriteAllBytes(Path.Combine(images, "site1", "c"), TestDatasets.Tiff(50, 40));
        File.WriteAllBytes(Path.Combine(images, "site1", "d.nii"), TestDatasets.Nifti(5, 6, 7, gzip: false));
        File.WriteAllBytes(Path.Combine(images, "site1", "e.nii.gz"), TestDatasets.Nifti(8, 9, 10, gzip: true));
        string csv = Path.Combine(_dir, "image-labels.csv");
        File.WriteAllLines(csv, ["path,label,patient", "site1/a.bin,pos,TEST-900", "site1/b.png,neg,TEST-901"]);

        DatasetIndex index = await new DatasetIndexer(new DatasetIndexOptions
        {
            Site = SiteRule.FromFolder(1),
            Labels = new LabelSource { CsvPath = csv, Key = LabelKey.Path },
        }).IndexAsync([images]);

        Assert.Empty(index.Failures);
        var rows = index.Manifest.Rows.ToDictionary(r => r.Path);
        Assert.Equal((SampleFormat.Png, 640, 480, "TEST-900", "pos"), (rows["site1/a.bin"].Format, rows["site1/a.bin"].Width, rows["site1/a.bin"].Height, rows["site1/a.bin"].Patient, rows["site1/a.bin"].Label));
        Assert.Equal((SampleFormat.Jpeg, 300, 200, "TEST-901"), (rows["site1/b.png"].Format, rows["site1/b.png"].Width, rows["site1/b.png"].Height, rows["site1/b.png"].Patient));
        Assert.Equal((SampleFormat.Tiff, 50, 40), (rows["site1/c"].Format, rows["site1/c"].Width, rows["site1/c"].Height));
        Assert.Equal((SampleFormat.Nifti, 5, 6, 7), (rows["site1/d.nii"].Format, rows["site1/d.nii"].Width, rows["site1/d.nii"].Height, rows["site1/d.nii"].Depth));
        Assert.Equal((SampleFormat.Nifti, 8, 9, 10), (rows["site1/e.nii.gz"].Format, rows["site1/e.nii.gz"].Width, rows["site1/e.nii.gz"].Height, rows["site1/e.nii.gz"].Depth));
        Assert.All(rows.Values, r => Assert.Equal("site1", r.Site));
        Assert.True(rows["site1/c"].Flags.HasFlag(QualityFlags.MissingPatientId));
        Assert.StartsWith("f-", rows["site1/c"].Id, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IndexAsync_PatientFolderLevel_NamesThePatientOfImagesWithoutOne()
    {
        string images = Path.Combine(_dir, "images");
        Directory.CreateDirectory(Path.Combine(images, "TEST-777"));
        File.WriteAllBytes(Path.Combine(images, "TEST-777", "x.png"), TestDatasets.Png(8, 8));

        DatasetIndex index = await new DatasetIndexer(new DatasetIndexOptions { PatientFolderLevel = 1 }).IndexAsync([images]);

        Assert.Equal("TEST-777", Assert.Single(index.Manifest.Rows).Patient);
    }

    [Fact]
    public async Task IndexAsync_CopiedFile_FlagsDuplicateSopAndContentAndKeepsIdsUnique()
    {
        File.Copy(_images[0].Path, Path.Combine(_root, "siteB", "zz-copy.dcm"));

        DatasetIndex index = await new DatasetIndexer().IndexAsync([_root]);

        var duplicates = index.Manifest.Rows.Where(r => r.Flags.HasFlag(QualityFlags.DuplicateSop)).ToList();
        Assert.Equal(2, duplicates.Count);
        Assert.Equal([_images[0].Sop, _images[0].Sop + "#2"], duplicates.Select(r => r.Id).Order(StringComparer.Ordinal));
        Assert.All(duplicates, r => Assert.True(r.Flags.HasFlag(QualityFlags.DuplicateContent)));
    }

    [Fact]
    public async Task IndexAsync_DicomWithoutPatientOrPixels_FlagsMissingPatientAndFailsNonImage()
    {
        TestDatasets.WriteDicom(Path.Combine(_root, "nopatient.dcm"), "1.2.3.4.5", patient: null);
        TestDatasets.WriteDicom(Path.Combine(_root, "report.dcm"), "1.2.3.4.6", patient: "TEST-555", image: false);

        DatasetIndex index = await new DatasetIndexer().IndexAsync([_root]);

        Assert.True(index.Manifest.Rows.Single(r => r.Id == "1.2.3.4.5").Flags.HasFlag(QualityFlags.MissingPatientId));
        Assert.Equal(IndexFailureReason.NonImage, Assert.Single(index.Failures).Reason);
    }

    [Fact]
    public async Task IndexAsync_TwoRoots_PathsAreRelativeToTheirOwnRoot()
    {
        string second = Path.Combine(_dir, "second");
        TestDatasets.WriteDicom(Path.Combine(second, "one.dcm"), "1.2.3.9", "TEST-900");

        DatasetIndex index = await new DatasetIndexer().IndexAsync([_root, second]);

        ManifestRow row = index.Manifest.Rows.Single(r => r.Id == "1.2.3.9");
        Assert.Equal((1, "one.dcm"), (row.Root, row.Path));
        Assert.Equal(Path.Combine(second, "one.dcm"), Manifest.ResolvePath(row, index.Roots));
    }

    [Fact]
    public async Task IndexAsync_SymbolicLinksAndFolderNamedLikeAFile_StayInsideTheRoot()
    {
        string outside = Path.Combine(_dir, "outside");
        TestDatasets.WriteDicom(Path.Combine(outside, "secret.dcm"), "1.2.3.77", "TEST-777");
        File.CreateSymbolicLink(Path.Combine(_root, "link.dcm"), Path.Combine(outside, "secret.dcm"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "linkdir"), outside);
        Directory.CreateDirectory(Path.Combine(_root, "folder.dcm"));

        DatasetIndex index = await new DatasetIndexer().IndexAsync([_root]);

        Assert.Equal(_images.Count, index.Manifest.Rows.Count);
        Assert.Empty(index.Failures);
        Assert.DoesNotContain(index.Manifest.Rows, r => r.Id == "1.2.3.77");
    }

    [Fact]
    public async Task IndexAsync_Progress_ReportsEveryFileAndFailures()
    {
        File.WriteAllBytes(Path.Combine(_root, "empty.dcm"), []);
        var reports = new List<IndexProgress>();
        var progress = new SynchronousProgress<IndexProgress>(p =>
        {
            lock (reports)
            {
                reports.Add(p);
            }
        });

        await new DatasetIndexer().IndexAsync([_root], progress);

        Assert.Contains(new IndexProgress(_images.Count + 1, _images.Count + 1, 1), reports);
        Assert.Equal(_images.Count + 2, reports.Count);
    }

    [Fact]
    public async Task IndexAsync_Cancelled_Throws()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new DatasetIndexer().IndexAsync([_root], cancellationToken: cts.Token));
    }

    [Fact]
    public async Task IndexAsync_LabelTableWithoutTheLabelColumn_ThrowsBeforeScanning()
    {
        string csv = Path.Combine(_dir, "bad.csv");
        File.WriteAllLines(csv, ["id,other", "x,1"]);

        var ex = await Assert.ThrowsAsync<ManifestException>(() =>
            new DatasetIndexer(new DatasetIndexOptions { Labels = new LabelSource { CsvPath = csv, LabelColumn = "finding" } }).IndexAsync([_root]));

        Assert.Equal("finding", ex.Column);
    }

    [Fact]
    public async Task IndexAsync_ConfiguredAgeBandsAndMissingAge_UseTheConfiguredLabelsAndUnknown()
    {
        TestDatasets.WriteDicom(Path.Combine(_root, "siteA", "TEST-900", "no-age.dcm"), "1.2.826.0.1.3680043.10.1.900.1", "TEST-900", age: "");

        DatasetIndex index = await new DatasetIndexer(new DatasetIndexOptions { AgeBands = AgeBands.Parse("65") }).IndexAsync([_root]);

        Assert.Equal(AgeBands.Unknown, Assert.Single(index.Manifest.Rows, r => r.Patient == "TEST-900").AgeBand);
        Assert.All(index.Manifest.Rows.Where(r => r.Patient != "TEST-900"), r => Assert.Equal("65+", r.AgeBand));
    }

    [Theory]
    [InlineData("tag:NotAKeyword")]
    [InlineData("folder:0")]
    [InlineData("column:")]
    [InlineData("site")]
    public void SiteRuleParse_Invalid_Throws(string text) => Assert.Throws<ArgumentException>(() => SiteRule.Parse(text));

    private static string LabelOf(int i) => i % 2 == 0 ? "pneumonia" : "normal";

    private string WriteLabels(string key, bool extraSite, bool skipFirst = false, bool unmatched = false)
    {
        string csv = Path.Combine(_dir, "labels.csv");
        var lines = new List<string> { extraSite ? $"{key},finding,site" : $"{key},finding" };
        for (int i = skipFirst ? 1 : 0; i < _images.Count; i++)
        {
            string site = _images[i].Site == "siteA" ? "north" : "south";
            lines.Add(extraSite ? $"{_images[i].Sop},{LabelOf(i)},{site}" : $"{_images[i].Sop},{LabelOf(i)}");
        }

        if (unmatched)
        {
            lines.Add("9.9.9.9,normal");
        }

        File.WriteAllLines(csv, lines);
        return csv;
    }

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
