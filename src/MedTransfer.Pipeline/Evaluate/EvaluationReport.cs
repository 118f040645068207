using System.Globalization;
using System.Text.Json;
using MedTransfer.Evaluation.Metrics;
using MedTransfer.Reporting.Figures;
using MedTransfer.Reporting.Html;
using MedTransfer.Reporting.Provenance;

namespace MedTransfer.Pipeline.Evaluate;

/// <summary>Provenance of an evaluation, so its numbers can be traced: what was evaluated, by which code.</summary>
/// <param name="PredictionsSha256">SHA-256 of the predictions file.</param>
/// <param name="Code">MedTransfer's version and commit.</param>
/// <param name="Bootstrap">Resamples and seed of every interval.</param>
public sealed record EvaluationProvenance(string PredictionsSha256, CodeVersion Code, BootstrapOptions Bootstrap);

/// <summary>Turns an <see cref="EvaluationResult"/> into the HTML validation report and results.json.</summary>
public static class EvaluationReport
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Builds the report document.</summary>
    public static ReportDocument Build(EvaluationResult result, ModelCard card, EvaluationProvenance provenance, IReadOnlyList<PredictionRow> rows) =>
        Build(result, card, provenance, SiteScores.FromRows(result, rows));

    /// <summary>
    /// Builds the report document from saved numbers: <paramref name="curves"/> holds, per site, the evaluated rows'
    /// scores and labels that the ROC and precision-recall figures need (<see cref="EvaluationResultsFile"/>).
    /// </summary>
    public static ReportDocument Build(EvaluationResult result, ModelCard card, EvaluationProvenance provenance, IReadOnlyList<SiteScores> curves)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(card);
        ArgumentNullException.ThrowIfNull(provenance);
        ArgumentNullException.ThrowIfNull(curves);
        OverallMetrics o = result.Overall;
        var doc = new ReportDocument(
            "MedTransfer validation report",
            string.Create(CultureInfo.InvariantCulture, $"{o.Samples} samples from {o.Patients} patients ({result.EvaluatedPartition}), {result.PrevalenceBySite.Count} site(s)"));

        doc.Add("summary", "Summary",
            [.. Headline(result).Select(t => (ReportBlock)new Callout(t, "info")), .. result.Warnings.Select(w => (ReportBlock)new Callout(w))]);
        doc.Add("intended-use", "Intended use", Blocks(("Intended use", card.IntendedUse), ("Out-of-scope use", card.OutOfScopeUse)));
        doc.Add("data", "Data sources", Blocks(("Sources", card.DataSources)));
        doc.Add("partitions", "Partitions", [.. Blocks(("Partitioning", card.Partitions)), new Paragraph($"Metrics below are computed on: {result.EvaluatedPartition}. The operating threshold was {o.ThresholdSource}.")]);
        doc.Add("preprocessing", "Preprocessing", Blocks(("Preprocessing", card.Preprocessing)));
        doc.Add("model", "Model and adaptation", Blocks(("Model", card.Model), ("Adaptation", card.Adaptation)));
        doc.Add("selection", "Selection rule", Blocks(("Selection rule", card.SelectionRule)));

        doc.Add("metrics", "Metrics with confidence intervals",
            new TableBlock(["Metric", "Value", "95% interval", "Method"],
            [
                Row("AUROC", o.AurocDeLong),
                Row("AUROC", o.AurocBootstrap),
                Row("Average precision (AUPRC)", o.AveragePrecision),
                Row($"Sensitivity at {Fmt(o.Threshold)}", o.Sensitivity),
                Row($"Specificity at {Fmt(o.Threshold)}", o.Specificity),
                ["Balanced accuracy", Fmt(o.AtThreshold.BalancedAccuracy), "-", "at the threshold"],
                ["PPV / NPV", $"{Fmt(o.AtThreshold.PositivePredictiveValue)} / {Fmt(o.AtThreshold.NegativePredictiveValue)}", "-", "at the threshold"],
                ["F1", Fmt(o.AtThreshold.F1), "-", "at the threshold"],
                ["Brier score", Fmt(o.Brier), "-", "mean squared error of the probability"],
                ["Prevalence", Fmt(o.Prevalence), "-", string.Create(CultureInfo.InvariantCulture, $"{o.Samples} samples")],
            ], "Overall performance"),
            new TableBlock(["", "Called positive", "Called negative"],
            [
                ["Positive", o.AtThreshold.TruePositives.ToString(CultureInfo.InvariantCulture), o.AtThreshold.FalseNegatives.ToString(CultureInfo.InvariantCulture)],
                ["Negative", o.AtThreshold.FalsePositives.ToString(CultureInfo.InvariantCulture), o.AtThreshold.TrueNegatives.ToString(CultureInfo.InvariantCulture)],
            ], $"Confusion matrix at threshold {Fmt(o.Threshold)}"),
            new FigureBlock(Charts.Roc("roc-by-site", "ROC by site", Curves(curves, result)), "ROC curves per site; the dashed line is chance."),
            new FigureBlock(Charts.PrecisionRecall("pr-by-site", "Precision-recall by site", Curves(curves, result)), "Precision-recall curves per site; chance precision equals each site's prevalence."));

        if (result.BySite.Count == 0)
        {
            doc.Add("sites", "Per-site performance", new Paragraph("Per-site metrics were not computed: the evaluation was asked not to (evaluation.per_site: false)."));
        }
        else
        {
            doc.Add("sites", "Per-site performance",
                GroupTable(result.BySite, "site"),
                new FigureBlock(Charts.Forest("auroc-by-site", "AUROC by site", "AUROC (95% interval)", [.. result.BySite.Where(g => g.Metric is not null).Select(g => new ForestRow(g.Group, g.Metric!))]), "AUROC per site with patient-bootstrap intervals."));
        }

        var subgroupBlocks = new List<ReportBlock>();
        foreach ((string column, IReadOnlyList<GroupResult> groups) in result.Subgroups)
        {
            subgroupBlocks.Add(GroupTable(groups, column));
            ForestRow[] forest = [.. groups.Where(g => g.Metric is not null).Select(g => new ForestRow(g.Group, g.Metric!))];
            if (forest.Length > 0)
            {
                subgroupBlocks.Add(new FigureBlock(Charts.Forest($"auroc-by-{column}", $"AUROC by {column}", "AUROC (95% interval)", forest), $"AUROC per {column} group."));
            }
        }

        if (subgroupBlocks.Count == 0)
        {
            subgroupBlocks.Add(new Paragraph("The predictions carry no subgroup columns (e.g. sex, age_band, manufacturer, view): subgroup performance could not be assessed."));
        }

        doc.Add("subgroups", "Subgroups", [.. subgroupBlocks]);

        doc.Add("calibration", "Calibration",
            o.Calibration.Bins.Count == 0
                ? new Callout(o.Calibration.Scheme)
                : new FigureBlock(Charts.Reliability("reliability", "Reliability diagram", o.Calibration), $"Observed frequency against predicted probability ({o.Calibration.Scheme}); ECE {Fmt(o.Calibration.Ece)}."));

        doc.Add("bias", "Dataset bias",
            new FigureBlock(Charts.Bars("prevalence-by-site", "Prevalence by site", "Fraction positive", result.PrevalenceBySite), "Label prevalence per site."),
            PrevalenceCallout(result.PrevalenceBySite),
            new Paragraph("Site probe, proxy A-distance and shortcut checks need image features or pixels, which a predictions table does not carry; `medtransfer run` computes them."));

        doc.Add("limitations", "Limitations", [.. (card.Limitations.Count == 0 ? [string.Empty] : card.Limitations).Where(l => l.Length > 0).Select(l => (ReportBlock)new Paragraph(l)), .. StandardLimitations(result)]);

        doc.Add("provenance", "Provenance",
            new KeyValues(
            [
                new("Predictions file SHA-256", provenance.PredictionsSha256),
                new("MedTransfer", provenance.Code.ToString()),
                new("Bootstrap", string.Create(CultureInfo.InvariantCulture, $"{provenance.Bootstrap.Resamples} patient-level stratified resamples, seed {provenance.Bootstrap.Seed}, {provenance.Bootstrap.Confidence:P0} percentile intervals")),
                new("Reproducibility", "Evaluation is plain managed arithmetic with a seeded resampler: the same inputs give the same numbers on any machine."),
            ]));
        return doc;
    }

    /// <summary>results.json: every number of the evaluation, machine-readable (no model card or curve data: the report cannot be re-rendered from it).</summary>
    public static string ResultsJson(EvaluationResult result, EvaluationProvenance provenance)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(provenance);
        return JsonSerializer.Serialize(new { result, provenance }, s_json);
    }

    /// <summary>
    /// results.json with everything `medtransfer report` needs to re-render the HTML report: the numbers and
    /// provenance as before, plus <c>formatVersion</c>, the model card and, per site, the evaluated rows' scores and
    /// labels (sorted by score; no ids) for the ROC and precision-recall figures. Read it with <see cref="EvaluationResultsFile.Read"/>.
    /// </summary>
    public static string ResultsJson(EvaluationResult result, EvaluationProvenance provenance, ModelCard card, IReadOnlyList<PredictionRow> rows)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(provenance);
        ArgumentNullException.ThrowIfNull(card);
        ArgumentNullException.ThrowIfNull(rows);
        return JsonSerializer.Serialize(new { formatVersion = EvaluationResultsFile.FormatVersion, result, provenance, card, curves = SiteScores.FromRows(result, rows) }, s_json);
    }

    internal static JsonSerializerOptions JsonOptions => s_json;

    /// <summary>The lines a terminal summary or `--json` headline shows.</summary>
    public static IReadOnlyList<string> Headline(EvaluationResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        OverallMetrics o = result.Overall;
        var lines = new List<string>
        {
            $"AUROC {Fmt(o.AurocBootstrap.Value)} [{Fmt(o.AurocBootstrap.Lower)}, {Fmt(o.AurocBootstrap.Upper)}] on {o.Samples} samples ({o.Patients} patients).",
            $"ECE {Fmt(o.Calibration.Ece)}; sensitivity {Fmt(o.AtThreshold.Sensitivity)} and specificity {Fmt(o.AtThreshold.Specificity)} at threshold {Fmt(o.Threshold)}.",
        };
        foreach (GroupResult g in result.BySite)
        {
            lines.Add(g.Metric is null
                ? $"Site {g.Group}: AUROC not defined ({g.Note})."
                : $"Site {g.Group}: AUROC {Fmt(g.Metric.Value)} [{Fmt(g.Metric.Lower)}, {Fmt(g.Metric.Upper)}], n = {g.Samples}.");
        }

        return lines;
    }

    private static ReportBlock[] Blocks(params (string Label, string Text)[] items)
    {
        (string Label, string Text)[] given = [.. items.Where(i => !string.IsNullOrWhiteSpace(i.Text))];
        return given.Length == 0 ? [] : [new KeyValues([.. given.Select(i => new KeyValuePair<string, string>(i.Label, i.Text))])];
    }

    private static List<string> Row(string name, Estimate e) => [name, Fmt(e.Value), $"[{Fmt(e.Lower)}, {Fmt(e.Upper)}]", e.Method];

    private static TableBlock GroupTable(IReadOnlyList<GroupResult> groups, string column) =>
        new(
            [column, "Samples", "Positives", "AUROC", "95% interval", "Difference from the rest", "Note"],
            [.. groups.Select(g => (IReadOnlyList<string>)
            [
                g.Group,
                g.Samples.ToString(CultureInfo.InvariantCulture),
                g.Positives.ToString(CultureInfo.InvariantCulture),
                g.Metric is null ? "-" : Fmt(g.Metric.Value),
                g.Metric is null ? "-" : $"[{Fmt(g.Metric.Lower)}, {Fmt(g.Metric.Upper)}]",
                g.DifferenceFromRest is null ? "-" : $"{Fmt(g.DifferenceFromRest.Value)} [{Fmt(g.DifferenceFromRest.Lower)}, {Fmt(g.DifferenceFromRest.Upper)}]{(g.DifferenceFromRest.ClearlyNegative ? " (worse)" : g.DifferenceFromRest.ClearlyPositive ? " (better)" : string.Empty)}",
                g.Note ?? string.Empty,
            ])],
            $"AUROC by {column}");

    private static List<CurveInput> Curves(IReadOnlyList<SiteScores> curves, EvaluationResult result) => result.BySite.Count == 0
        ? [new CurveInput($"all evaluated rows (AUROC {Fmt(result.Overall.AurocDeLong.Value)})", [.. curves.SelectMany(c => c.Scores)], [.. curves.SelectMany(c => c.Labels)])]
        : [.. result.BySite.Where(g => g.Metric is not null).Select(g =>
        {
            SiteScores? site = curves.FirstOrDefault(c => c.Site == g.Group);
            return new CurveInput($"{g.Group} (AUROC {Fmt(g.Metric!.Value)})", site?.Scores ?? [], site?.Labels ?? []);
        })];

    private static ReportBlock PrevalenceCallout(IReadOnlyDictionary<string, double> prevalence)
    {
        double min = prevalence.Values.Min();
        double max = prevalence.Values.Max();
        string range = string.Create(CultureInfo.InvariantCulture, $"{min * 100:F0}% to {max * 100:F0}%");
        return max - min >= 0.1
            ? new Callout($"Prevalence differs across sites ({range}): a model can score well by recognising the site. Check the site probe before trusting pooled metrics.", "risk")
            : new Callout($"Prevalence is similar across sites ({range}).", "info");
    }

    private static IEnumerable<ReportBlock> StandardLimitations(EvaluationResult result)
    {
        yield return new Paragraph("Confidence intervals reflect sampling of patients only; they do not cover shifts to sites or scanners absent from this data.");
        if (result.EvaluatedPartition != "test")
        {
            yield return new Paragraph("No held-out test partition was marked: the metrics may be optimistic if these rows were used for development.");
        }

        foreach (GroupResult g in result.BySite.Where(g => g.Metric is null))
        {
            yield return new Paragraph($"Site {g.Group}: performance could not be estimated ({g.Note}).");
        }
    }

    private static string Fmt(double v) => double.IsNaN(v) ? "n/a" : v.ToString("F3", CultureInfo.InvariantCulture);
}
