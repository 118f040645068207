using System.Globalization;
using MedTransfer.Training.Adaptation;
using MedTransfer.Training.Backbones;
using MedTransfer.Training.Configuration;
using MedTransfer.Training.Models;
using MedTransfer.Training.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedTransfer.Training.FineTuning;

/// <summary>
/// Which layers of a <see cref="TransferModel"/> train under a configuration, from when, and at which rate: the
/// strategy and <c>trainable_from</c> turned into parameter groups, train/eval modes and the state a checkpoint
/// must hold. Stages before <see cref="FineTuneConfig.EffectiveTrainableFrom"/> are frozen for the whole run —
/// their parameters take no gradient and their BatchNorm layers stay in evaluation mode, so their running
/// statistics do not move either. That frozen prefix is what <see cref="Cut"/> describes.
/// </summary>
internal sealed class TrainableLayout
{
    private readonly FineTuneConfig _config;
    private readonly TransferModel _model;

    private TrainableLayout(FineTuneConfig config, TransferModel model, IReadOnlyList<Stage> stages, BackboneCut? cut, IReadOnlyList<ParameterGroup> groups, IReadOnlyList<string> stateKeys)
    {
        _config = config;
        _model = model;
        Stages = stages;
        Cut = cut;
        Groups = groups;
        StateKeys = stateKeys;
    }

    /// <summary>Backbone stages with parameters, input to output, with whether each ever trains.</summary>
    public IReadOnlyList<Stage> Stages { get; }

    /// <summary>The boundary between the frozen prefix and the trained part; null when the graph cannot be cut there.</summary>
    public BackboneCut? Cut { get; }

    /// <summary>True when at least one graph layer is frozen before the cut (its activations can then be computed once).</summary>
    public bool HasFrozenPrefix => Cut is { Index: > 0 };

    /// <summary>Optimizer groups of the model (not of an adaptation method's own layers).</summary>
    public IReadOnlyList<ParameterGroup> Groups { get; }

    /// <summary>Names (as in <c>state_dict()</c>) of every tensor training can change: what snapshots and checkpoints hold.</summary>
    public IReadOnlyList<string> StateKeys { get; }

    /// <summary>Backbone parameters that ever train, for the L2-SP anchor.</summary>
    public IEnumerable<(string Name, Parameter Parameter)> TrainableBackboneParameters => Stages.Where(s => s.Trains).SelectMany(s => s.Parameters);

    public static TrainableLayout Build(TransferModel model, FineTuneConfig config)
    {
        string from = config.EffectiveTrainableFrom;
        int fromRank = from == TrainableFromNames.Head ? int.MaxValue : OnnxGraphModule.StageRank(from);
        var stages = new List<Stage>();
        foreach ((string name, IReadOnlyList<(string Name, Parameter Parameter)> parameters) in model.BackboneStages())
        {
            // A graph's own "head" stage (layers after flattening) trains unless only the new layers do.
            bool trains = from != TrainableFromNames.Head && OnnxGraphModule.StageRank(name) >= fromRank;
            stages.Add(new Stage(name, parameters, trains));
        }

        if (from is not (TrainableFromNames.Head or TrainableFromNames.Stem) && !stages.Any(s => s.Name == from))
        {
            throw new FormatException($"training configuration, field 'trainable_from': the backbone has no stage '{from}'; its stages are {string.Join(", ", stages.Select(s => s.Name))}.");
        }

        bool l2sp = config.Strategy == StrategyNames.L2Sp;
        double decay = l2sp ? 0 : config.WeightDecay;
        Stage[] trainable = [.. stages.Where(s => s.Trains)];
        var groups = new List<ParameterGroup>();
        for (int i = 0; i < trainable.Length; i++)
        {
            int belowTop = trainable.Length - 1 - i;
            double multiplier = config.Strategy == StrategyNames.Discriminative ? Math.Pow(config.DiscriminativeDecay, belowTop) : 1;
            groups.Add(new ParameterGroup(trainable[i].Name, trainable[i].Parameters, multiplier, decay));
        }

        // A source-free method (SHOT) keeps the source classifier as the fixed hypothesis and moves the features to it.
        bool sourceFree = AdaptationMethods.RoleOf(AdaptationMethods.Resolve(config.Adaptation.Method)) == AdaptationRole.SourceFree;
        (string Name, Parameter Parameter)[] head = [.. model.HeadParameters().Where(p => !sourceFree || !p.Name.StartsWith("classifier.", StringComparison.Ordinal))];
        if (sourceFree)
        {
            foreach ((_, Parameter p) in model.Classifier.named_parameters())
            {
                p.requires_grad = false;
            }

            if (head.Length == 0 && trainable.Length == 0)
            {
                throw new FormatException("training configuration, field 'trainable_from': a source-free method trains the feature extractor with the classifier frozen, and here nothing else trains: add a bottleneck head or make a backbone stage trainable.");
            }
        }

        if (head.Length > 0)
        {
            groups.Add(new ParameterGroup("head", head, config.HeadLrMultiplier, decay));
        }

        var keys = new List<string>();
        string[] trainingStages = [.. trainable.Select(s => "features.backbone.graph." + s.Name + "_")];
        foreach (string key in model.state_dict().Keys)
        {
            bool backbone = key.StartsWith("features.backbone.", StringComparison.Ordinal);
            if (!backbone || trainingStages.Any(p => key.StartsWith(p, StringComparison.Ordinal)))
            {
                keys.Add(key);
            }
        }

        BackboneCut? cut = model.Features.Backbone.CutBefore(from);
        return new TrainableLayout(config, model, stages, cut, groups, keys);
    }

