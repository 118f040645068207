using MedTransfer.Pipeline.Protocols;
using MedTransfer.Pipeline.Runs.Stages;
using MedTransfer.Training.FineTuning;

namespace MedTransfer.Pipeline.Tests.Runs;

/// <summary>The selection rules over candidate checkpoints, the pick across runs, and the audit — on constructed candidates whose right pick is known.</summary>
public sealed class SelectionTests
{
    private static CandidateResult Candidate(long step, double? sourceVal = null, double? im = null, double? snd = null, double? entropy = null, double? bnm = null, double? dev = null, double? targetVal = null, double targetTest = 0.5, double[]? probabilities = null) => new()
    {
        Step = step,
        SourceValAuroc = sourceVal,
        Im = im,
        Snd = snd,
        Entropy = entropy,
        Bnm = bnm,
        DevRisk = dev,
        TargetValAuroc = targetVal,
        TargetTestAuroc = targetTest,
        TargetTrainProbabilities = probabilities ?? [0.2, 0.8],
        TargetTestMargins = [0, 0],
    };

    private static readonly CandidateResult[] s_candidates =
    [
        Candidate(50, sourceVal: 0.70, im: 0.10, snd: 2.0, entropy: 0.60, bnm: 0.50, dev: 0.40, targetVal: 0.60, targetTest: 0.60),
        Candidate(100, sourceVal: 0.85, im: 0.30, snd: 1.5, entropy: 0.40, bnm: 0.70, dev: 0.35, targetVal: 0.90, targetTest: 0.80),
        Candidate(150, sourceVal: 0.80, im: 0.45, snd: 1.0, entropy: 0.20, bnm: 0.65, dev: 0.50, targetVal: 0.70, targetTest: 0.90),
        Candidate(200, sourceVal: 0.85, im: 0.20, snd: 1.8, entropy: 0.50, bnm: 0.60, dev: 0.45, targetVal: 0.80, targetTest: 0.70),
    ];

    [Theory]
    [InlineData(SelectionRule.SourceVal, 100)]
    [InlineData(SelectionRule.Im, 150)]
    [InlineData(SelectionRule.Snd, 50)]
    [InlineData(SelectionRule.Entropy, 150)]
    [InlineData(SelectionRule.Bnm, 100)]
    [InlineData(SelectionRule.Dev, 100)]
    [InlineData(SelectionRule.Oracle, 100)]
    public void Best_PicksTheBestCandidateOfItsRule_EarliestOnTies(SelectionRule rule, long step)
    {
        Pick pick = SelectionRules.Best(rule, s_candidates, "here");

        Assert.Equal(step, s_candidates[pick.Index].Step);
        Assert.Equal(rule == SelectionRule.Oracle, pick.IsOracle);
        Assert.Contains("4 candidate(s) here", pick.Rule, StringComparison.Ordinal);
    }

    [Fact]
    public void Ensv_PicksTheCandidateThatAgreesWithTheEnsemble()
    {
        // Three candidates agree on every image; the fourth disagrees on two of four: it is never the pick.
        CandidateResult[] c =
        [
            Candidate(1, probabilities: [0.9, 0.8, 0.2, 0.1]),
            Candidate(2, probabilities: [0.1, 0.2, 0.8, 0.9]),
            Candidate(3, probabilities: [0.8, 0.7, 0.3, 0.2]),
            Candidate(4, probabilities: [0.7, 0.9, 0.1, 0.3]),
        ];

        double[] scores = SelectionRules.Scores(SelectionRule.Ensv, c);
        Pick pick = SelectionRules.Best(SelectionRule.Ensv, c, "here");

        Assert.Equal([1.0, 0.0, 1.0, 1.0], scores);
        Assert.Equal(0, pick.Index);
    }

    [Fact]
    public void Best_NoCandidateHasAScore_KeepsTheLastAndSaysSo()
    {
        CandidateResult[] none = [.. s_candidates.Select(c => c with { Im = null })];

        Pick pick = SelectionRules.Best(SelectionRule.Im, none, "here");

        Assert.Equal(3, pick.Index);
        Assert.Contains("undefined for every candidate", pick.Rule, StringComparison.Ordinal);
    }

    [Fact]
    public void SelectionStage_PicksAcrossRuns_NeverTheTargetOnlyBaseline_AndAuditsEveryValidator()
    {
        ItemResult Run(string method, int seed, params CandidateResult[] c) => new()
        {
            Method = method,
            Seed = seed,
            ProtocolHash = "h",
            Steps = 200,
            Seconds = 1,
            StoppedEarly = false,
            TrainableFrom = "head",
            CachedActivations = true,
            SaturatedSteps = 0,
            AdaBn = false,
            Curves = new TrainingCurves([], [], [], [], []),
            Candidates = c,
            ChosenIndex = 0,
            ChosenBy = "im",
            ChosenScore = 0,
            IsOracle = false,
        };

        ItemResult[] items =
        [
            Run("source-only", 1, s_candidates[0], s_candidates[1]),
            Run("target-only", 1, Candidate(200, im: 9.0, targetTest: 0.99)),
            Run("dann", 1, s_candidates[2], s_candidates[3]),
        ];
        ExperimentProtocol protocol = new()
        {
            Name = "p",
            Data = new DataSpec { Modality = ProtocolModality.Xray, Sources = [], SourceSites = ["A"], TargetSites = ["B"] },
            Selection = SelectionRule.Im,
        };

        (ItemResult item, SelectedRun selected, SelectionAudit audit) = SelectionStage.Run(protocol, items);

        Assert.Equal(("dann", 150L), (item.Method, selected.Checkpoint));
        Assert.Equal(4, audit.Candidates);
        Assert.Equal(0.9, audit.BestTargetAuroc);
        ValidatorAudit im = audit.Validators.Single(v => v.Validator == "im");
        Assert.True(im.IsProtocolRule);
        Assert.Equal((1, 0.0), (im.Rank, im.Regret));
        ValidatorAudit snd = audit.Validators.Single(v => v.Validator == "snd");
        Assert.Equal(("source-only", 50L, 4), (snd.Method, snd.Checkpoint, snd.Rank));
        Assert.Equal(0.3, snd.Regret, 12);

        // IM ranks the four candidates exactly as their target AUROC does; SND exactly the other way.
        Assert.Equal(1.0, im.RankCorrelation, 12);
        Assert.Equal(-1.0, snd.RankCorrelation, 12);
        Assert.Equal(SelectionRules.All.Count, audit.Validators.Count);
    }
}
