using MathNet.Numerics.LinearAlgebra;

namespace MedTransfer.Evaluation.Diagnostics;

/// <summary>
/// Transferability estimators computed on pretrained-backbone features of labelled target (or source) data,
/// before any training, to say whether transfer is worth trying. No estimator is reliable everywhere — report several, with that caveat.
/// Inputs: features (rows = samples) and class labels 0..C−1.
/// </summary>
public static class Transferability
{
    /// <summary>The caveat every report must print next to these numbers.</summary>
    public const string Caveat = "Transferability estimators rank backbones on average; none is reliable on every dataset (e.g. LEEP's rank correlation was negative on 3 of 8 datasets in a published benchmark). Treat them as a hint, not a verdict.";

    /// <summary>
    /// LogME (You et al. 2021): for each class k, the log marginal evidence of Bayesian linear regression of the
    /// one-hot column y_k on the features, maximised over the prior precision α and noise precision β by the paper's
    /// fixed-point updates (γ = Σ βsᵢ/(α+βsᵢ), α ← γ/‖m‖², β ← (N−γ)/‖Fm − y‖²; at most 11 iterations, stop at 1%
    /// change of α/β); LogME = mean_k evidence_k / N. Computed in the eigenbasis of FᵀF. Higher is better.
    /// </summary>
    public static double LogMe(double[][] features, IReadOnlyList<int> labels)
    {
        Matrix<double> f = ToMatrix(features, labels);
        int n = f.RowCount;
        int d = f.ColumnCount;
        var eigen = f.TransposeThisAndMultiply(f).Evd(MathNet.Numerics.LinearAlgebra.Symmetricity.Symmetric);
        double[] s = [.. eigen.EigenValues.Select(v => Math.Max(0, v.Real))];
        Matrix<double> v = eigen.EigenVectors;
        int classes = labels.Max() + 1;
        double total = 0;
        for (int k = 0; k < classes; k++)
        {
            Vector<double> y = Vector<double>.Build.Dense(n, i => labels[i] == k ? 1 : 0);
            double[] t = [.. v.TransposeThisAndMultiply(f.TransposeThisAndMultiply(y))];
            double yy = y.DotProduct(y);
            double alpha = 1;
            double beta = 1;
            double m2 = 0;
            double res2 = 0;
            for (int iteration = 0; iteration < 11; iteration++)
            {
                double gamma = 0;
                m2 = 0;
                double ytfm = 0;
                double mFtFm = 0;
                for (int i = 0; i < d; i++)
                {
                    double denominator = alpha + (beta * s[i]);
                    gamma += beta * s[i] / denominator;
                    double mi = beta * t[i] / denominator;
                    m2 += mi * mi;
                    ytfm += t[i] * mi;
                    mFtFm += s[i] * mi * mi;
                }

                res2 = Math.Max(yy - (2 * ytfm) + mFtFm, 1e-12);
                double newAlpha = gamma / Math.Max(m2, 1e-12);
                double newBeta = (n - gamma) / res2;
                double change = Math.Abs((newAlpha / newBeta) - (alpha / beta)) / (alpha / beta);
                alpha = newAlpha;
                beta = newBeta;
                if (change < 0.01)
                {
                    break;
                }
            }

            // Recompute m and the residual at the final α, β for the evidence.
            m2 = 0;
            double ytfmFinal = 0;
            double mFtFmFinal = 0;
            double logDet = 0;
            for (int i = 0; i < d; i++)
            {
                double denominator = alpha + (beta * s[i]);
                double mi = beta * t[i] / denominator;
                m2 += mi * mi;
                ytfmFinal += t[i] * mi;
                mFtFmFinal += s[i] * mi * mi;
                logDet += Math.Log(denominator);
            }

            res2 = Math.Max(yy - (2 * ytfmFinal) + mFtFmFinal, 1e-12);
            double evidence = (d / 2.0 * Math.Log(alpha)) + (n / 2.0 * Math.Log(beta)) - (alpha / 2 * m2) - (beta / 2 * res2)
                - (logDet / 2) - (n / 2.0 * Math.Log(2 * Math.PI));
            total += evidence / n;
        }

        return total / classes;
    }

    /// <summary>H-score (Bao et al. 2019): tr(cov(f)⁺ · cov(E[f | y])), with the pseudo-inverse of the feature covariance. Higher is better.</summary>
    public static double HScore(double[][] features, IReadOnlyList<int> labels)
    {
        Matrix<double> f = Centred(ToMatrix(features, labels));
        int n = f.RowCount;
        Matrix<double> covariance = f.TransposeThisAndMultiply(f) / n;
        Matrix<double> classMeans = Matrix<double>.Build.Dense(n, f.ColumnCount);
        foreach (IGrouping<int, int> group in Enumerable.Range(0, n).GroupBy(i => labels[i]))
        {
            Vector<double> mean = Vector<double>.Build.Dense(f.ColumnCount);
            foreach (int i in group)
            {
                mean += f.Row(i);
            }

            mean /= group.Count();
            foreach (int i in group)
            {
                classMeans.SetRow(i, mean);
            }
        }

        Matrix<double> between = classMeans.TransposeThisAndMultiply(classMeans) / n;
        return (covariance.PseudoInverse() * between).Trace();
    }

