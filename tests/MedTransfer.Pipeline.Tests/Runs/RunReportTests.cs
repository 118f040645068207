using MedTransfer.Pipeline.Runs.Stages;
using MedTransfer.Training.FineTuning;
using System.Globalization;
using System.Text.Json;
using MedTransfer.Evaluation.Diagnostics;
using MedTransfer.Evaluation.Metrics;
using MedTransfer.Pipeline.Evaluate;
using MedTransfer.Pipeline.Runs;
using MedTransfer.Reporting.Html;
using MedTransfer.Reporting.Provenance;

namespace MedTransfer.Pipeline.Tests.Runs;

public sealed class RunReportTests
{
    private static readonly string[] s_runSections = ["methods", "negative-transfer", "transferability", "feature-bias", "shortcut", "training", "embeddings", "reproducibility"];

    private static readonly Lazy<(IReadOnlyList<PredictionRow> Rows, EvaluationResult Result)> s_evaluation = new(() =>
    {
        IReadOnlyList<PredictionRow> rows = PredictionTable.Read(new StringReader(Csv()));
        return (rows, PredictionEvaluation.Evaluate(rows, new EvaluationOptions { Bootstrap = new() { Resamples = 200 } }));
    });

    private static readonly Lazy<ShortcutCheckResult> s_shortcut = new(Shortcut);

    private static readonly Lazy<(RunResults Run, ReportDocument Doc, string Html)> s_default = new(() =>
    {
        RunResults run = Run();
        ReportDocument doc = Build(run);
        return (run, doc, HtmlReport.Render(doc));
    });

    private static readonly ModelCard s_card = new() { IntendedUse = "research", DataSources = "generated", Partitions = "patient-level", Preprocessing = "none", Model = "resnet-18", Adaptation = "dann", SelectionRule = "source validation AUROC" };

    private static readonly EvaluationProvenance s_provenance = new("00", CodeVersion.Parse("0.1.0"), new() { Resamples = 200 });

