using System.Text.Json;

namespace MedTransfer.Cli.Tests;

/// <summary>`medtransfer bench diagnostics` on a small generated matrix.</summary>
public sealed class BenchDiagnosticsCommandTests
{
    [Fact]
    public void BenchDiagnostics_Json_TimesEightDiagnosticsAndAddsThemUp()
    {
        (int code, string output, string error) = CliRunner.Run("bench", "diagnostics", "--rows", "90", "--dimensions", "8", "--json");

        Assert.True(code == 0, error);
        using JsonDocument doc = JsonDocument.Parse(output);
        JsonElement timings = doc.RootElement.GetProperty("Timings");
        Assert.Equal(8, timings.GetArrayLength());
        Assert.Equal(timings.EnumerateArray().Sum(t => t.GetProperty("Seconds").GetDouble()), doc.RootElement.GetProperty("TotalSeconds").GetDouble(), 9);
        Assert.Equal(90, doc.RootElement.GetProperty("Rows").GetInt32());
    }

    [Fact]
    public void BenchDiagnostics_TooFewRows_IsAUsageError()
    {
        (int code, _, string error) = CliRunner.Run("bench", "diagnostics", "--rows", "5");

        Assert.Equal(2, code);
        Assert.Contains("--rows", error, StringComparison.Ordinal);
    }
}
