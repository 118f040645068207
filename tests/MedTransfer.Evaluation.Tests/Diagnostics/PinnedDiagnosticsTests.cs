using MedTransfer.Evaluation.Diagnostics;
using MedTransfer.Evaluation.Features;

namespace MedTransfer.Evaluation.Tests.Diagnostics;

/// <summary>
/// The values every pre-training diagnostic gives on <see cref="PinnedFeatures"/>, recorded from the code as it was
/// before the issue-15 speed-up, so a faster implementation has to give the same numbers.
/// Tolerances, and why:
/// <list type="bullet">
/// <item>H-score, GBC, TransRate, PCA: closed forms of the data; a rewrite only changes summation order and the
/// decomposition routine, which moves them by a few ulps times the condition number (≲ 1e4 here), about 1e-12.
/// 1e-9 relative leaves room for that and still catches any change to a formula.</item>
/// <item>LogME: its fixed point stops at a 1% change, so it is a fixed function of the eigenvalues of FᵀF and the
/// projections of each label column; the same iteration on the same spectrum agrees to ~1e-12, pinned at 1e-9
/// relative. (A different iteration count would move it by far more and fail.)</item>
/// <item>Logistic probe probabilities: the objective is strictly convex (λ = 1) and the old Newton loop stops when a
/// step is below 1e-8, by then within ~1e-12 of the unique optimum; any solver converged as tightly agrees, so 1e-8
/// absolute on probabilities.</item>
/// <item>Site-probe AUROC, proxy A-distance, BBSE: functions of ranks, counts and a 2×2 solve; 1e-12 absolute, so
/// a single swapped pair of probe scores (a step of ≥ 5e-7 at these sizes) fails.</item>
/// </list>
/// </summary>
public sealed class PinnedDiagnosticsTests
{
    private const double Closed = 1e-9;
    private const double Probability = 1e-8;
    private const double Exact = 1e-12;

    private static readonly Observed Small = new(
        LabelSum: 211,
        FirstValue: 0.4738617262554534,
        LogMe: -0.6020889263060729,
        HScore: 0.38294607504029243,
        Gbc: -0.42174379492797437,
        TransRate: 11.958925665887705,
        ProbeA: 0.678125,
        ProbeB: 0.6398,
        ProbeC: 0.614025,
        ProbeMacro: 0.6439833333333334,
        ADistance: 0.6666666666666667,
        ADistanceError: 0.3333333333333333,
        ADistanceHeldOut: 120,
        Bbse: 0.44753240279162504,
        Explained0: 0.08454142132399879,
        Explained1: 0.07608784059163927,
        FirstProjection: [0.14741117826821332, -1.8548205755546983],
        LastProjection: [-1.0391377958379115, 1.5473999417132664],
        ProjectionAbsSum: 1839.4196140550155,
        Probabilities: [0.9237197782557666, 0.5039615724020621, 0.5787286408143173],
        ProbabilitySum: 46.67839888164295);

    /// <summary>The same at the size of a real job (3,000 images × 512 ResNet-18 features).</summary>
    private static readonly Observed Large = new(
        LabelSum: 1022,
        FirstValue: 1.0559474248907903,
        LogMe: -0.573589556540272,
        HScore: 0.36203259430773027,
        Gbc: -0.35975217713680424,
        TransRate: 35.111093051902344,
        ProbeA: 0.6625215,
        ProbeB: 0.6647445,
        ProbeC: 0.681538,
        ProbeMacro: 0.6696013333333332,
        ADistance: 0.7733333333333334,
        ADistanceError: 0.30666666666666664,
        ADistanceHeldOut: 600,
        Bbse: 0.3601286812332671,
        Explained0: 0.022232838781060527,
        Explained1: 0.02189577121418636,
        FirstProjection: [0.4700530170075137, -2.3456898373971207],
        LastProjection: [0.4845283237754693, 0.40108680699168375],
        ProjectionAbsSum: 9486.498917271058,
        Probabilities: [0.4493563726763214, 0.6378143044078978, 0.1355852093645132],
        ProbabilitySum: 207.89083722319);

    [Fact]
    public void Fixture_600x128_IsTheOneTheValuesWerePinnedOn()
    {
        PinnedFeatures f = PinnedFeatures.Generate(600, 128, 15);

        Assert.Equal(Small.LabelSum, f.Labels.Sum());
        AssertRelative(Small.FirstValue, f.Rows[0][0], Exact);
    }

    [Fact]
    public void Transferability_600x128_GivesThePinnedScores()
    {
        PinnedFeatures f = PinnedFeatures.Generate(600, 128, 15);

        AssertTransferability(Small, f);
    }

    [Fact]
    public void DatasetBias_600x128_GivesThePinnedProbeDistanceAndBbse()
    {
        PinnedFeatures f = PinnedFeatures.Generate(600, 128, 15);

        AssertDatasetBias(Small, f);
    }

    [Fact]
    public void LogisticRegression_600x128_GivesThePinnedProbabilities()
    {
        PinnedFeatures f = PinnedFeatures.Generate(600, 128, 15);

        AssertProbabilities(Small, f);
    }

