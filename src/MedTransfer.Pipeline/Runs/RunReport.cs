using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using MedTransfer.Evaluation.Diagnostics;
using MedTransfer.Evaluation.Metrics;
using MedTransfer.Pipeline.Evaluate;
using MedTransfer.Pipeline.Runs.Stages;
using MedTransfer.Reporting.Figures;
using MedTransfer.Reporting.Html;

namespace MedTransfer.Pipeline.Runs;

/// <summary>
/// The audit report of `medtransfer run`: the full validation report of the selected method's
/// predictions (<see cref="EvaluationReport"/>) plus methods and seeds, negative transfer, transferability, feature
/// bias, the shortcut check, training curves, embeddings and reproducibility; and the matching results.json.
/// </summary>
public static class RunReport
{
    /// <summary>Share of the last steps over which a saturated discriminator is flagged.</summary>
    internal const double SaturationTail = 0.2;

    /// <summary>Discriminator accuracy at or above which the domain discriminator is "winning".</summary>
    internal const double SaturationAccuracy = 0.99;

    /// <summary>The sentence for runs whose numbers repeat bit for bit.</summary>
    public const string DeterministicSentence = "CPU run: the same protocol and seed repeat bit for bit.";

    /// <summary>The sentence for GPU runs (determinism is never claimed for CUDA).</summary>
    public const string GpuSentence = "GPU run: not deterministic; numbers vary slightly between runs.";

    /// <summary>Format version of <see cref="ResultsJson"/>.</summary>
    public const int FormatVersion = 1;

    private static readonly JsonSerializerOptions s_json = new(EvaluationReport.JsonOptions)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    // Where the run's sections go: after the evaluation's own findings, before its limitations and provenance.
    private static readonly string[] s_tail = ["limitations", "provenance"];

    /// <summary>Builds the run report document.</summary>
    /// <param name="run">Everything the run measured.</param>
    /// <param name="selected">The evaluation of the selected method's predictions.</param>
    /// <param name="card">The model card.</param>
    /// <param name="provenance">Provenance of the evaluation.</param>
    /// <param name="rows">The selected method's prediction rows (for the ROC and PR figures).</param>
    /// <exception cref="ArgumentException">Inconsistent run results (e.g. embedding coordinates of different lengths).</exception>
    public static ReportDocument Build(RunResults run, EvaluationResult selected, ModelCard card, EvaluationProvenance provenance, IReadOnlyList<PredictionRow> rows)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(selected);
        ArgumentNullException.ThrowIfNull(card);
        ArgumentNullException.ThrowIfNull(provenance);
        ArgumentNullException.ThrowIfNull(rows);
        Validate(run);

        ReportDocument evaluation = EvaluationReport.Build(selected, card, provenance, rows);
        var doc = new ReportDocument(
            "MedTransfer run report",
            string.Create(CultureInfo.InvariantCulture, $"Protocol {run.ProtocolName}: {run.Summary.Count} method(s), {run.Runs.Count} run(s) on {run.Device}; selected model {run.Selected.Method}, seed {run.Selected.Seed}, step {run.Selected.Checkpoint}{(run.Selected.IsOracle ? " (ORACLE)" : string.Empty)}; target evaluation: {run.TargetEvaluation}. {evaluation.Subtitle}."));

        foreach (ReportSection s in evaluation.Sections.Where(s => !s_tail.Contains(s.Id)))
        {
            doc.Add(s.Id, s.Title, [.. s.Blocks]);
        }

        doc.Add("site-counts", "Images per site", SiteCountBlocks(run));
        if (run.Backbone is { } backbone)
        {
            doc.Add("backbone", "Backbone", backbone.Blocks());
        }

        if (run.Ranking is { } ranking)
        {
            doc.Add("backbone-ranking", "Backbone candidates ranked before training", BackboneRanking.Blocks(ranking, run.Validation));
        }

