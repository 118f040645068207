using System.Text.Json;
using System.Text.Json.Nodes;
using MathNet.Numerics.LinearAlgebra;

namespace MedTransfer.Evaluation.Diagnostics;

/// <summary>
/// Per-sample shift score for batch diagnosis: the Mahalanobis distance of a feature vector to the training
/// (source) feature distribution, with a shrunk covariance Σ̂ = (1 − δ)·S + δ·(tr S / d)·I (δ = 0.1 by default,
/// so the estimate stays invertible when d approaches n), and a threshold calibrated as a quantile of the
/// scores of held-out source samples: a study above it is flagged as unlike the training data.
/// </summary>
public sealed class ShiftMonitor
{
    private readonly Vector<double> _mean;
    private readonly Matrix<double> _precision;

    private ShiftMonitor(Vector<double> mean, Matrix<double> precision, double threshold, double quantile)
    {
        _mean = mean;
        _precision = precision;
        Threshold = threshold;
        Quantile = quantile;
    }

    /// <summary>Scores above this are flagged.</summary>
    public double Threshold { get; }

    /// <summary>The held-out source quantile the threshold sits at (e.g. 0.99: about 1% of in-distribution studies are flagged).</summary>
    public double Quantile { get; }

    /// <summary>Fits the distribution on <paramref name="training"/> and calibrates the threshold on <paramref name="heldOutSource"/>.</summary>
    public static ShiftMonitor Fit(double[][] training, double[][] heldOutSource, double quantile = 0.99, double shrinkage = 0.1)
    {
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(heldOutSource);
        if (training.Length < 2 || heldOutSource.Length < 1)
        {
            throw new ArgumentException("The shift monitor needs at least two training samples and one held-out sample.", nameof(training));
        }

        if (quantile is <= 0 or >= 1 || shrinkage is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(quantile), "The quantile lies in (0, 1) and the shrinkage in [0, 1].");
        }

        Matrix<double> x = Matrix<double>.Build.DenseOfRowArrays(training);
        Vector<double> mean = x.ColumnSums() / x.RowCount;
        Matrix<double> centred = x - Matrix<double>.Build.Dense(x.RowCount, x.ColumnCount, (_, c) => mean[c]);
        Matrix<double> sample = centred.TransposeThisAndMultiply(centred) / (x.RowCount - 1);
        double average = sample.Trace() / sample.RowCount;
        Matrix<double> shrunk = ((1 - shrinkage) * sample) + (shrinkage * Math.Max(average, 1e-12) * Matrix<double>.Build.DenseIdentity(sample.RowCount));
        Matrix<double> precision = shrunk.Inverse();
        var provisional = new ShiftMonitor(mean, precision, double.PositiveInfinity, quantile);
        double[] scores = [.. heldOutSource.Select(provisional.Score).Order()];
        double position = quantile * (scores.Length - 1);
        int lower = (int)Math.Floor(position);
        int upper = Math.Min(lower + 1, scores.Length - 1);
        double threshold = scores[lower] + ((scores[upper] - scores[lower]) * (position - lower));
        return new ShiftMonitor(mean, precision, threshold, quantile);
    }

    /// <summary>The Mahalanobis distance of <paramref name="features"/> to the training distribution.</summary>
    public double Score(double[] features)
    {
        ArgumentNullException.ThrowIfNull(features);
        Vector<double> delta = Vector<double>.Build.DenseOfArray(features) - _mean;
        return Math.Sqrt(Math.Max(0, delta.DotProduct(_precision * delta)));
    }

    /// <summary>True when the score exceeds the calibrated threshold.</summary>
    public bool IsShifted(double[] features) => Score(features) > Threshold;

    /// <summary>The format tag written by <see cref="ToJson"/>.</summary>
    public const string JsonFormat = "medtransfer-shift-monitor/1";

    /// <summary>Number of features the monitor expects.</summary>
    public int Dimension => _mean.Count;

    /// <summary>
    /// The fitted monitor as a JSON object: <c>format</c>, <c>threshold</c>, <c>quantile</c>, <c>mean</c> (d numbers)
    /// and <c>precision</c> (d rows of d numbers, the inverse of the shrunk covariance). Numbers are written in their
    /// shortest round-trip form, so <see cref="FromJson(string)"/> gives back identical scores.
    /// </summary>
    public string ToJson() => ToJsonNode().ToJsonString();

    /// <summary>As <see cref="ToJson"/>, as a node to embed in a larger document (e.g. an ONNX model's metadata).</summary>
    public JsonObject ToJsonNode()
    {
        var precision = new JsonArray();
        for (int r = 0; r < _precision.RowCount; r++)
        {
            precision.Add(new JsonArray([.. _precision.Row(r).Select(v => (JsonNode)JsonValue.Create(v))]));
        }

        return new JsonObject
        {
            ["format"] = JsonFormat,
            ["threshold"] = Threshold,
            ["quantile"] = Quantile,
            ["mean"] = new JsonArray([.. _mean.Select(v => (JsonNode)JsonValue.Create(v))]),
            ["precision"] = precision,
        };
    }

    /// <summary>Reads a monitor written by <see cref="ToJson"/>.</summary>
    /// <exception cref="JsonException">The text is not a shift monitor of this format: wrong tag, missing members,
    /// non-finite numbers, or a precision matrix that is not d × d for a mean of d values.</exception>
    public static ShiftMonitor FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return FromJsonNode(JsonNode.Parse(json));
    }

    /// <summary>As <see cref="FromJson(string)"/>, from a parsed node.</summary>
    /// <exception cref="JsonException">See <see cref="FromJson(string)"/>.</exception>
    public static ShiftMonitor FromJsonNode(JsonNode? node)
    {
        try
        {
            if (node is not JsonObject o || (string?)o["format"] != JsonFormat)
            {
                throw new JsonException($"Not a shift monitor: expected an object with format '{JsonFormat}'.");
            }

            double threshold = Finite(o["threshold"]);
            double quantile = Finite(o["quantile"]);
            double[] mean = Numbers(o["mean"]);
            if (mean.Length == 0 || o["precision"] is not JsonArray rows || rows.Count != mean.Length)
            {
                throw new JsonException("The shift monitor's precision must be a d × d matrix for a mean of d > 0 values.");
            }

            double[][] precision = [.. rows.Select(Numbers)];
            if (precision.Any(r => r.Length != mean.Length))
            {
                throw new JsonException("The shift monitor's precision must be a d × d matrix for a mean of d > 0 values.");
            }

            return new ShiftMonitor(Vector<double>.Build.DenseOfArray(mean), Matrix<double>.Build.DenseOfRowArrays(precision), threshold, quantile);
        }
        catch (InvalidOperationException ex)
        {
            throw new JsonException("A shift monitor member has the wrong JSON type.", ex);
        }
        catch (FormatException ex)
        {
            throw new JsonException("A shift monitor member has the wrong JSON type.", ex);
        }
    }

    private static double Finite(JsonNode? node)
    {
        double value = node is null ? double.NaN : node.GetValue<double>();
        return double.IsFinite(value) ? value : throw new JsonException("A shift monitor number is missing or not finite.");
    }

    private static double[] Numbers(JsonNode? node) =>
        node is JsonArray array ? [.. array.Select(Finite)] : throw new JsonException("A shift monitor member must be an array of numbers.");
}
