using MedTransfer.Pipeline.Evaluate;
using MedTransfer.Reporting.Html;
using MedTransfer.Reporting.Provenance;

namespace MedTransfer.Pipeline.Tests.Evaluate;

public sealed class EvaluateTests
{
    [Fact]
    public void Read_MissingScoreColumn_NamesIt()
    {
        var ex = Assert.Throws<PredictionTableException>(() => PredictionTable.Read(new StringReader("id,label\na,1\n")));

        Assert.Equal("score", ex.Column);
    }

    [Theory]
    [InlineData("id,label,score\na,2,0.5\n", "label", 2)]
    [InlineData("id,label,score\na,1,abc\n", "score", 2)]
    [InlineData("id,label,score\na,1,0.5\na,0,0.1\n", "id", 3)]
    public void Read_BadValue_NamesLineAndColumnButNotTheValue(string csv, string column, int line)
    {
        var ex = Assert.Throws<PredictionTableException>(() => PredictionTable.Read(new StringReader(csv)));

        Assert.Equal(column, ex.Column);
        Assert.Equal(line, ex.Line);
        Assert.DoesNotContain("abc", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_ThresholdChosenOnValidationRows_MetricsOnTestRowsOnly()
    {
        IReadOnlyList<PredictionRow> rows = PredictionTable.Read(new StringReader(Csv()));

        EvaluationResult r = PredictionEvaluation.Evaluate(rows, new EvaluationOptions { Bootstrap = new() { Resamples = 200 } });

        Assert.Equal("test", r.EvaluatedPartition);
        Assert.Equal(rows.Count(x => x.Split == "test"), r.Overall.Samples);
        Assert.StartsWith("Youden's J on", r.Overall.ThresholdSource, StringComparison.Ordinal);
        Assert.Equal(["A", "B"], r.BySite.Select(g => g.Group));
        Assert.True(r.Subgroups.ContainsKey("sex"));
        Assert.InRange(r.Overall.AurocBootstrap.Value, r.Overall.AurocBootstrap.Lower, r.Overall.AurocBootstrap.Upper);
    }

    [Fact]
    public void Evaluate_PerSiteOff_ComputesNoSiteMetrics_AndTheReportSaysSo()
    {
        IReadOnlyList<PredictionRow> rows = PredictionTable.Read(new StringReader(Csv()));

        EvaluationResult off = PredictionEvaluation.Evaluate(rows, new EvaluationOptions { Bootstrap = new() { Resamples = 200 }, PerSite = false });
        EvaluationResult on = PredictionEvaluation.Evaluate(rows, new EvaluationOptions { Bootstrap = new() { Resamples = 200 } });

        Assert.Empty(off.BySite);
        Assert.Equal(2, on.BySite.Count);
        Assert.Equal(on.Overall.AurocDeLong, off.Overall.AurocDeLong);
        var card = new ModelCard { IntendedUse = "research", DataSources = "generated", Partitions = "patient-level", Preprocessing = "none", Model = "m", Adaptation = "none", SelectionRule = "Youden on val" };
        string html = HtmlReport.Render(EvaluationReport.Build(off, card, new EvaluationProvenance("00", CodeVersion.Parse("0.1.0"), new()), rows));
        Assert.Contains("evaluation.per_site: false", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_TargetSensitivity_ChoosesTheThresholdReachingItOnTheValidationRows()
    {
        IReadOnlyList<PredictionRow> rows = PredictionTable.Read(new StringReader(Csv()));
        PredictionRow[] validation = [.. rows.Where(r => r.Split == "val")];

        EvaluationResult r = PredictionEvaluation.Evaluate(rows, new EvaluationOptions { Bootstrap = new() { Resamples = 200 }, TargetSensitivity = 0.95 });

        Assert.StartsWith("sensitivity ≥ 0.95 on", r.Overall.ThresholdSource, StringComparison.Ordinal);
        double expected = MedTransfer.Evaluation.Metrics.BinaryMetrics.ThresholdForSensitivity([.. validation.Select(v => v.Score)], [.. validation.Select(v => v.Label)], 0.95);
        Assert.Equal(expected, r.Overall.Threshold);
        Assert.NotEqual(PredictionEvaluation.Evaluate(rows, new EvaluationOptions { Bootstrap = new() { Resamples = 200 } }).Overall.Threshold, r.Overall.Threshold);
    }

    [Fact]
    public void Format_WritesWhatReadReadsBack()
    {
        IReadOnlyList<PredictionRow> rows = PredictionTable.Read(new StringReader(Csv()));

        IReadOnlyList<PredictionRow> again = PredictionTable.Read(new StringReader(PredictionTable.Format(rows)));

        Assert.Equal(rows.Select(r => (r.Id, r.Patient, r.Label, r.Score, r.Site, r.Split)), again.Select(r => (r.Id, r.Patient, r.Label, r.Score, r.Site, r.Split)));
        Assert.Equal(rows.Select(r => r.Subgroups.GetValueOrDefault("sex")), again.Select(r => r.Subgroups.GetValueOrDefault("sex")));
    }

    [Fact]
    public void Report_WithACard_HasEveryRequiredSectionAndNoSampleIds()
    {
        IReadOnlyList<PredictionRow> rows = PredictionTable.Read(new StringReader(Csv()));
        EvaluationResult r = PredictionEvaluation.Evaluate(rows, new EvaluationOptions { Bootstrap = new() { Resamples = 200 } });
        var card = new ModelCard { IntendedUse = "research", DataSources = "generated", Partitions = "patient-level", Preprocessing = "none", Model = "m", Adaptation = "none", SelectionRule = "Youden on val" };
        var provenance = new EvaluationProvenance("00", CodeVersion.Parse("0.1.0"), new());

        string html = HtmlReport.Render(EvaluationReport.Build(r, card, provenance, rows));

        foreach (string id in HtmlReport.RequiredSections.Keys)
        {
            Assert.Contains($"<section id=\"{id}\">", html, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("SAMPLE-", html, StringComparison.Ordinal);
        Assert.DoesNotContain("PATIENT-", html, StringComparison.Ordinal);
        Assert.Contains("prevalence", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Report_WithoutACard_IsRefused()
    {
        IReadOnlyList<PredictionRow> rows = PredictionTable.Read(new StringReader(Csv()));
        EvaluationResult r = PredictionEvaluation.Evaluate(rows, new EvaluationOptions { Bootstrap = new() { Resamples = 100 } });

        Assert.Throws<ReportIncompleteException>(() => HtmlReport.Render(EvaluationReport.Build(r, new ModelCard(), new EvaluationProvenance("00", CodeVersion.Parse("0.1.0"), new()), rows)));
    }

    private static string Csv()
    {
        var lines = new List<string> { "id,patient,label,score,site,split,sex" };
        for (int i = 0; i < 240; i++)
        {
            int y = (i / 2) % 3 == 0 ? 1 : 0;
            double score = Math.Clamp(0.5 + (0.3 * (y - 0.4)) + (0.25 * Math.Sin(i * 7.77)), 0, 1);
            lines.Add(FormattableString.Invariant($"SAMPLE-{i},PATIENT-{i / 2},{y},{score:F4},{(i % 4 < 2 ? "A" : "B")},{(i % 10 < 3 ? "val" : "test")},{(i % 3 == 0 ? "F" : "M")}"));
        }

        return string.Join('\n', lines) + "\n";
    }
}
