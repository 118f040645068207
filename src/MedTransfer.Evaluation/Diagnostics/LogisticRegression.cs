using MathNet.Numerics.LinearAlgebra;

namespace MedTransfer.Evaluation.Diagnostics;

/// <summary>
/// L2-regularised binary logistic regression fitted by Newton's method (IRLS) on standardised features:
/// the linear probe behind the proxy A-distance and the site probe. Deterministic (no random initialisation).
/// Penalty λ/2·‖w‖² on the weights (not the intercept); default λ = 1.
/// </summary>
public sealed class LogisticRegression
{
    private readonly double[] _mean;
    private readonly double[] _scale;
    private readonly Vector<double> _weights;

    private LogisticRegression(double[] mean, double[] scale, Vector<double> weights)
    {
        _mean = mean;
        _scale = scale;
        _weights = weights;
    }

    /// <summary>Fits the model to <paramref name="features"/> (rows = samples) and binary <paramref name="labels"/>.</summary>
    /// <exception cref="ArgumentException">Shapes disagree, or a label is not 0/1.</exception>
    public static LogisticRegression Fit(double[][] features, IReadOnlyList<int> labels, double lambda = 1.0, int maxIterations = 50)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (features.Length != labels.Count || features.Length == 0)
        {
            throw new ArgumentException("One label per feature row, and at least one row.", nameof(labels));
        }

        int d = features[0].Length;
        (double[] mean, double[] scale) = Standardisation(features, d);
        Matrix<double> x = Design(features, mean, scale, d);
        Vector<double> y = Vector<double>.Build.Dense(labels.Count, i => labels[i] is 0 or 1 ? labels[i] : throw new ArgumentException("Labels must be 0 or 1.", nameof(labels)));
        Vector<double> w = Vector<double>.Build.Dense(d + 1);
        Matrix<double> penalty = Matrix<double>.Build.DenseIdentity(d + 1) * lambda;
        penalty[0, 0] = 1e-8;
        for (int iteration = 0; iteration < maxIterations; iteration++)
        {
            Vector<double> p = (x * w).Map(Sigmoid);
            Vector<double> weights = p.Map(v => Math.Max(v * (1 - v), 1e-10));
            Vector<double> gradient = (x.TransposeThisAndMultiply(p - y)) + (penalty * w);
            Matrix<double> hessian = x.TransposeThisAndMultiply(x.PointwiseMultiply(Matrix<double>.Build.Dense(x.RowCount, x.ColumnCount, (r, _) => weights[r]))) + penalty;
            Vector<double> step = hessian.Cholesky().Solve(gradient);
            w -= step;
            if (step.InfinityNorm() < 1e-8)
            {
                break;
            }
        }

        return new LogisticRegression(mean, scale, w);
    }

    /// <summary>P(label = 1) for each row.</summary>
    public double[] PredictProbability(double[][] features)
    {
        ArgumentNullException.ThrowIfNull(features);
        Matrix<double> x = Design(features, _mean, _scale, _mean.Length);
        return [.. (x * _weights).Map(Sigmoid)];
    }

    private static double Sigmoid(double z) => z >= 0 ? 1 / (1 + Math.Exp(-z)) : Math.Exp(z) / (1 + Math.Exp(z));

    private static (double[] Mean, double[] Scale) Standardisation(double[][] features, int d)
    {
        var mean = new double[d];
        var scale = new double[d];
        foreach (double[] row in features)
        {
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
            mean[j] /= features.Length;
        }

        foreach (double[] row in features)
        {
            for (int j = 0; j < d; j++)
            {
                scale[j] += (row[j] - mean[j]) * (row[j] - mean[j]);
            }
        }

        for (int j = 0; j < d; j++)
        {
            double sd = Math.Sqrt(scale[j] / features.Length);
            scale[j] = sd > 1e-12 ? sd : 1;
        }

        return (mean, scale);
    }

    private static Matrix<double> Design(double[][] features, double[] mean, double[] scale, int d) =>
        Matrix<double>.Build.Dense(features.Length, d + 1, (r, c) => c == 0 ? 1 : (features[r][c - 1] - mean[c - 1]) / scale[c - 1]);
}
