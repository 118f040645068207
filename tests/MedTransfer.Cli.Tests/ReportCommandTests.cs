using System.Globalization;
using System.Text.Json.Nodes;
using MedTransfer.Reporting.Html;
using MedTransfer.Testing;

namespace MedTransfer.Cli.Tests;

/// <summary>`medtransfer evaluate` then `medtransfer report results.json`: the re-rendered report matches.</summary>
public sealed class ReportCommandTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-cli-report");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Report_FromEvaluateResults_HasEverySectionAndTheSameHeadlineNumbers()
    {
        string evaluated = Evaluate(withCard: true);
        (int evalCode, string evalJson, _) = CliRunner.Run("evaluate", "--predictions", Path.Combine(_dir, "predictions.csv"), "--card", Path.Combine(_dir, "card.json"), "--out", evaluated, "--resamples", "200", "--json");
        string rerendered = Path.Combine(_dir, "again");

        (int code, string output, string error) = CliRunner.Run("report", Path.Combine(evaluated, "results.json"), "--out", rerendered);

        Assert.Equal(0, evalCode);
        Assert.Equal(0, code);
        Assert.Empty(error);
        string html = File.ReadAllText(Path.Combine(rerendered, "report.html"));
        foreach (string id in HtmlReport.RequiredSections.Keys)
        {
            Assert.Contains($"<section id=\"{id}\">", html, StringComparison.Ordinal);
        }

        double auroc = (double)JsonNode.Parse(evalJson)!["auroc"]!["Value"]!;
        string headline = $"AUROC {auroc.ToString("F3", CultureInfo.InvariantCulture)} [";
        Assert.Contains(headline, output, StringComparison.Ordinal);
        Assert.Contains(headline, html, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllText(Path.Combine(evaluated, "report.html")), html);
        Assert.Equal(
            Directory.GetFiles(Path.Combine(evaluated, "figures")).Select(Path.GetFileName).Order(StringComparer.Ordinal),
            Directory.GetFiles(Path.Combine(rerendered, "figures")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Report_WithoutACardAnywhere_IsRefusedUntilOneIsGiven()
    {
        string evaluated = Evaluate(withCard: false);
        Assert.Equal(1, CliRunner.Run("evaluate", "--predictions", Path.Combine(_dir, "predictions.csv"), "--out", evaluated, "--resamples", "100").Code);
        string results = Path.Combine(evaluated, "results.json");

        (int refused, _, string error) = CliRunner.Run("report", results, "--out", Path.Combine(_dir, "r1"));
        (int accepted, _, _) = CliRunner.Run("report", results, "--out", Path.Combine(_dir, "r2"), "--card", WriteCard());

        Assert.Equal(1, refused);
        Assert.Contains("--card", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "r1", "report.html")));
        Assert.Equal(0, accepted);
        Assert.True(File.Exists(Path.Combine(_dir, "r2", "report.html")));
    }

    [Fact]
    public void Report_NotAResultsFile_FailsWithOneLine()
    {
        string bogus = Path.Combine(_dir, "bogus.json");
        File.WriteAllText(bogus, "{\"hello\": 1}");

        (int code, _, string error) = CliRunner.Run("report", bogus, "--out", Path.Combine(_dir, "r"));

        Assert.Equal(1, code);
        Assert.StartsWith("error: results.json lacks", error, StringComparison.Ordinal);
    }

    private string Evaluate(bool withCard)
    {
        var lines = new List<string> { "id,patient,label,score,site,split,sex" };
        for (int i = 0; i < 160; i++)
        {
            int y = (i / 2) % 3 == 0 ? 1 : 0;
            double score = Math.Clamp(0.5 + (0.3 * (y - 0.4)) + (0.25 * Math.Sin(i * 7.77)), 0, 1);
            lines.Add(FormattableString.Invariant($"S{i},P{i / 2},{y},{score:F4},{(i % 4 < 2 ? "A" : "B")},{(i % 10 < 3 ? "val" : "test")},{(i % 3 == 0 ? "F" : "M")}"));
        }

        File.WriteAllText(Path.Combine(_dir, "predictions.csv"), string.Join('\n', lines) + "\n");
        if (withCard)
        {
            WriteCard();
        }

        return Path.Combine(_dir, "evaluated");
    }

    private string WriteCard()
    {
        string path = Path.Combine(_dir, "card.json");
        File.WriteAllText(path, """
            {"intendedUse": "research", "dataSources": "generated", "partitions": "patient-level", "preprocessing": "none",
             "model": "m", "adaptation": "none", "selectionRule": "Youden on val", "limitations": ["synthetic"]}
            """);
        return path;
    }
}
