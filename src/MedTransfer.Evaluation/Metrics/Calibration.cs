namespace MedTransfer.Evaluation.Metrics;

/// <summary>One bin of a reliability diagram.</summary>
/// <param name="Lower">Lower edge (inclusive, except the first bin which also takes 0).</param>
/// <param name="Upper">Upper edge (inclusive).</param>
/// <param name="Count">Samples in the bin.</param>
/// <param name="MeanConfidence">Mean predicted probability in the bin (NaN when empty).</param>
/// <param name="Accuracy">Observed frequency of the event in the bin (NaN when empty).</param>
public sealed record ReliabilityBin(double Lower, double Upper, int Count, double MeanConfidence, double Accuracy);

/// <summary>Expected calibration error with the data of its reliability diagram.</summary>
/// <param name="Ece">ECE = Σₘ (|Bₘ|/n)·|acc(Bₘ) − conf(Bₘ)|.</param>
/// <param name="Bins">The bins.</param>
/// <param name="Scheme">"binary positive-class, 15 equal-width bins" or "top-label, …": how it was computed.</param>
public sealed record CalibrationResult(double Ece, IReadOnlyList<ReliabilityBin> Bins, string Scheme);

/// <summary>
/// Calibration metrics: ECE over M equal-width bins (default 15; bins (l, u], the first [0, u]).
/// Binary: the positive-class probability against the label. Multi-class: top-label (the predicted class's
/// probability against whether the prediction was right).
/// </summary>
public static class Calibration
{
    /// <summary>The default number of bins.</summary>
    public const int DefaultBins = 15;

    /// <summary>Binary ECE of positive-class probabilities.</summary>
    public static CalibrationResult BinaryEce(ReadOnlySpan<double> probabilities, ReadOnlySpan<int> labels, int bins = DefaultBins)
    {
        BinaryMetrics.CheckInputs(probabilities, labels);
        var outcome = new double[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            outcome[i] = labels[i];
        }

        return Bin(probabilities, outcome, bins, $"binary positive-class, {bins} equal-width bins");
    }

    /// <summary>Top-label ECE for multi-class probabilities (rows = samples, each row sums to 1).</summary>
    public static CalibrationResult TopLabelEce(double[][] probabilities, ReadOnlySpan<int> labels, int bins = DefaultBins)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        if (probabilities.Length != labels.Length)
        {
            throw new ArgumentException("One probability row per label.", nameof(labels));
        }

        var confidence = new double[labels.Length];
        var correct = new double[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            double[] row = probabilities[i];
            int argmax = 0;
            for (int c = 1; c < row.Length; c++)
            {
                if (row[c] > row[argmax])
                {
                    argmax = c;
                }
            }

            confidence[i] = row[argmax];
            correct[i] = argmax == labels[i] ? 1 : 0;
        }

        return Bin(confidence, correct, bins, $"top-label, {bins} equal-width bins");
    }

    private static CalibrationResult Bin(ReadOnlySpan<double> confidence, double[] outcome, int bins, string scheme)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        var count = new int[bins];
        var sumConfidence = new double[bins];
        var sumOutcome = new double[bins];
        for (int i = 0; i < confidence.Length; i++)
        {
            double p = confidence[i];
            if (p is < 0 or > 1 || double.IsNaN(p))
            {
                throw new ArgumentException($"probability at index {i} is {p}; calibration needs values in [0, 1].", nameof(confidence));
            }

            int b = Math.Clamp((int)Math.Ceiling(p * bins) - 1, 0, bins - 1);
            count[b]++;
            sumConfidence[b] += p;
            sumOutcome[b] += outcome[i];
        }

        double ece = 0;
        var result = new ReliabilityBin[bins];
        for (int b = 0; b < bins; b++)
        {
            double conf = count[b] > 0 ? sumConfidence[b] / count[b] : double.NaN;
            double acc = count[b] > 0 ? sumOutcome[b] / count[b] : double.NaN;
            if (count[b] > 0)
            {
                ece += count[b] / (double)confidence.Length * Math.Abs(acc - conf);
            }

            result[b] = new ReliabilityBin(b / (double)bins, (b + 1) / (double)bins, count[b], conf, acc);
        }

        return new CalibrationResult(confidence.Length == 0 ? double.NaN : ece, result, scheme);
    }

    /// <summary>
    /// Temperature scaling (Guo et al., ICML 2017) for a binary classifier: the one T > 0 that minimises the mean
    /// negative log-likelihood of σ(z / T) on labelled data, z the logit margin (logit of class 1 − logit of class 0).
    /// Fitted by golden-section search on log T in [−4, 4] (T from 0.018 to 55), which the NLL is unimodal in. The
    /// ranking of scores, hence AUROC, does not change; only their calibration does.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than 2 samples, lengths differ, a label is not 0/1, or a margin is not finite.</exception>
    public static double FitTemperature(ReadOnlySpan<double> margins, ReadOnlySpan<int> labels)
    {
        if (margins.Length < 2 || margins.Length != labels.Length)
        {
            throw new ArgumentException("Temperature scaling needs at least 2 samples with one label each.", nameof(labels));
        }

        foreach (int y in labels)
        {
            if (y is not (0 or 1))
            {
                throw new ArgumentException("Labels must be 0 or 1.", nameof(labels));
            }
        }

        foreach (double z in margins)
        {
            if (!double.IsFinite(z))
            {
                throw new ArgumentException("Margins must be finite.", nameof(margins));
            }
        }

        double[] z0 = margins.ToArray();
        int[] y0 = labels.ToArray();
        double Nll(double logT)
        {
            double t = Math.Exp(logT);
            double sum = 0;
            for (int i = 0; i < z0.Length; i++)
            {
                // −log σ(s) = log(1 + e^−s), written stably for both signs.
                double s = (y0[i] == 1 ? z0[i] : -z0[i]) / t;
                sum += s > 0 ? Math.Log(1 + Math.Exp(-s)) : -s + Math.Log(1 + Math.Exp(s));
            }

            return sum / z0.Length;
        }

        double lo = -4, hi = 4;
        double ratio = (Math.Sqrt(5) - 1) / 2;
        double a = hi - (ratio * (hi - lo));
        double b = lo + (ratio * (hi - lo));
        double fa = Nll(a), fb = Nll(b);
        for (int k = 0; k < 100 && hi - lo > 1e-9; k++)
        {
            if (fa <= fb)
            {
                hi = b;
                b = a;
                fb = fa;
                a = hi - (ratio * (hi - lo));
                fa = Nll(a);
            }
            else
            {
                lo = a;
                a = b;
                fa = fb;
                b = lo + (ratio * (hi - lo));
                fb = Nll(b);
            }
        }

        return Math.Exp((lo + hi) / 2);
    }

    /// <summary>σ(z / T) for every margin: calibrated probabilities of class 1.</summary>
    public static double[] ApplyTemperature(IReadOnlyList<double> margins, double temperature)
    {
        ArgumentNullException.ThrowIfNull(margins);
        if (!(temperature > 0) || !double.IsFinite(temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be a positive number.");
        }

        return [.. margins.Select(z => 1 / (1 + Math.Exp(-z / temperature)))];
    }
}
