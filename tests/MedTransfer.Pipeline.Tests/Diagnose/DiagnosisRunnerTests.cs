using System.Globalization;
using MedTransfer.Dicom;
using MedTransfer.Evaluation.Diagnostics;
using MedTransfer.Pipeline.Diagnose;
using MedTransfer.Pipeline.Sharding;
using MedTransfer.Testing;

namespace MedTransfer.Pipeline.Tests.Diagnose;

public sealed class DiagnosisRunnerTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-diagnose");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // Identifiers on by default here: the tests find rows by relative path.
    private DiagnosisRunResult Run(string input, string model, string outName, ShardSpec? shard = null, Action<int>? fault = null, int batch = 4, bool identifiers = true)
    {
        using DiagnosisModel loaded = DiagnosisModel.Load(model, threads: 2);
        return DiagnosisRunner.Run(loaded, new FolderStudySource(input), DiagnosisTestData.Keys(), new DiagnosisOptions
        {
            OutputDirectory = Path.Combine(_dir, outName),
            Shard = shard ?? ShardSpec.All,
            Threads = 2,
            BatchSize = batch,
            AfterAppend = fault,
            IncludeIdentifiers = identifiers,
        });
    }

    [Fact]
    public void Run_FolderWithPoisonFiles_ScoresEveryGoodStudyAndQuarantinesEachPoisonWithItsReason()
    {
        string input = Path.Combine(_dir, "in");
        IReadOnlyList<string> good = DiagnosisTestData.CopySamples(input, perSite: 4);
        IReadOnlyList<string> poisons = DiagnosisTestData.WritePoisons(input, good[0]);
        string model = DiagnosisTestData.WriteModel(_dir);

        DiagnosisRunResult result = Run(input, model, "out");

        Assert.Equal(good.Count + poisons.Count, result.Totals.Studies);
        Assert.Equal(good.Count, result.Totals.Ok);
        Assert.Equal(poisons.Count, result.Totals.Quarantined);
        Assert.True(result.Totals.SomeFailed);
        string outDir = Path.Combine(_dir, "out");
        Dictionary<string, string[]> rows = DiagnosisTestData.ReadCsv(Path.Combine(outDir, DiagnosisOutputs.PredictionsFile));
        Assert.Equal(good.Count + poisons.Count, rows.Count);
        foreach (string file in good)
        {
            string relative = Path.GetRelativePath(input, file).Replace('\\', '/');
            string[] row = Assert.Single(rows.Values, r => r[1] == relative);
            double expected = DiagnosisTestData.HandScore(DiagnosisTestData.HandFeatures(file));
            Assert.Equal(expected, double.Parse(row[3], CultureInfo.InvariantCulture), 5);
            Assert.Equal(expected >= 0.5 ? "abnormal" : "normal", row[4]);
            Assert.Equal("ok", row[7]);
        }

        foreach (string poison in poisons)
        {
            string relative = Path.GetRelativePath(input, poison).Replace('\\', '/');
            string[] row = Assert.Single(rows.Values, r => r[1] == relative);
            Assert.Equal("quarantined", row[7]);
            Assert.Equal(string.Empty, row[3]);
            Assert.NotEqual(string.Empty, row[8]);
        }

        Assert.Equal("NotDicom", rows.Values.Single(r => r[1].EndsWith("not-dicom.dcm", StringComparison.Ordinal))[8]);
        // Cut inside Pixel Data: the DICOM layer's own reason (pixel data shorter than the module says), not a wrapper's.
        Assert.Equal(nameof(DicomErrorCode.InvalidPixelModule), rows.Values.Single(r => r[1].EndsWith("truncated.dcm", StringComparison.Ordinal))[8]);
        string[] quarantine = File.ReadAllLines(Path.Combine(outDir, DiagnosisOutputs.QuarantineFile));
        Assert.Equal(poisons.Count, quarantine.Length);

        // Without --include-identifiers (nothing that identifies a patient may reach the outputs): the same keys and scores, but no Study Instance UID, patient
        // ID or name anywhere — not even in paths, which here hold patient IDs.
        Run(input, model, "private", identifiers: false);
        Dictionary<string, string[]> privateRows = DiagnosisTestData.ReadCsv(Path.Combine(_dir, "private", DiagnosisOutputs.PredictionsFile));
        Assert.Equal(rows.Keys.Order(), privateRows.Keys.Order());
        Assert.All(privateRows, p => Assert.Equal(rows[p.Key][3], p.Value[3]));
        Assert.All(privateRows.Values, r => Assert.StartsWith("file:", r[1], StringComparison.Ordinal));
        foreach (string file in good)
        {
            DicomDataset dataset = DicomFile.Open(file).Dataset;
            foreach (string output in Directory.GetFiles(Path.Combine(_dir, "private")))
            {
                string text = File.ReadAllText(output);
                Assert.DoesNotContain(dataset.GetString(Tag.StudyInstanceUID)!.Trim(), text, StringComparison.Ordinal);
                Assert.DoesNotContain(dataset.GetString(Tag.PatientID)!.Trim(), text, StringComparison.Ordinal);
                Assert.DoesNotContain(dataset.GetString(Tag.PatientName)!.Trim(), text, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Run_SomeImagesOfAStudyFail_StudyIsPartialAndScoredFromTheRest()
    {
        string input = Path.Combine(_dir, "in");
        IReadOnlyList<string> good = DiagnosisTestData.CopySamples(input, perSite: 1);
        DicomFile broken = DicomFile.Open(good[0], new DicomReaderOptions { PixelData = PixelDataLoading.Eager });
        broken.Dataset.Remove(Tag.PixelData);
        broken.Dataset.Set(Tag.SOPInstanceUID, DicomVR.UI, "2.25.77");
        broken.Save(Path.Combine(Path.GetDirectoryName(good[0])!, "second-view.dcm"));

        DiagnosisRunResult result = Run(input, DiagnosisTestData.WriteModel(_dir), "out");

        Assert.Equal(1, result.Totals.Partial);
        string[] row = Assert.Single(DiagnosisTestData.ReadCsv(Path.Combine(_dir, "out", DiagnosisOutputs.PredictionsFile)).Values, r => r[7] == "partial");
        Assert.Equal("2", row[2]);
        Assert.Equal(DiagnosisTestData.HandScore(DiagnosisTestData.HandFeatures(good[0])), double.Parse(row[3], CultureInfo.InvariantCulture), 5);
    }

    [Fact]
    public void Run_CrashMidRunWithATornJournalLine_ResumeEndsWithTheSameOutputsNoDuplicatesNoGaps()
    {
        string input = Path.Combine(_dir, "in");
        DiagnosisTestData.CopySamples(input, perSite: 6);
        DiagnosisTestData.WritePoisons(input, DiagnosisTestData.SampleFiles(1)[0]);
        string model = DiagnosisTestData.WriteModel(_dir);
        DiagnosisRunResult reference = Run(input, model, "reference");

        Assert.Throws<InvalidOperationException>(() => Run(input, model, "crashed", fault: n => { if (n == 7) { throw new InvalidOperationException("injected crash"); } }));
        string journal = Path.Combine(_dir, "crashed", DiagnosisJournal.FileName);
        Assert.False(File.Exists(Path.Combine(_dir, "crashed", DiagnosisOutputs.PredictionsFile)));
        // kill -9 in the middle of the next append: half a line, no line end.
        File.AppendAllText(journal, "{\"key\":\"deadbeef\",\"source\":\"good/A/SY");
        DiagnosisRunResult resumed = Run(input, model, "crashed");

        Assert.Equal(7, resumed.Resumed);
        Assert.Equal(reference.Totals.Studies - 7, resumed.Processed);
        Assert.True(resumed.RepairedBytes > 0);
        foreach (string name in new[] { DiagnosisOutputs.PredictionsFile, DiagnosisOutputs.QuarantineFile, DiagnosisOutputs.SummaryFile })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(_dir, "reference", name)), File.ReadAllBytes(Path.Combine(_dir, "crashed", name)));
        }

        string[] keys = [.. File.ReadAllLines(journal).Skip(1).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("key").GetString()!)];
        Assert.Equal(keys.Length, keys.Distinct().Count());
        Assert.Equal(reference.Totals.Studies, keys.Length);

        // A third run finds nothing to do and changes nothing.
        DiagnosisRunResult again = Run(input, model, "crashed");
        Assert.Equal(0, again.Processed);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_dir, "reference", DiagnosisOutputs.PredictionsFile)), File.ReadAllBytes(Path.Combine(_dir, "crashed", DiagnosisOutputs.PredictionsFile)));
    }

    [Fact]
    public void Run_ThreeShardsMerged_EqualsTheUnshardedRunByteForByte_AndMergeIsIdempotent()
    {
        string input = Path.Combine(_dir, "in");
        DiagnosisTestData.CopySamples(input, perSite: 8);
        DiagnosisTestData.WritePoisons(input, DiagnosisTestData.SampleFiles(1)[0]);
        string model = DiagnosisTestData.WriteModel(_dir);
        DiagnosisRunResult whole = Run(input, model, "whole", batch: 5);
        var shards = new List<string>();
        int processed = 0;
        for (int i = 1; i <= 3; i++)
        {
            processed += Run(input, model, $"shard{i}", new ShardSpec(i, 3), batch: 3).Processed;
            shards.Add(Path.Combine(_dir, $"shard{i}"));
        }

        Assert.Equal(whole.Totals.Studies, processed);
        Assert.Throws<DiagnosisException>(() => DiagnosisMerge.Merge(Path.Combine(_dir, "partial"), shards.Take(2).ToList()));
        string merged = Path.Combine(_dir, "merged");
        DiagnosisMerge.Merge(merged, shards);
        AssertSameOutputs(Path.Combine(_dir, "whole"), merged);

        // Idempotent: a shard given twice, and the merged folder merged into itself with a shard again.
        DiagnosisMerge.Merge(Path.Combine(_dir, "twice"), [.. shards, shards[0]]);
        AssertSameOutputs(merged, Path.Combine(_dir, "twice"));
        DiagnosisMerge.Merge(merged, [merged, shards[1]]);
        AssertSameOutputs(Path.Combine(_dir, "whole"), merged);
    }

    [Fact]
    public void Run_OutputFolderOfAnotherModel_IsRefusedWithJournalMismatch()
    {
        string input = Path.Combine(_dir, "in");
        DiagnosisTestData.CopySamples(input, perSite: 1);
        Run(input, DiagnosisTestData.WriteModel(_dir), "out");
        string other = Path.Combine(_dir, "other");
        Directory.CreateDirectory(other);
        string otherModel = DiagnosisTestData.WriteModel(other, ShiftMonitor.Fit([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]], [[0.2, 0.3]]).ToJson());

        var ex = Assert.Throws<DiagnosisException>(() => Run(input, otherModel, "out"));
        Assert.Equal(DiagnosisError.JournalMismatch, ex.Reason);
    }

    [Fact]
    public void Run_ModelWithShiftMonitor_WritesItsScoreAndFlag()
    {
        string input = Path.Combine(_dir, "in");
        IReadOnlyList<string> good = DiagnosisTestData.CopySamples(input, perSite: 6);
        double[][] features = [.. good.Select(DiagnosisTestData.HandFeatures)];
        // Fitted on site A only, so site B and C studies tend to be flagged.
        double[][] siteA = [.. good.Where(f => f.Contains($"{Path.DirectorySeparatorChar}A{Path.DirectorySeparatorChar}", StringComparison.Ordinal)).Select(DiagnosisTestData.HandFeatures)];
        ShiftMonitor monitor = ShiftMonitor.Fit(siteA, siteA, quantile: 0.9);
        string model = DiagnosisTestData.WriteModel(_dir, monitor.ToJson());

        Run(input, model, "out");

        Dictionary<string, string[]> rows = DiagnosisTestData.ReadCsv(Path.Combine(_dir, "out", DiagnosisOutputs.PredictionsFile));
        for (int i = 0; i < good.Count; i++)
        {
            string relative = Path.GetRelativePath(input, good[i]).Replace('\\', '/');
            string[] row = rows.Values.Single(r => r[1] == relative);
            double expected = monitor.Score(features[i]);
            // The CSV keeps 4 decimals; the model's features are float32.
            Assert.InRange(double.Parse(row[5], CultureInfo.InvariantCulture), expected - 2e-4, expected + 2e-4);
            Assert.Equal(expected > monitor.Threshold ? "1" : "0", row[6]);
        }

        Assert.Contains(rows.Values, r => r[6] == "1");
        Assert.Contains(rows.Values, r => r[6] == "0");
    }

    private static void AssertSameOutputs(string expected, string actual)
    {
        foreach (string name in new[] { DiagnosisOutputs.PredictionsFile, DiagnosisOutputs.QuarantineFile, DiagnosisOutputs.SummaryFile })
        {
            Assert.Equal(File.ReadAllText(Path.Combine(expected, name)), File.ReadAllText(Path.Combine(actual, name)));
        }
    }
}
