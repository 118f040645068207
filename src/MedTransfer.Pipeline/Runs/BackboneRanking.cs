using System.Diagnostics;
using System.Globalization;
using MedTransfer.Evaluation.Diagnostics;
using MedTransfer.Pipeline.Diagnose;
using MedTransfer.Pipeline.Protocols;
using MedTransfer.Pipeline.Runs.Stages;
using MedTransfer.Reporting.Html;
using MedTransfer.Training.Backbones;
using MedTransfer.Training.Configuration;
using MedTransfer.Training.Data;
using MedTransfer.Training.FineTuning;
using MedTransfer.Training.Models;
using MedTransfer.Training.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace MedTransfer.Pipeline.Runs;

/// <summary>What the frozen features of one candidate at one cut say before any training.</summary>
/// <param name="Backbone">The candidate as given.</param>
/// <param name="Sha256">SHA-256 of an ONNX file (null for a built-in backbone).</param>
/// <param name="Cut">The cut.</param>
/// <param name="Features">Feature width at the cut.</param>
/// <param name="Parameters">Parameters of the whole backbone (the size-only baseline ranks by this).</param>
/// <param name="LogMe">LogME on the labelled source training images (higher: more transferable).</param>
/// <param name="HScore">H-score on the same images.</param>
/// <param name="Gbc">GBC on the same images (closer to 0: classes better separated).</param>
/// <param name="TransRate">TransRate on the same images.</param>
/// <param name="SiteProbeAuc">Macro AUROC of predicting the site from the features (all images; high: the features see the site).</param>
/// <param name="ProxyADistance">Proxy A-distance between source and target features (0–2).</param>
/// <param name="LogMeRank">Rank by LogME (1 = best).</param>
/// <param name="SizeRank">Rank by parameter count alone, largest first (1 = best).</param>
public sealed record RankRow(string Backbone, string? Sha256, string Cut, int Features, long Parameters, double LogMe, double HScore, double Gbc, double TransRate, double SiteProbeAuc, double ProxyADistance, int LogMeRank, int SizeRank);

/// <summary>One of the top-ranked candidates, trained as the source-only baseline (<c>model.validate_top</c>).</summary>
/// <param name="Backbone">The candidate.</param>
/// <param name="Cut">Its cut (the <c>trainable_from</c> it trained from; <c>head</c>: frozen backbone).</param>
/// <param name="PredictedRank">Its rank by LogME among the candidates trained (1 = best).</param>
/// <param name="SourceValAuroc">AUROC of its chosen checkpoint on the source validation partition.</param>
/// <param name="TargetAuroc">AUROC on the evaluated target images (ORACLE: reads the target labels).</param>
/// <param name="ObtainedRank">Its rank by that target AUROC among the candidates trained (1 = best).</param>
public sealed record CandidateValidation(string Backbone, string Cut, int PredictedRank, double SourceValAuroc, double TargetAuroc, int ObtainedRank);

/// <summary>The ranking and its recommendation.</summary>
/// <param name="Rows">One row per (candidate, cut), best LogME first.</param>
/// <param name="Recommended">The row with the highest LogME: use its backbone with <c>trainable_from</c> = its cut.</param>
/// <param name="SizeAgrees">True when the size-only baseline would recommend the same backbone.</param>
/// <param name="Caveat">What the scores can and cannot tell.</param>
/// <param name="SourceImages">Labelled source training images scored.</param>
/// <param name="TargetImages">Target images the shift was measured on.</param>
/// <param name="Seconds">Wall time.</param>
public sealed record RankOutcome(IReadOnlyList<RankRow> Rows, RankRow Recommended, bool SizeAgrees, string Caveat, int SourceImages, int TargetImages, double Seconds);

/// <summary>
/// "Evaluate before committing" (<c>medtransfer rank</c>): the protocol's data are indexed and normalized once, each
/// candidate backbone's frozen features are extracted at each cut, and the transferability scores of the labelled
/// source images, the shift between source and target and the backbone's size are tabulated, with a recommendation
/// of a backbone and a <c>trainable_from</c>. Nothing is trained.
/// </summary>
public static class BackboneRanking
{
    /// <summary>Published benchmarks find no transferability score reliable on medical images; the output says so.</summary>
    public const string Caveat = "Transferability scores are a cheap first filter, not a verdict: on medical imaging tasks no score " +
        "(LogME, H-score, GBC, TransRate) ranked pretrained models reliably in published benchmarks, and model size alone often " +
        "ranked as well as LogME. Confirm the choice by training the top candidates (medtransfer run with each).";

