using MedTransfer.Imaging.Index;
using MedTransfer.Testing;

namespace MedTransfer.Imaging.Tests.Index;

/// <summary>
/// A label table that gives one key two different labels used to be flagged while the first label was silently
/// used: it is refused before the scan, with the file, the line and the column (and never the key, which may be a
/// patient ID). The same label twice is harmless and accepted.
/// </summary>
public sealed class ConflictingLabelsTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-labels-conflict");
    private readonly string _root;
    private readonly List<TestDatasets.Written> _images;

    public ConflictingLabelsTests()
    {
        _root = Path.Combine(_dir, "data");
        _images = TestDatasets.TwoSites(_root, patientsPerSite: 1, imagesPerPatient: 1);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private DatasetIndexer Indexer(string csv)
    {
        string labels = Path.Combine(_dir, "labels.csv");
        File.WriteAllText(labels, csv);
        return new DatasetIndexer(new DatasetIndexOptions { Labels = new LabelSource { CsvPath = labels, Key = LabelKey.Patient } });
    }

    [Fact]
    public async Task Index_KeyWithTwoDifferentLabels_IsRefusedWithFileLineAndColumn()
    {
        string patient = _images[0].Patient;
        DatasetIndexer indexer = Indexer($"patient,label\n{patient},1\n{_images[1].Patient},0\n{patient},0\n");

        ManifestException refused = await Assert.ThrowsAsync<ManifestException>(() => indexer.IndexAsync([_root]));

        Assert.Equal("label table labels.csv line 4, column 'label': this row's patient is also on line 2 with a different label; one sample cannot have two labels: correct or remove one of the rows", refused.Message);
        Assert.DoesNotContain(patient, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Index_KeyRepeatedWithTheSameLabel_IsAccepted()
    {
        string patient = _images[0].Patient;

        DatasetIndex index = await Indexer($"patient,label\n{patient},1\n{patient},1\n").IndexAsync([_root]);

        ManifestRow row = Assert.Single(index.Manifest.Rows, r => r.Patient == patient);
        Assert.Equal("1", row.Label);
    }

    [Fact]
    public async Task Index_MalformedLabelTable_NamesTheLabelTableNotTheManifest()
    {
        ManifestException refused = await Assert.ThrowsAsync<ManifestException>(() => Indexer("patient,label\nP1,\"1\n").IndexAsync([_root]));

        Assert.StartsWith("label table labels.csv line 2:", refused.Message, StringComparison.Ordinal);
    }
}
