using MedTransfer.Evaluation.Metrics;
using MedTransfer.Reporting.Figures;
using MedTransfer.Reporting.Html;

namespace MedTransfer.Reporting.Tests.Html;

public sealed class HtmlReportTests
{
    [Fact]
    public void Render_MissingRequiredSections_RefusesAndNamesThem()
    {
        var doc = new ReportDocument("t", "s").Add("metrics", "Metrics", new Paragraph("AUROC 0.9"));

        var ex = Assert.Throws<ReportIncompleteException>(() => HtmlReport.Render(doc));

        Assert.Contains("intended-use", ex.Missing[0], StringComparison.Ordinal);
        Assert.Equal(HtmlReport.RequiredSections.Count - 1, ex.Missing.Count);
    }

    [Fact]
    public void Render_CompleteReport_EscapesTextAndInlinesFigures()
    {
        Figure roc = Charts.Roc("roc", "ROC", [new CurveInput("site <A>", [0.1, 0.9, 0.4, 0.6], [0, 1, 0, 1])]);
        ReportDocument doc = Complete().Add("figures", "Figures", new FigureBlock(roc, "a <b>caption</b>"));

        string html = HtmlReport.Render(doc);

        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.Contains("data:image/png;base64,iVBOR", html, StringComparison.Ordinal);
        Assert.Contains("a &lt;b&gt;caption&lt;/b&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        foreach (string id in HtmlReport.RequiredSections.Keys)
        {
            Assert.Contains($"<section id=\"{id}\">", html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Charts_RenderPngsWithText_WhenAFontIsInstalled()
    {
        Figure forest = Charts.Forest("f", "AUROC by site", "AUROC", [new ForestRow("A", new Estimate(0.9, 0.85, 0.95, 0.95, "x"))], reference: 0.5);

        Assert.Equal(0x89, forest.Png[0]);
        Assert.Equal((byte)'P', forest.Png[1]);
        Assert.Contains("A  0.900 [0.850, 0.950]", forest.AltText, StringComparison.Ordinal);
        Assert.True(FigureFonts.Available || !File.Exists("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"));
    }

    [Fact]
    public void RocPoints_ByHand()
    {
        (double[] fpr, double[] tpr) = Charts.RocPoints([0.9, 0.8, 0.3, 0.1], [1, 0, 1, 0]);

        Assert.Equal([0, 0, 0.5, 0.5, 1], fpr);
        Assert.Equal([0, 0.5, 0.5, 1, 1], tpr);
    }

    private static ReportDocument Complete()
    {
        var doc = new ReportDocument("Report", "sub");
        foreach (string id in HtmlReport.RequiredSections.Keys)
        {
            doc.Add(id, id, new Paragraph($"content of {id}"));
        }

        return doc;
    }
}