    [Fact]
    public void Build_HasEveryRunSectionBetweenTheEvaluationAndItsLimitations()
    {
        (_, ReportDocument doc, string html) = s_default.Value;

        foreach (string id in s_runSections.Concat(HtmlReport.RequiredSections.Keys))
        {
            Assert.Contains($"<section id=\"{id}\">", html, StringComparison.Ordinal);
        }

        string[] ids = [.. doc.Sections.Select(s => s.Id)];
        Assert.True(Array.IndexOf(ids, "metrics") < Array.IndexOf(ids, "methods"));
        Assert.True(Array.IndexOf(ids, "reproducibility") < Array.IndexOf(ids, "limitations"));
        Assert.Equal("provenance", ids[^1]);
        Assert.DoesNotContain("SAMPLE-", html, StringComparison.Ordinal);
        Assert.DoesNotContain("PATIENT-", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_MethodsSection_ShowsMeanAndSdAndSeedRuns()
    {
        (RunResults run, ReportDocument doc, string html) = s_default.Value;

        MethodSummary dann = run.Summary.Single(s => s.Method == "dann");
        Assert.Contains(System.Net.WebUtility.HtmlEncode(F(dann.TargetAurocMean) + " ± " + F(dann.TargetAurocSd)), html, StringComparison.Ordinal);
        Assert.Contains("dann (selected: seed 1)", html, StringComparison.Ordinal);
        Assert.Contains("alt=\"Target AUROC by method:", html, StringComparison.Ordinal);
        TableBlock[] tables = [.. doc.Sections.Single(s => s.Id == "methods").Blocks.OfType<TableBlock>()];
        Assert.Equal(["source-only", "dann (selected: seed 1)"], tables[0].Rows.Select(r => r[0]));
        Assert.Equal(run.Runs.Select(r => $"{r.Method}/{r.Seed}"), tables[1].Rows.Select(r => $"{r[0]}/{r[1]}"));
    }

    [Fact]
    public void Build_OracleRun_IsLabelledOracle_AndOnlyThen()
    {
        RunResults clean = s_default.Value.Run;
        RunResults oracle = clean with { Runs = [.. clean.Runs.Select((r, i) => i == 3 ? r with { IsOracle = true, SelectedBy = "target validation AUROC" } : r)] };

        string withOracle = HtmlReport.Render(Build(oracle));
        string without = s_default.Value.Html;

        Assert.Contains("ORACLE: target validation AUROC", withOracle, StringComparison.Ordinal);
        Assert.Contains("upper bound that a deployment without target labels cannot reach", withOracle, StringComparison.Ordinal);

        // Without oracle runs, "ORACLE" appears only where the audit reads the target labels to judge the validators.
        string outsideAudit = System.Text.RegularExpressions.Regex.Replace(without, "<section id=\"selection-audit\">.*?</section>", string.Empty, System.Text.RegularExpressions.RegexOptions.Singleline)
            .Replace("Selection audit (ORACLE: uses target labels)", string.Empty, StringComparison.Ordinal);
        Assert.Contains("<section id=\"selection-audit\">", without, StringComparison.Ordinal);
        Assert.DoesNotContain("ORACLE", outsideAudit, StringComparison.Ordinal);
        Assert.DoesNotContain("kept the checkpoint chosen with target labels", without, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cuda:0", true)]
    [InlineData("CUDA", false)]
    public void Build_CudaRun_NeverClaimsDeterminism(string device, bool markedDeterministic)
    {
        string html = HtmlReport.Render(Build(Run() with { Device = device, Deterministic = markedDeterministic }));

        Assert.Contains(RunReport.GpuSentence, html, StringComparison.Ordinal);
        Assert.DoesNotContain("bit for bit", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_DeterministicCpuRun_SaysItRepeatsAndGivesHashes()
    {
        string html = s_default.Value.Html;

        Assert.Contains(RunReport.DeterministicSentence, html, StringComparison.Ordinal);
        Assert.Contains("protohash123", html, StringComparison.Ordinal);
        Assert.Contains("manifest456", html, StringComparison.Ordinal);
        Assert.Contains("12.5 s", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_NegativeTransfer_VerdictInWordsFromTheInterval()
    {
        string html = s_default.Value.Html;

        Assert.Contains("dann vs source-only: negative transfer", html, StringComparison.Ordinal);
        Assert.Contains("dann vs target-only: no detectable difference", html, StringComparison.Ordinal);
        Assert.Contains("alt=\"Negative-transfer gap:", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_ShortcutAndBias_ShowHeatMapTableAndVerdicts()
    {
        (RunResults run, _, string html) = s_default.Value;

        Assert.Contains("Occlusion sensitivity", html, StringComparison.Ordinal);
        Assert.Contains("<td>border</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td>centre</td>", html, StringComparison.Ordinal);
        Assert.Contains(">0%</td>", html, StringComparison.Ordinal);
        Assert.Contains(System.Net.WebUtility.HtmlEncode(run.Shortcut!.Finding), html, StringComparison.Ordinal);
        Assert.Contains(System.Net.WebUtility.HtmlEncode(run.Bias.Verdict), html, StringComparison.Ordinal);
        Assert.Contains("<td>macro average</td><td>" + F(run.Bias.SiteProbe.MacroAuc) + "</td>", html, StringComparison.Ordinal);
        Assert.Contains("No transferability estimator is reliable everywhere", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_SaturatedDiscriminator_GetsACallout_OnlyForThatMethod()
    {
        string html = HtmlReport.Render(Build(Run(saturated: true)));
        string calm = s_default.Value.Html;

        Assert.Contains("dann (seed 1): the domain discriminator", html, StringComparison.Ordinal);
        Assert.Contains("at or above 0.99 for the last 20% of the steps", html, StringComparison.Ordinal);
        Assert.DoesNotContain("the domain discriminator&#39;s accuracy stayed", calm, StringComparison.Ordinal);
        Assert.Contains("alt=\"Domain-discriminator accuracy:", calm, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 1.0 }, true)]
    [InlineData(new[] { 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.98, 1.0 }, false)]
    [InlineData(new[] { double.NaN, double.NaN, double.NaN }, false)]
    [InlineData(new double[0], false)]
    [InlineData(new[] { 0.5, 1.0, double.NaN }, false)]
    [InlineData(new[] { 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.995, double.NaN }, true)]
    public void DiscriminatorSaturated_LastFifthAtOrAbove099(double[] accuracy, bool expected) =>
        Assert.Equal(expected, RunReport.DiscriminatorSaturated(accuracy));

    [Fact]
    public void Build_EmptyLists_AreExplainedNotLeftAsEmptyTables()
    {
        RunResults run = Run() with { Runs = [], Summary = [], NegativeTransfer = [], Transferability = [], Embeddings = [], Shortcut = null };

        ReportDocument doc = Build(run);
        string html = HtmlReport.Render(doc);

        foreach (string id in s_runSections)
        {
            ReportSection section = doc.Sections.Single(s => s.Id == id);
            Assert.NotEmpty(section.Blocks);
            Assert.DoesNotContain(section.Blocks.OfType<TableBlock>(), t => t.Rows.Count == 0);
        }

        Assert.Contains("No gap was computed", html, StringComparison.Ordinal);
        Assert.Contains("The shortcut check was not run", html, StringComparison.Ordinal);
        Assert.Contains("No embedding was computed", html, StringComparison.Ordinal);
        Assert.Contains("No run recorded training curves", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_UndefinedNumbers_ShowAsNotAvailableWithoutBreakingFigures()
    {
        RunResults clean = s_default.Value.Run;
        var undefined = new Estimate(double.NaN, double.NaN, double.NaN, 0.95, "paired patient bootstrap");
        RunResults run = clean with
        {
            Summary = [clean.Summary[0] with { TargetAurocMean = double.NaN, TargetAurocSd = double.NaN }],
            NegativeTransfer = [new NegativeTransferEntry("dann", new NegativeTransferResult("source-only", "AUROC", undefined, TransferVerdict.None))],
        };

        string html = HtmlReport.Render(Build(run));

        Assert.Contains("No method has a defined target AUROC", html, StringComparison.Ordinal);
        Assert.Contains("No gap has a defined interval", html, StringComparison.Ordinal);
        Assert.Contains("<td>n/a</td>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_InconsistentEmbedding_IsATypedError()
    {
        RunResults run = Run() with { Embeddings = [new EmbeddingPoints("m", [0.0, 1.0], [0.0], ["A", "B"], ["0", "1"])] };

        var ex = Assert.Throws<ArgumentException>(() => Build(run));

        Assert.Contains("'m'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ResultsJson_IsValidDeterministicJsonWithTheSummaryAndTheEvaluation()
    {
        RunResults run = Run();
        EvaluationResult selected = s_evaluation.Value.Result;

        string json = RunReport.ResultsJson(run, selected, s_provenance);

        Assert.Equal(json, RunReport.ResultsJson(run, selected, s_provenance));
        using JsonDocument parsed = JsonDocument.Parse(json);
        JsonElement root = parsed.RootElement;
        Assert.Equal(RunReport.FormatVersion, root.GetProperty("formatVersion").GetInt32());
        JsonElement summary = root.GetProperty("run").GetProperty("summary");
        Assert.Equal(run.Summary.Count, summary.GetArrayLength());
        for (int i = 0; i < run.Summary.Count; i++)
        {
            Assert.Equal(run.Summary[i].Method, summary[i].GetProperty("method").GetString());
            Assert.Equal(run.Summary[i].TargetAurocMean, summary[i].GetProperty("targetAurocMean").GetDouble());
            Assert.Equal(run.Summary[i].TargetAurocSd, summary[i].GetProperty("targetAurocSd").GetDouble());
            Assert.Equal(run.Summary[i].SourceAurocMean, summary[i].GetProperty("sourceAurocMean").GetDouble());
            Assert.Equal(run.Summary[i].Seeds, summary[i].GetProperty("seeds").GetInt32());
        }

        Assert.Equal("negative", root.GetProperty("run").GetProperty("negativeTransfer")[0].GetProperty("result").GetProperty("verdict").GetString());
        Assert.Equal("NaN", root.GetProperty("run").GetProperty("runs")[0].GetProperty("curves").GetProperty("discriminatorAccuracy")[0].GetString());
        Assert.True(root.GetProperty("reproducibility").GetProperty("claimsDeterminism").GetBoolean());
        Assert.Equal(
            selected.Overall.AurocBootstrap.Value,
            root.GetProperty("evaluation").GetProperty("result").GetProperty("overall").GetProperty("aurocBootstrap").GetProperty("value").GetDouble());
        Assert.Equal("00", root.GetProperty("evaluation").GetProperty("provenance").GetProperty("predictionsSha256").GetString());
    }

    [Fact]
    public void ResultsJson_CudaRun_DoesNotClaimDeterminism()
    {
        string json = RunReport.ResultsJson(Run() with { Device = "cuda:1", Deterministic = true }, s_evaluation.Value.Result, s_provenance);

        using JsonDocument parsed = JsonDocument.Parse(json);
        Assert.False(parsed.RootElement.GetProperty("reproducibility").GetProperty("claimsDeterminism").GetBoolean());
        Assert.Equal(RunReport.GpuSentence, parsed.RootElement.GetProperty("reproducibility").GetProperty("statement").GetString());
    }

    private static ReportDocument Build(RunResults run) =>
        RunReport.Build(run, s_evaluation.Value.Result, s_card, s_provenance, s_evaluation.Value.Rows);

    private static RunResults Run(bool saturated = false)
    {
        string[] methods = ["source-only", "dann"];
        int[] seeds = [1, 2];
        var runs = new List<MethodSeedResult>();
        foreach (string method in methods)
        {
            bool adversarial = method == "dann";
            foreach (int seed in seeds)
            {
                const int steps = 50;
                double[] loss = [.. Enumerable.Range(1, steps).Select(s => (1.0 / Math.Sqrt(s)) + (0.01 * seed))];
                double[] lambda = [.. Enumerable.Range(1, steps).Select(s => adversarial ? (2 / (1 + Math.Exp(-10.0 * s / steps))) - 1 : 0)];
                double[] disc = [.. Enumerable.Range(1, steps).Select(s => !adversarial ? double.NaN : saturated && s > 30 ? 1.0 : 0.5 + (0.2 * Math.Sin(s)))];
                double target = (adversarial ? 0.70 : 0.78) + (0.02 * seed);
                runs.Add(new MethodSeedResult(method, seed, target, 0.9 + (0.01 * seed), 0.7, steps, 3.25 * seed, "source validation AUROC", false, steps, false, "head",
                    new TrainingCurves(loss, [.. lambda.Select(l => 0.1 * l)], lambda, [.. Enumerable.Repeat(1e-3, steps)], disc)));
            }
        }

        MethodSummary[] summary = [.. methods.Select(m =>
        {
            double[] t = [.. runs.Where(r => r.Method == m).Select(r => r.TargetAuroc)];
            double[] s = [.. runs.Where(r => r.Method == m).Select(r => r.SourceAuroc)];
            return new MethodSummary(m, t.Length, t.Average(), Sd(t), s.Average(), Sd(s));
        })];

        var worse = new Estimate(-0.08, -0.12, -0.03, 0.95, "paired patient bootstrap");
        var same = new Estimate(0.01, -0.02, 0.04, 0.95, "paired patient bootstrap");

        var random = new Random(7);
        string[] sites = [.. Enumerable.Range(0, 60).Select(i => i % 3 == 0 ? "C" : i % 2 == 0 ? "A" : "B")];
        double[][] features = [.. sites.Select(s => new[] { (s == "A" ? 1.5 : 0) + random.NextDouble(), (s == "C" ? 1.5 : 0) + random.NextDouble(), random.NextDouble() })];
        int[] labels = [.. Enumerable.Range(0, 60).Select(i => i % 4 == 0 ? 1 : 0)];
        SiteProbeResult probe = DatasetBias.SiteProbe(features, sites, folds: 3);
        IReadOnlyDictionary<string, double> prevalence = DatasetBias.PrevalenceBySite(sites, labels);
        ProxyADistanceResult pad = DatasetBias.ProxyADistance([.. features.Where((_, i) => sites[i] != "C")], [.. features.Where((_, i) => sites[i] == "C")]);

        EmbeddingPoints[] embeddings =
        [
            new("pretrained backbone", [.. features.Select(f => f[0])], [.. features.Select(f => f[1])], sites, [.. labels.Select(l => l.ToString(CultureInfo.InvariantCulture))]),
            new("dann seed 1", [.. features.Select(f => f[1])], [.. features.Select(f => f[2])], sites, [.. labels.Select(l => l.ToString(CultureInfo.InvariantCulture))]),
        ];

        return new RunResults(
            "toy-protocol", "protohash123", "cpu", true, "dann", runs, summary,
            [
                new NegativeTransferEntry("dann", new NegativeTransferResult("source-only", "AUROC", worse, NegativeTransfer.VerdictOf(worse))),
                new NegativeTransferEntry("dann", new NegativeTransferResult("target-only", "AUROC", same, NegativeTransfer.VerdictOf(same))),
            ],
            [
                new TransferabilityScores("source-train", 60, -0.71, 0.12, -3.2, 0.4),
                new TransferabilityScores("target-test (oracle: uses target labels)", 20, double.NaN, 0.08, -4.1, 0.3),
            ],
            new FeatureBias(probe, pad, prevalence, [0.7, 0.3], DatasetBias.Verdict(probe, prevalence, "the backbone features")),
            embeddings, s_shortcut.Value, "manifest456", 12.5,
            [new SiteCount("A", "source", 20, 20, 0, 0, 20), new SiteCount("C", "target", 22, 20, 2, 1, 19)], 1, "keyfingerprint01", true, "test",
            new SelectedRun("dann", 1, 50, "im on the target training images, best of 8 candidate(s) over every (method, seed, checkpoint)", 0.31, false),
            new SelectionAudit(8, 0.83,
            [
                new ValidatorAudit("source-val", "source-only", 2, 50, 0.80, 2, 0.03, 0.4, false),
                new ValidatorAudit("im", "dann", 1, 50, 0.72, 5, 0.11, -0.2, true),
                new ValidatorAudit("oracle", "dann", 2, 50, 0.83, 1, 0.0, 0.9, false),
            ]),
            [new PooledGapEntry("dann", [1, 2], new PooledGapResult("source-only", "AUROC", worse, NegativeTransfer.VerdictOf(worse), [-0.07, -0.09]))],
            new CalibrationSummary(1.8, 0.21, 0.06, [new SiteCalibration("C", 20, 0.30, 0.12)]),
            new OperatingPoint(0.42, "Youden's J on source validation", 0.90, 0.80, 0.70, 0.60));
    }

    private static ShortcutCheckResult Shortcut()
    {
        const int side = 12;
        var random = new Random(3);
        var images = new List<float[]>();
        var labels = new List<int>();
        for (int i = 0; i < 24; i++)
        {
            int y = i % 2;
            float[] image = new float[side * side];
            for (int p = 0; p < image.Length; p++)
            {
                int r = p / side;
                int c = p % side;
                bool centre = r >= 4 && r < 8 && c >= 4 && c < 8;
                image[p] = (float)((centre ? 0.6 * y : 0) + (0.5 * random.NextDouble()));
            }

            images.Add(image);
            labels.Add(y);
        }

        // A trivial scorer: mean brightness of the 4 × 4 centre.
        double[] Score(IReadOnlyList<float[]> batch) =>
            [.. batch.Select(im => Enumerable.Range(4, 4).SelectMany(r => Enumerable.Range(4, 4).Select(c => (double)im[(r * side) + c])).Average())];

        return ShortcutCheck.Run(images, 1, side, side, labels, Score, options: new ShortcutCheckOptions { OcclusionGrid = 4, OcclusionImages = 8, Bootstrap = new() { Resamples = 100 } });
    }

    private static double Sd(double[] v)
    {
        if (v.Length < 2)
        {
            return 0;
        }

        double mean = v.Average();
        return Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
    }

    private static string F(double v) => v.ToString("F3", CultureInfo.InvariantCulture);

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
