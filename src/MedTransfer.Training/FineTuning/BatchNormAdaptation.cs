using MedTransfer.Training.Data;
using MedTransfer.Training.Models;
using MedTransfer.Training.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedTransfer.Training.FineTuning;

/// <summary>
/// AdaBN (Li et al. 2016, "Revisiting Batch Normalization for Practical Domain Adaptation"): replace
/// every BatchNorm layer's running mean and variance by statistics of the target domain — reset,
/// then a cumulative average over all target batches (momentum 1/k for the k-th batch) in training
/// mode without gradients — and return to evaluation mode. Weights are not touched.
/// </summary>
public static class BatchNormAdaptation
{
    /// <summary>Re-estimates the statistics of <paramref name="model"/>'s BatchNorm layers on <paramref name="target"/>.</summary>
    /// <returns>The number of BatchNorm layers re-estimated.</returns>
    public static int Apply(TransferModel model, ImageSet target, Device? device = null, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(target);
        if (target.Count < 2)
        {
            throw new ArgumentException("AdaBN needs at least two target images.", nameof(target));
        }

        var batches = new List<int[]>();
        for (int start = 0; start < target.Count; start += batchSize)
        {
            int n = Math.Min(batchSize, target.Count - start);
            if (n >= 2)
            {
                batches.Add([.. Enumerable.Range(start, n)]);
            }
        }

        return Apply(model, batches.Select(b => target.Images(b, device)));
    }

    /// <summary>Re-estimates the statistics on the given image batches (each N×C×S×S, N ≥ 2; disposed here).</summary>
    public static int Apply(TransferModel model, IEnumerable<Tensor> batches)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batches);
        BatchNormNode[] graphNorms = [.. model.Features.Backbone.Graph.BatchNorms];
        BatchNorm1d[] headNorms = [.. model.modules().OfType<BatchNorm1d>()];
        var saved = graphNorms.Select(b => b.Momentum).ToArray();
        model.eval();
        foreach (BatchNormNode b in graphNorms)
        {
            b.ResetRunningStatistics();
            b.Momentum = null;
            b.train();
        }

        foreach (BatchNorm1d b in headNorms)
        {
            b.reset_running_stats();
            b.momentum = null;
            b.train();
        }

        try
        {
            using var guard = no_grad();
            foreach (Tensor batch in batches)
            {
                using var scope = NewDisposeScope();
                using (batch)
                {
                    model.forward(batch);
                }
            }
        }
        finally
        {
            for (int i = 0; i < graphNorms.Length; i++)
            {
                graphNorms[i].Momentum = saved[i];
            }

            foreach (BatchNorm1d b in headNorms)
            {
                b.momentum = 0.1;
            }

            model.eval();
        }

        return graphNorms.Length + headNorms.Length;
    }
}
