using System.Globalization;
using System.Security.Cryptography;
using MedTransfer.Evaluation.Diagnostics;
using MedTransfer.Evaluation.Features;
using MedTransfer.Evaluation.Metrics;
using MedTransfer.Imaging.Index;
using MedTransfer.Imaging.Normalization;
using MedTransfer.Pipeline.Diagnose;
using MedTransfer.Pipeline.Evaluate;
using MedTransfer.Pipeline.Protocols;
using MedTransfer.Reporting.Html;
using MedTransfer.Reporting.Provenance;
using MedTransfer.Training.Data;
using MedTransfer.Training.Export;
using MedTransfer.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MedTransfer.Pipeline.Runs.Stages;

/// <summary>Everything the output stage needs from the stages before it.</summary>
internal sealed record OutputInputs(
    ExperimentProtocol Protocol,
    RunOptions Options,
    PreparedData Data,
    PretrainedDiagnostics Diagnostics,
    Comparison Comparison,
    IReadOnlyList<ItemResult> Items,
    ItemResult SelectedItem,
    SelectedRun Selected,
    SelectionAudit Audit,
    MethodRunStage Methods,
    StudyPseudonyms Pseudonyms,
    Device Device,
    double Seconds,
    RankOutcome? Ranking = null,
    IReadOnlyList<CandidateValidation>? Validation = null,
    CacheUse? Cache = null,
    string? FeatureEngine = null);

