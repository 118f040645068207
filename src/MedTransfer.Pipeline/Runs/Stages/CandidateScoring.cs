using MedTransfer.Evaluation.Diagnostics;
using MedTransfer.Evaluation.Metrics;
using MedTransfer.Training.Adaptation;
using MedTransfer.Training.Backbones;
using MedTransfer.Training.Data;
using MedTransfer.Training.FineTuning;
using MedTransfer.Training.Models;
using static TorchSharp.torch;

namespace MedTransfer.Pipeline.Runs.Stages;

/// <summary>
/// What one candidate checkpoint of a (method, seed) run predicts, and every label-free validator's score of it: what
/// selection across runs and the selection audit work from, without keeping a model in memory. Margins are logit
/// differences z = logit(1) − logit(0) (the score is σ(z); a temperature T gives σ(z / T)).
/// </summary>
internal sealed record CandidateResult
{
    public required long Step { get; init; }

    public double? SourceValAuroc { get; init; }

    public double? Im { get; init; }

    public double? Snd { get; init; }

    public double? Entropy { get; init; }

    public double? Bnm { get; init; }

    public double? DevRisk { get; init; }

    /// <summary>P(class 1) of each target training image (EnsV averages these over candidates).</summary>
    public required double[] TargetTrainProbabilities { get; init; }

    public double[] TargetValMargins { get; init; } = [];

    public required double[] TargetTestMargins { get; init; }

    public double[] SourceValMargins { get; init; } = [];

    public double[] SourceTestMargins { get; init; } = [];

    /// <summary>AUROC on the target validation partition (the oracle's signal), or null.</summary>
    public double? TargetValAuroc { get; init; }

    /// <summary>AUROC on the evaluated target images (ORACLE: for the selection audit only).</summary>
    public required double TargetTestAuroc { get; init; }

    public static double[] Probabilities(IReadOnlyList<double> margins) => [.. margins.Select(z => 1 / (1 + Math.Exp(-z)))];
}

/// <summary>
/// Scores every candidate checkpoint of a finished training run: restores its weights (and for AdaBN re-estimates the
/// BatchNorm statistics on the target training images, as the deployed model would have them), predicts the
/// partitions, and computes the validators — IM, SND, entropy, BNM on the target training images; source-validation
/// AUROC; DEV from a logistic domain classifier on the candidate's own features; the target validation AUROC for the
/// oracle.
/// </summary>
internal sealed class CandidateScoring(RunSets sets, Device device, bool channelsLast)
{
    public List<CandidateResult> Score(TrainingOutcome outcome, TransferModel model, BackboneCut? cut, Func<ISampleSource, ISampleSource> view, bool adaBn, bool labelledIsTarget)
    {
        var results = new List<CandidateResult>();
        foreach (CandidateCheckpoint candidate in outcome.Candidates)
        {
            outcome.Snapshots.Restore(candidate.Step, model);
            if (adaBn)
            {
                AdaBN.Adapt(model, sets.TargetTrain, device, 32, channelsLast);
            }

            results.Add(Score(candidate, model, cut, view, labelledIsTarget));
        }

        return results;
    }

    /// <summary>Scores the model as it is now (a cross-validated baseline, whose predictions come from several models).</summary>
    public CandidateResult Score(CandidateCheckpoint candidate, TransferModel model, BackboneCut? cut, Func<ISampleSource, ISampleSource> view, bool labelledIsTarget)
    {
        ModelOutputs Run(ISampleSource set, bool features = false) => ModelScoring.Score(model, view(set), device, cut, features, channelsLast);
        ModelOutputs targetTrain = Run(sets.TargetTrain, features: true);
        ModelOutputs sourceTrain = Run(sets.SourceTrain, features: true);
        ModelOutputs sourceVal = Run(sets.SourceVal, features: true);
        double[] targetTest = Margins(Run(sets.TargetTest));
        double[] targetVal = Margins(Run(sets.TargetVal));
        double[][] probabilities = [.. targetTrain.Logits.Select(ModelOutputs.Softmax)];
        double[] sourceValMargins = Margins(sourceVal);
        return new CandidateResult
        {
            Step = candidate.Step,

            // The target-only baseline's own validation data is the target's; every other run's is the source's.
            SourceValAuroc = labelledIsTarget ? Auc(targetVal, sets.TargetVal.Labels) : Auc(sourceValMargins, sets.SourceVal.Labels),
            Im = CheckpointSelection.InformationMaximization(targetTrain.Logits),
            Snd = CheckpointSelection.SoftNeighborhoodDensity(probabilities),
            Entropy = CheckpointSelection.MeanEntropy(probabilities),
            Bnm = CheckpointSelection.BatchNuclearNorm(probabilities),
            DevRisk = Dev(sourceTrain, targetTrain, sourceVal),
            TargetTrainProbabilities = [.. probabilities.Select(p => p[1])],
            TargetValMargins = targetVal,
            TargetTestMargins = targetTest,
            SourceValMargins = sourceValMargins,
            SourceTestMargins = Margins(Run(sets.SourceTest)),
            TargetValAuroc = Auc(targetVal, sets.TargetVal.Labels),
            TargetTestAuroc = Auc(targetTest, sets.TargetTest.Labels) ?? double.NaN,
        };
    }

    private double? Dev(ModelOutputs sourceTrain, ModelOutputs targetTrain, ModelOutputs sourceVal)
    {
        double[][] rows = [.. sourceTrain.Features!, .. targetTrain.Features!];
        int[] domain = [.. Enumerable.Repeat(0, sourceTrain.Features!.Length), .. Enumerable.Repeat(1, targetTrain.Features!.Length)];
        LogisticRegression classifier = LogisticRegression.Fit(rows, domain);
        double[] ratios = CheckpointSelection.DensityRatios(classifier.PredictProbability(sourceVal.Features!), sourceTrain.Features!.Length, targetTrain.Features!.Length);
        double[] losses = CheckpointSelection.CrossEntropyPerSample(sourceVal.Logits, sets.SourceVal.Labels);
        return CheckpointSelection.DeepEmbeddedValidationRisk(losses, ratios);
    }

    private static double[] Margins(ModelOutputs o) => [.. o.Logits.Select(l => l[1] - l[0])];

    private static double? Auc(double[] margins, IReadOnlyList<int> labels) =>
        labels.Contains(0) && labels.Contains(1) ? Auroc.Compute(margins, [.. labels]) : null;
}
