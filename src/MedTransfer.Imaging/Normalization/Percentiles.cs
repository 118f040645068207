namespace MedTransfer.Imaging.Normalization;

/// <summary>
/// Percentiles of image intensities, for the robust percentile clip of the preprocessing
/// (e.g. 0.5–99.5, so a few extreme pixels do not set the scale). Uses linear interpolation between order statistics
/// (Hyndman &amp; Fan definition 7, NumPy's default), so results match <c>numpy.percentile</c>.
/// </summary>
public static class Percentiles
{
    // Above this many values the exact radix selection (O(n), no copy) beats copying and sorting.
    private const int SortThreshold = 4096;

    /// <summary>Returns the <paramref name="percent"/>-th percentile (0–100) of the finite values.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="percent"/> is outside [0, 100].</exception>
    /// <exception cref="ArgumentException">There is no finite value.</exception>
    public static double Compute(ReadOnlySpan<float> values, double percent) => Compute(values, [percent])[0];

    /// <summary>Several percentiles with one sort of the data.</summary>
    public static double[] Compute(ReadOnlySpan<float> values, ReadOnlySpan<double> percents)
    {
        foreach (double p in percents)
        {
            if (double.IsNaN(p) || p < 0 || p > 100)
            {
                throw new ArgumentOutOfRangeException(nameof(percents), p, "A percentile must lie in [0, 100].");
            }
        }

        if (values.Length > SortThreshold)
        {
            return ComputeBySelection(values, percents);
        }

        float[] sorted = Finite(values);
        if (sorted.Length == 0)
        {
            throw new ArgumentException("No finite value to take a percentile of.", nameof(values));
        }

        Array.Sort(sorted);
        var result = new double[percents.Length];
        for (int i = 0; i < percents.Length; i++)
        {
            double position = percents[i] / 100.0 * (sorted.Length - 1);
            int lower = (int)Math.Floor(position);
            int upper = Math.Min(lower + 1, sorted.Length - 1);
            double fraction = position - lower;
            result[i] = sorted[lower] + ((sorted[upper] - (double)sorted[lower]) * fraction);
        }

        return result;
    }

    /// <summary>Clips to [low, high] percentiles and rescales to [0, 1] in place; a constant image becomes all zeros.</summary>
    public static void ClipAndScale(Span<float> values, double lowPercent, double highPercent)
    {
        double[] bounds = Compute(values, [lowPercent, highPercent]);
        double low = bounds[0];
        double range = bounds[1] - low;
        for (int i = 0; i < values.Length; i++)
        {
            double v = float.IsFinite(values[i]) ? values[i] : low;
            values[i] = range > 0 ? (float)Math.Clamp((v - low) / range, 0.0, 1.0) : 0f;
        }
    }

    private static double[] ComputeBySelection(ReadOnlySpan<float> values, ReadOnlySpan<double> percents)
    {
        (long[] high, long n) = OrderStatistics.Histogram(values);
        if (n == 0)
        {
            throw new ArgumentException("No finite value to take a percentile of.", nameof(values));
        }

        var ranks = new long[percents.Length * 2];
        var fractions = new double[percents.Length];
        for (int i = 0; i < percents.Length; i++)
        {
            double position = percents[i] / 100.0 * (n - 1);
            long lower = (long)Math.Floor(position);
            ranks[2 * i] = lower;
            ranks[(2 * i) + 1] = Math.Min(lower + 1, n - 1);
            fractions[i] = position - lower;
        }

        float[] order = OrderStatistics.Select(values, high, ranks);
        var result = new double[percents.Length];
        for (int i = 0; i < percents.Length; i++)
        {
            float lower = order[2 * i];
            float upper = order[(2 * i) + 1];
            result[i] = lower + ((upper - (double)lower) * fractions[i]);
        }

        return result;
    }

    private static float[] Finite(ReadOnlySpan<float> values)
    {
        int count = 0;
        foreach (float v in values)
        {
            if (float.IsFinite(v))
            {
                count++;
            }
        }

        var finite = new float[count];
        int j = 0;
        foreach (float v in values)
        {
            if (float.IsFinite(v))
            {
                finite[j++] = v;
            }
        }

        return finite;
    }
}
