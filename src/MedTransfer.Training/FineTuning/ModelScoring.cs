using MedTransfer.Training.Backbones;
using MedTransfer.Training.Data;
using MedTransfer.Training.Models;
using static TorchSharp.torch;

namespace MedTransfer.Training.FineTuning;

/// <summary>A model's outputs on a sample set: logits (N×C) and, when asked for, the adapted features (N×d).</summary>
/// <param name="Logits">Logits per sample.</param>
/// <param name="Features">Adapted features per sample, or null.</param>
public sealed record ModelOutputs(double[][] Logits, double[][]? Features)
{
    /// <summary>P(class 1) per sample (softmax of the logits): the score of a binary task.</summary>
    public double[] PositiveScores() => [.. Logits.Select(l => Softmax(l)[Math.Min(1, l.Length - 1)])];

    /// <summary>Softmax of one row of logits.</summary>
    public static double[] Softmax(double[] logits)
    {
        ArgumentNullException.ThrowIfNull(logits);
        double max = logits.Max();
        double[] e = [.. logits.Select(v => Math.Exp(v - max))];
        double sum = e.Sum();
        return [.. e.Select(v => v / sum)];
    }
}

/// <summary>
/// Runs a model over a sample set in evaluation mode without gradients, in batches: the one place where trained
/// models are scored (validation signals, candidate selection, final predictions). A set of
/// <see cref="CachedActivations"/> is continued from the cut it was taken at; anything else goes through the whole
/// network.
/// </summary>
public static class ModelScoring
{
    /// <summary>Scores <paramref name="set"/> with <paramref name="model"/>.</summary>
    /// <param name="model">The model (left in evaluation mode).</param>
    /// <param name="set">Images, tensors, or cached activations at <paramref name="cut"/>.</param>
    /// <param name="device">Where the model runs.</param>
    /// <param name="cut">The cut of cached activations (required for them, ignored otherwise).</param>
    /// <param name="withFeatures">Also return the adapted features.</param>
    /// <param name="channelsLast">Feed 4-D batches in channels-last memory format.</param>
    /// <param name="batchSize">Samples per batch.</param>
    public static ModelOutputs Score(TransferModel model, ISampleSource set, Device device, BackboneCut? cut = null, bool withFeatures = false, bool channelsLast = false, int batchSize = 64)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(set);
        bool cached = set is CachedActivations;
        if (cached && cut is null)
        {
            throw new ArgumentException("Cached activations need the cut they were taken at.", nameof(cut));
        }

        model.eval();
        var logits = new double[set.Count][];
        double[][]? features = withFeatures ? new double[set.Count][] : null;
        using var guard = no_grad();
        for (int start = 0; start < set.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            int[] idx = [.. Enumerable.Range(start, Math.Min(batchSize, set.Count - start))];
            Tensor x = set.Inputs(idx, device);
            if (channelsLast && x.dim() == 4)
            {
                x = MemoryFormat.ChannelsLast(x);
            }

            Tensor f = cached ? model.Features.FromActivations(cut!, x) : model.Features.forward(x);
            Tensor l = model.Classifier.forward(f);
            Rows(l, logits, start);
            if (features is not null)
            {
                Rows(f, features, start);
            }
        }

        return new ModelOutputs(logits, features);
    }

    private static void Rows(Tensor t, double[][] into, int start)
    {
        using Tensor d = t.detach().to(ScalarType.Float64).cpu().contiguous();
        double[] flat = d.data<double>().ToArray();
        int width = (int)t.shape[1];
        for (int i = 0; i < t.shape[0]; i++)
        {
            into[start + i] = flat.AsSpan(i * width, width).ToArray();
        }
    }
}
