using MedTransfer.Evaluation.Numerics;

namespace MedTransfer.Evaluation.Diagnostics;

/// <summary>
/// L2-regularised binary logistic regression fitted by Newton's method (IRLS) on standardised features:
/// the linear probe behind the proxy A-distance and the site probe. Deterministic (no random initialisation).
/// Penalty λ/2·‖w‖² on the weights (not the intercept); default λ = 1.
/// </summary>
/// <remarks>
/// The objective is strictly convex, so the fit is its unique minimum, reached to within ~1e-11 in every weight.
/// Building the Hessian XᵀSX costs n·d² and dominates everything else, so it is built as rarely as possible:
/// <list type="bullet">
/// <item>each step goes as far along its direction as the objective keeps falling (a one-dimensional Newton search
/// costing O(n + d)): far from the minimum the path is nearly straight, and the first step alone often covers four
/// Newton steps' distance;</item>
/// <item>a step may reuse the last Hessian's factor (n·d instead of n·d²): near the minimum the Hessian barely
/// moves, so such steps still shrink the error by an order of magnitude or more each. Every fresh Hessian is reused
/// at least once, and rebuilt when a step with a reused one is more than a quarter of the step before.</item>
/// </list>
/// Only the path changes: the minimum is where the exact gradient vanishes, whichever Hessian steered there.
/// </remarks>
public sealed class LogisticRegression
{
    /// <summary>A full Newton step (fresh Hessian) this small ends the fit: the next error is far below it.</summary>
    private const double NewtonTolerance = 1e-8;

    /// <summary>
    /// A step with a reused Hessian only contracts linearly, so it ends the fit only when it is this small and at
    /// most a quarter of the step before (rate ≤ 1/4: the error left is at most a third of the step).
    /// </summary>
    private const double ReusedTolerance = 1e-10;

    private readonly double[] _mean;
    private readonly double[] _scale;
    private readonly double[] _weights;

    private LogisticRegression(double[] mean, double[] scale, double[] weights)
    {
        _mean = mean;
        _scale = scale;
        _weights = weights;
    }

    /// <summary>Fits the model to <paramref name="features"/> (rows = samples) and binary <paramref name="labels"/>.</summary>
    /// <param name="features">Rows = samples.</param>
    /// <param name="labels">0 or 1 per row.</param>
    /// <param name="lambda">L2 penalty on the weights.</param>
    /// <param name="maxIterations">Most Hessians built (full Newton iterations).</param>
    /// <exception cref="ArgumentException">Shapes disagree, or a label is not 0/1.</exception>
    public static LogisticRegression Fit(double[][] features, IReadOnlyList<int> labels, double lambda = 1.0, int maxIterations = 50)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (features.Length != labels.Count || features.Length == 0)
        {
            throw new ArgumentException("One label per feature row, and at least one row.", nameof(labels));
        }

