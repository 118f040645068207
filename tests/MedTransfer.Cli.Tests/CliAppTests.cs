using System.Text.Json;

namespace MedTransfer.Cli.Tests;

public sealed class CliAppTests
{
    [Fact]
    public void Help_ListsTheDoctorVerb()
    {
        (int code, string output, _) = Run("--help");

        Assert.Equal(0, code);
        Assert.Contains("doctor", output, StringComparison.Ordinal);
        Assert.Contains("MedTransfer", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Version_PrintsTheProductVersion()
    {
        (int code, string output, _) = Run("--version");

        Assert.Equal(0, code);
        Assert.StartsWith("0.1.0", output.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownVerb_ExitsWithUsageCodeAndSaysWhy()
    {
        (int code, _, string error) = Run("frobnicate");

        Assert.Equal(2, code);
        Assert.Contains("frobnicate", error, StringComparison.Ordinal);
    }

    [Fact]
    public void DoctorJson_OnThisMachine_SaysLibtorchLoadedOnCpu()
    {
        (int code, string output, _) = Run("doctor", "--json");

        using JsonDocument doc = JsonDocument.Parse(output);
        JsonElement root = doc.RootElement;
        Assert.Equal(0, code);
        Assert.True(root.GetProperty("libtorch").GetProperty("loaded").GetBoolean());
        Assert.Contains("cpu", root.GetProperty("devices").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(2, root.GetProperty("codecs").GetArrayLength());
    }

    [Fact]
    public void Doctor_Table_ShowsLibtorchAndLoaderFixRows()
    {
        (int code, string output, _) = Run("doctor");

        Assert.Equal(0, code);
        Assert.Contains("libtorch", output, StringComparison.Ordinal);
        Assert.Contains("Loader fix", output, StringComparison.Ordinal);
        Assert.Contains("Ready.", output, StringComparison.Ordinal);
    }

    private static (int Code, string Output, string Error) Run(params string[] args) => CliRunner.Run(args);
}