/// <summary>
/// Stage 6 of a run: the selected model (reloaded from its candidate's weights) is calibrated by temperature scaling on
/// source validation, given an operating threshold chosen there, evaluated in full on the target, checked for
/// shortcuts, embedded, and exported with its recipe and shift monitor; then predictions.csv (the target rows as
/// "test", the source-validation rows that fixed the threshold as "val"), results.json, report.html (unless the
/// protocol turns it off) and quarantine.txt are written, every other candidate's weights removed, and the
/// completion marker written last.
/// </summary>
internal static class OutputStage
{
    public static RunOutcome Write(OutputInputs input, RunFolder folder, IReadOnlyList<string> warnings, IProgress<RunProgress>? progress)
    {
        // The run's wall time counts this stage too (embeddings, shortcut check and export can take minutes).
        var watch = System.Diagnostics.Stopwatch.StartNew();
        ExperimentProtocol protocol = input.Protocol;
        RunSets sets = input.Data.Sets;
        ItemResult item = input.SelectedItem;
        CandidateResult chosen = item.Candidates.First(c => c.Step == input.Selected.Checkpoint);
        var bootstrap = new BootstrapOptions { Resamples = protocol.Evaluation.Bootstrap, Confidence = protocol.Evaluation.Ci, Seed = 1 };
        using TransferModel model = input.Methods.LoadModel(item, chosen.Step);
        (CalibrationSummary calibration, double[] targetScores, double[] sourceValScores) = Calibrate(chosen, sets);
        OperatingPoint operating = Operate(protocol, sourceValScores, sets.SourceVal.Labels, targetScores, sets.TargetTest.Labels);

        progress?.Report(new RunProgress("evaluate", 0, 4, "embeddings"));
        var embeddings = new List<EmbeddingPoints>();
        bool embed = protocol.Report.Embeddings == EmbeddingPlot.Pca;
        if (embed)
        {
            double[][] after = [.. Features(input.Methods, item, model, sets.SourceTest), .. Features(input.Methods, item, model, sets.TargetTest)];
            embeddings.Add(Embed("pretrained backbone", [.. input.Diagnostics.Features["source-test"], .. input.Diagnostics.Features["target-test"]], sets));
            embeddings.Add(Embed(string.Create(CultureInfo.InvariantCulture, $"{item.Method}, seed {item.Seed}, step {chosen.Step}"), after, sets));
        }

        ShortcutCheckResult? shortcut = null;
        ImageSet targetTest = sets.TargetTest;
        if (targetTest.Labels.Contains(0) && targetTest.Labels.Contains(1))
        {
            progress?.Report(new RunProgress("evaluate", 1, 4, "shortcut check (border/centre masking, occlusion)"));
            int size = input.Data.Size;
            shortcut = ShortcutCheck.Run(
                [.. Enumerable.Range(0, targetTest.Count).Select(i => targetTest.Pixels(i).ToArray())], 1, size, size, targetTest.Labels,
                batch => ScoreImages(input.Methods, item, model, batch, size), targetTest.Groups,
                new ShortcutCheckOptions { OcclusionGrid = 6, OcclusionImages = 12, Fill = MaskFill.DatasetMean, Bootstrap = bootstrap with { Resamples = Math.Min(bootstrap.Resamples, 500) } });
        }

        progress?.Report(new RunProgress("evaluate", 2, 4, "evaluation with confidence intervals"));
        List<PredictionRow> rows = [.. PredictionRows(sets.SourceVal, sourceValScores, "val", input.Data.Rows, protocol, input.Pseudonyms), .. PredictionRows(targetTest, targetScores, "test", input.Data.Rows, protocol, input.Pseudonyms)];
        EvaluationResult evaluation = PredictionEvaluation.Evaluate(rows, new EvaluationOptions { Bootstrap = bootstrap, PerSite = protocol.Evaluation.PerSite, TargetSensitivity = protocol.Evaluation.OperatingSensitivity });

        progress?.Report(new RunProgress("evaluate", 3, 4, "export"));
        ShiftMonitor monitor = ShiftMonitor.Fit(Features(input.Methods, item, model, sets.SourceTrain), Features(input.Methods, item, model, sets.SourceVal));
        bool mri = input.Data.IsMri;
        XrayRecipe recipe = input.Data.Recipe;
        var metadata = new ExportMetadata(["negative", "positive"], 1, mri ? "mri" : "xray", mri ? (protocol.Preprocessing.Mri ?? new MriRecipe()).ToJson() : recipe.ToJson(), monitor.ToJson(), protocol.ComputeHash(), item.Seed, input.Options.CodeVersion);
        string modelPath = Path.Combine(folder.Root, "model", "model.onnx");
        ModelExporter.Save(model, metadata, modelPath, channels: mri ? 1 : recipe.Channels);

        string predictions = folder.WriteText("predictions.csv", PredictionTable.Format(rows));
        var results = new RunResults(
            protocol.Name,
            protocol.ComputeHash(),
            input.Device.ToString(),
            input.Device.type == DeviceType.CPU,
            item.Method,
            input.Comparison.Runs,
            input.Comparison.Summary,
            input.Comparison.NegativeTransfer,
            input.Diagnostics.Transferability,
            input.Comparison.Bias,
            embeddings,
            shortcut,
            new Manifest(input.Data.Rows).ManifestHash,
            input.Seconds + watch.Elapsed.TotalSeconds,
            input.Data.Sites,
            item.Seed,
            input.Pseudonyms.Fingerprint,
            embed,
            ProtocolNames.Of(protocol.Evaluation.Target),
            input.Selected,
            input.Audit,
            input.Comparison.PooledGaps,
            calibration,
            operating,
            BackboneSummary.Of(model.Features.Backbone, protocol.Model.Provenance),
            input.Ranking,
            input.Validation,
            input.Cache,
            input.FeatureEngine);

        progress?.Report(new RunProgress("report", 0, 1, "results.json and report.html"));
        CodeVersion code = CodeVersion.Parse(input.Options.CodeVersion);
        string predictionsHash = Sha256(predictions);
        var provenance = new EvaluationProvenance(predictionsHash, code, bootstrap);
        string resultsPath = folder.WriteText("results.json", RunReport.ResultsJson(results, evaluation, provenance));
        string? reportPath = null;
        if (protocol.Report.Html)
        {
            reportPath = HtmlReport.Write(RunReport.Build(results, evaluation, ProtocolCard.ToModelCard(protocol), provenance, rows), folder.Root);
        }

        IReadOnlyList<string> quarantine = input.Data.Quarantine;
        string quarantinePath = Path.Combine(folder.Root, "quarantine.txt");
        if (quarantine.Count > 0)
        {
            folder.WriteText("quarantine.txt", string.Join('\n', quarantine) + "\n");
        }
        else
        {
            File.Delete(quarantinePath);
        }

        var outputs = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["predictions.csv"] = predictionsHash,
            ["results.json"] = Sha256(resultsPath),
            ["model/model.onnx"] = Sha256(modelPath),
        };
        if (reportPath is not null)
        {
            outputs["report.html"] = Sha256(reportPath);
        }

