using MedTransfer.Evaluation.Metrics;
using MedTransfer.Pipeline.Protocols;
using MedTransfer.Pipeline.Sweeps;
using MedTransfer.Training.Backbones;
using MedTransfer.Training.FineTuning;
using static TorchSharp.torch;

namespace MedTransfer.Pipeline.Runs.Stages;

/// <summary>
/// <c>model.validate_top: k</c>: the k best-ranked candidates (by LogME) are each trained as the protocol's source-only
/// baseline (first seed, the protocol's training settings, the candidate's backbone and cut as <c>trainable_from</c>)
/// and evaluated, so the report can set the predicted rank beside the obtained one. The target AUROC reads the target
/// labels (ORACLE information); the source-validation AUROC does not.
/// </summary>
internal static class ValidateTopStage
{
    public static IReadOnlyList<CandidateValidation> Run(ExperimentProtocol protocol, RankOutcome ranking, RunSets sets, ActivationCache cache, Device device, string checkpoints, double checkpointSeconds, IProgress<RunProgress>? progress, CancellationToken ct)
    {
        var trained = new List<(RankRow Row, double SourceVal, double Target)>();
        foreach ((RankRow row, int i) in ranking.Rows.Take(protocol.Model.ValidateTop).Select((r, i) => (r, i)))
        {
            ct.ThrowIfCancellationRequested();
            progress?.Report(new RunProgress("validate", i, protocol.Model.ValidateTop, $"training {Path.GetFileName(row.Backbone)} from {row.Cut} (source-only)"));
            ExperimentProtocol p = AsCandidate(protocol, row);
            var stage = new MethodRunStage(p, sets, cache, device, Path.Combine(checkpoints, $"validate-{i + 1}"), checkpointSeconds, progress);
            WorkItem item = SweepPlan.Expand(p).Items.First(w => w.Method == TrainingMethod.SourceOnly && w.Seed == protocol.Seeds[0]);
            ItemResult result = stage.Run([item], ct)[0];
            CandidateResult chosen = result.Candidates[result.ChosenIndex];
            double target = Auroc.Compute(CandidateResult.Probabilities(chosen.TargetTestMargins), [.. sets.TargetTest.Labels]);
            trained.Add((row, chosen.SourceValAuroc ?? double.NaN, target));
        }

        progress?.Report(new RunProgress("validate", trained.Count, trained.Count, "done"));
        return [.. trained.Select(t => new CandidateValidation(t.Row.Backbone, t.Row.Cut, 1 + trained.Count(o => o.Row.LogMeRank < t.Row.LogMeRank), t.SourceVal, t.Target, 1 + trained.Count(o => o.Target > t.Target)))];
    }

    /// <summary>The protocol with the candidate's backbone and cut and only the source-only baseline.</summary>
    private static ExperimentProtocol AsCandidate(ExperimentProtocol protocol, RankRow row)
    {
        ModelSpec m = protocol.Model;
        bool onnx = BackboneNames.IsOnnxFile(row.Backbone);
        bool frozen = row.Cut == "head";
        ProtocolNames.TryParse(row.Backbone, out BackboneKind kind);
        ProtocolNames.TryParse(row.Cut, out TrainableStage stage);
        ModelSpec model = m with
        {
            Backbone = onnx ? m.Backbone : kind,
            BackbonePath = onnx ? row.Backbone : null,
            FeatureNode = onnx && row.Backbone == m.BackbonePath ? m.FeatureNode : null,
            Input = onnx && row.Backbone == m.BackbonePath ? m.Input : null,
            Strategy = frozen ? FineTuningStrategy.FeatureExtraction : m.Strategy == FineTuningStrategy.FeatureExtraction ? FineTuningStrategy.Full : m.Strategy,
            TrainableFrom = frozen ? null : stage,
        };
        return protocol with { Model = model, Adaptation = new AdaptationSpec(), Baselines = [TrainingMethod.SourceOnly], Seeds = [protocol.Seeds[0]] };
    }
}
