using System.Text.Json.Serialization;
using MedTransfer.Evaluation.Metrics;
using MedTransfer.Training.FineTuning;

namespace MedTransfer.Pipeline.Runs.Stages;

/// <summary>What one (method, seed) run kept: every candidate's predictions and scores, and which candidate the run keeps.</summary>
internal sealed record ItemResult
{
    public required string Method { get; init; }

    public required int Seed { get; init; }

    public required string ProtocolHash { get; init; }

    public required long Steps { get; init; }

    public required double Seconds { get; init; }

    public required bool StoppedEarly { get; init; }

    public required string TrainableFrom { get; init; }

    public required bool CachedActivations { get; init; }

    public required int SaturatedSteps { get; init; }

    /// <summary>True for the adabn method: each candidate's BatchNorm statistics are re-estimated on the target before it is used.</summary>
    public required bool AdaBn { get; init; }

    /// <summary>True when the predictions come from k models that each never saw the images they score (the transductive target-only baseline); such a run has no weights to export.</summary>
    public bool CrossValidated { get; init; }

    public required TrainingCurves Curves { get; init; }

    public required IReadOnlyList<CandidateResult> Candidates { get; init; }

    /// <summary>The candidate this run keeps (by the protocol's selection rule among its own candidates).</summary>
    public required int ChosenIndex { get; init; }

    public required string ChosenBy { get; init; }

    public required double ChosenScore { get; init; }

    public required bool IsOracle { get; init; }

    [JsonIgnore]
    public CandidateResult Chosen => Candidates[ChosenIndex];

    [JsonIgnore]
    public double[] TargetTestScores => CandidateResult.Probabilities(Chosen.TargetTestMargins);

    [JsonIgnore]
    public double[] SourceValScores => CandidateResult.Probabilities(Chosen.SourceValMargins);

    [JsonIgnore]
    public double TargetAuroc => Chosen.TargetTestAuroc;

    [JsonIgnore]
    public double SourceAuroc => Chosen.SourceTestMargins.Length == 0 ? double.NaN : Auc(Chosen.SourceTestMargins, SourceTestLabels);

    [JsonIgnore]
    internal IReadOnlyList<int> SourceTestLabels { get; set; } = [];

    [JsonIgnore]
    internal IReadOnlyList<int> TargetTestLabels { get; set; } = [];

    [JsonIgnore]
    public double TargetAccuracy => TargetTestLabels.Count == 0 ? double.NaN : TargetTestScores.Select((p, i) => (p >= 0.5 ? 1 : 0) == TargetTestLabels[i] ? 1.0 : 0.0).Average();

    private static double Auc(double[] margins, IReadOnlyList<int> labels) =>
        labels.Contains(0) && labels.Contains(1) ? Auroc.Compute(margins, [.. labels]) : double.NaN;
}
