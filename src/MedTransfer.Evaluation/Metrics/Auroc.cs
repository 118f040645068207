namespace MedTransfer.Evaluation.Metrics;

/// <summary>A metric that is undefined for the given data (e.g. AUROC with one class only).</summary>
public sealed class MetricUndefinedException : Exception
{
    /// <summary>Creates the exception with the reason in plain words.</summary>
    public MetricUndefinedException(string message)
        : base(message)
    {
    }
}

/// <summary>
/// Area under the ROC curve for a binary label, computed exactly as the Mann–Whitney statistic
/// AUC = (R₊ − n₊(n₊+1)/2) / (n₊·n₋), where R₊ is the sum of the positives' mid-ranks; tied scores
/// count one half (Hanley &amp; McNeil 1982). O(n log n).
/// </summary>
public static class Auroc
{
    /// <summary>Computes the AUROC of <paramref name="scores"/> against binary <paramref name="labels"/> (1 = positive).</summary>
    /// <exception cref="ArgumentException">Lengths differ, a label is not 0/1, or a score is NaN.</exception>
    /// <exception cref="MetricUndefinedException">Only one class is present.</exception>
    public static double Compute(ReadOnlySpan<double> scores, ReadOnlySpan<int> labels)
    {
        if (scores.Length != labels.Length)
        {
            throw new ArgumentException($"{scores.Length} scores but {labels.Length} labels.", nameof(labels));
        }

        int n = scores.Length;
        var order = new int[n];
        long positives = 0;
        for (int i = 0; i < n; i++)
        {
            if (labels[i] is not (0 or 1))
            {
                throw new ArgumentException($"label at index {i} is {labels[i]}; binary AUROC needs 0 or 1.", nameof(labels));
            }

            if (double.IsNaN(scores[i]))
            {
                throw new ArgumentException($"score at index {i} is NaN.", nameof(scores));
            }

            positives += labels[i];
            order[i] = i;
        }

        long negatives = n - positives;
        if (positives == 0 || negatives == 0)
        {
            throw new MetricUndefinedException(
                $"AUROC is undefined with {positives} positive and {negatives} negative samples: both classes are needed.");
        }

        double[] s = scores.ToArray();
        Array.Sort(order, (a, b) => s[a].CompareTo(s[b]));

        double positiveRankSum = 0;
        int start = 0;
        while (start < n)
        {
            int end = start;
            while (end + 1 < n && s[order[end + 1]] == s[order[start]])
            {
                end++;
            }

            double midRank = ((start + end) / 2.0) + 1.0;
            for (int k = start; k <= end; k++)
            {
                if (labels[order[k]] == 1)
                {
                    positiveRankSum += midRank;
                }
            }

            start = end + 1;
        }

        return (positiveRankSum - (positives * (positives + 1) / 2.0)) / (positives * (double)negatives);
    }
}