        input.Methods.KeepChosen(input.Items, item, chosen.Step);
        folder.MarkComplete(protocol.ComputeHash(), outputs);
        progress?.Report(new RunProgress("report", 1, 1, reportPath ?? resultsPath));
        return new RunOutcome(results, evaluation, rows, quarantine, folder.Root, reportPath, warnings);
    }

    private static double[][] Features(MethodRunStage methods, ItemResult item, TransferModel model, ImageSet set) =>
        methods.Score(item, model, set, withFeatures: true).Features!;

    private static double[] ScoreImages(MethodRunStage methods, ItemResult item, TransferModel model, IReadOnlyList<float[]> images, int size)
    {
        var set = new ImageSet(size);
        for (int i = 0; i < images.Count; i++)
        {
            set.Add(i.ToString(CultureInfo.InvariantCulture), images[i], 0, string.Empty, string.Empty);
        }

        return methods.ScoreOnce(item, model, set).PositiveScores();
    }

    private static EmbeddingPoints Embed(string model, double[][] rows, RunSets sets)
    {
        (double[][] projection, _) = Pca.Project(rows, 2);
        ImageSet s = sets.SourceTest;
        ImageSet t = sets.TargetTest;
        string[] domains = [.. s.Domains, .. t.Domains];
        string[] labels = [.. s.Labels.Select(l => l.ToString(CultureInfo.InvariantCulture)), .. t.Labels.Select(l => l.ToString(CultureInfo.InvariantCulture))];
        return new EmbeddingPoints(model, [.. projection.Select(p => p[0])], [.. projection.Select(p => p[1])], domains, labels);
    }

    /// <summary>
    /// Temperature scaling fitted on the source-validation margins (no target label is read to fit it), applied to
    /// the target; ECE before and after on source validation and per target site.
    /// </summary>
    private static (CalibrationSummary Summary, double[] Target, double[] SourceVal) Calibrate(CandidateResult chosen, RunSets sets)
    {
        int[] sourceLabels = [.. sets.SourceVal.Labels];
        double t = Calibration.FitTemperature(chosen.SourceValMargins, sourceLabels);
        double[] sourceBefore = CandidateResult.Probabilities(chosen.SourceValMargins);
        double[] sourceAfter = Calibration.ApplyTemperature(chosen.SourceValMargins, t);
        double[] targetBefore = CandidateResult.Probabilities(chosen.TargetTestMargins);
        double[] targetAfter = Calibration.ApplyTemperature(chosen.TargetTestMargins, t);
        ImageSet target = sets.TargetTest;
        var bySite = new List<SiteCalibration>();
        foreach (string site in target.Domains.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            int[] idx = [.. Enumerable.Range(0, target.Count).Where(i => target.Domains[i] == site)];
            int[] y = [.. idx.Select(i => target.Labels[i])];
            bySite.Add(new SiteCalibration(site, idx.Length, Calibration.BinaryEce([.. idx.Select(i => targetBefore[i])], y).Ece, Calibration.BinaryEce([.. idx.Select(i => targetAfter[i])], y).Ece));
        }

        var summary = new CalibrationSummary(t, Calibration.BinaryEce(sourceBefore, sourceLabels).Ece, Calibration.BinaryEce(sourceAfter, sourceLabels).Ece, bySite);
        return (summary, targetAfter, sourceAfter);
    }

    /// <summary>The threshold from source validation (Youden's J, or the stated sensitivity) and sensitivity/specificity at it on both sides.</summary>
    private static OperatingPoint Operate(ExperimentProtocol protocol, double[] sourceVal, IReadOnlyList<int> sourceLabels, double[] target, IReadOnlyList<int> targetLabels)
    {
        int[] ys = [.. sourceLabels];
        int[] yt = [.. targetLabels];
        double? sensitivity = protocol.Evaluation.OperatingSensitivity;
        double threshold = sensitivity is double s ? BinaryMetrics.ThresholdForSensitivity(sourceVal, ys, s) : BinaryMetrics.YoudenThreshold(sourceVal, ys);
        string rule = sensitivity is double v ? string.Create(CultureInfo.InvariantCulture, $"sensitivity ≥ {v:0.###} on source validation") : "Youden's J on source validation";
        ConfusionMatrix a = ConfusionMatrix.At(sourceVal, ys, threshold);
        ConfusionMatrix b = ConfusionMatrix.At(target, yt, threshold);
        return new OperatingPoint(threshold, rule, a.Sensitivity, a.Specificity, b.Sensitivity, b.Specificity);
    }

    private static List<PredictionRow> PredictionRows(ImageSet set, double[] scores, string split, IReadOnlyList<ManifestRow> rows, ExperimentProtocol protocol, StudyPseudonyms pseudonyms)
    {
        var byId = rows.ToDictionary(r => r.Id, StringComparer.Ordinal);
        var list = new List<PredictionRow>();
        for (int i = 0; i < set.Count; i++)
        {
            ManifestRow r = byId[set.Ids[i]];
            var groups = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (string g in protocol.Evaluation.Subgroups)
            {
                groups[g] = g switch
                {
                    "sex" => r.Sex,
                    "age_band" => r.AgeBand,
                    "manufacturer" => r.Manufacturer,
                    "view" => r.View,
                    "model" => r.Model,
                    _ => string.Empty,
                };
            }

            list.Add(new PredictionRow(pseudonyms.Of("image", r.Id), pseudonyms.Of("patient", r.Patient), set.Labels[i], scores[i], r.Site, split, groups));
        }

        return list;
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
}
