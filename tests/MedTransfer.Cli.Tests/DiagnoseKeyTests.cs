using System.Diagnostics;
using MedTransfer.Pipeline.Diagnose;
using MedTransfer.Pipeline.Tests.Diagnose;
using MedTransfer.Testing;

namespace MedTransfer.Cli.Tests;

/// <summary>
/// Where `diagnose` finds its pseudonym key: --key-file, else $MEDTRANSFER_PSEUDONYM_KEY, else a key it generates in
/// OUT/private/ — never among the shareable outputs, where sharing the folder used to share the key.
/// </summary>
public sealed class DiagnoseKeyTests : IDisposable
{
    private const string Key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-diagnose-key");
    private readonly string _input;
    private readonly string _model;

    public DiagnoseKeyTests()
    {
        _input = Path.Combine(_dir, "in");
        DiagnosisTestData.CopySamples(_input, perSite: 2);
        _model = DiagnosisTestData.WriteModel(_dir);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Diagnose_WithoutAKey_GeneratesItInPrivate_WithAReadme_AndSaysWhere()
    {
        string outDir = Path.Combine(_dir, "out");

        (int code, _, string error) = CliRunner.Run("diagnose", "--model", _model, "--input", _input, "--out", outDir, "--in-process-native");

        Assert.True(code == 0, error);
        string key = Path.Combine(outDir, "private", "pseudonym.key");
        Assert.True(File.Exists(key));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        }

        Assert.False(File.Exists(Path.Combine(outDir, "pseudonym.key")));
        Assert.Contains("Never share it.", File.ReadAllText(Path.Combine(outDir, "private", "README.txt")), StringComparison.Ordinal);
        Assert.Contains($"warning: generated a pseudonym key at {key}", error, StringComparison.Ordinal);
        Assert.Contains("the private/ folder is never to be shared", error, StringComparison.Ordinal);
        Assert.DoesNotContain(File.ReadAllText(key).Trim(), error, StringComparison.Ordinal);
    }

    [Fact]
    public void Diagnose_KeyFromTheEnvironment_GivesTheSamePseudonymsAsTheSameKeyFile_AndLetsShardsShareIt()
    {
        string keyFile = Path.Combine(_dir, "site.key");
        File.WriteAllText(keyFile, Key + "\n");
        string byFile = Path.Combine(_dir, "by-file");
        string byVariable = Path.Combine(_dir, "by-variable");

        (int code, _, string error) = CliRunner.Run("diagnose", "--model", _model, "--input", _input, "--out", byFile, "--shard", "1/2", "--key-file", keyFile, "--in-process-native");
        Assert.True(code == 0, error);
        (code, error) = RunWithVariable(Key, "diagnose", "--model", _model, "--input", _input, "--out", byVariable, "--shard", "1/2", "--in-process-native");
        Assert.True(code == 0, error);

        Assert.Equal(File.ReadAllBytes(Path.Combine(byFile, DiagnosisOutputs.PredictionsFile)), File.ReadAllBytes(Path.Combine(byVariable, DiagnosisOutputs.PredictionsFile)));
        Assert.False(Directory.Exists(Path.Combine(byVariable, "private")), "no key is generated when the environment gives one");
        Assert.DoesNotContain(Key, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Diagnose_BadKeyInTheEnvironment_NamesTheVariableNotItsContent()
    {
        (int code, string error) = RunWithVariable("c0ffee-not-hex", "diagnose", "--model", _model, "--input", _input, "--out", Path.Combine(_dir, "out"), "--in-process-native");

        Assert.Equal(CliApp.ExitCodes.Usage, code);
        Assert.Contains("error: the environment variable MEDTRANSFER_PSEUDONYM_KEY is not hexadecimal text", error, StringComparison.Ordinal);
        Assert.DoesNotContain("c0ffee", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Diagnose_FolderWithTheKeyAmongItsOutputs_MovesItIntoPrivate_AndResumesWithTheSamePseudonyms()
    {
        // An output folder written by an earlier version: the generated key beside predictions.csv.
        string keyFile = Path.Combine(_dir, "site.key");
        File.WriteAllText(keyFile, Key + "\n");
        string reference = Path.Combine(_dir, "reference");
        Assert.Equal(0, CliRunner.Run("diagnose", "--model", _model, "--input", _input, "--out", reference, "--key-file", keyFile, "--in-process-native").Code);
        string old = Path.Combine(_dir, "old");
        Directory.CreateDirectory(old);
        File.WriteAllText(Path.Combine(old, "pseudonym.key"), Key + "\n");

        (int code, _, string error) = CliRunner.Run("diagnose", "--model", _model, "--input", _input, "--out", old, "--in-process-native");

        Assert.True(code == 0, error);
        Assert.False(File.Exists(Path.Combine(old, "pseudonym.key")));
        Assert.Equal(Key + "\n", File.ReadAllText(Path.Combine(old, "private", "pseudonym.key")));
        Assert.Contains($"warning: moved the pseudonym key from {Path.Combine(old, "pseudonym.key")}", error, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(Path.Combine(reference, DiagnosisOutputs.PredictionsFile)), File.ReadAllBytes(Path.Combine(old, DiagnosisOutputs.PredictionsFile)));
    }

    [Fact]
    public void Diagnose_ShardWithNeitherKeyFileNorVariable_IsAUsageErrorThatNamesBoth()
    {
        (int code, _, string error) = CliRunner.Run("diagnose", "--model", _model, "--input", _input, "--out", Path.Combine(_dir, "out"), "--shard", "1/2");

        Assert.Equal(CliApp.ExitCodes.Usage, code);
        Assert.Contains("--shard needs --key-file (or $MEDTRANSFER_PSEUDONYM_KEY)", error, StringComparison.Ordinal);
    }

    /// <summary>The built CLI in a child process with MEDTRANSFER_PSEUDONYM_KEY set: the variable stays out of this process, whose other tests run in parallel.</summary>
    private static (int Code, string Error) RunWithVariable(string value, params string[] args)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "medtransfer.dll");
        var start = new ProcessStartInfo("dotnet", [cli, .. args]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["MEDTRANSFER_PSEUDONYM_KEY"] = value;
        using Process child = Process.Start(start)!;
        Task<string> output = child.StandardOutput.ReadToEndAsync();
        string error = child.StandardError.ReadToEnd();
        child.WaitForExit();
        _ = output.Result;
        return (child.ExitCode, error);
    }
}
