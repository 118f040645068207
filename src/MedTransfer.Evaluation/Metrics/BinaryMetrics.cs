namespace MedTransfer.Evaluation.Metrics;

/// <summary>Counts and rates of a binary decision at one threshold (score ≥ threshold ⇒ positive).</summary>
/// <param name="Threshold">The operating point.</param>
/// <param name="TruePositives">Positives called positive.</param>
/// <param name="FalsePositives">Negatives called positive.</param>
/// <param name="TrueNegatives">Negatives called negative.</param>
/// <param name="FalseNegatives">Positives called negative.</param>
public sealed record ConfusionMatrix(double Threshold, int TruePositives, int FalsePositives, int TrueNegatives, int FalseNegatives)
{
    /// <summary>Sensitivity (recall, TPR) = TP / (TP + FN); NaN without positives.</summary>
    public double Sensitivity => Ratio(TruePositives, TruePositives + FalseNegatives);

    /// <summary>Specificity (TNR) = TN / (TN + FP); NaN without negatives.</summary>
    public double Specificity => Ratio(TrueNegatives, TrueNegatives + FalsePositives);

    /// <summary>Positive predictive value (precision) = TP / (TP + FP); NaN when nothing is called positive.</summary>
    public double PositivePredictiveValue => Ratio(TruePositives, TruePositives + FalsePositives);

    /// <summary>Negative predictive value = TN / (TN + FN); NaN when nothing is called negative.</summary>
    public double NegativePredictiveValue => Ratio(TrueNegatives, TrueNegatives + FalseNegatives);

    /// <summary>Balanced accuracy = (sensitivity + specificity) / 2.</summary>
    public double BalancedAccuracy => (Sensitivity + Specificity) / 2;

    /// <summary>Accuracy = (TP + TN) / n.</summary>
    public double Accuracy => Ratio(TruePositives + TrueNegatives, TruePositives + TrueNegatives + FalsePositives + FalseNegatives);

    /// <summary>F1 = 2TP / (2TP + FP + FN); NaN when there are no positives and none are called.</summary>
    public double F1 => Ratio(2 * TruePositives, (2 * TruePositives) + FalsePositives + FalseNegatives);

    /// <summary>The matrix of <paramref name="scores"/> against <paramref name="labels"/> at <paramref name="threshold"/>.</summary>
    public static ConfusionMatrix At(ReadOnlySpan<double> scores, ReadOnlySpan<int> labels, double threshold)
    {
        BinaryMetrics.CheckInputs(scores, labels);
        int tp = 0;
        int fp = 0;
        int tn = 0;
        int fn = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            bool called = scores[i] >= threshold;
            if (labels[i] == 1)
            {
                if (called)
                {
                    tp++;
                }
                else
                {
                    fn++;
                }
            }
            else if (called)
            {
                fp++;
            }
            else
            {
                tn++;
            }
        }

        return new ConfusionMatrix(threshold, tp, fp, tn, fn);
    }

    private static double Ratio(int numerator, int denominator) => denominator == 0 ? double.NaN : numerator / (double)denominator;
}

/// <summary>Threshold-free and threshold-choosing binary metrics.</summary>
public static class BinaryMetrics
{
    /// <summary>
    /// Area under the precision-recall curve as average precision, AP = Σₙ (Rₙ − Rₙ₋₁)·Pₙ over the distinct
    /// score thresholds from high to low (the step-wise estimator; no interpolation, so it is not optimistic).
    /// </summary>
    /// <exception cref="MetricUndefinedException">There is no positive sample.</exception>
    public static double AveragePrecision(ReadOnlySpan<double> scores, ReadOnlySpan<int> labels)
    {
        CheckInputs(scores, labels);
        int positives = 0;
        foreach (int y in labels)
        {
            positives += y;
        }

        if (positives == 0)
        {
            throw new MetricUndefinedException("Average precision is undefined without positive samples.");
        }

        double[] s = scores.ToArray();
        int[] order = [.. Enumerable.Range(0, s.Length)];
        Array.Sort(order, (a, b) => s[b].CompareTo(s[a]));
        double ap = 0;
        double previousRecall = 0;
        int tp = 0;
        int called = 0;
        int k = 0;
        while (k < order.Length)
        {
            // All samples that share a score cross the threshold together.
            double score = s[order[k]];
            while (k < order.Length && s[order[k]] == score)
            {
                tp += labels[order[k]];
                called++;
                k++;
            }

            double recall = tp / (double)positives;
            ap += (recall - previousRecall) * (tp / (double)called);
            previousRecall = recall;
        }

        return ap;
    }

    /// <summary>The threshold maximising Youden's J = sensitivity + specificity − 1 (choose it on validation data).</summary>
    public static double YoudenThreshold(ReadOnlySpan<double> scores, ReadOnlySpan<int> labels) =>
        BestThreshold(scores, labels, m => m.Sensitivity + m.Specificity - 1, requireSensitivity: double.NaN);

    /// <summary>The highest threshold whose sensitivity reaches <paramref name="targetSensitivity"/> (most specific such point).</summary>
    public static double ThresholdForSensitivity(ReadOnlySpan<double> scores, ReadOnlySpan<int> labels, double targetSensitivity)
    {
        if (targetSensitivity is <= 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(targetSensitivity), targetSensitivity, "A target sensitivity lies in (0, 1].");
        }

        return BestThreshold(scores, labels, m => m.Threshold, requireSensitivity: targetSensitivity);
    }

    /// <summary>Brier score = mean (p − y)².</summary>
    public static double Brier(ReadOnlySpan<double> probabilities, ReadOnlySpan<int> labels)
    {
        CheckInputs(probabilities, labels);
        double sum = 0;
        for (int i = 0; i < probabilities.Length; i++)
        {
            double d = probabilities[i] - labels[i];
            sum += d * d;
        }

        return probabilities.Length == 0 ? double.NaN : sum / probabilities.Length;
    }

    internal static void CheckInputs(ReadOnlySpan<double> scores, ReadOnlySpan<int> labels)
    {
        if (scores.Length != labels.Length)
        {
            throw new ArgumentException($"{scores.Length} scores but {labels.Length} labels.", nameof(labels));
        }

        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] is not (0 or 1))
            {
                throw new ArgumentException($"label at index {i} is {labels[i]}; binary metrics need 0 or 1.", nameof(labels));
            }

            if (double.IsNaN(scores[i]))
            {
                throw new ArgumentException($"score at index {i} is NaN.", nameof(scores));
            }
        }
    }

    private static double BestThreshold(ReadOnlySpan<double> scores, ReadOnlySpan<int> labels, Func<ConfusionMatrix, double> objective, double requireSensitivity)
    {
        CheckInputs(scores, labels);
        double[] candidates = [.. scores.ToArray().Distinct().OrderByDescending(v => v)];
        if (candidates.Length == 0)
        {
            throw new MetricUndefinedException("No scores to choose a threshold from.");
        }

        double best = double.NaN;
        double bestValue = double.NegativeInfinity;
        foreach (double t in candidates)
        {
            ConfusionMatrix m = ConfusionMatrix.At(scores, labels, t);
            if (double.IsNaN(m.Sensitivity) || double.IsNaN(m.Specificity))
            {
                throw new MetricUndefinedException("Choosing a threshold needs both classes in the data.");
            }

            if (!double.IsNaN(requireSensitivity) && m.Sensitivity < requireSensitivity)
            {
                continue;
            }

            double value = objective(m);
            if (value > bestValue)
            {
                bestValue = value;
                best = t;
            }
        }

        return double.IsNaN(best) ? candidates[^1] : best;
    }
}