    [Fact]
    public void Pca_600x128_GivesThePinnedComponents()
    {
        PinnedFeatures f = PinnedFeatures.Generate(600, 128, 15);

        AssertPca(Small, f);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void AllDiagnostics_3000x512_GiveThePinnedValues()
    {
        PinnedFeatures f = PinnedFeatures.Generate(3000, 512, 15);

        Assert.Equal(Large.LabelSum, f.Labels.Sum());
        AssertRelative(Large.FirstValue, f.Rows[0][0], Exact);
        AssertTransferability(Large, f);
        AssertDatasetBias(Large, f);
        AssertProbabilities(Large, f);
        AssertPca(Large, f);
    }

    /// <summary>The pinned numbers of one fixture size.</summary>
    private sealed record Observed(
        int LabelSum,
        double FirstValue,
        double LogMe,
        double HScore,
        double Gbc,
        double TransRate,
        double ProbeA,
        double ProbeB,
        double ProbeC,
        double ProbeMacro,
        double ADistance,
        double ADistanceError,
        int ADistanceHeldOut,
        double Bbse,
        double Explained0,
        double Explained1,
        double[] FirstProjection,
        double[] LastProjection,
        double ProjectionAbsSum,
        double[] Probabilities,
        double ProbabilitySum);

    private static void AssertTransferability(Observed expected, PinnedFeatures f)
    {
        AssertRelative(expected.LogMe, Transferability.LogMe(f.Rows, f.Labels), Closed);
        AssertRelative(expected.HScore, Transferability.HScore(f.Rows, f.Labels), Closed);
        AssertRelative(expected.Gbc, Transferability.Gbc(f.Rows, f.Labels), Closed);
        AssertRelative(expected.TransRate, Transferability.TransRate(f.Rows, f.Labels), Closed);
    }

    private static void AssertDatasetBias(Observed expected, PinnedFeatures f)
    {
        SiteProbeResult probe = DatasetBias.SiteProbe(f.Rows, f.Sites, folds: 5, seed: 1);
        Assert.Equal(expected.ProbeA, probe.PerSite["A"], Exact);
        Assert.Equal(expected.ProbeB, probe.PerSite["B"], Exact);
        Assert.Equal(expected.ProbeC, probe.PerSite["C"], Exact);
        Assert.Equal(expected.ProbeMacro, probe.MacroAuc, Exact);

        ProxyADistanceResult distance = DatasetBias.ProxyADistance(f.RowsOf("A"), [.. f.RowsOf("B"), .. f.RowsOf("C")], seed: 1);
        Assert.Equal(expected.ADistanceHeldOut, distance.HeldOut);
        Assert.Equal(expected.ADistanceError, distance.HeldOutError, Exact);
        Assert.Equal(expected.ADistance, distance.Distance, Exact);

        Assert.Equal(expected.Bbse, Bbse(f)[1], Exact);
    }

    private static void AssertProbabilities(Observed expected, PinnedFeatures f)
    {
        double[] p = ProbeProbabilities(f);
        Assert.Equal(expected.Probabilities[0], p[0], Probability);
        Assert.Equal(expected.Probabilities[1], p[p.Length / 2], Probability);
        Assert.Equal(expected.Probabilities[2], p[^1], Probability);
        Assert.Equal(expected.ProbabilitySum, p.Sum(), Probability * p.Length);
    }

    private static void AssertPca(Observed expected, PinnedFeatures f)
    {
        (double[][] projection, double[] explained) = Pca.Project(f.Rows, 2);
        AssertRelative(expected.Explained0, explained[0], Closed);
        AssertRelative(expected.Explained1, explained[1], Closed);
        for (int c = 0; c < 2; c++)
        {
            AssertRelative(expected.FirstProjection[c], projection[0][c], Closed);
            AssertRelative(expected.LastProjection[c], projection[^1][c], Closed);
        }

        AssertRelative(expected.ProjectionAbsSum, projection.Sum(row => Math.Abs(row[0]) + Math.Abs(row[1])), Closed);
    }

    /// <summary>The logistic probe on its own: site A against the rest, fitted on the first 80% of rows, scored on the other 20%.</summary>
    private static double[] ProbeProbabilities(PinnedFeatures f)
    {
        int train = f.Rows.Length * 4 / 5;
        int[] y = [.. f.Sites.Select(s => s == "A" ? 1 : 0)];
        LogisticRegression model = LogisticRegression.Fit(f.Rows[..train], y[..train]);
        return model.PredictProbability(f.Rows[train..]);
    }

    /// <summary>
    /// BBSE with site A as labelled source and site C as target, from predictions that err by a fixed rule
    /// (source: 20% of positives and 10% of negatives flipped; target: 30% and 10%), so the confusion matrix is known.
    /// </summary>
    private static double[] Bbse(PinnedFeatures f)
    {
        int[] source = [.. Enumerable.Range(0, f.Rows.Length).Where(i => f.Sites[i] == "A")];
        int[] target = [.. Enumerable.Range(0, f.Rows.Length).Where(i => f.Sites[i] == "C")];
        int[] sourcePredicted = [.. source.Select(i => Flip(f.Labels[i], i, positiveErrors: 2, negativeErrors: 1))];
        int[] targetPredicted = [.. target.Select(i => Flip(f.Labels[i], i, positiveErrors: 3, negativeErrors: 1))];
        return DatasetBias.BbseTargetDistribution(sourcePredicted, [.. source.Select(i => f.Labels[i])], targetPredicted);
    }

    private static int Flip(int label, int index, int positiveErrors, int negativeErrors) =>
        (index / 3 * 7 % 10) < (label == 1 ? positiveErrors : negativeErrors) ? 1 - label : label;

    /// <summary>Relative tolerance for values above 1 in magnitude, absolute below (several pinned values are near 0).</summary>
    private static void AssertRelative(double expected, double actual, double tolerance) =>
        Assert.True(Math.Abs(actual - expected) <= tolerance * Math.Max(1, Math.Abs(expected)), $"expected {expected:R}, got {actual:R} (relative tolerance {tolerance})");
}
