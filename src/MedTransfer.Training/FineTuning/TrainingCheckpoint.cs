using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using MedTransfer.Training.Adaptation;
using MedTransfer.Training.Checkpoints;
using MedTransfer.Training.Configuration;
using MedTransfer.Training.Models;
using static TorchSharp.torch;

namespace MedTransfer.Training.FineTuning;

/// <summary>
/// The resumable state of a run in one checkpoint file (<c>last.ckpt</c>): the tensors training changes, the
/// adaptation method's own layers (prefixed "method."), the optimizer state, and the run state as JSON. A resume
/// from it continues exactly where the run stopped.
/// </summary>
internal static class TrainingCheckpoint
{
    private const string MethodPrefix = "method.";
    private const string StateKey = "state";
    private const string OptimizerStepsKey = "optimizer_steps";

    private static readonly JsonSerializerOptions s_json = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static void Save(string path, FineTuneConfig config, TrainableLayout layout, IAdaptationMethod method, GroupOptimizer optimizer, TrainingState state)
    {
        Dictionary<string, Tensor> model = layout.CaptureState();
        try
        {
            if (method.TrainableModule is { } own)
            {
                foreach ((string key, Tensor value) in own.state_dict())
                {
                    Tensor c = value.detach().clone();
                    c.DetachFromDisposeScope();
                    model[MethodPrefix + key] = c;
                }
            }

            var extra = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [OptimizerStepsKey] = optimizer.StepCount.ToString(CultureInfo.InvariantCulture),
                [StateKey] = JsonSerializer.Serialize(state, s_json),
            };
            CheckpointFile.Save(path, state.Step, config.ToJson(), model, optimizer.State.ToDictionary(), extra);
        }
        finally
        {
            foreach (Tensor t in model.Values)
            {
                t.Dispose();
            }
        }
    }

    public static void Resume(string path, FineTuneConfig config, TransferModel model, TrainableLayout layout, IAdaptationMethod method, GroupOptimizer optimizer, TrainingState state, Device device)
    {
        Checkpoint last = CheckpointFile.Load(path);
        try
        {
            if (last.ConfigJson != config.ToJson())
            {
                throw new CheckpointException(CheckpointError.BadHeader, "The checkpoint in this folder was written with a different training configuration; use a new folder or remove last.ckpt.");
            }

            layout.RestoreState(last.Model);
            if (method.TrainableModule is { } own)
            {
                string[] keys = [.. own.state_dict().Keys];
                TrainableLayout.RestorePartial(own, keys, last.Model.Where(k => k.Key.StartsWith(MethodPrefix, StringComparison.Ordinal)).ToDictionary(k => k.Key[MethodPrefix.Length..], k => k.Value, StringComparer.Ordinal));
            }

            var optimizerState = last.Optimizer.ToDictionary(k => k.Key, k => k.Value.to(device), StringComparer.Ordinal);
            optimizer.LoadState(optimizerState, long.Parse(last.Extra[OptimizerStepsKey], CultureInfo.InvariantCulture));
            foreach (Tensor t in optimizerState.Values)
            {
                t.Dispose();
            }

            TrainingState saved = JsonSerializer.Deserialize<TrainingState>(last.Extra[StateKey], s_json)
                ?? throw new CheckpointException(CheckpointError.BadHeader, "The checkpoint's run state is empty.");
            state.Step = saved.Step;
            state.ResumedFrom = saved.Step;
            state.BestStep = saved.BestStep;
            state.BestSignal = saved.BestSignal;
            state.Stale = saved.Stale;
            state.StoppedEarly = saved.StoppedEarly;
            state.SaturatedSteps = saved.SaturatedSteps;
            state.SaturatedRun = saved.SaturatedRun;
            state.Candidates.AddRange(saved.Candidates);
            state.PseudoLabels = saved.PseudoLabels;
            state.Curves.Loss.AddRange(saved.Curves.Loss);
            state.Curves.Transfer.AddRange(saved.Curves.Transfer);
            state.Curves.Lambda.AddRange(saved.Curves.Lambda);
            state.Curves.LearningRate.AddRange(saved.Curves.LearningRate);
            state.Curves.DiscriminatorAccuracy.AddRange(saved.Curves.DiscriminatorAccuracy);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or FormatException)
        {
            throw new CheckpointException(CheckpointError.BadHeader, $"The checkpoint's run state cannot be read ({ex.GetType().Name}); remove last.ckpt to start over.");
        }
        finally
        {
            foreach (Tensor t in last.Model.Values)
            {
                t.Dispose();
            }

            foreach (Tensor t in last.Optimizer.Values)
            {
                t.Dispose();
            }
        }
    }
}
