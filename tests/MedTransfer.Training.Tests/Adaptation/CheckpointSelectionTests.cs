using MedTransfer.Training.Adaptation;

namespace MedTransfer.Training.Tests.Adaptation;

public sealed class CheckpointSelectionTests
{
    private static double H(double[] p) => -p.Where(v => v > 0).Sum(v => v * Math.Log(v));

    [Fact]
    public void InformationMaximization_MatchesEntropyOfMeanMinusMeanEntropy()
    {
        double[][] logits = Reference.Matrix(6, 3, 1, 3);
        double[][] p = [.. logits.Select(r => Reference.Softmax(r))];
        double[] mean = [.. Enumerable.Range(0, 3).Select(j => p.Average(r => r[j]))];

        double score = CheckpointSelection.InformationMaximization(logits);

        Assert.Equal(H(mean) - p.Average(H), score, 1e-12);
    }

    [Fact]
    public void InformationMaximization_ConfidentDiverse_BeatsCollapsed()
    {
        double[][] diverse = [[9, 0], [0, 9], [9, 0], [0, 9]];
        double[][] collapsed = [[9, 0], [9, 0], [9, 0], [9, 0]];

        SelectionResult r = CheckpointSelection.SelectByInformationMaximization([collapsed, diverse]);

        Assert.Equal(1, r.SelectedIndex);
        Assert.Equal("im", r.Selector);
        Assert.False(r.IsOracle);
        Assert.True(r.HigherIsBetter);
    }

    [Fact]
    public void SoftNeighborhoodDensity_MatchesDefinition()
    {
        double[][] rows = Reference.Matrix(5, 3, 2);
        const double Tau = 0.05;

        double snd = CheckpointSelection.SoftNeighborhoodDensity(rows, Tau);

        double[][] x = [.. rows.Select(r => { double n = Math.Sqrt(r.Sum(v => v * v)); return r.Select(v => v / n).ToArray(); })];
        double total = 0;
        for (int i = 0; i < 5; i++)
        {
            double[] s = [.. Enumerable.Range(0, 5).Select(j => i == j ? -1 / Tau : x[i].Select((v, k) => v * x[j][k]).Sum() / Tau)];
            total += H(Reference.Softmax(s));
        }

        Assert.Equal(total / 5, snd, 1e-10);
    }

    [Fact]
    public void SoftNeighborhoodDensity_TightClusters_HigherThanSpread()
    {
        // Two tight clusters of 4: each sample's soft neighbours spread over its 3 cluster mates (entropy ≈ ln 3).
        double[][] clustered = [[1, 0.01], [1, 0.02], [1, 0.015], [1, 0.005], [0.01, 1], [0.02, 1], [0.015, 1], [0.005, 1]];
        double[][] spread = [.. Enumerable.Range(0, 8).Select(i => new[] { Math.Cos(i * Math.PI / 8), Math.Sin(i * Math.PI / 8) })];

        SelectionResult r = CheckpointSelection.SelectBySoftNeighborhoodDensity([spread, clustered]);

        Assert.Equal(1, r.SelectedIndex);
        Assert.Equal(Math.Log(3), r.Scores[1], 0.05);
    }

    [Fact]
    public void DeepEmbeddedValidation_MatchesControlVariateFormula()
    {
        double[] losses = [0.2, 1.5, 0.7, 0.1, 0.9];
        double[] w = [0.5, 2.0, 1.2, 0.3, 1.0];

        double risk = CheckpointSelection.DeepEmbeddedValidationRisk(losses, w);

        double[] l = [.. losses.Select((v, i) => v * w[i])];
        double ml = l.Average(), mw = w.Average();
        double cov = l.Select((v, i) => (v - ml) * (w[i] - mw)).Sum() / 4;
        double var = w.Select(v => (v - mw) * (v - mw)).Sum() / 4;
        double eta = -cov / var;
        Assert.Equal(ml + (eta * mw) - eta, risk, 1e-12);
    }

    [Fact]
    public void DeepEmbeddedValidation_EqualRatios_IsMeanLoss_AndLowerRiskIsChosen()
    {
        double[] ones = [1, 1, 1];

        Assert.Equal(0.5, CheckpointSelection.DeepEmbeddedValidationRisk([0.2, 0.5, 0.8], ones), 1e-12);
        SelectionResult r = CheckpointSelection.SelectByDeepEmbeddedValidation([[0.9, 0.9, 0.9], [0.2, 0.5, 0.8]], [ones, ones]);
        Assert.Equal(1, r.SelectedIndex);
        Assert.False(r.HigherIsBetter);
        Assert.Equal("dev", r.Selector);
    }

    [Fact]
    public void DensityRatios_FromDomainClassifier_ArePriorTimesOdds()
    {
        double[] w = CheckpointSelection.DensityRatios([0.5, 0.8, 0.2], sourceCount: 100, targetCount: 50);

        Assert.Equal(2.0, w[0], 1e-9);
        Assert.Equal(2.0 * 4, w[1], 1e-9);
        Assert.Equal(2.0 * 0.25, w[2], 1e-9);
    }

