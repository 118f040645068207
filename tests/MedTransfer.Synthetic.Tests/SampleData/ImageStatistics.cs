namespace MedTransfer.Synthetic.Tests.SampleData;

/// <summary>Simple image statistics and a Mann–Whitney AUC, enough to show that the site shift and the label are real.</summary>
internal static class ImageStatistics
{
    /// <summary>[mean, sd, p5, p50, p95, border mean, 4 corner means, mean |horizontal difference|] of a presentation image.</summary>
    public static double[] SiteFeatures(float[] p, int rows, int columns)
    {
        double[] sorted = [.. p.Select(v => (double)v).Order()];
        double mean = sorted.Average();
        double sd = Math.Sqrt(sorted.Average(v => (v - mean) * (v - mean)));
        int border = Math.Max(1, columns / 25);
        int corner = Math.Max(2, columns / 12);
        double borderSum = 0;
        int borderCount = 0;
        double roughness = 0;
        for (int y = 0; y < rows; y++)
        {
            for (int x = 0; x < columns; x++)
            {
                if (x < border || y < border || x >= columns - border || y >= rows - border)
                {
                    borderSum += p[(y * columns) + x];
                    borderCount++;
                }

                if (x > 0)
                {
                    roughness += Math.Abs(p[(y * columns) + x] - p[(y * columns) + x - 1]);
                }
            }
        }

        return
        [
            mean, sd, Quantile(sorted, 0.05), Quantile(sorted, 0.5), Quantile(sorted, 0.95), borderSum / borderCount,
            BoxMean(p, columns, 0, 0, corner), BoxMean(p, columns, columns - corner, 0, corner),
            BoxMean(p, columns, 0, rows - corner, corner), BoxMean(p, columns, columns - corner, rows - corner, corner),
            roughness / (rows * (columns - 1)),
        ];
    }

    /// <summary>
    /// Lung-opacity statistic: the interquartile range of a lightly blurred image inside two boxes where the lungs
    /// are. Clear lungs are uniformly dark (ribs and vessels are thin and blurred away); an opacity adds a bright
    /// region and widens the distribution. It needs no mask and no training.
    /// </summary>
    public static double LungOpacity(float[] p, int rows, int columns)
    {
        float[] blur = Blur(p, rows, columns, Math.Max(2, columns / 40));
        var lung = new List<double>();
        foreach ((double x0, double x1) in new[] { (0.22, 0.44), (0.56, 0.78) })
        {
            for (int y = (int)(0.25 * rows); y < (int)(0.62 * rows); y++)
            {
                for (int x = (int)(x0 * columns); x < (int)(x1 * columns); x++)
                {
                    lung.Add(blur[(y * columns) + x]);
                }
            }
        }

        double[] sorted = [.. lung.Order()];
        return Quantile(sorted, 0.75) - Quantile(sorted, 0.25);
    }

    /// <summary>Mann–Whitney AUC of scores for positives (true) against negatives, ties counted half.</summary>
    public static double Auc(IReadOnlyList<double> scores, IReadOnlyList<bool> positive)
    {
        double sum = 0;
        int positives = 0;
        int negatives = positive.Count(p => !p);
        for (int i = 0; i < scores.Count; i++)
        {
            if (!positive[i])
            {
                continue;
            }

            positives++;
            for (int j = 0; j < scores.Count; j++)
            {
                if (!positive[j])
                {
                    sum += scores[i] > scores[j] ? 1.0 : scores[i] == scores[j] ? 0.5 : 0.0;
                }
            }
        }

        return sum / ((double)positives * negatives);
    }

    private static double Quantile(double[] sorted, double q) => sorted[(int)(q * (sorted.Length - 1))];

    private static double BoxMean(float[] p, int columns, int left, int top, int size)
    {
        double sum = 0;
        for (int y = top; y < top + size; y++)
        {
            for (int x = left; x < left + size; x++)
            {
                sum += p[(y * columns) + x];
            }
        }

        return sum / (size * size);
    }

    private static float[] Blur(float[] p, int rows, int columns, int k)
    {
        // Separable box blur: rows, then columns, averaging over the part of the window inside the image.
        var horizontal = new float[p.Length];
        for (int y = 0; y < rows; y++)
        {
            for (int x = 0; x < columns; x++)
            {
                double sum = 0;
                int count = 0;
                for (int xx = Math.Max(0, x - k); xx <= Math.Min(columns - 1, x + k); xx++)
                {
                    sum += p[(y * columns) + xx];
                    count++;
                }

                horizontal[(y * columns) + x] = (float)(sum / count);
            }
        }

        var output = new float[p.Length];
        for (int y = 0; y < rows; y++)
        {
            for (int x = 0; x < columns; x++)
            {
                double sum = 0;
                int count = 0;
                for (int yy = Math.Max(0, y - k); yy <= Math.Min(rows - 1, y + k); yy++)
                {
                    sum += horizontal[(yy * columns) + x];
                    count++;
                }

                output[(y * columns) + x] = (float)(sum / count);
            }
        }

        return output;
    }
}