    /// <summary>
    /// GBC, Gaussian Bhattacharyya coefficient (Pándy et al. 2022): each class a Gaussian with diagonal covariance;
    /// GBC = −Σ_{c≠c'} exp(−D_B(c, c')), D_B = ⅛ Δμᵀ Σ⁻¹ Δμ + ½ ln(det Σ / √(det Σ_c det Σ_c')), Σ = (Σ_c + Σ_c')/2.
    /// Closer to 0 (less overlap) is better.
    /// </summary>
    public static double Gbc(double[][] features, IReadOnlyList<int> labels)
    {
        Matrix<double> f = ToMatrix(features, labels);
        int d = f.ColumnCount;
        var stats = new List<(double[] Mean, double[] Var)>();
        foreach (IGrouping<int, int> group in Enumerable.Range(0, f.RowCount).GroupBy(i => labels[i]).OrderBy(g => g.Key))
        {
            var mean = new double[d];
            var variance = new double[d];
            int count = group.Count();
            foreach (int i in group)
            {
                for (int j = 0; j < d; j++)
                {
                    mean[j] += f[i, j] / count;
                }
            }

            foreach (int i in group)
            {
                for (int j = 0; j < d; j++)
                {
                    variance[j] += (f[i, j] - mean[j]) * (f[i, j] - mean[j]) / count;
                }
            }

            for (int j = 0; j < d; j++)
            {
                variance[j] = Math.Max(variance[j], 1e-8);
            }

            stats.Add((mean, variance));
        }

        double gbc = 0;
        for (int a = 0; a < stats.Count; a++)
        {
            for (int b = 0; b < stats.Count; b++)
            {
                if (a == b)
                {
                    continue;
                }

                double distance = 0;
                for (int j = 0; j < d; j++)
                {
                    double v = (stats[a].Var[j] + stats[b].Var[j]) / 2;
                    double dm = stats[a].Mean[j] - stats[b].Mean[j];
                    distance += (dm * dm / (8 * v)) + (0.5 * Math.Log(v / Math.Sqrt(stats[a].Var[j] * stats[b].Var[j])));
                }

                gbc -= Math.Exp(-distance);
            }
        }

        return gbc;
    }

    /// <summary>
    /// TransRate (Huang et al. 2022): R(Z) − mean_c R(Z_c), R(Z) = ½ logdet(I + ZᵀZ/(nε)),
    /// on features centred once globally (as the authors' reference computation does); ε = 1e-4 by default. Higher
    /// is better. It measures how differently the classes fill feature space (coding volume): classes that differ
    /// only by a mean shift with equal spread score close to zero.
    /// </summary>
    public static double TransRate(double[][] features, IReadOnlyList<int> labels, double epsilon = 1e-4)
    {
        Matrix<double> z = Centred(ToMatrix(features, labels));
        double whole = CodingRate(z, epsilon);
        double perClass = Enumerable.Range(0, z.RowCount).GroupBy(i => labels[i])
            .Select(g => CodingRate(Matrix<double>.Build.DenseOfRowVectors(g.Select(i => z.Row(i))), epsilon))
            .Average();
        return whole - perClass;
    }

    private static double CodingRate(Matrix<double> z, double epsilon)
    {
        int n = z.RowCount;
        Matrix<double> m = Matrix<double>.Build.DenseIdentity(z.ColumnCount) + (z.TransposeThisAndMultiply(z) / (n * epsilon));
        return 0.5 * m.Cholesky().DeterminantLn;
    }

    private static Matrix<double> Centred(Matrix<double> f)
    {
        Vector<double> mean = f.ColumnSums() / f.RowCount;
        return f - Matrix<double>.Build.Dense(f.RowCount, f.ColumnCount, (_, c) => mean[c]);
    }

    private static Matrix<double> ToMatrix(double[][] features, IReadOnlyList<int> labels)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (features.Length != labels.Count || features.Length < 2)
        {
            throw new ArgumentException("One label per feature row, and at least two rows.", nameof(labels));
        }

        if (labels.Any(y => y < 0))
        {
            throw new ArgumentException("Class labels must be 0..C−1.", nameof(labels));
        }

        return Matrix<double>.Build.DenseOfRowArrays(features);
    }
}
