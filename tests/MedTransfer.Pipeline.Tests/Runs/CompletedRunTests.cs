using System.Security.Cryptography;
using MedTransfer.Pipeline.Diagnose;
using MedTransfer.Pipeline.Evaluate;
using MedTransfer.Pipeline.Runs;
using MedTransfer.Pipeline.Tests.Diagnose;
using MedTransfer.Pipeline.Tests.Evaluate;
using MedTransfer.Testing;

namespace MedTransfer.Pipeline.Tests.Runs;

/// <summary>
/// The consumers of a run folder (a diagnosis model loaded from RUN_DIR, a results.json read from one) use it only when
/// its run finished, and only the files it finished with: a re-run that was killed leaves the previous run's model and
/// results beside a new protocol, without the completion marker.
/// </summary>
public sealed class CompletedRunTests : IDisposable
{
    private const string ProtocolHash = "protocol-hash-of-the-test";

    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-completed-run");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Load_CompleteRunFolder_ReadsItsModel()
    {
        string run = Finished();

        using DiagnosisModel model = DiagnosisModel.Load(run);

        Assert.Equal(Sha256(Path.Combine(run, "model", "model.onnx")), model.Descriptor.Sha256);
    }

    [Fact]
    public void Load_RunFolderOfAKilledRerun_IsRefusedAsIncomplete()
    {
        string run = Finished();
        // The re-run takes the folder (removing the marker) and is killed before it finishes: its lock goes with the process.
        RunFolder.Open(run, ProtocolHash, "test", overwrite: false).Dispose();

        var ex = Assert.Throws<RunFolderException>(() => DiagnosisModel.Load(run));

        Assert.Equal(RunFolderError.Incomplete, ex.Reason);
        Assert.Contains("holds no complete run (run.complete.json is missing)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RunFolderWhoseModelWasReplacedAfterItFinished_IsRefused()
    {
        string run = Finished();
        File.WriteAllBytes(Path.Combine(run, "model", "model.onnx"), TestOnnxModels.Build(1, 32, (DiagnosisTestData.Recipe with { Channels = 1 }).ToJson()));

        var ex = Assert.Throws<RunFolderException>(() => DiagnosisModel.Load(run));

        Assert.Contains("model/model.onnx", ex.Message, StringComparison.Ordinal);
        Assert.Contains("is not the file the run finished with", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ModelFileByItsPath_NeedsNoMarker()
    {
        string run = Finished();
        RunFolder.Open(run, ProtocolHash, "test", overwrite: false).Dispose();

        using DiagnosisModel model = DiagnosisModel.Load(Path.Combine(run, "model", "model.onnx"));

        Assert.Equal(2, model.Descriptor.Classes.Count);
    }

    [Fact]
    public void LoadResults_CompleteRunFolder_ReadsTheResults()
    {
        string run = Finished();

        SavedEvaluation saved = EvaluationResultsFile.Load(Path.Combine(run, "results.json"));

        Assert.Equal(ReportRerenderTests.Card.IntendedUse, saved.Card.IntendedUse);
    }

    [Fact]
    public void LoadResults_RunFolderOfAKilledRerun_IsRefusedAsIncomplete()
    {
        string run = Finished();
        RunFolder.Open(run, ProtocolHash, "test", overwrite: false).Dispose();

        var ex = Assert.Throws<RunFolderException>(() => EvaluationResultsFile.Load(Path.Combine(run, "results.json")));

        Assert.Equal(RunFolderError.Incomplete, ex.Reason);
        Assert.Contains("holds no complete run", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadResults_ResultsChangedAfterTheRunFinished_AreRefused()
    {
        string run = Finished();
        File.AppendAllText(Path.Combine(run, "results.json"), "\n");

        var ex = Assert.Throws<RunFolderException>(() => EvaluationResultsFile.Load(Path.Combine(run, "results.json")));

        Assert.Contains("results.json", ex.Message, StringComparison.Ordinal);
        Assert.Contains("is not the file the run finished with", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadResults_ARunsOwnResults_SayWhereItsReportIs()
    {
        string run = Finished("{\"formatVersion\": 1, \"kind\": \"run\", \"run\": {}}");

        var ex = Assert.Throws<ResultsFileException>(() => EvaluationResultsFile.Load(Path.Combine(run, "results.json")));

        Assert.Contains("report.html beside it", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>A finished run folder, written through the run folder's own life cycle: open, outputs, marker last.</summary>
    private string Finished(string? results = null)
    {
        string root = Path.Combine(_dir, "run");
        (EvaluationResult result, IReadOnlyList<PredictionRow> rows, EvaluationProvenance provenance) = ReportRerenderTests.Evaluate();
        using RunFolder folder = RunFolder.Open(root, ProtocolHash, "test", overwrite: false);
        string model = folder.WriteBytes(Path.Combine("model", "model.onnx"), TestOnnxModels.Build(3, 32, DiagnosisTestData.Recipe.ToJson()));
        string saved = folder.WriteText("results.json", results ?? EvaluationReport.ResultsJson(result, provenance, ReportRerenderTests.Card, rows));
        folder.MarkComplete(ProtocolHash, new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["model/model.onnx"] = Sha256(model),
            ["results.json"] = Sha256(saved),
        });
        return root;
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
}
