using MedTransfer.Pipeline.Evaluate;
using MedTransfer.Pipeline.Protocols;
using MedTransfer.Reporting.Html;
using MedTransfer.Reporting.Provenance;
using MedTransfer.Testing;

namespace MedTransfer.Pipeline.Tests.Protocols;

/// <summary>A protocol describes itself well enough for the validation report's required sections.</summary>
public sealed class ProtocolCardTests
{
    private static readonly string s_protocols = Path.Combine(TestPaths.RepoRoot, "protocols");

    [Theory]
    [InlineData("cxr-site-shift.yaml")]
    [InlineData("mri-contrast-shift.yaml")]
    public void ToModelCard_ShippedProtocol_FillsEveryRequiredReportSection(string file)
    {
        ExperimentProtocol protocol = ProtocolLoader.Load(Path.Combine(s_protocols, file));
        IReadOnlyList<PredictionRow> rows = PredictionTable.Read(new StringReader(Predictions()));
        EvaluationResult result = PredictionEvaluation.Evaluate(rows, new EvaluationOptions { Bootstrap = new() { Resamples = 100 } });

        ModelCard card = ProtocolCard.ToModelCard(protocol);
        ReportDocument doc = EvaluationReport.Build(result, card, new EvaluationProvenance("00", CodeVersion.Parse("0.1.0"), new()), rows);

        Assert.Empty(HtmlReport.MissingSections(doc));
        Assert.Contains(protocol.ComputeHash(), card.Model, StringComparison.Ordinal);
        Assert.Contains(protocol.Preprocessing.RecipeHash, card.Preprocessing, StringComparison.Ordinal);
        Assert.Contains("source-only", card.Adaptation, StringComparison.Ordinal);
        Assert.NotEmpty(card.Limitations);
    }

    [Fact]
    public void ToModelCard_OracleSelection_SaysOracle()
    {
        ExperimentProtocol protocol = ProtocolLoader.Load(Path.Combine(s_protocols, "cxr-site-shift.yaml")) with { Selection = SelectionRule.Oracle };

        Assert.StartsWith("ORACLE", ProtocolCard.ToModelCard(protocol).SelectionRule, StringComparison.Ordinal);
        Assert.True(protocol.IsOracle);
    }

    private static string Predictions()
    {
        var lines = new List<string> { "id,patient,label,score,site,split" };
        for (int i = 0; i < 80; i++)
        {
            int y = i % 3 == 0 ? 1 : 0;
            lines.Add(FormattableString.Invariant($"S{i},P{i},{y},{Math.Clamp(0.3 + (0.4 * y) + (0.2 * Math.Sin(i)), 0, 1):F3},{(i % 2 == 0 ? "A" : "C")},test"));
        }

        return string.Join('\n', lines) + "\n";
    }
}