        return Fit(ProbeDesign.From(features), labels, lambda, maxIterations);
    }

    /// <summary>Fits on a prepared design (shared by fits on the same rows).</summary>
    internal static LogisticRegression Fit(ProbeDesign design, IReadOnlyList<int> labels, double lambda, int maxIterations)
    {
        FeatureColumns x = design.X;
        int n = x.Rows;
        int p = x.Columns;
        if (labels.Count != n)
        {
            throw new ArgumentException("One label per feature row.", nameof(labels));
        }

        var y = new double[n];
        for (int i = 0; i < n; i++)
        {
            y[i] = labels[i] is 0 or 1 ? labels[i] : throw new ArgumentException("Labels must be 0 or 1.", nameof(labels));
        }

        var penalty = new double[p];
        Array.Fill(penalty, lambda);
        penalty[0] = 1e-8;
        var w = new double[p];
        var z = new double[x.Stride];
        var residual = new double[x.Stride];
        var curvature = new double[x.Stride];
        var direction = new double[x.Stride];
        var gradient = new double[p];
        CholeskyFactor? factor = null;
        int hessians = 0;
        double previous = double.PositiveInfinity;
        bool rebuild = true;

        // Reused-Hessian steps are bounded too, so a pathological input still ends like the plain Newton loop did.
        for (int step = 0; step < 4 * maxIterations; step++)
        {
            x.Multiply(w, z);
            for (int i = 0; i < n; i++)
            {
                double probability = Sigmoid(z[i]);
                residual[i] = probability - y[i];
                curvature[i] = Math.Max(probability * (1 - probability), 1e-10);
            }

            x.TransposeMultiply(residual, gradient);
            for (int j = 0; j < p; j++)
            {
                gradient[j] += penalty[j] * w[j];
            }

            if (rebuild || factor is null)
            {
                if (hessians == maxIterations)
                {
                    break;
                }

                double[] hessian = Gram.Compute(x, curvature);
                for (int j = 0; j < p; j++)
                {
                    hessian[(j * p) + j] += penalty[j];
                }

                factor = CholeskyFactor.Factor(hessian, p);
                hessians++;
            }

            double[] delta = factor.Solve(gradient);
            x.Multiply(delta, direction);
            double t = StepLength(z, direction, y, n, w, delta, penalty);
            double size = 0;
            for (int j = 0; j < p; j++)
            {
                w[j] -= t * delta[j];
                size = Math.Max(size, Math.Abs(t * delta[j]));
            }

            bool contracting = rebuild || size <= 0.25 * previous;
            if (contracting && size < (rebuild ? NewtonTolerance : ReusedTolerance))
            {
                break;
            }

            // A fresh Hessian always gets a reused step next (comparing a fresh step with the reused one before it
            // says nothing about how well the new factor will do).
            rebuild = !rebuild && size > 0.25 * previous;
            previous = size;
        }

        return new LogisticRegression(design.Mean, design.Scale, w);
    }

    /// <summary>
    /// The t &gt; 0 that minimises the objective along w − t·δ (the logits move by −t·u, u = X·δ), by safeguarded
    /// one-dimensional Newton steps from t = 1.
    /// </summary>
    private static double StepLength(double[] z, double[] u, double[] y, int n, double[] w, double[] delta, double[] penalty)
    {
        double lo = 0;
        double hi = double.PositiveInfinity;
        double t = 1;
        double penaltyCurvature = 0;
        for (int j = 0; j < w.Length; j++)
        {
            penaltyCurvature += penalty[j] * delta[j] * delta[j];
        }

        if (penaltyCurvature == 0)
        {
            // δ = 0 (every penalty is positive): nothing to move along.
            return 1;
        }

        for (int iteration = 0; iteration < 30; iteration++)
        {
            double slope = 0;
            double curvature = penaltyCurvature;
            for (int i = 0; i < n; i++)
            {
                double probability = Sigmoid(z[i] - (t * u[i]));
                slope -= (probability - y[i]) * u[i];
                curvature += probability * (1 - probability) * u[i] * u[i];
            }

            for (int j = 0; j < w.Length; j++)
            {
                slope -= penalty[j] * (w[j] - (t * delta[j])) * delta[j];
            }

            if (slope < 0)
            {
                lo = t;
            }
            else
            {
                hi = t;
            }

            double next = t - (slope / curvature);
            if (!(next > lo && next < hi))
            {
                next = double.IsPositiveInfinity(hi) ? 2 * t : 0.5 * (lo + hi);
            }

            bool settled = Math.Abs(next - t) < 1e-6 * t;
            t = next;
            if (settled)
            {
                break;
            }
        }

        return t;
    }

    /// <summary>P(label = 1) for each row.</summary>
    public double[] PredictProbability(double[][] features)
    {
        ArgumentNullException.ThrowIfNull(features);
        var probabilities = new double[features.Length];
        int d = _mean.Length;
        for (int r = 0; r < features.Length; r++)
        {
            double[] row = features[r];
            if (row.Length != d)
            {
                throw new ArgumentException("All feature rows must have the same length.", nameof(features));
            }

            double z = _weights[0];
            for (int j = 0; j < d; j++)
            {
                z += (row[j] - _mean[j]) / _scale[j] * _weights[j + 1];
            }

            probabilities[r] = Sigmoid(z);
        }

        return probabilities;
    }

    private static double Sigmoid(double z) => z >= 0 ? 1 / (1 + Math.Exp(-z)) : Math.Exp(z) / (1 + Math.Exp(z));
}