    /// <summary>Ranks <paramref name="candidates"/> on <paramref name="protocol"/>'s data.</summary>
    /// <exception cref="ArgumentException">No candidate, an unknown cut, or a backbone that cannot be cut there.</exception>
    /// <exception cref="ProtocolException">The protocol's data cannot give labelled source and target images.</exception>
    /// <exception cref="TorchUnavailableException">libtorch cannot run here, or the device asked for is absent.</exception>
    /// <param name="protocol">The protocol whose data is ranked on.</param>
    /// <param name="candidates">Backbones and cuts.</param>
    /// <param name="device">"auto", "cpu" or "cuda"; null = the protocol's.</param>
    /// <param name="keyFile">Pseudonym key naming unreadable files, or null.</param>
    /// <param name="progress">Progress reports.</param>
    /// <param name="cancellationToken">Cancels between steps.</param>
    /// <param name="cacheDirectory">A run's feature cache to read and fill (a run's <c>--cache</c> folder), or null for none.</param>
    public static RankOutcome Run(ExperimentProtocol protocol, IReadOnlyList<RankCandidate> candidates, string? device = null, string? keyFile = null, IProgress<RunProgress>? progress = null, CancellationToken cancellationToken = default, string? cacheDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(candidates);
        if (candidates.Count == 0)
        {
            throw new ArgumentException("Give at least one candidate backbone.", nameof(candidates));
        }

        foreach (RankCandidate c in candidates.Where(c => !TrainableFromNames.All.Contains(c.Cut)))
        {
            throw new ArgumentException($"'{c.Cut}' is not a cut; use one of {string.Join(", ", TrainableFromNames.All)}.", nameof(candidates));
        }

        var wall = Stopwatch.StartNew();
        TorchRuntime.EnsureAvailable();
        Device dev = TorchRuntime.SelectDevice(device ?? protocol.Device);

        // Failures are named by keyed pseudonyms; nothing is written, so a missing key is generated in memory only.
        StudyPseudonyms pseudonyms = keyFile is null && Environment.GetEnvironmentVariable(StudyPseudonyms.EnvironmentVariable) is null
            ? new StudyPseudonyms(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32))
            : StudyPseudonyms.Resolve(keyFile, Path.GetTempPath(), out _);
        using RunCache? store = cacheDirectory is null ? null : RunCache.Open(cacheDirectory, protocol, out _);
        PreparedData data = PrepareStage.Run(protocol, pseudonyms, progress, cancellationToken, store);
        return Rank(protocol, candidates, data.Sets, dev, progress, wall, cancellationToken, store);
    }

    /// <summary>Ranks on images already indexed and normalized (a run's own partitions).</summary>
    internal static RankOutcome Rank(ExperimentProtocol protocol, IReadOnlyList<RankCandidate> candidates, RunSets sets, Device dev, IProgress<RunProgress>? progress, Stopwatch wall, CancellationToken cancellationToken, RunCache? store = null)
    {
        var measured = new List<(RankCandidate Candidate, string? Sha, int Width, long Parameters, double[] Scores)>();
        int done = 0;
        foreach (IGrouping<string, RankCandidate> group in candidates.GroupBy(c => c.Backbone, StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            FineTuneConfig config = TrainerSettings.For(protocol, ProtocolNames.Of(TrainingMethod.SourceOnly), protocol.Seeds[0], sets.SourceTrain.Count) with
            {
                Backbone = group.Key,
                FeatureNode = group.Key == protocol.Model.BackbonePath ? protocol.Model.FeatureNode : null,
                Input = group.Key == protocol.Model.BackbonePath ? protocol.Model.Input : null,
            };
            using TransferModel model = TransferModel.Create(config);
            model.to(dev);
            model.eval();
            Backbone backbone = model.Features.Backbone;
            foreach (RankCandidate candidate in group)
            {
                progress?.Report(new RunProgress("rank", done, candidates.Count, $"{Path.GetFileName(candidate.Backbone)} at {candidate.Cut}"));
                BackboneCut cut = backbone.CutBefore(candidate.Cut)
                    ?? throw new ArgumentException($"{candidate.Backbone} cannot be cut before {candidate.Cut} (its stages: {string.Join(", ", backbone.Stages.Select(s => s.Name))}).", nameof(candidates));
                using var cache = new ActivationCache(long.MaxValue, store);
                double[][] Pooled(ImageSet set) => PooledRows(cache.Get(model, cut, set, dev)!.Activations);
                double[][] source = Pooled(sets.SourceTrain);
                double[][] target = Pooled(sets.TargetTrain);
                IReadOnlyList<int> labels = sets.SourceTrain.Labels;
                double[][] all = [.. sets.Distinct.SelectMany(s => Pooled(s.Set))];
                string[] sites = [.. sets.Distinct.SelectMany(s => s.Set.Domains)];
                double[] scores =
                [
                    Transferability.LogMe(source, labels), Transferability.HScore(source, labels), Transferability.Gbc(source, labels), Transferability.TransRate(source, labels),
                    DatasetBias.SiteProbe(all, sites, folds: 5, seed: 1).MacroAuc, DatasetBias.ProxyADistance(source, target, seed: 1).Distance,
                ];
                measured.Add((candidate, backbone.Imported?.Sha256, source[0].Length, backbone.Graph.ParameterCount, scores));
                done++;
            }
        }

        progress?.Report(new RunProgress("rank", done, candidates.Count, "done"));
        int[] byLogMe = Ranks([.. measured.Select(m => m.Scores[0])]);
        int[] bySize = Ranks([.. measured.Select(m => (double)m.Parameters)]);
        RankRow[] rows = [.. measured.Select((m, i) => new RankRow(m.Candidate.Backbone, m.Sha, m.Candidate.Cut, m.Width, m.Parameters, m.Scores[0], m.Scores[1], m.Scores[2], m.Scores[3], m.Scores[4], m.Scores[5], byLogMe[i], bySize[i])).OrderBy(r => r.LogMeRank)];
        RankRow best = rows[0];
        bool sizeAgrees = rows.Where(r => r.SizeRank == 1).Any(r => r.Backbone == best.Backbone);
        return new RankOutcome(rows, best, sizeAgrees, Caveat, sets.SourceTrain.Count, sets.TargetTrain.Count, wall.Elapsed.TotalSeconds);
    }

    /// <summary>The ranking as a report section: the table, the recommendation, the caveat and, when the top candidates were trained, predicted against obtained rank.</summary>
    internal static ReportBlock[] Blocks(RankOutcome r, IReadOnlyList<CandidateValidation>? validation) =>
    [
        .. Blocks(r),
        .. validation is { Count: > 0 } v
            ? new ReportBlock[]
            {
                new TableBlock(
                    ["Backbone", "Cut", "Predicted rank (LogME)", "Source-val AUROC", "Target AUROC (ORACLE)", "Obtained rank"],
                    [.. v.Select(x => (IReadOnlyList<string>)[Path.GetFileName(x.Backbone), x.Cut, I(x.PredictedRank), F(x.SourceValAuroc), F(x.TargetAuroc), I(x.ObtainedRank)])],
                    "model.validate_top: the top candidates, each trained as the source-only baseline (first seed): does the ranking before training hold?"),
            }
            : [],
    ];

    private static ReportBlock[] Blocks(RankOutcome r) =>
    [
        new TableBlock(
            ["Backbone", "Cut", "Features", "Parameters", "LogME", "H-score", "GBC", "TransRate", "Site probe AUC", "A-distance", "Rank by LogME", "Rank by size"],
            [.. r.Rows.Select(x => (IReadOnlyList<string>)[Path.GetFileName(x.Backbone), x.Cut, I(x.Features), I(x.Parameters), F(x.LogMe), F(x.HScore), F(x.Gbc), F(x.TransRate), F(x.SiteProbeAuc), F(x.ProxyADistance), I(x.LogMeRank), I(x.SizeRank)])],
            string.Create(CultureInfo.InvariantCulture, $"Frozen features of each candidate at each cut: transferability on {r.SourceImages} labelled source training images, shift against {r.TargetImages} target images, and the size-only baseline")),
        new Paragraph(string.Create(CultureInfo.InvariantCulture, $"Recommended by LogME: {Path.GetFileName(r.Recommended.Backbone)} with trainable_from {r.Recommended.Cut}; the size-only baseline {(r.SizeAgrees ? "agrees" : "would pick another backbone")}. {r.Caveat}")),
    ];

    private static string F(double v) => double.IsNaN(v) ? "—" : v.ToString("F3", CultureInfo.InvariantCulture);

    private static string I(long v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>Activations N×C (pooled features) or N×C×H×W (a stage's maps, averaged over space) as rows.</summary>
    private static double[][] PooledRows(Tensor activations)
    {
        using var scope = NewDisposeScope();
        Tensor pooled = activations.dim() == 4 ? activations.mean([2, 3]) : activations.flatten(1);
        return DiagnosticsStage.Rows(pooled);
    }

    /// <summary>1 = highest value; ties share the better rank; NaN ranks last.</summary>
    private static int[] Ranks(double[] values) =>
        [.. values.Select(v => double.IsNaN(v) ? values.Length : 1 + values.Count(o => !double.IsNaN(o) && o > v))];
}
