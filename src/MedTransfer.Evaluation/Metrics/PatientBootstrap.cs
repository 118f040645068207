using MathNet.Numerics.Random;

namespace MedTransfer.Evaluation.Metrics;

/// <summary>Options of the patient-level bootstrap.</summary>
public sealed record BootstrapOptions
{
    /// <summary>Resamples (fewer than 1000 make the interval ends noisy). Default 2000.</summary>
    public int Resamples { get; init; } = 2000;

    /// <summary>Confidence level of the percentile interval. Default 0.95.</summary>
    public double Confidence { get; init; } = 0.95;

    /// <summary>Seed of the resampling (xoshiro256** from MathNet): same seed, same interval.</summary>
    public int Seed { get; init; } = 20260101;
}

/// <summary>
/// Stratified, patient-level percentile bootstrap (images of one patient are not independent, so resampling images would give too narrow intervals): patients — not images — are
/// drawn with replacement, separately within each stratum (patients with any positive image, patients with
/// none), so every resample keeps the class balance and every image of a drawn patient comes along.
/// Resamples on which the statistic is undefined (e.g. one class only) are dropped and counted.
/// </summary>
public static class PatientBootstrap
{
    /// <summary>Bootstraps <paramref name="statistic"/>, a function of the sample indices it should use.</summary>
    /// <param name="patients">Patient identifier per sample.</param>
    /// <param name="labels">Binary label per sample (for stratification).</param>
    /// <param name="statistic">The statistic on a multiset of sample indices (indices may repeat).</param>
    /// <param name="options">Resamples, confidence, seed.</param>
    /// <returns>The statistic on all samples with a percentile interval.</returns>
    /// <exception cref="MetricUndefinedException">The statistic is undefined on the full data, or on more than half of the resamples.</exception>
    public static Estimate Run(IReadOnlyList<string> patients, IReadOnlyList<int> labels, Func<int[], double> statistic, BootstrapOptions? options = null)
    {
        options ??= new BootstrapOptions();
        BootstrapDistribution d = Resample(patients, labels, statistic, options);
        string method = d.Undefined == 0
            ? $"patient bootstrap ({options.Resamples}, stratified)"
            : $"patient bootstrap ({d.Draws.Count} of {options.Resamples} resamples defined, stratified)";
        return d.Interval(options.Confidence, method);
    }

    /// <summary>The bootstrap distribution itself (sorted draws), for intervals of derived quantities.</summary>
    /// <exception cref="MetricUndefinedException">The statistic is undefined on the full data, or on more than half of the resamples.</exception>
    internal static BootstrapDistribution Resample(IReadOnlyList<string> patients, IReadOnlyList<int> labels, Func<int[], double> statistic, BootstrapOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(patients);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(statistic);
        options ??= new BootstrapOptions();
        if (patients.Count != labels.Count)
        {
            throw new ArgumentException("One patient per label.", nameof(labels));
        }

        double value = statistic([.. Enumerable.Range(0, patients.Count)]);
        List<int[]>[] strata = Strata(patients, labels);
        var rng = new Xoshiro256StarStar(options.Seed, threadSafe: false);
        var values = new List<double>(options.Resamples);
        int undefined = 0;
        var indices = new List<int>(patients.Count);
        for (int r = 0; r < options.Resamples; r++)
        {
            indices.Clear();
            foreach (List<int[]> stratum in strata)
            {
                for (int k = 0; k < stratum.Count; k++)
                {
                    indices.AddRange(stratum[rng.Next(stratum.Count)]);
                }
            }

            try
            {
                double v = statistic([.. indices]);
                if (double.IsNaN(v))
                {
                    undefined++;
                }
                else
                {
                    values.Add(v);
                }
            }
            catch (MetricUndefinedException)
            {
                undefined++;
            }
        }

        if (values.Count < options.Resamples / 2)
        {
            throw new MetricUndefinedException($"The statistic was undefined on {undefined} of {options.Resamples} bootstrap resamples: too few samples for an interval.");
        }

        values.Sort();
        return new BootstrapDistribution(value, values, undefined);
    }

    /// <summary>AUROC with a patient-level bootstrap interval.</summary>
    public static Estimate Auroc(IReadOnlyList<double> scores, IReadOnlyList<int> labels, IReadOnlyList<string> patients, BootstrapOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(scores);
        return Run(patients, labels, idx => Metrics.Auroc.Compute(Pick(scores, idx), Pick(labels, idx)), options);
    }

    /// <summary>
    /// The paired difference metric(A) − metric(B) of two models scored on the same samples, resampled together
    /// (the negative-transfer gap when A is the adapted model and B a baseline).
    /// </summary>
    public static Estimate PairedDifference(
        IReadOnlyList<double> scoresA,
        IReadOnlyList<double> scoresB,
        IReadOnlyList<int> labels,
        IReadOnlyList<string> patients,
        Func<double[], int[], double> metric,
        BootstrapOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(scoresA);
        ArgumentNullException.ThrowIfNull(scoresB);
        ArgumentNullException.ThrowIfNull(metric);
        if (scoresA.Count != scoresB.Count || scoresA.Count != labels.Count)
        {
            throw new ArgumentException("Both models must score the same samples.", nameof(scoresB));
        }

        return Run(patients, labels, idx =>
        {
            int[] y = Pick(labels, idx);
            return metric(Pick(scoresA, idx), y) - metric(Pick(scoresB, idx), y);
        }, options);
    }

    /// <summary>The values at <paramref name="indices"/>.</summary>
    public static T[] Pick<T>(IReadOnlyList<T> values, int[] indices)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(indices);
        var picked = new T[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            picked[i] = values[indices[i]];
        }

        return picked;
    }

    private static List<int[]>[] Strata(IReadOnlyList<string> patients, IReadOnlyList<int> labels)
    {
        var byPatient = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var order = new List<string>();
        for (int i = 0; i < patients.Count; i++)
        {
            if (!byPatient.TryGetValue(patients[i], out List<int>? list))
            {
                list = [];
                byPatient[patients[i]] = list;
                order.Add(patients[i]);
            }

            list.Add(i);
        }

        var positive = new List<int[]>();
        var negative = new List<int[]>();
        foreach (string patient in order)
        {
            List<int> samples = byPatient[patient];
            (samples.Any(i => labels[i] == 1) ? positive : negative).Add([.. samples]);
        }

        return [positive, negative];
    }
}

/// <summary>A bootstrap distribution: the statistic on the full data and the sorted resampled values.</summary>
/// <param name="Value">The statistic on all samples.</param>
/// <param name="Draws">The resampled values, sorted ascending.</param>
/// <param name="Undefined">Resamples on which the statistic was undefined (dropped).</param>
internal sealed record BootstrapDistribution(double Value, IReadOnlyList<double> Draws, int Undefined)
{
    /// <summary>The percentile interval at <paramref name="confidence"/>.</summary>
    public Estimate Interval(double confidence, string method)
    {
        double alpha = (1 - confidence) / 2;
        return new Estimate(Value, Quantile(Draws, alpha), Quantile(Draws, 1 - alpha), confidence, method);
    }

    /// <summary>The q-quantile of sorted values (linear interpolation).</summary>
    public static double Quantile(IReadOnlyList<double> sorted, double q)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        double position = q * (sorted.Count - 1);
        int lower = (int)Math.Floor(position);
        int upper = Math.Min(lower + 1, sorted.Count - 1);
        return sorted[lower] + ((sorted[upper] - sorted[lower]) * (position - lower));
    }
}
