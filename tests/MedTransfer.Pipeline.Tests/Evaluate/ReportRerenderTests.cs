using System.Text.Json.Nodes;
using MedTransfer.Pipeline.Evaluate;
using MedTransfer.Reporting.Html;
using MedTransfer.Reporting.Provenance;

namespace MedTransfer.Pipeline.Tests.Evaluate;

/// <summary>results.json carries what the report needs, and the report rendered from it equals the original.</summary>
public sealed class ReportRerenderTests
{
    /// <summary>A model card with every section the report requires.</summary>
    internal static ModelCard Card => s_card;

    private static readonly ModelCard s_card = new()
    {
        IntendedUse = "research",
        DataSources = "generated",
        Partitions = "patient-level",
        Preprocessing = "none",
        Model = "m",
        Adaptation = "none",
        SelectionRule = "Youden on val",
        Limitations = ["synthetic"],
    };

    [Fact]
    public void Rerender_FromResultsJson_GivesTheSameHtmlAsTheOriginalReport()
    {
        (EvaluationResult result, IReadOnlyList<PredictionRow> rows, EvaluationProvenance provenance) = Evaluate();
        string original = HtmlReport.Render(EvaluationReport.Build(result, s_card, provenance, rows));
        string json = EvaluationReport.ResultsJson(result, provenance, s_card, rows);

        SavedEvaluation saved = EvaluationResultsFile.Read(json);
        string again = HtmlReport.Render(EvaluationReport.Build(saved.Result, saved.Card, saved.Provenance, saved.Curves));

        foreach (string id in HtmlReport.RequiredSections.Keys.Concat(["summary", "sites", "subgroups", "calibration", "bias", "provenance"]))
        {
            Assert.Contains($"<section id=\"{id}\">", again, StringComparison.Ordinal);
        }

        Assert.Equal(EvaluationReport.Headline(result), EvaluationReport.Headline(saved.Result));
        Assert.Equal(original, again);
    }

    [Fact]
    public void ResultsJson_KeepsTheEarlierFields_AndAddsCardAndIdFreeCurves()
    {
        (EvaluationResult result, IReadOnlyList<PredictionRow> rows, EvaluationProvenance provenance) = Evaluate();

        string json = EvaluationReport.ResultsJson(result, provenance, s_card, rows);
        JsonNode tree = JsonNode.Parse(json)!;

        Assert.Equal(JsonNode.Parse(EvaluationReport.ResultsJson(result, provenance))!["result"]!.ToJsonString(), tree["result"]!.ToJsonString());
        Assert.NotNull(tree["provenance"]);
        Assert.Equal(EvaluationResultsFile.FormatVersion, (int)tree["formatVersion"]!);
        Assert.Equal("research", (string)tree["card"]!["intendedUse"]!);
        JsonArray curves = tree["curves"]!.AsArray();
        Assert.Equal(["A", "B"], curves.Select(c => (string)c!["site"]!));
        Assert.Equal(result.Overall.Samples, curves.Sum(c => c!["scores"]!.AsArray().Count));
        Assert.DoesNotContain("SAMPLE-", json, StringComparison.Ordinal);
        Assert.DoesNotContain("PATIENT-", json, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json", "not a MedTransfer evaluation")]
    [InlineData("{}", "lacks 'result' or 'provenance'")]
    [InlineData("[1, 2]", "not a MedTransfer evaluation")]
    public void Read_NotAResultsFile_IsATypedError(string json, string message)
    {
        var ex = Assert.Throws<ResultsFileException>(() => EvaluationResultsFile.Read(json));

        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_OlderResultsJsonWithoutCurves_SaysToRunEvaluateAgain()
    {
        (EvaluationResult result, _, EvaluationProvenance provenance) = Evaluate();

        var ex = Assert.Throws<ResultsFileException>(() => EvaluationResultsFile.Read(EvaluationReport.ResultsJson(result, provenance)));

        Assert.Contains("run evaluate again", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_CurvesWithMismatchedLengths_AreRejected()
    {
        (EvaluationResult result, IReadOnlyList<PredictionRow> rows, EvaluationProvenance provenance) = Evaluate();
        JsonNode tree = JsonNode.Parse(EvaluationReport.ResultsJson(result, provenance, s_card, rows))!;
        tree["curves"]![0]!["labels"]!.AsArray().RemoveAt(0);

        Assert.Throws<ResultsFileException>(() => EvaluationResultsFile.Read(tree.ToJsonString()));
    }

    /// <summary>An evaluation of 200 generated predictions at two sites.</summary>
    internal static (EvaluationResult Result, IReadOnlyList<PredictionRow> Rows, EvaluationProvenance Provenance) Evaluate()
    {
        var lines = new List<string> { "id,patient,label,score,site,split,sex" };
        for (int i = 0; i < 200; i++)
        {
            int y = (i / 2) % 3 == 0 ? 1 : 0;
            double score = Math.Clamp(0.5 + (0.3 * (y - 0.4)) + (0.25 * Math.Sin(i * 7.77)), 0, 1);
            lines.Add(FormattableString.Invariant($"SAMPLE-{i},PATIENT-{i / 2},{y},{score:F4},{(i % 4 < 2 ? "A" : "B")},{(i % 10 < 3 ? "val" : "test")},{(i % 3 == 0 ? "F" : "M")}"));
        }

        IReadOnlyList<PredictionRow> rows = PredictionTable.Read(new StringReader(string.Join('\n', lines) + "\n"));
        var options = new EvaluationOptions { Bootstrap = new() { Resamples = 200, Seed = 7 } };
        return (PredictionEvaluation.Evaluate(rows, options), rows, new EvaluationProvenance("ab", CodeVersion.Parse("0.1.0+abcdef0"), options.Bootstrap));
    }
}
