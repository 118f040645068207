using System.Diagnostics;
using System.Text.Json;
using MedTransfer.Cli.Commands;
using MedTransfer.Pipeline.Diagnose;
using MedTransfer.Pipeline.Tests.Diagnose;
using MedTransfer.Testing;

namespace MedTransfer.Cli.Tests;

public sealed class DiagnoseCommandsTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-diagnose-cli");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Input(int perSite, bool poison)
    {
        string input = Path.Combine(_dir, "in");
        IReadOnlyList<string> good = DiagnosisTestData.CopySamples(input, perSite);
        if (poison)
        {
            DiagnosisTestData.WritePoisons(input, good[0]);
        }

        return input;
    }

    [Fact]
    public void Diagnose_FolderWithPoisonFiles_ExitsThreeWithAJsonSummaryAndTheCsv()
    {
        string input = Input(perSite: 3, poison: true);
        string model = DiagnosisTestData.WriteModel(_dir);
        string outDir = Path.Combine(_dir, "out");

        (int code, string output, string error) = CliRunner.Run("diagnose", "--model", model, "--input", input, "--out", outDir, "--threads", "2", "--json", "--in-process-native");

        Assert.True(code == DiagnoseCommands.SomeInputsFailed, error);
        using JsonDocument summary = JsonDocument.Parse(output);
        Assert.Equal(13, summary.RootElement.GetProperty("studies").GetInt32());
        Assert.Equal(4, summary.RootElement.GetProperty("quarantined").GetInt32());
        Assert.Equal(14, File.ReadAllLines(Path.Combine(outDir, DiagnosisOutputs.PredictionsFile)).Length);
        Assert.True(File.Exists(Path.Combine(outDir, StudyPseudonyms.PrivateFolderName, StudyPseudonyms.DefaultKeyFileName)));
        Assert.False(File.Exists(Path.Combine(outDir, StudyPseudonyms.DefaultKeyFileName)));
    }

    [Fact]
    public void Diagnose_AllGood_ExitsZero_AndHelpDocumentsAggregationAndExitCodes()
    {
        string input = Input(perSite: 1, poison: false);
        (int code, _, string error) = CliRunner.Run("diagnose", "--model", DiagnosisTestData.WriteModel(_dir), "--input", input, "--out", Path.Combine(_dir, "out"), "--in-process-native");
        (_, string help, _) = CliRunner.Run("diagnose", "--help");

        Assert.True(code == 0, error);
        Assert.Contains("MAXIMUM over its images", help, StringComparison.Ordinal);
        Assert.Contains("3 some inputs", help, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--shard", "4/3")]
    [InlineData("--shard", "1/3")]
    [InlineData("--threads", "0")]
    public void Diagnose_BadArguments_AreUsageErrors(string option, string value)
    {
        string input = Input(perSite: 1, poison: false);
        (int code, _, string error) = CliRunner.Run("diagnose", "--model", DiagnosisTestData.WriteModel(_dir), "--input", input, "--out", Path.Combine(_dir, "out"), option, value);

        Assert.Equal(CliApp.ExitCodes.Usage, code);
        Assert.StartsWith("error:", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Diagnose_BrokenModel_IsATypedErrorWithExitOne()
    {
        string model = Path.Combine(_dir, "broken.onnx");
        File.WriteAllText(model, "not a model");
        (int code, _, string error) = CliRunner.Run("diagnose", "--model", model, "--input", Input(1, false), "--out", Path.Combine(_dir, "out"));

        Assert.Equal(CliApp.ExitCodes.Failure, code);
        Assert.Contains("InvalidOnnx", error, StringComparison.Ordinal);
    }

    [Fact]
    public void DiagnoseShardsThenMerge_EqualsTheUnshardedRun()
    {
        string input = Input(perSite: 4, poison: true);
        string model = DiagnosisTestData.WriteModel(_dir);
        string key = Path.Combine(_dir, "key.hex");
        File.WriteAllText(key, new string('a', 64));
        string whole = Path.Combine(_dir, "whole");
        CliRunner.Run("diagnose", "--model", model, "--input", input, "--out", whole, "--key-file", key, "--in-process-native");
        var shards = new List<string>();
        for (int i = 1; i <= 3; i++)
        {
            string shard = Path.Combine(_dir, $"s{i}");
            (int code, _, string error) = CliRunner.Run("diagnose", "--model", model, "--input", input, "--out", shard, "--key-file", key, "--shard", $"{i}/3", "--in-process-native");
            Assert.True(code is 0 or DiagnoseCommands.SomeInputsFailed, error);
            shards.Add(shard);
        }

        (int merged, _, string mergeError) = CliRunner.Run(["merge", Path.Combine(_dir, "merged"), .. shards]);
        (int incomplete, _, _) = CliRunner.Run(["merge", Path.Combine(_dir, "bad"), shards[0]]);

        Assert.True(merged == DiagnoseCommands.SomeInputsFailed, mergeError);
        Assert.Equal(CliApp.ExitCodes.Failure, incomplete);
        foreach (string name in new[] { DiagnosisOutputs.PredictionsFile, DiagnosisOutputs.QuarantineFile, DiagnosisOutputs.SummaryFile })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(whole, name)), File.ReadAllBytes(Path.Combine(_dir, "merged", name)));
        }
    }

    /// <summary>Crash and resume with a real process death: the CLI dies mid-append (half a line on disk), the rerun resumes.</summary>
    [Fact]
    public void Diagnose_ProcessDiesWritingAJournalLine_RerunResumesWithoutDuplicatesOrGaps()
    {
        string input = Input(perSite: 4, poison: true);
        string model = DiagnosisTestData.WriteModel(_dir);
        string key = Path.Combine(_dir, "key.hex");
        File.WriteAllText(key, new string('b', 64));
        string reference = Path.Combine(_dir, "reference");
        CliRunner.Run("diagnose", "--model", model, "--input", input, "--out", reference, "--key-file", key, "--in-process-native");
        string crashed = Path.Combine(_dir, "crashed");
        string program = Path.Combine(AppContext.BaseDirectory, "medtransfer.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { program, "diagnose", "--model", model, "--input", input, "--out", crashed, "--key-file", key, "--batch", "4", "--in-process-native" })
        {
            start.ArgumentList.Add(a);
        }

        start.Environment[DiagnosisJournal.FaultVariable] = "6";
        using (Process child = Process.Start(start)!)
        {
            child.StandardOutput.ReadToEnd();
            child.StandardError.ReadToEnd();
            Assert.True(child.WaitForExit(60_000));
            Assert.NotEqual(0, child.ExitCode);
        }

        string journal = Path.Combine(crashed, DiagnosisJournal.FileName);
        Assert.False(File.ReadAllText(journal).EndsWith('\n'));
        Assert.False(File.Exists(Path.Combine(crashed, DiagnosisOutputs.PredictionsFile)));

        (int code, string output, string error) = CliRunner.Run("diagnose", "--model", model, "--input", input, "--out", crashed, "--key-file", key, "--json", "--in-process-native");

        Assert.True(code == DiagnoseCommands.SomeInputsFailed, error);
        Assert.Equal(6, JsonDocument.Parse(output).RootElement.GetProperty("resumed").GetInt32());
        Assert.Equal(File.ReadAllBytes(Path.Combine(reference, DiagnosisOutputs.PredictionsFile)), File.ReadAllBytes(Path.Combine(crashed, DiagnosisOutputs.PredictionsFile)));
        string[] lines = File.ReadAllLines(journal);
        string[] keys = [.. lines.Skip(1).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("key").GetString()!)];
        Assert.Equal(keys.Length, keys.Distinct().Count());
        Assert.Equal(File.ReadAllLines(Path.Combine(reference, DiagnosisOutputs.PredictionsFile)).Length - 1, keys.Length);
    }
}
