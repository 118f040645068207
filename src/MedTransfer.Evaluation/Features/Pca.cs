using MathNet.Numerics.LinearAlgebra;

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

        Matrix<double> x = Matrix<double>.Build.DenseOfRowArrays(features);
        Vector<double> mean = x.ColumnSums() / x.RowCount;
        Matrix<double> centred = x - Matrix<double>.Build.Dense(x.RowCount, x.ColumnCount, (_, c) => mean[c]);
        var evd = (centred.TransposeThisAndMultiply(centred) / (x.RowCount - 1)).Evd(Symmetricity.Symmetric);
        int[] order = [.. Enumerable.Range(0, x.ColumnCount).OrderByDescending(i => evd.EigenValues[i].Real)];
        int k = Math.Min(components, x.ColumnCount);
        Matrix<double> axes = Matrix<double>.Build.Dense(x.ColumnCount, k);
        for (int c = 0; c < k; c++)
        {
            Vector<double> axis = evd.EigenVectors.Column(order[c]);
            int largest = axis.AbsoluteMaximumIndex();
            axes.SetColumn(c, axis[largest] < 0 ? -axis : axis);
        }

        Matrix<double> projected = centred * axes;
        double total = evd.EigenValues.Sum(v => Math.Max(0, v.Real));
        double[] explained = [.. Enumerable.Range(0, k).Select(c => total > 0 ? Math.Max(0, evd.EigenValues[order[c]].Real) / total : 0)];
        return ([.. projected.EnumerateRows().Select(r => r.ToArray())], explained);
    }
}
