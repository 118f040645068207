namespace MedTransfer.Imaging.Normalization;

/// <summary>Foreground masks of MR volumes (see <see cref="ForegroundMethod"/>).</summary>
internal static class ForegroundMask
{
    private const int OtsuBins = 256;

    /// <summary>True for foreground voxels. Non-finite voxels are never foreground.</summary>
    public static bool[] Compute(ReadOnlySpan<float> voxels, ForegroundMethod method)
    {
        double threshold = method == ForegroundMethod.Otsu ? OtsuThreshold(voxels) : MeanOf(voxels);
        var mask = new bool[voxels.Length];
        for (int i = 0; i < voxels.Length; i++)
        {
            mask[i] = float.IsFinite(voxels[i]) && voxels[i] > threshold;
        }

        return mask;
    }

    /// <summary>
    /// Otsu's threshold (IEEE Trans. SMC 9(1), 1979) over a 256-bin histogram spanning [min, max] of the finite values:
    /// the upper edge of the bin that maximises ω₀ω₁(μ₀ − μ₁)². Returns +∞ for a constant or empty input (no foreground).
    /// </summary>
    public static double OtsuThreshold(ReadOnlySpan<float> voxels)
    {
        (double min, double max) = Range(voxels);
        if (!(max > min))
        {
            return double.PositiveInfinity;
        }

        var histogram = new long[OtsuBins];
        double width = (max - min) / OtsuBins;
        long total = 0;
        foreach (float v in voxels)
        {
            if (float.IsFinite(v))
            {
                histogram[Math.Min(OtsuBins - 1, (int)((v - min) / width))]++;
                total++;
            }
        }

        double sumAll = 0;
        for (int b = 0; b < OtsuBins; b++)
        {
            sumAll += b * (double)histogram[b];
        }

        double best = -1;
        int bestBin = 0;
        long w0 = 0;
        double sum0 = 0;
        for (int b = 0; b < OtsuBins - 1; b++)
        {
            w0 += histogram[b];
            sum0 += b * (double)histogram[b];
            long w1 = total - w0;
            if (w0 == 0 || w1 == 0)
            {
                continue;
            }

            double mu0 = sum0 / w0;
            double mu1 = (sumAll - sum0) / w1;
            double between = (double)w0 * w1 * (mu0 - mu1) * (mu0 - mu1);
            if (between > best)
            {
                best = between;
                bestBin = b;
            }
        }

        return min + ((bestBin + 1) * width);
    }

    private static double MeanOf(ReadOnlySpan<float> voxels)
    {
        double sum = 0;
        long n = 0;
        foreach (float v in voxels)
        {
            if (float.IsFinite(v))
            {
                sum += v;
                n++;
            }
        }

        return n == 0 ? double.PositiveInfinity : sum / n;
    }

    private static (double Min, double Max) Range(ReadOnlySpan<float> voxels)
    {
        double min = double.PositiveInfinity;
        double max = double.NegativeInfinity;
        foreach (float v in voxels)
        {
            if (float.IsFinite(v))
            {
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }
        }

        return (min, max);
    }
}
