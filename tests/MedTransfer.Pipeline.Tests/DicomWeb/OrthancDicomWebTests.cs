using MedTransfer.Dicom;
using MedTransfer.Pipeline.Diagnose;
using MedTransfer.Pipeline.DicomWeb;
using MedTransfer.Pipeline.Tests.Diagnose;
using MedTransfer.Testing;

namespace MedTransfer.Pipeline.Tests.DicomWeb;

/// <summary>The DICOMweb client against a real Orthanc (QIDO-RS, WADO-RS, STOW-RS); one server for this class.</summary>
public sealed class OrthancDicomWebTests(OrthancServer orthanc) : IClassFixture<OrthancServer>, IDisposable
{
    private readonly HttpClient _http = new();

    public void Dispose() => _http.Dispose();

    [SkippableFact]
    public async Task StoreSearchRetrieve_SampleStudies_RoundTripThroughOrthanc()
    {
        Skip.If(orthanc.UnavailableReason is not null, orthanc.UnavailableReason);
        var client = new DicomWebClient(_http, orthanc.DicomWebRoot);
        IReadOnlyList<string> files = [.. DiagnosisTestData.SampleFiles(3)];
        byte[][] instances = [.. files.Select(File.ReadAllBytes)];
        string[] uids = [.. files.Select(f => DicomFile.Open(f).Dataset.GetString(Tag.StudyInstanceUID)!.Trim()).Distinct().Order(StringComparer.Ordinal)];

        DicomWebStoreResult stored = await client.StoreAsync(instances);
        IReadOnlyList<DicomWebStudy> studies = await client.SearchStudiesAsync();
        IReadOnlyList<ReadOnlyMemory<byte>> retrieved = await client.RetrieveStudyAsync(uids[0]);
        IReadOnlyList<DicomWebStudy> one = await client.SearchStudiesAsync(new Dictionary<string, string> { ["StudyInstanceUID"] = uids[1] });

        Assert.Equal(instances.Length, stored.Stored);
        Assert.Equal(uids, studies.Select(s => s.StudyInstanceUid));
        DicomFile back = DicomFile.Read(Assert.Single(retrieved));
        Assert.Equal(uids[0], back.Dataset.GetString(Tag.StudyInstanceUID)!.Trim());
        string original = files.Single(f => DicomFile.Open(f).Dataset.GetString(Tag.StudyInstanceUID)!.Trim() == uids[0]);
        Assert.Equal(DicomFile.Open(original, new DicomReaderOptions { PixelData = PixelDataLoading.Eager }).Dataset.GetBytes(Tag.PixelData).ToArray(), back.Dataset.GetBytes(Tag.PixelData).ToArray());
        Assert.Equal(uids[1], Assert.Single(one).StudyInstanceUid);
        // Paging: pages of 2 still find every study exactly once.
        IReadOnlyList<DicomWebStudy> paged = await new DicomWebClient(_http, orthanc.DicomWebRoot, new DicomWebClientOptions { PageSize = 2 }).SearchStudiesAsync();
        Assert.Equal(uids, paged.Select(s => s.StudyInstanceUid));
        var missing = await Assert.ThrowsAsync<DicomWebException>(() => client.RetrieveStudyAsync("2.25.404"));
        Assert.Equal(DicomWebError.HttpStatus, missing.Reason);
    }
}

/// <summary>Batch diagnosis from a PACS with results stored back; its own Orthanc so the studies are known.</summary>
public sealed class OrthancDiagnosisTests(OrthancServer orthanc) : IClassFixture<OrthancServer>, IDisposable
{
    private readonly HttpClient _http = new();
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-pacs");

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [SkippableFact]
    public async Task Diagnose_FromOrthanc_ScoresLikeTheFolderRun_StoresOneSrPerStudy_AndARerunAddsNone()
    {
        Skip.If(orthanc.UnavailableReason is not null, orthanc.UnavailableReason);
        var client = new DicomWebClient(_http, orthanc.DicomWebRoot);
        string input = Path.Combine(_dir, "in");
        IReadOnlyList<string> files = DiagnosisTestData.CopySamples(input, perSite: 4);
        await client.StoreAsync([.. files.Select(File.ReadAllBytes)]);
        string model = DiagnosisTestData.WriteModel(_dir);
        StudyPseudonyms keys = DiagnosisTestData.Keys();
        using DiagnosisModel loaded = DiagnosisModel.Load(model, threads: 2);
        DiagnosisRunResult Run(IStudySource source, string name, DicomWebClient? writeBack) =>
            DiagnosisRunner.Run(loaded, source, keys, new DiagnosisOptions { OutputDirectory = Path.Combine(_dir, name), Threads = 2, WriteBack = writeBack });

        DiagnosisRunResult fromFolder = Run(new FolderStudySource(input), "folder", null);
        DiagnosisRunResult fromPacs = Run(new DicomWebStudySource(client), "pacs", client);
        DiagnosisRunResult again = Run(new DicomWebStudySource(client), "pacs-again", client);

        Assert.Equal(files.Count, fromPacs.Totals.Ok);
        Assert.Equal(files.Count, fromPacs.Stored);
        Dictionary<string, string[]> folderRows = DiagnosisTestData.ReadCsv(Path.Combine(_dir, "folder", DiagnosisOutputs.PredictionsFile));
        Dictionary<string, string[]> pacsRows = DiagnosisTestData.ReadCsv(Path.Combine(_dir, "pacs", DiagnosisOutputs.PredictionsFile));
        Assert.Equal(folderRows.Keys.Order(), pacsRows.Keys.Order());
        foreach ((string key, string[] row) in folderRows)
        {
            Assert.Equal(row[3], pacsRows[key][3]);
            Assert.StartsWith("dicomweb:", pacsRows[key][1], StringComparison.Ordinal);
        }

        // The SR in each study is found by QIDO; the rerun (which skips SRs as input) replaced rather than duplicated them.
        Assert.Equal(files.Count, again.Totals.Ok);
        foreach (DicomWebStudy study in await client.SearchStudiesAsync())
        {
            string sr = Assert.Single(await client.SearchInstancesAsync(study.StudyInstanceUid, StructuredReport.BasicTextSrClass));
            Assert.StartsWith("2.25.", sr, StringComparison.Ordinal);
        }
    }
}
