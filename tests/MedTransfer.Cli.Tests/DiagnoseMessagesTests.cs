using MedTransfer.Pipeline.Tests.Diagnose;
using MedTransfer.Testing;

namespace MedTransfer.Cli.Tests;

/// <summary>
/// Messages that used to mislead: a full disk during diagnose that did not say "no space left", and a bad key file
/// reported as "not a valid hex string" without saying which file.
/// </summary>
public sealed class DiagnoseMessagesTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-diagnose-messages");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("journal.jsonl")]
    [InlineData("predictions.csv.tmp")]
    [InlineData("diagnose.lock")]
    public void Diagnose_DiskFull_SaysNoSpaceLeftAndWhichFile(string file)
    {
        string input = Path.Combine(_dir, "in");
        DiagnosisTestData.CopySamples(input, perSite: 1);
        string outDir = Path.Combine(_dir, "out");
        Directory.CreateDirectory(outDir);
        // Every write to /dev/full fails with ENOSPC, as on a full disk.
        File.CreateSymbolicLink(Path.Combine(outDir, file), "/dev/full");

        (int code, _, string error) = CliRunner.Run("diagnose", "--model", DiagnosisTestData.WriteModel(_dir), "--input", input, "--out", outDir, "--in-process-native");

        Assert.Equal(CliApp.ExitCodes.Failure, code);
        string name = file.Replace(".tmp", string.Empty, StringComparison.Ordinal);
        Assert.Contains($"OutputNotWritable: cannot write {name}: no space left on the device", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not hex at all\n", "is not hexadecimal text")]
    [InlineData("abcd\n", "holds 2 bytes; a key needs at least 16")]
    public void Diagnose_BadKeyFile_NamesTheFileAndWhatIsWrong(string content, string problem)
    {
        string input = Path.Combine(_dir, "in");
        DiagnosisTestData.CopySamples(input, perSite: 1);
        string key = Path.Combine(_dir, "site.key");
        File.WriteAllText(key, content);

        (int code, _, string error) = CliRunner.Run("diagnose", "--model", DiagnosisTestData.WriteModel(_dir), "--input", input, "--out", Path.Combine(_dir, "out"), "--key-file", key);

        Assert.Equal(CliApp.ExitCodes.Usage, code);
        Assert.Contains($"error: the key file site.key {problem}", error, StringComparison.Ordinal);
        Assert.DoesNotContain(content.Trim(), error, StringComparison.Ordinal);
    }
}
