using MathNet.Numerics;
using MathNet.Numerics.LinearAlgebra;
using MedTransfer.Evaluation.Numerics;

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
        Validate(features, labels);
        int n = features.Length;
        int d = features[0].Length;
        var eigen = Square(Gram.Compute(FeatureColumns.From(features)), d).Evd(Symmetricity.Symmetric);
        double[] s = [.. eigen.EigenValues.Select(v => Math.Max(0, v.Real))];
        Matrix<double> v = eigen.EigenVectors;
        int classes = labels.Max() + 1;
        double total = 0;
        for (int k = 0; k < classes; k++)
        {
            // Fᵀy for the one-hot column y of class k is the sum of that class's rows; yᵀy is its size.
            var fy = Vector<double>.Build.Dense(d);
            int members = 0;
            for (int i = 0; i < n; i++)
            {
                if (labels[i] == k)
                {
                    members++;
                    for (int j = 0; j < d; j++)
                    {
                        fy[j] += features[i][j];
                    }
                }
            }

            double[] t = [.. v.TransposeThisAndMultiply(fy)];
            double yy = members;
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
        Validate(features, labels);
        int n = features.Length;
        int d = features[0].Length;
        double[] mean = ColumnMeans(features);
        Matrix<double> covariance = Square(Gram.Compute(FeatureColumns.From(features, shift: mean)), d) / n;

        // cov(E[f|y]) = Σ_c (n_c/n) μ_c μ_cᵀ with μ_c the centred class means, so the trace is
        // Σ_c (n_c/n) μ_cᵀ cov⁺ μ_c: the pseudo-inverse is needed only along the eigenvectors, never formed.
        var evd = covariance.Evd(Symmetricity.Symmetric);
        double[] lambda = [.. evd.EigenValues.Select(e => e.Real)];

        // Singular values of a symmetric matrix are |λ|; cut off as the SVD pseudo-inverse does (MathNet: below
        // max(rows, columns)·σ_max·2⁻⁵³ counts as zero), so rank-deficient covariances give the same answer.
        double cutoff = d * lambda.Max(Math.Abs) * Precision.DoublePrecision;
        double score = 0;
        foreach (IGrouping<int, int> group in Enumerable.Range(0, n).GroupBy(i => labels[i]))
        {
            var classMean = Vector<double>.Build.Dense(d);
            foreach (int i in group)
            {
                for (int j = 0; j < d; j++)
                {
                    classMean[j] += features[i][j] - mean[j];
                }
            }

            classMean /= group.Count();
            Vector<double> projection = evd.EigenVectors.TransposeThisAndMultiply(classMean);
            double quadratic = 0;
            for (int e = 0; e < d; e++)
            {
                if (Math.Abs(lambda[e]) >= cutoff)
                {
                    quadratic += projection[e] * projection[e] / lambda[e];
                }
            }

            score += group.Count() / (double)n * quadratic;
        }

        return score;
    }

    /// <summary>
    /// GBC, Gaussian Bhattacharyya coefficient (Pándy et al. 2022): each class a Gaussian with diagonal covariance;
    /// GBC = −Σ_{c≠c'} exp(−D_B(c, c')), D_B = ⅛ Δμᵀ Σ⁻¹ Δμ + ½ ln(det Σ / √(det Σ_c det Σ_c')), Σ = (Σ_c + Σ_c')/2.
    /// Closer to 0 (less overlap) is better.
    /// </summary>
    public static double Gbc(double[][] features, IReadOnlyList<int> labels)
    {
        Validate(features, labels);
        double[][] f = features;
        int d = f[0].Length;
        var stats = new List<(double[] Mean, double[] Var)>();
        foreach (IGrouping<int, int> group in Enumerable.Range(0, f.Length).GroupBy(i => labels[i]).OrderBy(g => g.Key))
        {
            var mean = new double[d];
            var variance = new double[d];
            int count = group.Count();
            foreach (int i in group)
            {
                for (int j = 0; j < d; j++)
                {
                    mean[j] += f[i][j] / count;
                }
            }

            foreach (int i in group)
            {
                for (int j = 0; j < d; j++)
                {
                    variance[j] += (f[i][j] - mean[j]) * (f[i][j] - mean[j]) / count;
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
        Validate(features, labels);
        int n = features.Length;
        int d = features[0].Length;
        double[] mean = ColumnMeans(features);

        // ZᵀZ of the whole set is the sum of the classes' ZcᵀZc (rows centred once, globally), so one pass over
        // the samples gives every matrix.
        var whole = new double[d * d];
        double perClass = 0;
        int classes = 0;
        foreach (IGrouping<int, int> group in Enumerable.Range(0, n).GroupBy(i => labels[i]))
        {
            int[] members = [.. group];
            double[] g = Gram.Compute(FeatureColumns.From(features, members, shift: mean));
            for (int e = 0; e < g.Length; e++)
            {
                whole[e] += g[e];
            }

            perClass += CodingRate(g, d, members.Length, epsilon);
            classes++;
        }

        return CodingRate(whole, d, n, epsilon) - (perClass / classes);
    }

    /// <summary>R = ½ logdet(I + G/(nε)) for a Gram matrix G = ZᵀZ of n rows.</summary>
    private static double CodingRate(double[] gram, int d, int n, double epsilon)
    {
        var m = new double[d * d];
        for (int e = 0; e < m.Length; e++)
        {
            m[e] = gram[e] / (n * epsilon);
        }

        for (int j = 0; j < d; j++)
        {
            m[(j * d) + j] += 1;
        }

        return 0.5 * CholeskyFactor.Factor(m, d).LogDeterminant();
    }

    private static double[] ColumnMeans(double[][] features)
    {
        var mean = new double[features[0].Length];
        foreach (double[] row in features)
        {
            for (int j = 0; j < mean.Length; j++)
            {
                mean[j] += row[j];
            }
        }

        for (int j = 0; j < mean.Length; j++)
        {
            mean[j] /= features.Length;
        }

        return mean;
    }

    /// <summary>A d × d MathNet matrix over a symmetric Gram array (no copy; layout does not matter for a symmetric matrix).</summary>
    private static Matrix<double> Square(double[] gram, int d) => Matrix<double>.Build.Dense(d, d, gram);

    private static void Validate(double[][] features, IReadOnlyList<int> labels)
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

        if (features.Any(row => row.Length != features[0].Length))
        {
            throw new ArgumentException("All feature rows must have the same length.", nameof(features));
        }
    }
}
