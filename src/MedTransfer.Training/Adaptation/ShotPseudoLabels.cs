namespace MedTransfer.Training.Adaptation;

/// <summary>
/// SHOT's self-supervised pseudo-labels (Liang et al., ICML 2020): a weighted k-means in the feature space with
/// cosine distance. Features get a constant 1 appended and are L2-normalised; the first centroids are the
/// probability-weighted means c_k = Σ_i p_ik f_i / Σ_i p_ik, each image takes the class of its nearest centroid
/// (largest cosine), and one refinement recomputes the centroids from those hard labels and relabels. Deterministic:
/// ties go to the lowest class index.
/// </summary>
public static class ShotPseudoLabels
{
    /// <summary>Pseudo-labels of the target rows from their features (N×d) and class probabilities (N×C).</summary>
    /// <exception cref="ArgumentException">Empty or ragged inputs, or different row counts.</exception>
    public static int[] Compute(double[][] features, double[][] probabilities)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(probabilities);
        if (features.Length == 0 || features.Length != probabilities.Length || features.Any(f => f.Length != features[0].Length) || probabilities.Any(p => p.Length != probabilities[0].Length))
        {
            throw new ArgumentException("SHOT needs one feature row and one probability row per target image, all of the same width.");
        }

        int n = features.Length;
        int k = probabilities[0].Length;
        double[][] f = [.. features.Select(Normalised)];
        double[][] centroids = Centroids(f, i => probabilities[i], k);
        int[] labels = Nearest(f, centroids);
        double[][] hard = [.. labels.Select(l => Enumerable.Range(0, k).Select(j => j == l ? 1.0 : 0.0).ToArray())];
        return Nearest(f, Centroids(f, i => hard[i], k));
    }

    private static double[] Normalised(double[] row)
    {
        double[] x = [.. row, 1.0];
        double norm = Math.Sqrt(x.Sum(v => v * v));
        return [.. x.Select(v => v / Math.Max(norm, 1e-12))];
    }

    private static double[][] Centroids(double[][] f, Func<int, double[]> weights, int k)
    {
        int d = f[0].Length;
        var c = new double[k][];
        for (int j = 0; j < k; j++)
        {
            c[j] = new double[d];
            double total = 0;
            for (int i = 0; i < f.Length; i++)
            {
                double w = weights(i)[j];
                total += w;
                for (int m = 0; m < d; m++)
                {
                    c[j][m] += w * f[i][m];
                }
            }

            for (int m = 0; m < d; m++)
            {
                c[j][m] /= Math.Max(total, 1e-8);
            }
        }

        return c;
    }

    private static int[] Nearest(double[][] f, double[][] centroids)
    {
        double[] norms = [.. centroids.Select(c => Math.Max(Math.Sqrt(c.Sum(v => v * v)), 1e-12))];
        var labels = new int[f.Length];
        for (int i = 0; i < f.Length; i++)
        {
            int best = 0;
            double bestCos = double.NegativeInfinity;
            for (int j = 0; j < centroids.Length; j++)
            {
                double dot = 0;
                for (int m = 0; m < f[i].Length; m++)
                {
                    dot += f[i][m] * centroids[j][m];
                }

                double cos = dot / norms[j];
                if (cos > bestCos)
                {
                    bestCos = cos;
                    best = j;
                }
            }

            labels[i] = best;
        }

        return labels;
    }
}
