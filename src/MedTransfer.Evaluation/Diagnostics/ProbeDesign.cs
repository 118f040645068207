using MedTransfer.Evaluation.Numerics;

namespace MedTransfer.Evaluation.Diagnostics;

/// <summary>
/// The design matrix of a logistic probe: a column of ones, then every feature standardised by the training rows'
/// mean and standard deviation (population form; a constant feature keeps scale 1), stored by columns for the
/// solver's kernels. Built once per training set: the site probe fits one model per site on the same rows of each
/// fold, so they share it.
/// </summary>
internal sealed class ProbeDesign
{
    private ProbeDesign(double[] mean, double[] scale, FeatureColumns x)
    {
        Mean = mean;
        Scale = scale;
        X = x;
    }

    public double[] Mean { get; }

    public double[] Scale { get; }

    /// <summary>[1, (x − mean) / scale] per row.</summary>
    public FeatureColumns X { get; }

    /// <summary>Standardises <paramref name="features"/> (or the rows listed in <paramref name="subset"/>, in that order).</summary>
    /// <exception cref="ArgumentException">Rows of different lengths, or no row.</exception>
    public static ProbeDesign From(double[][] features, IReadOnlyList<int>? subset = null)
    {
        int n = subset?.Count ?? features.Length;
        if (n == 0)
        {
            throw new ArgumentException("At least one row.", nameof(features));
        }

        int d = features[subset?[0] ?? 0].Length;
        var mean = new double[d];
        var scale = new double[d];

        // Two passes in row order, as the probe has always standardised, so the same rows give the same bits.
        for (int i = 0; i < n; i++)
        {
            double[] row = features[subset?[i] ?? i];
            if (row.Length != d)
            {
                throw new ArgumentException("All feature rows must have the same length.", nameof(features));
            }

            for (int j = 0; j < d; j++)
            {
                mean[j] += row[j];
            }
        }

        for (int j = 0; j < d; j++)
        {
            mean[j] /= n;
        }

        for (int i = 0; i < n; i++)
        {
            double[] row = features[subset?[i] ?? i];
            for (int j = 0; j < d; j++)
            {
                scale[j] += (row[j] - mean[j]) * (row[j] - mean[j]);
            }
        }

        for (int j = 0; j < d; j++)
        {
            double sd = Math.Sqrt(scale[j] / n);
            scale[j] = sd > 1e-12 ? sd : 1;
        }

        return new ProbeDesign(mean, scale, FeatureColumns.From(features, subset, mean, scale, intercept: true));
    }
}
