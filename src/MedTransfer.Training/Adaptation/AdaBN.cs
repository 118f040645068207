using MedTransfer.Training.Data;
using MedTransfer.Training.FineTuning;
using MedTransfer.Training.Models;
using MedTransfer.Training.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedTransfer.Training.Adaptation;

/// <summary>What <see cref="AdaBN.Recompute(nn.Module{Tensor, Tensor}, IEnumerable{Tensor})"/> did.</summary>
/// <param name="Layers">BatchNorm layers whose running statistics were re-estimated.</param>
/// <param name="Batches">Batches forwarded.</param>
/// <param name="Samples">Samples forwarded.</param>
public sealed record BatchNormRecomputeResult(int Layers, int Batches, long Samples);

/// <summary>
/// AdaBN (Li et al., "Revisiting Batch Normalization for Practical Domain Adaptation", ICLR-W 2017): replace every
/// BatchNorm layer's running mean and variance with statistics of the target data; no gradient step.
/// </summary>
/// <remarks>
/// Procedure: every BatchNorm layer that tracks running statistics gets <c>reset_running_stats()</c> and
/// momentum = null, which makes libtorch keep a cumulative moving average (factor 1/k at the k-th batch); only the
/// BatchNorm layers are put in train mode (dropout and every other layer stay in eval mode, so they do not disturb
/// the statistics); the batches are forwarded under no_grad; then each layer's momentum and every module's
/// train/eval flag are restored, also on failure. The cumulative average weights batches equally: the running mean
/// is the mean of per-batch means, and the running variance the mean of per-batch unbiased variances, as in
/// PyTorch. Use equal batch sizes for a per-sample average.
/// </remarks>
public static class AdaBN
{
    /// <summary>Re-estimates the BatchNorm statistics of <paramref name="model"/> on <paramref name="batches"/>.</summary>
    /// <param name="model">Any module; its BatchNorm1d/2d/3d layers are updated.</param>
    /// <param name="batches">Input batches on the model's device (not disposed here).</param>
    /// <exception cref="AdaptationException">No batch was given.</exception>
    public static BatchNormRecomputeResult Recompute(nn.Module<Tensor, Tensor> model, IEnumerable<Tensor> batches)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Recompute([model], model.forward, batches);
    }

    /// <summary>
    /// Re-estimates the BatchNorm statistics of several modules that <paramref name="forward"/> runs in sequence
    /// (e.g. a feature extractor and a classifier head). Both TorchSharp's BatchNorm layers and those of an imported
    /// ONNX graph are re-estimated.
    /// </summary>
    /// <exception cref="AdaptationException">No batch was given.</exception>
    public static BatchNormRecomputeResult Recompute(IReadOnlyList<nn.Module> modules, Func<Tensor, Tensor> forward, IEnumerable<Tensor> batches)
    {
        ArgumentNullException.ThrowIfNull(modules);
        ArgumentNullException.ThrowIfNull(forward);
        ArgumentNullException.ThrowIfNull(batches);

        List<(nn.Module Module, bool Training)> modes = [.. modules.SelectMany(m => m.modules()).Select(m => (m, m.training))];
        List<BatchNorm> norms = [.. modules.SelectMany(m => m.modules()).OfType<BatchNorm>().Where(b => b.track_running_stats).Distinct()];
        List<BatchNormNode> graphNorms = [.. modules.SelectMany(m => m.modules()).OfType<BatchNormNode>().Distinct()];
        var momenta = norms.Select(b => b.momentum).ToList();
        var graphMomenta = graphNorms.Select(b => b.Momentum).ToList();
        int count = 0;
        long samples = 0;
        try
        {
            foreach (nn.Module m in modules)
            {
                m.eval();
            }

            foreach (BatchNorm bn in norms)
            {
                bn.reset_running_stats();
                bn.momentum = null;
                bn.train();
            }

            foreach (BatchNormNode bn in graphNorms)
            {
                bn.ResetRunningStatistics();
                bn.Momentum = null;
                bn.train();
            }

            using var noGrad = no_grad();
            foreach (Tensor batch in batches)
            {
                using var scope = NewDisposeScope();
                forward(batch);
                count++;
                samples += batch.shape[0];
            }
        }
        finally
        {
            for (int i = 0; i < norms.Count; i++)
            {
                norms[i].momentum = momenta[i];
            }

            for (int i = 0; i < graphNorms.Count; i++)
            {
                graphNorms[i].Momentum = graphMomenta[i];
            }

            // modules() lists a parent before its children, so restoring in order leaves every flag as it was.
            foreach ((nn.Module module, bool training) in modes)
            {
                module.train(training);
            }
        }

        if (count == 0)
        {
            throw new AdaptationException(AdaptationErrorCode.InvalidData, "AdaBN needs at least one target batch; the running statistics were reset and not re-estimated.");
        }

        return new BatchNormRecomputeResult(norms.Count + graphNorms.Count, count, samples);
    }

    /// <summary>
    /// AdaBN on a whole <see cref="TransferModel"/> (backbone and new layers) over every sample of
    /// <paramref name="target"/>, in batches of <paramref name="batchSize"/> (a last batch of one sample is left out:
    /// BatchNorm needs two). The model's weights are unchanged; it is left in evaluation mode.
    /// </summary>
    /// <exception cref="AdaptationException">Fewer than two target samples.</exception>
    public static BatchNormRecomputeResult Adapt(TransferModel model, ISampleSource target, Device device, int batchSize = 32, bool channelsLast = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(target);
        IEnumerable<Tensor> Batches()
        {
            for (int start = 0; start < target.Count; start += batchSize)
            {
                int n = Math.Min(batchSize, target.Count - start);
                if (n >= 2)
                {
                    Tensor x = target.Inputs([.. Enumerable.Range(start, n)], device);
                    yield return channelsLast && x.dim() == 4 ? MemoryFormat.ChannelsLast(x) : x;
                }
            }
        }

        model.eval();
        using var scope = NewDisposeScope();
        BatchNormRecomputeResult result = Recompute([model], model.forward, Batches());
        model.eval();
        return result;
    }
}
