using MathNet.Numerics.LinearAlgebra;
using MedTransfer.Evaluation.Numerics;

namespace MedTransfer.Evaluation.Features;

/// <summary>
/// Principal component analysis for 2-D feature embeddings coloured by domain and by label: the features are
/// centred, and projected on the eigenvectors of their covariance with the largest eigenvalues. The sign of each
/// component is fixed (largest-magnitude loading positive) so the picture is the same on every run.
/// </summary>
public static class Pca
{
    /// <summary>Projects <paramref name="features"/> (rows = samples) on the first <paramref name="components"/> principal axes.</summary>
    /// <returns>The projections and the fraction of variance each component explains.</returns>
    public static (double[][] Projection, double[] ExplainedVariance) Project(double[][] features, int components = 2)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.Length < 2)
        {
            throw new ArgumentException("PCA needs at least two samples.", nameof(features));
        }

        int n = features.Length;
        int d = features[0].Length;
        if (features.Any(row => row.Length != d))
        {
            throw new ArgumentException("All feature rows must have the same length.", nameof(features));
        }

        var mean = new double[d];
        foreach (double[] row in features)
        {
            for (int j = 0; j < d; j++)
            {
                mean[j] += row[j];
            }
        }

        for (int j = 0; j < d; j++)
        {
            mean[j] /= n;
        }

        // The covariance from the blocked Gram kernel: the n·d² step, where the rest is d × d.
        double[] gram = Gram.Compute(FeatureColumns.From(features, shift: mean));
        var evd = (Matrix<double>.Build.Dense(d, d, gram) / (n - 1)).Evd(Symmetricity.Symmetric);
        int[] order = [.. Enumerable.Range(0, d).OrderByDescending(i => evd.EigenValues[i].Real)];
        int k = Math.Min(components, d);
        var axes = new double[k][];
        for (int c = 0; c < k; c++)
        {
            Vector<double> axis = evd.EigenVectors.Column(order[c]);
            int largest = axis.AbsoluteMaximumIndex();
            axes[c] = [.. axis[largest] < 0 ? -axis : axis];
        }

        var projected = new double[n][];
        for (int i = 0; i < n; i++)
        {
            double[] row = features[i];
            var p = new double[k];
            for (int c = 0; c < k; c++)
            {
                double sum = 0;
                for (int j = 0; j < d; j++)
                {
                    sum += (row[j] - mean[j]) * axes[c][j];
                }

                p[c] = sum;
            }

            projected[i] = p;
        }

        double total = evd.EigenValues.Sum(v => Math.Max(0, v.Real));
        double[] explained = [.. Enumerable.Range(0, k).Select(c => total > 0 ? Math.Max(0, evd.EigenValues[order[c]].Real) / total : 0)];
        return (projected, explained);
    }
}
