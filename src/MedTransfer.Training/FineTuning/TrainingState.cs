namespace MedTransfer.Training.FineTuning;

/// <summary>Everything of a run besides weights and optimizer state that a resume must restore.</summary>
internal sealed class TrainingState
{
    public long Step { get; set; }

    public long? ResumedFrom { get; set; }

    public long? BestStep { get; set; }

    public double? BestSignal { get; set; }

    public int Stale { get; set; }

    public bool StoppedEarly { get; set; }

    public int SaturatedSteps { get; set; }

    public int SaturatedRun { get; set; }

    public List<CandidateCheckpoint> Candidates { get; init; } = [];

    /// <summary>A source-free method's current pseudo-label per target sample (null for every other method).</summary>
    public int[]? PseudoLabels { get; set; }

    public CurveRecorder Curves { get; init; } = new();

    /// <summary>Per-step curves as they are recorded.</summary>
    internal sealed class CurveRecorder
    {
        public List<double> Loss { get; init; } = [];

        public List<double> Transfer { get; init; } = [];

        public List<double> Lambda { get; init; } = [];

        public List<double> LearningRate { get; init; } = [];

        public List<double> DiscriminatorAccuracy { get; init; } = [];

        public void Add(double loss, double transfer, double lambda, double lr, double accuracy)
        {
            Loss.Add(loss);
            Transfer.Add(transfer);
            Lambda.Add(lambda);
            LearningRate.Add(lr);
            DiscriminatorAccuracy.Add(accuracy);
        }

        public TrainingCurves ToCurves() => new([.. Loss], [.. Transfer], [.. Lambda], [.. LearningRate], [.. DiscriminatorAccuracy]);
    }
}
