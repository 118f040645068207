namespace MedTransfer.Evaluation.Metrics;

/// <summary>A metric in one group (site, sex, age band, manufacturer, view …).</summary>
/// <param name="Group">The group's value, e.g. "site-B" or "F".</param>
/// <param name="Samples">Samples in the group.</param>
/// <param name="Positives">Positive samples in the group.</param>
/// <param name="Metric">The metric with its interval, or null when undefined in this group.</param>
/// <param name="DifferenceFromRest">metric(group) − metric(all other groups), with a bootstrap interval; null when undefined.</param>
/// <param name="Note">Why the metric is missing (e.g. "one class only"), else null.</param>
public sealed record GroupResult(string Group, int Samples, int Positives, Estimate? Metric, Estimate? DifferenceFromRest, string? Note);

/// <summary>
/// Per-group metrics with confidence intervals and differences between groups (a model can be fine overall and fail one group). Intervals are
/// patient-level bootstraps; the difference of a group from the rest resamples the two sides independently
/// (they share no patient when groups are patient attributes such as site or sex).
/// </summary>
public static class Subgroups
{
    /// <summary>AUROC per group, and each group against all the others.</summary>
    public static IReadOnlyList<GroupResult> Auroc(
        IReadOnlyList<double> scores,
        IReadOnlyList<int> labels,
        IReadOnlyList<string> patients,
        IReadOnlyList<string> groups,
        BootstrapOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(patients);
        ArgumentNullException.ThrowIfNull(groups);
        if (scores.Count != labels.Count || scores.Count != patients.Count || scores.Count != groups.Count)
        {
            throw new ArgumentException("scores, labels, patients and groups must have one entry per sample.", nameof(groups));
        }

        options ??= new BootstrapOptions();
        var results = new List<GroupResult>();
        foreach (string group in groups.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            int[] inGroup = [.. Enumerable.Range(0, groups.Count).Where(i => groups[i] == group)];
            int[] rest = [.. Enumerable.Range(0, groups.Count).Where(i => groups[i] != group)];
            int positives = inGroup.Sum(i => labels[i]);
            Estimate? metric = TryAuroc(scores, labels, patients, inGroup, options, out string? note);
            Estimate? difference = null;
            if (metric is not null && rest.Length > 0)
            {
                Estimate? other = TryAuroc(scores, labels, patients, rest, options with { Seed = options.Seed + 1 }, out _);
                if (other is not null)
                {
                    difference = Difference(scores, labels, patients, inGroup, rest, options);
                }
            }

            results.Add(new GroupResult(group, inGroup.Length, positives, metric, difference, note));
        }

        return results;
    }

    /// <summary>Macro one-vs-rest AUROC for C classes (rows of <paramref name="probabilities"/> are samples).</summary>
    /// <exception cref="MetricUndefinedException">A class has no positive or no negative sample.</exception>
    public static double MacroAuroc(double[][] probabilities, IReadOnlyList<int> labels)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(labels);
        int classes = probabilities.Length == 0 ? 0 : probabilities[0].Length;
        double sum = 0;
        for (int c = 0; c < classes; c++)
        {
            double[] s = [.. probabilities.Select(row => row[c])];
            int[] y = [.. labels.Select(l => l == c ? 1 : 0)];
            sum += Metrics.Auroc.Compute(s, y);
        }

        return sum / classes;
    }

    /// <summary>Macro F1 over C classes from predicted and true classes (a class never predicted nor present counts as F1 = 0 is avoided: such classes are skipped).</summary>
    public static double MacroF1(IReadOnlyList<int> predicted, IReadOnlyList<int> labels)
    {
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(labels);
        var f1 = new List<double>();
        foreach (int c in labels.Concat(predicted).Distinct().Order())
        {
            int tp = 0;
            int fp = 0;
            int fn = 0;
            for (int i = 0; i < labels.Count; i++)
            {
                bool p = predicted[i] == c;
                bool t = labels[i] == c;
                tp += p && t ? 1 : 0;
                fp += p && !t ? 1 : 0;
                fn += !p && t ? 1 : 0;
            }

            f1.Add(2.0 * tp / ((2.0 * tp) + fp + fn));
        }

        return f1.Count == 0 ? double.NaN : f1.Average();
    }

    private static Estimate? TryAuroc(IReadOnlyList<double> scores, IReadOnlyList<int> labels, IReadOnlyList<string> patients, int[] indices, BootstrapOptions options, out string? note)
    {
        try
        {
            note = null;
            return PatientBootstrap.Auroc(PatientBootstrap.Pick(scores, indices), PatientBootstrap.Pick(labels, indices), PatientBootstrap.Pick(patients, indices), options);
        }
        catch (MetricUndefinedException ex)
        {
            note = ex.Message;
            return null;
        }
    }

    private static Estimate Difference(IReadOnlyList<double> scores, IReadOnlyList<int> labels, IReadOnlyList<string> patients, int[] a, int[] b, BootstrapOptions options)
    {
        // The two sides share no patient, so they are resampled independently (different seeds); the k-th draws
        // are paired to form the distribution of the difference.
        BootstrapDistribution da = Side(scores, labels, patients, a, options);
        BootstrapDistribution db = Side(scores, labels, patients, b, options with { Seed = options.Seed + 7919 });
        var rngA = da.Draws.ToArray();
        var rngB = db.Draws.ToArray();

        // Draws are sorted; undo the ordering with a fixed permutation so that pairing is not rank-to-rank.
        var shuffle = new MathNet.Numerics.Random.Xoshiro256StarStar(options.Seed, threadSafe: false);
        for (int i = rngB.Length - 1; i > 0; i--)
        {
            int j = shuffle.Next(i + 1);
            (rngB[i], rngB[j]) = (rngB[j], rngB[i]);
        }

        int count = Math.Min(rngA.Length, rngB.Length);
        double[] differences = [.. Enumerable.Range(0, count).Select(k => rngA[k] - rngB[k]).Order()];
        return new BootstrapDistribution(da.Value - db.Value, differences, 0)
            .Interval(options.Confidence, $"independent patient bootstrap ({count})");
    }

    private static BootstrapDistribution Side(IReadOnlyList<double> scores, IReadOnlyList<int> labels, IReadOnlyList<string> patients, int[] indices, BootstrapOptions options)
    {
        double[] s = PatientBootstrap.Pick(scores, indices);
        int[] y = PatientBootstrap.Pick(labels, indices);
        return PatientBootstrap.Resample(PatientBootstrap.Pick(patients, indices), y, idx => Metrics.Auroc.Compute(PatientBootstrap.Pick(s, idx), PatientBootstrap.Pick(y, idx)), options);
    }
}
