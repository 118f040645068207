using System.Globalization;
using MedTransfer.Evaluation.Diagnostics;
using MedTransfer.Evaluation.Metrics;
using MedTransfer.Pipeline.Protocols;
using MedTransfer.Training.Adaptation;
using MedTransfer.Training.Backbones;
using MedTransfer.Training.Data;
using MedTransfer.Training.FineTuning;
using MedTransfer.Training.Models;
using static TorchSharp.torch;

namespace MedTransfer.Pipeline.Runs.Stages;

/// <summary>The candidate a rule chose.</summary>
/// <param name="Step">The candidate's step.</param>
/// <param name="Rule">What chose it, in words (rule, data, number of candidates).</param>
/// <param name="Score">The rule's score of the chosen candidate.</param>
/// <param name="IsOracle">True when target labels chose it.</param>
internal sealed record Choice(long Step, string Rule, double Score, bool IsOracle);

/// <summary>
/// Chooses one of a run's candidate checkpoints with the protocol's <c>selection</c> rule:
/// <list type="bullet">
/// <item><c>source-val</c>: the highest AUROC on the labelled validation partition of the data the run trains on
/// (source val; the target's own val for the target-only baseline);</item>
/// <item><c>im</c>, <c>snd</c>: the highest information maximisation / soft neighbourhood density of the
/// predictions on the unlabelled target training images;</item>
/// <item><c>dev</c>: the lowest deep-embedded-validation risk (You et al. 2019): a logistic domain classifier on the
/// candidate's features (source train vs target train) gives density ratios on source val, which weight the
/// per-sample source-val losses, with the control variate;</item>
/// <item><c>oracle</c>: the highest AUROC on the target validation partition, with its labels — labelled ORACLE.</item>
/// </list>
/// Ties go to the earliest candidate.
/// </summary>
internal static class CheckpointChoice
{
    public static Choice Select(SelectionRule rule, TrainingOutcome outcome, TransferModel model, Func<ISampleSource, ISampleSource> view, BackboneCut? cut, RunSets sets, bool targetOnly, Device device, bool channelsLast)
    {
        IReadOnlyList<CandidateCheckpoint> candidates = outcome.Candidates;
        string count = candidates.Count.ToString(CultureInfo.InvariantCulture);
        switch (rule)
        {
            case SelectionRule.Im:
                return Best(candidates, c => c.Im, higher: true, $"im on the target training images, {count} candidates", false);
            case SelectionRule.Snd:
                return Best(candidates, c => c.Snd, higher: true, $"snd on the target training images, {count} candidates", false);
            case SelectionRule.SourceVal:
                string partition = targetOnly ? "target val (the target-only baseline's own validation data)" : "source val";
                return candidates.All(c => c.ValidationAuroc is null)
                    ? Best(candidates, c => c.ValidationLoss, higher: false, $"source-val loss on {partition} (AUROC undefined there: one class), {count} candidates", false)
                    : Best(candidates, c => c.ValidationAuroc, higher: true, $"source-val AUROC on {partition}, {count} candidates", false);
            case SelectionRule.Oracle:
            {
                int[] labels = [.. sets.TargetVal.Labels];
                double[] scores = [.. candidates.Select(c =>
                {
                    outcome.Snapshots.Restore(c.Step, model);
                    double[] p = ModelScoring.Score(model, view(sets.TargetVal), device, cut, channelsLast: channelsLast).PositiveScores();
                    return labels.Contains(0) && labels.Contains(1) ? Auroc.Compute(p, labels) : double.NaN;
                })];
                return Best(candidates, c => scores[Index(candidates, c)] is double s && double.IsFinite(s) ? s : null, higher: true, $"ORACLE: AUROC on the target validation partition with its labels, {count} candidates", true);
            }

            default:
            {
                double[] risks = [.. candidates.Select(c =>
                {
                    outcome.Snapshots.Restore(c.Step, model);
                    return DevRisk(model, view, cut, sets, device, channelsLast);
                })];
                return Best(candidates, c => risks[Index(candidates, c)], higher: false, $"dev (importance-weighted source-val loss, domain classifier on the candidate's features), {count} candidates", false);
            }
        }
    }

    private static double DevRisk(TransferModel model, Func<ISampleSource, ISampleSource> view, BackboneCut? cut, RunSets sets, Device device, bool channelsLast)
    {
        ModelOutputs train = ModelScoring.Score(model, view(sets.SourceTrain), device, cut, withFeatures: true, channelsLast: channelsLast);
        ModelOutputs target = ModelScoring.Score(model, view(sets.TargetTrain), device, cut, withFeatures: true, channelsLast: channelsLast);
        ModelOutputs validation = ModelScoring.Score(model, view(sets.SourceVal), device, cut, withFeatures: true, channelsLast: channelsLast);
        double[][] domainRows = [.. train.Features!, .. target.Features!];
        int[] domain = [.. Enumerable.Repeat(0, train.Features!.Length), .. Enumerable.Repeat(1, target.Features!.Length)];
        LogisticRegression classifier = LogisticRegression.Fit(domainRows, domain);
        double[] ratios = CheckpointSelection.DensityRatios(classifier.PredictProbability(validation.Features!), train.Features!.Length, target.Features!.Length);
        double[] losses = CheckpointSelection.CrossEntropyPerSample(validation.Logits, sets.SourceVal.Labels);
        return CheckpointSelection.DeepEmbeddedValidationRisk(losses, ratios);
    }

    private static int Index(IReadOnlyList<CandidateCheckpoint> candidates, CandidateCheckpoint c)
    {
        for (int i = 0; i < candidates.Count; i++)
        {
            if (ReferenceEquals(candidates[i], c))
            {
                return i;
            }
        }

        return -1;
    }

    private static Choice Best(IReadOnlyList<CandidateCheckpoint> candidates, Func<CandidateCheckpoint, double?> score, bool higher, string rule, bool oracle)
    {
        CandidateCheckpoint? best = null;
        double bestScore = double.NaN;
        foreach (CandidateCheckpoint c in candidates)
        {
            if (score(c) is double s && double.IsFinite(s) && (best is null || (higher ? s > bestScore : s < bestScore)))
            {
                best = c;
                bestScore = s;
            }
        }

        if (best is null)
        {
            // No candidate has a defined score (e.g. one class in the validation data): the last one is kept, and the rule says so.
            CandidateCheckpoint last = candidates[^1];
            return new Choice(last.Step, rule + " — undefined for every candidate, so the last step was kept", double.NaN, oracle);
        }

        return new Choice(best.Step, rule, bestScore, oracle);
    }
}