    [Fact]
    public void SourceAccuracy_SelectsBest_NotOracle()
    {
        int[] y = [0, 1, 1];
        double[][] good = [[2, 0], [0, 2], [0, 2]];
        double[][] bad = [[0, 2], [0, 2], [2, 0]];

        SelectionResult r = CheckpointSelection.SelectBySourceAccuracy([bad, good], y);

        Assert.Equal(1, r.SelectedIndex);
        Assert.Equal([1 / 3.0, 1.0], r.Scores);
        Assert.False(r.IsOracle);
    }

    [Fact]
    public void Oracle_IsFlaggedAndNamed()
    {
        SelectionResult r = CheckpointSelection.SelectByOracleTargetAccuracy([[[1, 0]], [[0, 1]]], [1]);

        Assert.True(r.IsOracle);
        Assert.Equal("oracle-target-accuracy", r.Selector);
        Assert.Equal(1, r.SelectedIndex);
    }

    [Fact]
    public void CrossEntropyPerSample_IsMinusLogSoftmaxOfLabel()
    {
        double[] ce = CheckpointSelection.CrossEntropyPerSample([[1, 2, 0], [0, 0, 0]], [1, 2]);

        Assert.Equal(-Math.Log(Reference.Softmax([1, 2, 0])[1]), ce[0], 1e-12);
        Assert.Equal(Math.Log(3), ce[1], 1e-12);
    }

    [Fact]
    public void BadInputs_ThrowTypedSelectionError()
    {
        static void Check(Action a) => Assert.Equal(AdaptationErrorCode.InvalidSelectionInput, Assert.Throws<AdaptationException>(a).Code);

        Check(() => CheckpointSelection.SelectByInformationMaximization([]));
        Check(() => CheckpointSelection.InformationMaximization([[1, 2], [3]]));
        Check(() => CheckpointSelection.InformationMaximization([[double.NaN, 2]]));
        Check(() => CheckpointSelection.SourceAccuracy([[1, 2]], [2]));
        Check(() => CheckpointSelection.SourceAccuracy([[1, 2]], [0, 1]));
        Check(() => CheckpointSelection.SoftNeighborhoodDensity([[1, 2]]));
        Check(() => CheckpointSelection.DeepEmbeddedValidationRisk([1, 2], [1]));
        Check(() => CheckpointSelection.DeepEmbeddedValidationRisk([1, 2], [1, -1]));
        Check(() => CheckpointSelection.DensityRatios([1.5], 1, 1));
        Check(() => CheckpointSelection.SelectByDeepEmbeddedValidation([[1, 2]], []));
    }

    [Fact]
    public void MeanEntropy_IsTheAverageRowEntropy_ConfidentIsLower()
    {
        double[][] p = [[0.5, 0.5], [0.9, 0.1]];
        double expected = (Math.Log(2) + -((0.9 * Math.Log(0.9)) + (0.1 * Math.Log(0.1)))) / 2;

        Assert.Equal(expected, CheckpointSelection.MeanEntropy(p), 12);
        Assert.True(CheckpointSelection.MeanEntropy([[0.99, 0.01], [0.02, 0.98]]) < CheckpointSelection.MeanEntropy(p));
    }

    [Fact]
    public void BatchNuclearNorm_IsTheSumOfSingularValuesOverN_DiverseBeatsCollapsed()
    {
        // One-hot rows over two classes, n each: P has singular values √n and √n, so ‖P‖_* / 2n = 2√n / 2n.
        double[][] diverse = [[1, 0], [1, 0], [0, 1], [0, 1]];
        double[][] collapsed = [[1, 0], [1, 0], [1, 0], [1, 0]];

        Assert.Equal(2 * Math.Sqrt(2) / 4, CheckpointSelection.BatchNuclearNorm(diverse), 12);
        Assert.Equal(2.0 / 4, CheckpointSelection.BatchNuclearNorm(collapsed), 12);

        // A general matrix against its singular values computed from the 2×2 Gram matrix in closed form.
        double[][] p = [[0.7, 0.3], [0.2, 0.8], [0.6, 0.4]];
        double a = p.Sum(r => r[0] * r[0]), b = p.Sum(r => r[0] * r[1]), d = p.Sum(r => r[1] * r[1]);
        double mean = (a + d) / 2, spread = Math.Sqrt((((a - d) / 2) * ((a - d) / 2)) + (b * b));
        Assert.Equal((Math.Sqrt(mean + spread) + Math.Sqrt(mean - spread)) / 3, CheckpointSelection.BatchNuclearNorm(p), 10);
    }

    [Fact]
    public void EnsembleAgreement_ScoresAgreementWithTheAverageCandidate()
    {
        double[][] a = [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]];
        double[][] b = [[0.8, 0.2], [0.6, 0.4], [0.2, 0.8]];
        double[][] odd = [[0.1, 0.9], [0.4, 0.6], [0.6, 0.4]];

        double[] scores = CheckpointSelection.EnsembleAgreement([a, b, odd]);

        // Ensemble: row 0 → 0 (mean 0.6), row 1 → 0 (0.6), row 2 → 1 (0.633).
        Assert.Equal([1.0, 1.0, 0.0], scores);
        Assert.Throws<AdaptationException>(() => CheckpointSelection.EnsembleAgreement([a, [[0.5, 0.5]]]));
    }
}
