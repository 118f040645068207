using MedTransfer.Imaging.Images;

namespace MedTransfer.Imaging.Normalization;

/// <summary>
/// The exact distribution of an <see cref="IndexedImage"/>'s finite values: a counting histogram of the indices (one
/// O(n) pass, no copy, no float per pixel) turned into the distinct values in ascending order with their counts. When
/// the value table is monotone over the indices present (the usual case: linear rescale and window, MONOCHROME1
/// giving a decreasing table) the order comes from the indices themselves; otherwise (a non-monotone LUT) the distinct
/// values are sorted, which is still exact. Percentiles use the same linear definition and arithmetic as
/// <see cref="Percentiles"/>, so they are the same doubles the float path computes.
/// </summary>
internal sealed class ValueDistribution
{
    private readonly float[] _values;
    private readonly long[] _cumulative;

    private ValueDistribution(float[] values, long[] cumulative, long nonFinite)
    {
        _values = values;
        _cumulative = cumulative;
        NonFinite = nonFinite;
    }

    /// <summary>Finite pixels.</summary>
    internal long Finite => _cumulative.Length == 0 ? 0 : _cumulative[^1];

    /// <summary>Pixels whose value is NaN or ±∞.</summary>
    internal long NonFinite { get; }

    internal static ValueDistribution Of(IndexedImage image)
    {
        int[] histogram = Histogram(image.Indices, image.Values.Length);
        float[] table = image.Values;
        int present = 0;
        long nonFinite = 0;
        for (int k = 0; k < histogram.Length; k++)
        {
            if (histogram[k] == 0)
            {
                continue;
            }

            if (float.IsFinite(table[k]))
            {
                present++;
            }
            else
            {
                nonFinite += histogram[k];
            }
        }

        var values = new float[present];
        var counts = new long[present];
        bool ascending = true;
        bool descending = true;
        int j = 0;
        for (int k = 0; k < histogram.Length; k++)
        {
            if (histogram[k] != 0 && float.IsFinite(table[k]))
            {
                values[j] = table[k];
                counts[j] = histogram[k];
                if (j > 0)
                {
                    ascending &= values[j] >= values[j - 1];
                    descending &= values[j] <= values[j - 1];
                }

                j++;
            }
        }

        if (!ascending && descending)
        {
            Array.Reverse(values);
            Array.Reverse(counts);
        }
        else if (!ascending)
        {
            Array.Sort(values, counts);
        }

        for (int i = 1; i < counts.Length; i++)
        {
            counts[i] += counts[i - 1];
        }

        return new ValueDistribution(values, counts, nonFinite);
    }

    /// <summary>The <paramref name="percent"/>-th percentile (NumPy linear) of the finite values.</summary>
    /// <exception cref="ArgumentException">There is no finite value.</exception>
    internal double Percentile(double percent)
    {
        long n = Finite;
        if (n == 0)
        {
            throw new ArgumentException("No finite value to take a percentile of.");
        }

        double position = percent / 100.0 * (n - 1);
        long lower = (long)Math.Floor(position);
        long upper = Math.Min(lower + 1, n - 1);
        double fraction = position - lower;
        float lo = AtRank(lower);
        float hi = AtRank(upper);
        return lo + ((hi - (double)lo) * fraction);
    }

    /// <summary>The sanity statistics of the X-ray recipe for a clip to [<paramref name="low"/>, <paramref name="high"/>].</summary>
    internal XrayNormalizer.InputStatistics Statistics(double low, double high)
    {
        float fLow = (float)low;
        float fHigh = (float)high;
        long saturated = NonFinite;
        int levels = 0;
        long previous = 0;
        for (int i = 0; i < _values.Length; i++)
        {
            float v = _values[i];
            if (v <= fLow || v >= fHigh)
            {
                saturated += _cumulative[i] - previous;
            }

            if (i == 0 || v != _values[i - 1])
            {
                levels++;
            }

            previous = _cumulative[i];
        }

        long finite = Finite;
        float min = finite == 0 ? float.PositiveInfinity : _values[0];
        float max = finite == 0 ? float.NegativeInfinity : _values[^1];
        return new XrayNormalizer.InputStatistics(finite, min, max, Math.Min(saturated, finite), Math.Min(levels, XrayNormalizer.MinimumLevels));
    }

    private float AtRank(long rank)
    {
        // First position whose cumulative count exceeds the rank.
        int lo = 0;
        int hi = _cumulative.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_cumulative[mid] > rank)
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }

        return _values[lo];
    }

    // Four interleaved histograms break the store-to-load dependency when neighbouring pixels share a value.
    private static int[] Histogram(ReadOnlySpan<ushort> indices, int bins)
    {
        var h0 = new int[bins];
        var h1 = new int[bins];
        var h2 = new int[bins];
        var h3 = new int[bins];
        int i = 0;
        for (; i + 3 < indices.Length; i += 4)
        {
            h0[indices[i]]++;
            h1[indices[i + 1]]++;
            h2[indices[i + 2]]++;
            h3[indices[i + 3]]++;
        }

        for (; i < indices.Length; i++)
        {
            h0[indices[i]]++;
        }

        for (int b = 0; b < bins; b++)
        {
            h0[b] += h1[b] + h2[b] + h3[b];
        }

        return h0;
    }
}
