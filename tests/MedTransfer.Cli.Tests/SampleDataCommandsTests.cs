using MedTransfer.Synthetic;
using MedTransfer.Testing;

namespace MedTransfer.Cli.Tests;

/// <summary>`medtransfer sample-data generate`, invoked on the command object (the lead wires it into the root).</summary>
public sealed class SampleDataCommandsTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-cli-sample");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Generate_UnknownScale_IsAUsageError()
    {
        (int code, _, _) = Run("generate", "--out", Path.Combine(_dir, "x"), "--scale", "huge");

        Assert.NotEqual(0, code);
        Assert.False(Directory.Exists(Path.Combine(_dir, "x")));
    }

    [Fact]
    public void Generate_ForeignFolder_FailsWithOneClearLine()
    {
        string foreign = Path.Combine(_dir, "foreign");
        Directory.CreateDirectory(foreign);
        File.WriteAllText(Path.Combine(foreign, "keep.txt"), "mine");

        (int code, _, string error) = Run("generate", "--out", foreign);

        Assert.Equal(CliApp.ExitCodes.Failure, code);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.Contains("not empty", error, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(foreign, "keep.txt")));
    }

    [Fact]
    public void Generate_MissingOut_IsRejected()
    {
        (int code, _, _) = Run("generate");

        Assert.NotEqual(0, code);
    }

    [Fact]
    public void Help_NamesTheVerbAndOptions()
    {
        (_, string output, _) = Run("generate", "--help");

        Assert.Contains("--out", output, StringComparison.Ordinal);
        Assert.Contains("--scale", output, StringComparison.Ordinal);
        Assert.Contains("--seed", output, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Generate_SmallSet_WritesManifestChecksumsAndReport()
    {
        string target = Path.Combine(_dir, "sample");

        (int code, string output, string error) = Run("generate", "--out", target, "--scale", "small", "--seed", SampleDataGenerator.DefaultSeed.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.True(code == 0, error);
        Assert.Contains("site C (target)", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(target, "manifest.csv")));
        Assert.Equal(SampleDataGenerator.ComputeChecksums(target), File.ReadAllText(Path.Combine(target, "SHA256SUMS")));
    }

    private static (int Code, string Output, string Error) Run(params string[] args) => CliRunner.Run(["sample-data", .. args]);
}
