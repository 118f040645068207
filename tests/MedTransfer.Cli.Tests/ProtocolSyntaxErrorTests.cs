using MedTransfer.Testing;

namespace MedTransfer.Cli.Tests;

/// <summary>
/// A protocol that is not even valid YAML (an unclosed bracket, an unterminated quote) must end in one
/// "file:line:col: message" line from every command that reads protocols, never in a stack trace.
/// </summary>
public sealed class ProtocolSyntaxErrorTests : IDisposable
{
    private static readonly string s_cxr = Path.Combine(TestPaths.RepoRoot, "protocols", "cxr-site-shift.yaml");

    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-cli-yaml-syntax");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string, string> Commands => new()
    {
        { "validate", "protocol" },
        { "show", "protocol" },
        { "run", string.Empty },
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public void UnclosedBracket_IsOneLineWithFileLineAndColumn(string verb, string group)
    {
        string[] lines = File.ReadAllLines(s_cxr);
        int seeds = Array.FindIndex(lines, l => l.StartsWith("seeds:", StringComparison.Ordinal));
        Assert.True(seeds >= 0, "the shipped protocol has a seeds line");
        lines[seeds] = "seeds: [1, 2, 3";
        string broken = Path.Combine(_dir, "unclosed.yaml");
        File.WriteAllLines(broken, lines);

        (int code, string output, string error) = Run(verb, group, broken);

        Assert.NotEqual(0, code);
        string message = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"error: unclosed.yaml:{seeds + 1}:8: not valid YAML: the '[' opened here is never closed (the text ends first)", message);
        Assert.DoesNotContain("Exception", output + error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("name: x\nseeds: 3\nmodel: \"abc\n", 3, 8)]
    [InlineData("name: x\ndata: {a: [1, 2}\n", 2, 16)]
    [InlineData("a: {b: 1", 1, 4)]
    [InlineData("name: x\nseeds: [1, 2, 3\n", 2, 8)]
    public void OtherSyntaxErrors_AreOneLineEach(string yaml, int line, int column)
    {
        string broken = Path.Combine(_dir, "broken.yaml");
        File.WriteAllText(broken, yaml);

        (int code, string output, string error) = CliRunner.Run("protocol", "validate", broken);

        Assert.Equal(CliApp.ExitCodes.Failure, code);
        string message = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"error: broken.yaml:{line}:{column}: not valid YAML: ", message, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", output + error, StringComparison.Ordinal);
    }

    private static (int Code, string Output, string Error) Run(string verb, string group, string file) =>
        group.Length == 0 ? CliRunner.Run(verb, file, "--out", Path.Combine(Path.GetDirectoryName(file)!, "run")) : CliRunner.Run(group, verb, file);
}
