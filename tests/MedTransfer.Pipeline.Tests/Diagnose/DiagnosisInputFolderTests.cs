using MedTransfer.Pipeline.Diagnose;
using MedTransfer.Testing;

namespace MedTransfer.Pipeline.Tests.Diagnose;

/// <summary>
/// `diagnose` on input folders that used to hang it, multiply it or lose a study: a named pipe, a directory link
/// looping back to the root (every file was read at each of ~40 levels), and a file name that is not UTF-8.
/// </summary>
public sealed class DiagnosisInputFolderTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-diagnose-folder");
    private readonly string _input;
    private readonly IReadOnlyList<string> _good;

    public DiagnosisInputFolderTests()
    {
        _input = Path.Combine(_dir, "in");
        _good = DiagnosisTestData.CopySamples(_input, perSite: 1);
    }

    public void Dispose() => UnixFixtures.RemoveTree(_dir);

    private async Task<(DiagnosisRunResult Result, Dictionary<string, string[]> Rows)> RunAsync()
    {
        string model = DiagnosisTestData.WriteModel(_dir);
        string outDir = Path.Combine(_dir, "out");
        DiagnosisRunResult result = await Task.Run(() =>
        {
            using DiagnosisModel loaded = DiagnosisModel.Load(model, threads: 2);
            return DiagnosisRunner.Run(loaded, new FolderStudySource(_input), DiagnosisTestData.Keys(), new DiagnosisOptions
            {
                OutputDirectory = outDir,
                Threads = 2,
                IncludeIdentifiers = true,
                Fsync = false,
            });
        }).WaitAsync(TimeSpan.FromSeconds(120));
        return (result, DiagnosisTestData.ReadCsv(Path.Combine(outDir, DiagnosisOutputs.PredictionsFile)));
    }

    [Fact]
    public async Task Run_FolderWithANamedPipe_QuarantinesThePipeAndScoresTheRest()
    {
        UnixFixtures.MakeFifo(Path.Combine(_input, "good", "pipe.dcm"));

        (DiagnosisRunResult result, Dictionary<string, string[]> rows) = await RunAsync();

        Assert.Equal(_good.Count, result.Totals.Ok);
        string[] pipe = Assert.Single(rows.Values, r => r[1] == "good/pipe.dcm");
        Assert.Equal(("quarantined", "NotARegularFile"), (pipe[7], pipe[8]));
    }

    [Fact]
    public async Task Run_DirectoryLinkLoop_ReadsEveryFileOnce()
    {
        Directory.CreateSymbolicLink(Path.Combine(_input, "good", "loop"), _input);
        var source = new FolderStudySource(_input);

        (DiagnosisRunResult result, Dictionary<string, string[]> rows) = await RunAsync();
        source.Studies(DiagnosisTestData.Keys(), includeIdentifiers: true, CancellationToken.None);

        Assert.Equal(_good.Count, result.Totals.Studies);
        Assert.Equal(_good.Count, result.Totals.Ok);
        Assert.DoesNotContain(rows.Values, r => r[1].Contains("loop", StringComparison.Ordinal));
        // Each study is one file, read once (through the loop it was read again at every level).
        Assert.All(rows.Values, r => Assert.Equal("1", r[2]));
        Assert.Equal(1, source.SkippedLinks);
    }

    [Fact]
    public async Task Run_NameThatIsNotUtf8_IsScoredLikeTheSameFileUnderAPlainName()
    {
        // A study of its own: a copy with a fresh Study Instance UID, saved under a Latin-1 name ("caf\xE9.dcm").
        string template = _good[0];
        string renamed = Path.Combine(_dir, "plain.dcm");
        Dicom.DicomFile file = Dicom.DicomFile.Open(template, new Dicom.DicomReaderOptions { PixelData = Dicom.PixelDataLoading.Eager });
        file.Dataset.Set(Dicom.Tag.StudyInstanceUID, Dicom.DicomVR.UI, "2.25.777");
        file.Save(renamed);
        UnixFixtures.CopyToRawName(renamed, Path.Combine(_input, "good"), [(byte)'c', (byte)'a', (byte)'f', 0xE9, (byte)'.', (byte)'d', (byte)'c', (byte)'m']);

        (DiagnosisRunResult result, Dictionary<string, string[]> rows) = await RunAsync();

        Assert.False(result.Totals.SomeFailed);
        string[] odd = Assert.Single(rows.Values, r => r[1] == "good/caf\\xE9.dcm");
        string[] original = Assert.Single(rows.Values, r => r[1] == Path.GetRelativePath(_input, template).Replace('\\', '/'));
        Assert.Equal("ok", odd[7]);
        Assert.Equal(original[3], odd[3]);
    }
}
