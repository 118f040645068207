using MedTransfer.Evaluation.Metrics;

namespace MedTransfer.Evaluation.Tests.Metrics;

public sealed class BinaryMetricsTests
{
    [Fact]
    public void AveragePrecision_SmallExample_MatchesTheStepwiseDefinition()
    {
        // Ranked: 0.8 (1), 0.4 (0), 0.35 (1), 0.1 (0): P@1 = 1, P@3 = 2/3 → AP = ½·1 + ½·⅔ = 0.8333…
        Assert.Equal(5.0 / 6.0, BinaryMetrics.AveragePrecision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 12);
    }

    [Fact]
    public void AveragePrecision_TiedScores_CrossTogether()
    {
        // One threshold holds all four: recall jumps 0 → 1 at precision ½.
        Assert.Equal(0.5, BinaryMetrics.AveragePrecision([0.3, 0.3, 0.3, 0.3], [1, 0, 1, 0]), 12);
    }

    [Fact]
    public void ConfusionMatrix_AtThreshold_CountsAndRatesByHand()
    {
        ConfusionMatrix m = ConfusionMatrix.At([0.9, 0.6, 0.4, 0.2, 0.7, 0.1], [1, 1, 1, 0, 0, 0], 0.5);

        Assert.Equal((2, 1, 2, 1), (m.TruePositives, m.FalsePositives, m.TrueNegatives, m.FalseNegatives));
        Assert.Equal(2.0 / 3, m.Sensitivity, 12);
        Assert.Equal(2.0 / 3, m.Specificity, 12);
        Assert.Equal(2.0 / 3, m.PositivePredictiveValue, 12);
        Assert.Equal(2.0 / 3, m.F1, 12);
        Assert.Equal(2.0 / 3, m.BalancedAccuracy, 12);
    }

    [Fact]
    public void ConfusionMatrix_NoNegatives_GivesNaNSpecificityNotACrash()
    {
        ConfusionMatrix m = ConfusionMatrix.At([0.9, 0.1], [1, 1], 0.5);

        Assert.True(double.IsNaN(m.Specificity));
        Assert.Equal(0.5, m.Sensitivity);
    }

    [Fact]
    public void YoudenThreshold_SeparableWithOneOverlap_PicksTheBestCut()
    {
        double[] scores = [0.1, 0.2, 0.3, 0.35, 0.6, 0.7, 0.8, 0.25];
        int[] labels = [0, 0, 0, 0, 1, 1, 1, 1];

        // At 0.6: sens 3/4, spec 1 → J 0.75; at 0.25: sens 1, spec 2/4 → J 0.5.
        Assert.Equal(0.6, BinaryMetrics.YoudenThreshold(scores, labels));
    }

    [Fact]
    public void ThresholdForSensitivity_TakesTheMostSpecificPointThatReachesIt()
    {
        double[] scores = [0.1, 0.2, 0.3, 0.35, 0.6, 0.7, 0.8, 0.25];
        int[] labels = [0, 0, 0, 0, 1, 1, 1, 1];

        Assert.Equal(0.25, BinaryMetrics.ThresholdForSensitivity(scores, labels, 1.0));
        Assert.Equal(0.6, BinaryMetrics.ThresholdForSensitivity(scores, labels, 0.75));
    }

    [Fact]
    public void Brier_ByHand()
    {
        // ((0.9−1)² + (0.2−0)² + (0.6−1)²) / 3 = (0.01 + 0.04 + 0.16) / 3
        Assert.Equal(0.07, BinaryMetrics.Brier([0.9, 0.2, 0.6], [1, 0, 1]), 12);
    }

    [Fact]
    public void BinaryEce_TwoBins_ByHand()
    {
        // Bin (0, 0.5]: p 0.2, 0.4 with outcomes 0, 1 → conf 0.3, acc 0.5 → |Δ| 0.2, weight ½.
        // Bin (0.5, 1]: p 0.8, 0.9 with outcomes 1, 1 → conf 0.85, acc 1 → |Δ| 0.15, weight ½.
        CalibrationResult r = Calibration.BinaryEce([0.2, 0.4, 0.8, 0.9], [0, 1, 1, 1], bins: 2);

        Assert.Equal(0.175, r.Ece, 12);
        Assert.Equal(2, r.Bins[1].Count);
        Assert.Contains("2 equal-width bins", r.Scheme, StringComparison.Ordinal);
    }

    [Fact]
    public void TopLabelEce_PerfectlyCalibratedConfidentAndRight_IsZero()
    {
        CalibrationResult r = Calibration.TopLabelEce([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], [0, 2]);

        Assert.Equal(0, r.Ece, 12);
    }
}
