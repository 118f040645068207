using MedTransfer.Training.Configuration;
using MedTransfer.Training.Models;
using static TorchSharp.torch;

namespace MedTransfer.Training.FineTuning;

/// <summary>
/// The part of a model's state that a run changed, small enough to keep per run: the tensors its configuration
/// trains (frozen layers keep their initial values, which a fresh model of the same configuration has again), plus
/// every BatchNorm statistic when AdaBN re-estimated them.
/// </summary>
public static class TrainedState
{
    /// <summary>Detached copies of the tensors a run under <paramref name="config"/> changed.</summary>
    public static Dictionary<string, Tensor> Capture(TransferModel model, FineTuneConfig config, bool batchNormStatisticsChanged)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(config);
        Dictionary<string, Tensor> copy = TrainableLayout.Build(model, config).CaptureState();
        if (batchNormStatisticsChanged)
        {
            foreach ((string key, Tensor value) in model.state_dict())
            {
                if (!copy.ContainsKey(key) && (key.EndsWith(".running_mean", StringComparison.Ordinal) || key.EndsWith(".running_var", StringComparison.Ordinal) || key.EndsWith(".num_batches_tracked", StringComparison.Ordinal)))
                {
                    Tensor c = value.detach().clone();
                    c.DetachFromDisposeScope();
                    copy[key] = c;
                }
            }
        }

        return copy;
    }

    /// <summary>Copies a captured state into <paramref name="model"/> (a fresh model of the same configuration).</summary>
    /// <exception cref="Checkpoints.CheckpointException">A tensor of the state does not exist in the model or has another shape.</exception>
    public static void Restore(TransferModel model, IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(state);
        TrainableLayout.RestorePartial(model, [.. state.Keys], state);
    }
}
