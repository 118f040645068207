using System.Diagnostics;
using System.Security.Cryptography;
using MedTransfer.Pipeline.Protocols;
using MedTransfer.Pipeline.Runs;
using MedTransfer.Pipeline.Tests.Diagnose;
using MedTransfer.Testing;

namespace MedTransfer.Cli.Tests;

/// <summary>
/// `diagnose --model RUN_DIR` and `report RUN_DIR/results.json` refuse a run folder whose run did not finish: here a
/// re-run into a finished folder, killed with SIGKILL, which leaves the previous run's model and results in place.
/// </summary>
public sealed class RunFolderConsumerTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-run-consumers");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void DiagnoseAndReport_RunFolderOfAKilledRerun_AreRefusedWithExitTwo()
    {
        string protocol = RunCommandTests.SmallProtocol();
        string run = Path.Combine(_dir, "run");
        Finish(run, ProtocolLoader.Load(protocol).ComputeHash());
        string input = Path.Combine(_dir, "in");
        DiagnosisTestData.CopySamples(input, perSite: 1);
        Assert.Equal(0, CliRunner.Run("diagnose", "--model", run, "--input", input, "--out", Path.Combine(_dir, "before"), "--in-process-native").Code);

        KillRerun(protocol, run);

        string diagnosed = Path.Combine(_dir, "after");
        (int code, _, string error) = CliRunner.Run("diagnose", "--model", run, "--input", input, "--out", diagnosed, "--in-process-native");
        Assert.Equal(CliApp.ExitCodes.Usage, code);
        Assert.Contains($"error: {run} holds no complete run (run.complete.json is missing): the run was interrupted or is still going.", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(diagnosed) && Directory.EnumerateFileSystemEntries(diagnosed).Any(), "nothing is written for a refused model");

        string rendered = Path.Combine(_dir, "report");
        (code, _, error) = CliRunner.Run("report", Path.Combine(run, "results.json"), "--out", rendered);
        Assert.Equal(CliApp.ExitCodes.Usage, code);
        Assert.Contains($"error: {run} holds no complete run", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(rendered, "report.html")));
    }

    [Fact]
    public void Diagnose_ModelFileOfTheSameFolder_ByItsPath_IsStillAccepted()
    {
        string run = Path.Combine(_dir, "run");
        Finish(run, "some-protocol");
        RunFolder.Open(run, "some-protocol", "test", overwrite: false).Dispose();
        string input = Path.Combine(_dir, "in");
        DiagnosisTestData.CopySamples(input, perSite: 1);

        (int code, _, string error) = CliRunner.Run("diagnose", "--model", Path.Combine(run, "model", "model.onnx"), "--input", input, "--out", Path.Combine(_dir, "out"), "--in-process-native");

        Assert.True(code == 0, error);
    }

    /// <summary>A finished run folder of the protocol with hash <paramref name="protocolHash"/>: a diagnosis model and a results.json, the marker last.</summary>
    private static void Finish(string root, string protocolHash)
    {
        using RunFolder folder = RunFolder.Open(root, protocolHash, "test", overwrite: false);
        string model = Path.GetFileName(DiagnosisTestData.WriteModel(Directory.CreateDirectory(Path.Combine(root, "model")).FullName));
        string results = folder.WriteText("results.json", "{\"formatVersion\": 1, \"kind\": \"run\"}\n");
        folder.MarkComplete(protocolHash, new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["model/" + model] = Sha256(Path.Combine(root, "model", model)),
            ["results.json"] = Sha256(results),
        });
    }

    /// <summary>`medtransfer run` of the same protocol into the finished folder, as a separate process, killed with SIGKILL as soon as it has taken the folder.</summary>
    private static void KillRerun(string protocol, string run)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "medtransfer.dll");
        Assert.True(File.Exists(cli), cli);
        var start = new ProcessStartInfo("dotnet", [cli, "run", protocol, "--out", run, "--device", "cpu", "--key-file", RunCommandTests.KeyFile(), "--json"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process child = Process.Start(start)!;
        string marker = Path.Combine(run, RunFolder.CompleteFile);
        var clock = Stopwatch.StartNew();
        while (File.Exists(marker) && !child.HasExited && clock.Elapsed < TimeSpan.FromMinutes(2))
        {
            Thread.Sleep(10);
        }

        if (child.HasExited)
        {
            Assert.Fail("the re-run ended before it could be killed: " + child.StandardError.ReadToEnd());
        }

        child.Kill();
        child.WaitForExit();
        Assert.False(File.Exists(marker), "the re-run had taken the folder");
        Assert.True(File.Exists(Path.Combine(run, "model", "model.onnx")), "the previous run's model is still there");
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
}