        doc.Add("model-selection", "Model selection", SelectionBlocks(run));
        doc.Add("selection-audit", "Selection audit (ORACLE: uses target labels)", AuditBlocks(run));
        doc.Add("methods", "Methods and seeds", MethodsBlocks(run));
        doc.Add("negative-transfer", "Negative transfer", [.. PooledGapBlocks(run), .. NegativeTransferBlocks(run)]);
        doc.Add("operating-point", "Temperature scaling and operating point", CalibrationBlocks(run));
        doc.Add("transferability", "Transferability before training", TransferabilityBlocks(run));
        doc.Add("feature-bias", "Feature bias and label shift", FeatureBiasBlocks(run));
        doc.Add("shortcut", "Shortcut check", ShortcutBlocks(run));
        doc.Add("training", "Training curves", TrainingBlocks(run));
        doc.Add("embeddings", "Embeddings", EmbeddingBlocks(run));
        doc.Add("reproducibility", "Reproducibility", ReproducibilityBlocks(run));

        foreach (ReportSection s in evaluation.Sections.Where(s => s_tail.Contains(s.Id)))
        {
            doc.Add(s.Id, s.Title, [.. s.Blocks]);
        }

        return doc;
    }

    /// <summary>
    /// results.json of a run: every number of <paramref name="run"/> (camelCase, NaN as a named literal, enums as
    /// strings) and, under <c>evaluation</c>, the selected method's evaluation exactly as
    /// <see cref="EvaluationReport.ResultsJson(EvaluationResult, EvaluationProvenance)"/> writes it. Same inputs give
    /// identical bytes.
    /// </summary>
    public static string ResultsJson(RunResults run, EvaluationResult selected, EvaluationProvenance provenance)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(selected);
        ArgumentNullException.ThrowIfNull(provenance);
        JsonNode? evaluation = JsonNode.Parse(EvaluationReport.ResultsJson(selected, provenance));
        var root = new JsonObject
        {
            ["formatVersion"] = FormatVersion,
            ["kind"] = "run",
            ["run"] = JsonSerializer.SerializeToNode(run, s_json),
            ["reproducibility"] = JsonSerializer.SerializeToNode(new { claimsDeterminism = ClaimsDeterminism(run), statement = ReproducibilitySentence(run) }, s_json),
            ["evaluation"] = evaluation,
        };
        return root.ToJsonString(s_json);
    }

    /// <summary>True only for a run marked deterministic on a device other than CUDA.</summary>
    internal static bool ClaimsDeterminism(RunResults run) => run.Deterministic && !IsCuda(run.Device);

    /// <summary>The reproducibility sentence of a run.</summary>
    internal static string ReproducibilitySentence(RunResults run) =>
        ClaimsDeterminism(run) ? DeterministicSentence
        : IsCuda(run.Device) ? GpuSentence
        : $"Run on {run.Device}, not marked deterministic: numbers may vary slightly between runs.";

    /// <summary>True when the discriminator accuracy is at or above 0.99 at every recorded step of the last 20% of steps.</summary>
    internal static bool DiscriminatorSaturated(IReadOnlyList<double> accuracy)
    {
        int tail = (int)Math.Ceiling(accuracy.Count * SaturationTail);
        if (tail == 0)
        {
            return false;
        }

        double[] last = [.. accuracy.Skip(accuracy.Count - tail).Where(double.IsFinite)];
        return last.Length > 0 && last.All(a => a >= SaturationAccuracy);
    }

    private static bool IsCuda(string device) => device.Contains("cuda", StringComparison.OrdinalIgnoreCase) || device.Contains("gpu", StringComparison.OrdinalIgnoreCase);

    private static void Validate(RunResults run)
    {
        foreach (EmbeddingPoints e in run.Embeddings)
        {
            if (e.X.Count != e.Y.Count || e.X.Count != e.Domains.Count || e.X.Count != e.Labels.Count)
            {
                throw new ArgumentException($"Embedding '{e.Model}' has coordinates, domains and labels of different lengths.", nameof(run));
            }
        }

        if (run.Shortcut is { } s && s.Occlusion.Sensitivity.Length != s.Occlusion.Grid * s.Occlusion.Grid)
        {
            throw new ArgumentException("The occlusion map does not have Grid × Grid cells.", nameof(run));
        }
    }

    private static ReportBlock[] SelectionBlocks(RunResults run)
    {
        SelectedRun s = run.Selected;
        var blocks = new List<ReportBlock>
        {
            new KeyValues(
            [
                new("Selected model", string.Create(CultureInfo.InvariantCulture, $"{s.Method}, seed {s.Seed}, checkpoint at step {s.Checkpoint}")),
                new("Selection rule", s.IsOracle ? "ORACLE — " + s.Rule : s.Rule),
                new("Its score", Fmt(s.Score)),
                new("Target evaluation", run.TargetEvaluation == "transductive"
                    ? "transductive: every target image was adapted on (without labels) and is scored; these numbers are not a held-out estimate"
                    : "held-out: metrics on the target test partition, which no model trained or was selected on"),
            ]),
            new Paragraph("The rule scored every candidate checkpoint of every (method, seed) run; the best one is the model evaluated in full, calibrated and exported. The target-only baseline is not a candidate: it trains on target labels."),
        };
        if (s.IsOracle)
        {
            blocks.Add(new Callout("ORACLE: this model was chosen with target labels. Its numbers are an upper bound that a deployment without target labels cannot reach.", "risk"));
        }

        return [.. blocks];
    }

    private static ReportBlock[] AuditBlocks(RunResults run)
    {
        SelectionAudit a = run.Audit;
        if (a.Validators.Count == 0)
        {
            return [new Paragraph("No candidate was audited.")];
        }

        return
        [
            new TableBlock(
                ["Validator", "Picks", "Target AUROC of the pick", "Rank (of all candidates)", "Regret vs best", "Rank correlation with target AUROC"],
                [.. a.Validators.Select(v => (IReadOnlyList<string>)
                [
                    v.Validator + (v.IsProtocolRule ? " (the protocol's rule)" : string.Empty) + (v.Validator == "oracle" ? " — ORACLE" : string.Empty),
                    string.Create(CultureInfo.InvariantCulture, $"{v.Method}, seed {v.Seed}, step {v.Checkpoint}"),
                    Fmt(v.TargetAuroc),
                    string.Create(CultureInfo.InvariantCulture, $"{v.Rank} of {a.Candidates}"),
                    Fmt(v.Regret),
                    Fmt(v.RankCorrelation),
                ])],
                string.Create(CultureInfo.InvariantCulture, $"What each validator would have picked among {a.Candidates} candidate checkpoints (best target AUROC {Fmt(a.BestTargetAuroc)}); Spearman's ρ of its scores with target AUROC")),
            new Callout("ORACLE: this table reads the target labels to judge the validators; no model in this run was chosen with it. A validator with high regret or a rank correlation near zero does not tell good models from bad ones on this target.", "warning"),
        ];
    }

    private static ReportBlock[] PooledGapBlocks(RunResults run)
    {
        if (run.PooledGaps.Count == 0)
        {
            return [new Paragraph("No gap pooled over seeds was computed (a method and a baseline need every seed).")];
        }

        string Label(PooledGapEntry e) => $"{e.Method} vs {e.Result.Baseline} (pooled)";
        ForestRow[] forest = [.. run.PooledGaps.Where(e => double.IsFinite(e.Result.Gap.Lower) && double.IsFinite(e.Result.Gap.Upper)).Select(e => new ForestRow(Label(e), e.Result.Gap))];
        var blocks = new List<ReportBlock>();
        if (forest.Length > 0)
        {
            blocks.Add(new FigureBlock(
                Charts.Forest("pooled-negative-transfer-gap", "Negative-transfer gap pooled over seeds", "AUROC gap (method − baseline), mean over seeds", forest, reference: 0),
                "In every patient-bootstrap resample of the target images the AUROC gap is computed for each seed on that resample and averaged over seeds; the interval of that average sets the verdict."));
        }

        blocks.Add(new TableBlock(
            ["Method", "Baseline", "Pooled gap", "Interval", "Verdict", "Per-seed gaps"],
            [.. run.PooledGaps.Select(e => (IReadOnlyList<string>)
            [
                e.Method,
                e.Result.Baseline,
                Fmt(e.Result.Gap.Value),
                $"[{Fmt(e.Result.Gap.Lower)}, {Fmt(e.Result.Gap.Upper)}]",
                VerdictWords(e.Result.Verdict),
                string.Join(", ", e.Result.PerSeedGaps.Select((g, k) => string.Create(CultureInfo.InvariantCulture, $"seed {e.Seeds[k]}: {Fmt(g)}"))),
            ])],
            "Gap per method and baseline, pooled over seeds (the verdicts of this report)"));
        return [.. blocks];
    }

    private static ReportBlock[] CalibrationBlocks(RunResults run)
    {
        CalibrationSummary c = run.Calibration;
        OperatingPoint o = run.OperatingPoint;
        return
        [
            new KeyValues(
            [
                new("Temperature (fitted on source validation)", Fmt(c.Temperature) + " (scores are σ(z / T); ranking and AUROC unchanged)"),
                new("ECE on source validation", $"{Fmt(c.SourceValEceBefore)} before, {Fmt(c.SourceValEceAfter)} after"),
            ]),
            new TableBlock(
                ["Target site", "Images", "ECE before", "ECE after"],
                [.. c.BySite.Select(s => (IReadOnlyList<string>)[s.Site, s.Images.ToString(CultureInfo.InvariantCulture), Fmt(s.EceBefore), Fmt(s.EceAfter)])],
                "Expected calibration error on the target (15 equal-width bins), before and after temperature scaling; the target labels only measure it"),
            new TableBlock(
                ["", "Sensitivity", "Specificity"],
                [
                    ["Source validation (where the threshold was chosen)", Fmt(o.SourceValSensitivity), Fmt(o.SourceValSpecificity)],
                    ["Target (same threshold)", Fmt(o.TargetSensitivity), Fmt(o.TargetSpecificity)],
                ],
                string.Create(CultureInfo.InvariantCulture, $"Operating threshold {Fmt(o.Threshold)} on the calibrated score, by {o.Rule}: how sensitivity and specificity move from the source to the target")),
        ];
    }

    private static ReportBlock[] SiteCountBlocks(RunResults run)
    {
        if (run.Sites.Count == 0)
        {
            return [new Paragraph("No per-site counts were recorded.")];
        }

        var blocks = new List<ReportBlock>
        {
            new TableBlock(
                ["Site", "Role", "Indexed", "Labelled", "Unlabelled (not used)", "Could not be read", "Used"],
                [.. run.Sites.Select(c => (IReadOnlyList<string>)
                [
                    c.Site, c.Role,
                    c.Indexed.ToString(CultureInfo.InvariantCulture), c.Labelled.ToString(CultureInfo.InvariantCulture),
                    c.Unlabelled.ToString(CultureInfo.InvariantCulture), c.Quarantined.ToString(CultureInfo.InvariantCulture), c.Used.ToString(CultureInfo.InvariantCulture),
                ])],
                "Images of each protocol site: found by the indexer, with a 0/1 label, without one, labelled but unreadable (see quarantine.txt), and used in the partitions"),
        };
        if (run.Sites.Any(c => c.Unlabelled > 0 || c.Quarantined > 0))
        {
            blocks.Add(new Callout("Some images of the protocol's sites were not used (no label, or unreadable): the results describe the images that were.", "warning"));
        }

        return [.. blocks];
    }

    private static ReportBlock[] MethodsBlocks(RunResults run)
    {
        var blocks = new List<ReportBlock>();
        if (run.Summary.Count == 0)
        {
            blocks.Add(new Paragraph("No method finished a run, so there is nothing to summarise over seeds."));
        }
        else
        {
            blocks.Add(new TableBlock(
                ["Method", "Target AUROC (mean ± sd)", "Source AUROC (mean ± sd)", "Seeds"],
                [.. run.Summary.Select(m => (IReadOnlyList<string>)
                [
                    m.Method + (m.Method == run.SelectedMethod ? $" (selected: seed {run.SelectedSeed.ToString(CultureInfo.InvariantCulture)})" : string.Empty),
                    $"{Fmt(m.TargetAurocMean)} ± {Fmt(m.TargetAurocSd)}",
                    $"{Fmt(m.SourceAurocMean)} ± {Fmt(m.SourceAurocSd)}",
                    m.Seeds.ToString(CultureInfo.InvariantCulture),
                ])],
                "Per method over seeds (sample standard deviation; 0 for one seed)"));
            ForestRow[] forest = [.. run.Summary.Where(m => double.IsFinite(m.TargetAurocMean)).Select(m =>
            {
                double sd = double.IsFinite(m.TargetAurocSd) ? m.TargetAurocSd : 0;
                return new ForestRow(m.Method, new Estimate(m.TargetAurocMean, m.TargetAurocMean - sd, m.TargetAurocMean + sd, double.NaN, "mean ± sd over seeds"));
            })];
            blocks.Add(forest.Length == 0
                ? new Paragraph("No method has a defined target AUROC, so there is no figure.")
                : new FigureBlock(
                    Charts.Forest("target-auroc-by-method", "Target AUROC by method", "Target AUROC (mean ± sd over seeds)", forest),
                    "Target AUROC per method: the point is the mean over seeds, the bar spans ± one standard deviation (seed variation, not a confidence interval)."));
        }

        if (run.Runs.Count == 0)
        {
            blocks.Add(new Paragraph("No (method, seed) run was recorded."));
        }
        else
        {
            blocks.Add(new TableBlock(
                ["Method", "Seed", "Target AUROC", "Source AUROC", "Target accuracy", "Steps", "Kept step", "Trains from", "Seconds", "Selection rule"],
                [.. run.Runs.Select(r => (IReadOnlyList<string>)
                [
                    r.Method,
                    r.Seed.ToString(CultureInfo.InvariantCulture),
                    Fmt(r.TargetAuroc),
                    Fmt(r.SourceAuroc),
                    Fmt(r.TargetAccuracy),
                    r.Steps.ToString(CultureInfo.InvariantCulture) + (r.StoppedEarly ? " (stopped early)" : string.Empty),
                    r.SelectedStep.ToString(CultureInfo.InvariantCulture),
                    r.TrainableFrom == "head" ? "head only (frozen backbone)" : r.TrainableFrom,
                    r.Seconds.ToString("F1", CultureInfo.InvariantCulture),
                    r.IsOracle ? $"ORACLE: {r.SelectedBy} (looked at target labels)" : r.SelectedBy,
                ])],
                "Every (method, seed) run, with the candidate it keeps by the protocol's rule"));
        }

        MethodSeedResult[] oracle = [.. run.Runs.Where(r => r.IsOracle)];
        if (oracle.Length > 0)
        {
            blocks.Add(new Callout(
                $"ORACLE: {oracle.Length} run(s) ({string.Join(", ", oracle.Select(r => r.Method).Distinct(StringComparer.Ordinal))}) kept the checkpoint chosen with target labels. Their target numbers are an upper bound that a deployment without target labels cannot reach.",
                "risk"));
        }

        return [.. blocks];
    }

    private static ReportBlock[] NegativeTransferBlocks(RunResults run)
    {
        if (run.NegativeTransfer.Count == 0)
        {
            return [new Paragraph("No gap was computed: the protocol ran no adapted method together with a baseline, so negative transfer could not be measured.")];
        }

        string Label(NegativeTransferEntry e) => $"{e.Method} vs {e.Result.Baseline}";
        ForestRow[] forest = [.. run.NegativeTransfer
            .Where(e => double.IsFinite(e.Result.Gap.Value) && double.IsFinite(e.Result.Gap.Lower) && double.IsFinite(e.Result.Gap.Upper))
            .Select(e => new ForestRow(Label(e), e.Result.Gap))];
        return
        [
            forest.Length == 0
                ? new Paragraph("No gap has a defined interval, so there is no figure.")
                : new FigureBlock(
                    Charts.Forest("negative-transfer-gap", "Negative-transfer gap", "Gap (method − baseline, 95% interval)", forest, reference: 0),
                    "NTG = metric(method) − metric(baseline) on the same target samples with a paired patient-bootstrap interval; the dashed line is no difference."),
            new TableBlock(
                ["Method", "Baseline", "Metric", "Gap", "95% interval", "Verdict"],
                [.. run.NegativeTransfer.Select(e => (IReadOnlyList<string>)
                [
                    e.Method,
                    e.Result.Baseline,
                    e.Result.Metric,
                    Fmt(e.Result.Gap.Value),
                    $"[{Fmt(e.Result.Gap.Lower)}, {Fmt(e.Result.Gap.Upper)}]",
                    VerdictWords(e.Result.Verdict),
                ])],
                "Gap per method and baseline, first seed only"),
            .. run.NegativeTransfer.Select(e => (ReportBlock)new Callout(
                $"{Label(e)}: {VerdictSentence(e.Result)}",
                e.Result.Verdict switch { TransferVerdict.Negative => "risk", TransferVerdict.Positive => "info", _ => "warning" })),
            new Paragraph("The table above compares the first seed's runs only; the pooled gaps are the verdicts. Only an interval clear of zero sets a verdict; an interval that contains zero means no difference could be detected, not that the methods are equal."),
        ];
    }

    private static string VerdictWords(TransferVerdict verdict) => verdict switch
    {
        TransferVerdict.Positive => "positive transfer",
        TransferVerdict.Negative => "negative transfer",
        _ => "no detectable difference",
    };

    private static string VerdictSentence(NegativeTransferResult r)
    {
        string gap = $"{r.Metric} gap {Fmt(r.Gap.Value)} [{Fmt(r.Gap.Lower)}, {Fmt(r.Gap.Upper)}]";
        return r.Verdict switch
        {
            TransferVerdict.Positive => $"positive transfer ({gap}, interval above zero).",
            TransferVerdict.Negative => $"negative transfer: the method is worse than the baseline ({gap}, interval below zero).",
            _ => $"no detectable difference ({gap}, interval contains zero).",
        };
    }

    private static ReportBlock[] TransferabilityBlocks(RunResults run)
    {
        const string caveat = "No transferability estimator is reliable everywhere (LEEP's rank correlation with fine-tuned accuracy was negative on 3 of 8 data sets in tllib's benchmark), so several are reported: LogME (You et al. 2021), H-score (Bao et al. 2019), GBC (Pándy et al. 2022) and TransRate (Huang et al. 2022). Read them as hints about the pretrained features, not as predictions of the final AUROC.";
        if (run.Transferability.Count == 0)
        {
            return [new Paragraph("No transferability estimate was computed (the run extracted no pretrained features with labels)."), new Callout(caveat, "info")];
        }

        return
        [
            new TableBlock(
                ["Partition", "Samples", "LogME", "H-score", "GBC", "TransRate"],
                [.. run.Transferability.Select(t => (IReadOnlyList<string>)
                [
                    t.Partition,
                    t.Samples.ToString(CultureInfo.InvariantCulture),
                    Fmt(t.LogMe),
                    Fmt(t.HScore),
                    Fmt(t.Gbc),
                    Fmt(t.TransRate),
                ])],
                "Transferability of the pretrained backbone's features (higher is better for each score); an \"oracle\" partition used target labels"),
            new Callout(caveat, "warning"),
        ];
    }

    private static ReportBlock[] FeatureBiasBlocks(RunResults run)
    {
        FeatureBias bias = run.Bias;
        var blocks = new List<ReportBlock>();
        if (bias.SiteProbe.PerSite.Count == 0)
        {
            blocks.Add(new Paragraph("The site probe was not run (fewer than two sites)."));
        }
        else
        {
            blocks.Add(new TableBlock(
                ["Site", "Probe AUROC (site vs rest)"],
                [.. bias.SiteProbe.PerSite.Select(kv => (IReadOnlyList<string>)[kv.Key, Fmt(kv.Value)]), ["macro average", Fmt(bias.SiteProbe.MacroAuc)]],
                string.Create(CultureInfo.InvariantCulture, $"Site probe: how well a linear model tells the site from the pretrained features ({bias.SiteProbe.Folds}-fold cross-validation; 0.5 = not at all)")));
        }

        blocks.Add(new KeyValues(
        [
            new("Proxy A-distance, source vs target", string.Create(CultureInfo.InvariantCulture, $"{Fmt(bias.SourceVsTarget.Distance)} (0 = indistinguishable, 2 = perfectly separable; domain-classifier error {Fmt(bias.SourceVsTarget.HeldOutError)} on {bias.SourceVsTarget.HeldOut} held-out samples)")),
            new("BBSE target class distribution (label-free)", bias.BbseTargetPrior.Count == 0 ? "not estimated" : string.Join(", ", bias.BbseTargetPrior.Select((p, k) => string.Create(CultureInfo.InvariantCulture, $"class {k}: {Fmt(p)}")))),
        ]));

        if (bias.Prevalence.Count == 0)
        {
            blocks.Add(new Paragraph("No labelled images, so prevalence per site is unknown."));
        }
        else
        {
            blocks.Add(new TableBlock(
                ["Site", "Observed prevalence"],
                [.. bias.Prevalence.Select(kv => (IReadOnlyList<string>)[kv.Key, Fmt(kv.Value)])],
                "Observed label prevalence per site (all partitions); compare the BBSE estimate of the target's positive share above"));
        }

        blocks.Add(new Callout(string.IsNullOrWhiteSpace(bias.Verdict) ? "No verdict was produced." : bias.Verdict, bias.SiteProbe.MacroAuc >= 0.9 ? "risk" : "warning"));
        return [.. blocks];
    }

    private static ReportBlock[] ShortcutBlocks(RunResults run)
    {
        if (run.Shortcut is not { } s)
        {
            return [new Paragraph("The shortcut check was not run for this protocol (it needs the selected model and the target test images).")];
        }

        OcclusionSummary o = s.Occlusion;
        return
        [
            new TableBlock(
                ["Condition", "AUROC", "Difference from unmasked", "95% interval", "Pixels masked"],
                [
                    ["unmasked", Fmt(s.Auroc), "-", "-", "0%"],
                    MaskedRow(s.BorderMasked),
                    MaskedRow(s.CentreMasked),
                ],
                "AUROC with the border ring or a centred box of the same area masked (negative difference = masking hurts)"),
            new FigureBlock(
                Charts.Heatmap("occlusion-sensitivity", "Occlusion sensitivity", o.Sensitivity, o.Grid, o.Grid, "Mean |score change|"),
                string.Create(CultureInfo.InvariantCulture, $"Mean absolute change of the score when each cell of a {o.Grid} × {o.Grid} grid is occluded ({o.Images} images). The outer ring holds {Percent(o.BorderMass)} of the sensitivity and {Percent(o.BorderArea)} of the area.")),
            new Callout(s.Finding, s.ShortcutRisk ? "warning" : "info"),
        ];
    }

    private static List<string> MaskedRow(MaskedAuroc m) =>
        [m.Condition, Fmt(m.Auroc), Fmt(m.Difference.Value), $"[{Fmt(m.Difference.Lower)}, {Fmt(m.Difference.Upper)}]", Percent(m.MaskedPixelFraction)];

    private static ReportBlock[] TrainingBlocks(RunResults run)
    {
        // One run per method: its first seed (in the order the runs were recorded).
        MethodSeedResult[] first = [.. run.Runs.GroupBy(r => r.Method, StringComparer.Ordinal).Select(g => g.First())];
        if (first.Length == 0)
        {
            return [new Paragraph("No run recorded training curves.")];
        }

        var blocks = new List<ReportBlock>();
        string Name(MethodSeedResult r) => string.Create(CultureInfo.InvariantCulture, $"{r.Method} (seed {r.Seed})");
        if (first.All(r => r.Curves.Loss.Count == 0))
        {
            blocks.Add(new Paragraph("The runs recorded no per-step loss."));
        }
        else
        {
            blocks.Add(new FigureBlock(
                Charts.Lines("training-loss", "Training loss", "Step", "Total loss", [.. first.Select(r => (Name(r), r.Curves.Loss))]),
                "Total training loss per step, first seed of each method."));
        }

        MethodSeedResult[] adversarial = [.. first.Where(r => r.Curves.DiscriminatorAccuracy.Any(double.IsFinite))];
        if (adversarial.Length == 0)
        {
            blocks.Add(new Paragraph("No method trained a domain discriminator, so there are no λ or discriminator-accuracy curves."));
            return [.. blocks];
        }

        blocks.Add(new FigureBlock(
            Charts.Lines("adaptation-lambda", "Adaptation weight λ", "Step", "λ", [.. adversarial.Select(r => (Name(r), r.Curves.Lambda))]),
            "Weight of the adaptation term per step for the adversarial methods."));
        blocks.Add(new FigureBlock(
            Charts.Lines("discriminator-accuracy", "Domain-discriminator accuracy", "Step", "Accuracy", [.. adversarial.Select(r => (Name(r), r.Curves.DiscriminatorAccuracy))]),
            "Accuracy of the domain discriminator per step; near 0.5 means the features no longer tell the domains apart, near 1 means the discriminator wins."));
        foreach (MethodSeedResult r in adversarial.Where(r => DiscriminatorSaturated(r.Curves.DiscriminatorAccuracy)))
        {
            blocks.Add(new Callout(
                $"{Name(r)}: the domain discriminator's accuracy stayed at or above {SaturationAccuracy.ToString("F2", CultureInfo.InvariantCulture)} for the last {Percent(SaturationTail)} of the steps. Adversarial training is not aligning the domains (the feature extractor lost the game); check λ, the learning rates and the gradient reversal before trusting this method's results.",
                "risk"));
        }

        return [.. blocks];
    }

    private static ReportBlock[] EmbeddingBlocks(RunResults run)
    {
        if (!run.EmbeddingsRequested)
        {
            return [new Paragraph("The protocol turned the embedding figures off (report.embeddings: none).")];
        }

        if (run.Embeddings.Count == 0)
        {
            return [new Paragraph("No embedding was computed (the run extracted no test-partition features).")];
        }

        var blocks = new List<ReportBlock>();
        for (int i = 0; i < run.Embeddings.Count; i++)
        {
            EmbeddingPoints e = run.Embeddings[i];
            (double X, double Y)[] points = [.. e.X.Zip(e.Y)];
            string stem = string.Create(CultureInfo.InvariantCulture, $"embedding-{i + 1}");
            blocks.Add(new FigureBlock(Charts.Embedding($"{stem}-domain", $"{e.Model}: by site", points, e.Domains), $"PCA of the test-partition features of {e.Model}, coloured by site ({points.Length} images)."));
            blocks.Add(new FigureBlock(Charts.Embedding($"{stem}-label", $"{e.Model}: by label", points, e.Labels), $"The same PCA coloured by label."));
        }

        blocks.Add(new Paragraph("Sites that stay in separate clusters after adaptation mean the features still encode the site; a 2-D projection can hide or exaggerate overlap, so read it with the proxy A-distance."));
        return [.. blocks];
    }

    private static ReportBlock[] ReproducibilityBlocks(RunResults run) =>
    [
        new Callout(ReproducibilitySentence(run), ClaimsDeterminism(run) ? "info" : "warning"),
        new KeyValues(
        [
            new("Protocol", run.ProtocolName),
            new("Protocol hash", run.ProtocolHash),
            new("Data manifest SHA-256", run.ManifestSha256),
            new("Pseudonym key fingerprint", run.PseudonymKeyFingerprint + " (the same fingerprint means the same keyed pseudonyms; not the key)"),
            new("Device", run.Device),
            new("Wall time", string.Create(CultureInfo.InvariantCulture, $"{run.Seconds:F1} s")),
            new("Frozen layers run by", run.FeatureEngine ?? "nothing frozen"),
            new("Feature cache", run.Cache is not { } c ? "not used"
                : string.Create(CultureInfo.InvariantCulture, $"images: {c.ImagesRead} read, {c.ImagesNormalized} normalized; frozen activations: {c.ActivationsRead} read, {c.ActivationsComputed} computed; {c.CorruptEntries} corrupt entries rebuilt{(c.ReadOnly ? "; read-only (another run was writing it)" : string.Empty)}. Cached values are the computed bits, so the results do not depend on it.")),
        ]),
    ];

    private static string Percent(double v) => double.IsNaN(v) ? "n/a" : string.Create(CultureInfo.InvariantCulture, $"{v * 100:F0}%");

    private static string Fmt(double v) => double.IsNaN(v) ? "n/a" : v.ToString("F3", CultureInfo.InvariantCulture);
}
