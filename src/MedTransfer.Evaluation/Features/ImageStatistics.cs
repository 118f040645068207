namespace MedTransfer.Evaluation.Features;

/// <summary>
/// Simple per-image statistics for the "site from the image alone" probe (intensity histogram, size,
/// border): if a linear probe on these few numbers already tells the sites apart, acquisition differences
/// (detector response, collimation, burned-in markers) are visible to any model — a shortcut risk.
/// </summary>
internal static class ImageStatistics
{
    /// <summary>Histogram bins over [0, 1] (values outside are clamped).</summary>
    public const int HistogramBins = 16;

    /// <summary>Names of the features in <see cref="Compute"/>'s order.</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        .. Enumerable.Range(0, HistogramBins).Select(i => $"hist{i:D2}"),
        "mean", "sd", "p01", "p05", "p50", "p95", "p99",
        "border_mean", "border_sd", "corner_tl", "corner_tr", "corner_bl", "corner_br",
        "width", "height", "aspect",
    ];

    /// <summary>
    /// The features of one greyscale image given as values in [0, 1] (normalised, bright = dense), row-major.
    /// Border = the outer 5% on each side; corners = 5%×5% patches.
    /// </summary>
    public static double[] Compute(ReadOnlySpan<float> pixels, int width, int height)
    {
        if (width <= 0 || height <= 0 || (long)width * height != pixels.Length)
        {
            throw new ArgumentException("The pixel count must equal width × height.", nameof(pixels));
        }

        var features = new List<double>(Names.Count);
        var histogram = new double[HistogramBins];
        double sum = 0;
        double sumSq = 0;
        float[] sorted = pixels.ToArray();
        foreach (float v in pixels)
        {
            double c = Math.Clamp(float.IsFinite(v) ? v : 0, 0, 1);
            histogram[Math.Min(HistogramBins - 1, (int)(c * HistogramBins))]++;
            sum += c;
            sumSq += c * c;
        }

        Array.Sort(sorted);
        int n = pixels.Length;
        features.AddRange(histogram.Select(h => h / n));
        double mean = sum / n;
        features.Add(mean);
        features.Add(Math.Sqrt(Math.Max(0, (sumSq / n) - (mean * mean))));
        foreach (double q in new[] { 0.01, 0.05, 0.5, 0.95, 0.99 })
        {
            features.Add(sorted[(int)Math.Round(q * (n - 1))]);
        }

        int bx = Math.Max(1, width / 20);
        int by = Math.Max(1, height / 20);
        (double borderMean, double borderSd) = Region(pixels, width, height, (x, y) => x < bx || y < by || x >= width - bx || y >= height - by);
        features.Add(borderMean);
        features.Add(borderSd);
        features.Add(Region(pixels, width, height, (x, y) => x < bx && y < by).Mean);
        features.Add(Region(pixels, width, height, (x, y) => x >= width - bx && y < by).Mean);
        features.Add(Region(pixels, width, height, (x, y) => x < bx && y >= height - by).Mean);
        features.Add(Region(pixels, width, height, (x, y) => x >= width - bx && y >= height - by).Mean);
        features.Add(width);
        features.Add(height);
        features.Add(width / (double)height);
        return [.. features];
    }

    private static (double Mean, double Sd) Region(ReadOnlySpan<float> pixels, int width, int height, Func<int, int, bool> inside)
    {
        double sum = 0;
        double sumSq = 0;
        int count = 0;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                if (!inside(x, y))
                {
                    continue;
                }

                double v = pixels[(y * width) + x];
                sum += v;
                sumSq += v * v;
                count++;
            }
        }

        if (count == 0)
        {
            return (0, 0);
        }

        double mean = sum / count;
        return (mean, Math.Sqrt(Math.Max(0, (sumSq / count) - (mean * mean))));
    }
}