    /// <summary>
    /// Puts the model in training mode for step <paramref name="step"/>: frozen stages (and, under gradual unfreezing,
    /// stages not yet unfrozen) take no gradient and keep their BatchNorm layers in evaluation mode. Returns a note
    /// when a stage unfreezes at this step.
    /// </summary>
    public string? ApplyModes(long step)
    {
        _model.train();
        Stage[] trainable = [.. Stages.Where(s => s.Trains)];
        long unfrozen = _config.Strategy == StrategyNames.GradualUnfreezing ? Math.Min(trainable.Length, step / _config.UnfreezeEvery) : trainable.Length;
        string? note = null;
        foreach (Stage stage in Stages)
        {
            int index = Array.IndexOf(trainable, stage);
            bool active = index >= 0 && index >= trainable.Length - unfrozen;
            foreach ((_, Parameter p) in stage.Parameters)
            {
                if (p.requires_grad != active)
                {
                    p.requires_grad = active;
                    if (active)
                    {
                        note = string.Create(CultureInfo.InvariantCulture, $"{stage.Name} unfrozen at step {step}");
                    }
                }
            }

            if (!active)
            {
                foreach (nn.Module m in _model.Features.Backbone.Graph.StageModules(stage.Name))
                {
                    m.eval();
                }
            }
        }

        if (!Stages.Any(s => s.Trains))
        {
            _model.Features.Backbone.eval();
        }

        return note;
    }

    /// <summary>The model's trainable state (<see cref="StateKeys"/>), detached copies.</summary>
    public Dictionary<string, Tensor> CaptureState()
    {
        Dictionary<string, Tensor> all = _model.state_dict();
        var copy = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (string key in StateKeys)
        {
            Tensor c = all[key].detach().clone();
            c.DetachFromDisposeScope();
            copy[key] = c;
        }

        return copy;
    }

    /// <summary>Copies a state captured by <see cref="CaptureState"/> (or read from a checkpoint) back into the model.</summary>
    /// <exception cref="Checkpoints.CheckpointException">A key is missing or has the wrong shape.</exception>
    public void RestoreState(IReadOnlyDictionary<string, Tensor> state) => RestorePartial(_model, StateKeys, state);

    /// <summary>Copies the tensors named by <paramref name="keys"/> from <paramref name="state"/> into <paramref name="module"/>, strictly.</summary>
    public static void RestorePartial(nn.Module module, IReadOnlyList<string> keys, IReadOnlyDictionary<string, Tensor> state)
    {
        Dictionary<string, Tensor> target = module.state_dict();
        using var guard = no_grad();
        foreach (string key in keys)
        {
            if (!state.TryGetValue(key, out Tensor? source) || !target.TryGetValue(key, out Tensor? t))
            {
                throw new Checkpoints.CheckpointException(Checkpoints.CheckpointError.MissingKeys, $"The checkpoint lacks tensor '{key}', which this configuration trains.");
            }

            if (!t.shape.SequenceEqual(source.shape))
            {
                throw new Checkpoints.CheckpointException(Checkpoints.CheckpointError.ShapeMismatch, $"Tensor '{key}' has shape [{string.Join(",", source.shape)}] in the checkpoint and [{string.Join(",", t.shape)}] in the model.");
            }

            using Tensor moved = source.to(t.dtype, t.device);
            t.copy_(moved);
        }
    }

    /// <summary>A backbone stage: its parameters and whether it ever trains.</summary>
    public sealed record Stage(string Name, IReadOnlyList<(string Name, Parameter Parameter)> Parameters, bool Trains);
}
