using MedTransfer.Pipeline.Protocols;
using MedTransfer.Pipeline.Runs.Stages;
using MedTransfer.Training.FineTuning;

namespace MedTransfer.Pipeline.Tests.Runs;

/// <summary>The label-free rules that choose a run's checkpoint, on constructed candidates whose right pick is known.</summary>
public sealed class CheckpointChoiceTests
{
    private static readonly CandidateCheckpoint[] s_candidates =
    [
        new(50, ValidationAuroc: 0.70, ValidationLoss: 0.60, ValidationAccuracy: 0.6, Im: 0.10, Snd: 2.0),
        new(100, ValidationAuroc: 0.85, ValidationLoss: 0.50, ValidationAccuracy: 0.7, Im: 0.30, Snd: 1.5),
        new(150, ValidationAuroc: 0.80, ValidationLoss: 0.40, ValidationAccuracy: 0.8, Im: 0.45, Snd: 1.0),
        new(200, ValidationAuroc: 0.85, ValidationLoss: 0.45, ValidationAccuracy: 0.8, Im: 0.20, Snd: 1.8),
    ];

    [Theory]
    [InlineData(SelectionRule.SourceVal, 100, "source-val AUROC on source val")]
    [InlineData(SelectionRule.Im, 150, "im on the target training images")]
    [InlineData(SelectionRule.Snd, 50, "snd on the target training images")]
    public void Select_PicksTheBestCandidateOfItsRule_EarliestOnTies(SelectionRule rule, long step, string words)
    {
        Choice choice = Select(rule, s_candidates);

        Assert.Equal(step, choice.Step);
        Assert.StartsWith(words, choice.Rule, StringComparison.Ordinal);
        Assert.Contains("4 candidates", choice.Rule, StringComparison.Ordinal);
        Assert.False(choice.IsOracle);
    }

    [Fact]
    public void Select_SourceValWithoutAuroc_UsesTheLossAndSaysSo()
    {
        CandidateCheckpoint[] oneClass = [.. s_candidates.Select(c => c with { ValidationAuroc = null })];

        Choice choice = Select(SelectionRule.SourceVal, oneClass);

        Assert.Equal(150, choice.Step);
        Assert.Contains("AUROC undefined", choice.Rule, StringComparison.Ordinal);
    }

    [Fact]
    public void Select_TargetOnly_NamesItsOwnValidationData()
    {
        Choice choice = CheckpointChoice.Select(SelectionRule.SourceVal, Outcome(s_candidates), null!, s => s, null, null!, targetOnly: true, TorchSharp.torch.CPU, channelsLast: false);

        Assert.Contains("target val", choice.Rule, StringComparison.Ordinal);
    }

    [Fact]
    public void Select_NoCandidateHasAScore_KeepsTheLastAndSaysSo()
    {
        CandidateCheckpoint[] none = [.. s_candidates.Select(c => c with { Im = null })];

        Choice choice = Select(SelectionRule.Im, none);

        Assert.Equal(200, choice.Step);
        Assert.Contains("undefined for every candidate", choice.Rule, StringComparison.Ordinal);
    }

    // im, snd and source-val read the signals the trainer recorded for each candidate: no model is run.
    private static Choice Select(SelectionRule rule, CandidateCheckpoint[] candidates) =>
        CheckpointChoice.Select(rule, Outcome(candidates), null!, s => s, null, null!, targetOnly: false, TorchSharp.torch.CPU, channelsLast: false);

    private static TrainingOutcome Outcome(CandidateCheckpoint[] candidates) =>
        new(200, null, false, candidates, null, new TrainingCurves([], [], [], [], []), 0, "head", true, "cpu", 0, null!);
}
