using MedTransfer.Pipeline.Protocols;
using MedTransfer.Training.Adaptation;
using MedTransfer.Training.Backbones;
using MedTransfer.Training.Configuration;
using TrainerLambda = MedTransfer.Training.Adaptation.LambdaSchedule;

namespace MedTransfer.Pipeline.Runs;

/// <summary>
/// The one translation from a protocol to the trainer's configuration: every <c>model</c>, <c>training</c> and
/// <c>adaptation</c> field of <see cref="ExperimentProtocol"/> becomes a <see cref="FineTuneConfig"/> value here and
/// nowhere else. A protocol that leaves everything at its defaults gives <c>new FineTuneConfig()</c> (apart from the
/// input size, which comes from the preprocessing recipe, and the seed).
/// </summary>
public static class TrainerSettings
{
    /// <summary>Candidate checkpoints per run without early stopping (evenly spaced; the last step is one).</summary>
    public const int Snapshots = 4;

    /// <summary>The configuration of one (method, seed) run of <paramref name="protocol"/>.</summary>
    /// <param name="protocol">The protocol.</param>
    /// <param name="method">A baseline or method name of the protocol ("source-only", "scratch", "dann", …).</param>
    /// <param name="seed">The run seed.</param>
    /// <param name="labelledSamples">Labelled training samples of this run (for <c>training.epochs</c>).</param>
    /// <exception cref="ArgumentException">The method is not in the protocol.</exception>
    public static FineTuneConfig For(ExperimentProtocol protocol, string method, int seed, int labelledSamples)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(method);
        ModelSpec m = protocol.Model;
        TrainingSpec t = protocol.Training;
        bool scratch = method == ProtocolNames.Of(TrainingMethod.Scratch);
        bool known = protocol.Baselines.Any(b => ProtocolNames.Of(b) == method) || protocol.Adaptation.Methods.Any(x => ProtocolNames.Of(x.Method) == method);
        if (!known)
        {
            throw new ArgumentException($"'{method}' is neither a baseline nor a method of protocol {protocol.Name}.", nameof(method));
        }

        return new FineTuneConfig
        {
            Backbone = m.BackbonePath ?? (scratch || m.Backbone == BackboneKind.ResNet18Scratch ? BackboneNames.ResNet18Scratch : BackboneNames.ResNet18ImageNet),
            FeatureNode = m.FeatureNode,
            Input = m.Input,
            ImageSize = protocol.Preprocessing.InputSize,
            Head = ProtocolNames.Of(m.Head),
            BottleneckWidth = m.BottleneckWidth,
            Classes = m.Classes,
            Strategy = ProtocolNames.Of(m.Strategy),
            TrainableFrom = m.TrainableFrom is { } from ? ProtocolNames.Of(from) : null,
            DiscriminativeDecay = m.DiscriminativeLrDecay,
            UnfreezeEvery = m.UnfreezeEvery,
            L2SpAlpha = m.L2SpAlpha,
            L2SpBeta = m.L2SpBeta,
            Optimizer = ProtocolNames.Of(t.Optimizer),
            LearningRate = t.Lr,
            HeadLrMultiplier = m.HeadLrMultiplier,
            Momentum = t.Momentum,
            WeightDecay = t.WeightDecay,
            Schedule = ProtocolNames.Of(t.Schedule),
            DannGamma = t.DannGamma,
            LabelSmoothing = t.LabelSmoothing,
            ClassWeighting = ProtocolNames.Of(t.ClassWeighting),
            BalancedSampling = t.BalancedSampling,
            BatchSize = t.BatchSize,
            Iterations = Iterations(t, labelledSamples),
            EarlyStopping = t.EarlyStopping is { } e ? new EarlyStoppingConfig { Signal = ProtocolNames.Of(e.Signal), Patience = e.Patience, EvaluateEvery = e.Every } : null,
            Snapshots = Snapshots,
            Augmentation = t.Augmentation,
            Adaptation = Adaptation(protocol, method),
            ChannelsLast = true,
            Seed = seed,
        };
    }

    /// <summary>Optimiser steps: <c>training.iterations</c>, or <c>training.epochs</c> × ⌈labelled samples / batch⌉.</summary>
    public static int Iterations(TrainingSpec training, int labelledSamples)
    {
        ArgumentNullException.ThrowIfNull(training);
        if (training.Epochs is { } epochs)
        {
            long perEpoch = Math.Max(1, (labelledSamples + training.BatchSize - 1) / training.BatchSize);
            return (int)Math.Min(epochs * perEpoch, 10_000_000);
        }

        return training.Iterations ?? new TrainingSpec().Iterations!.Value;
    }

    private static AdaptationConfig Adaptation(ExperimentProtocol protocol, string method)
    {
        MethodSpec? spec = protocol.Adaptation.Methods.FirstOrDefault(x => ProtocolNames.Of(x.Method) == method);
        string trainer = method == ProtocolNames.Of(TrainingMethod.Scratch) ? AdaptationMethods.SourceOnly : method;
        var defaults = new AdaptationConfig();
        return new AdaptationConfig
        {
            Method = trainer,
            TradeOff = spec?.TradeOff ?? protocol.Adaptation.TradeOff,
            Schedule = protocol.Adaptation.LambdaSchedule switch
            {
                Protocols.LambdaSchedule.Tllib => TrainerLambda.TllibDefault,
                Protocols.LambdaSchedule.Constant => TrainerLambda.Constant(1.0),
                _ => TrainerLambda.PaperDefault,
            },
            DiscriminatorWidth = spec?.DiscriminatorWidth ?? defaults.DiscriminatorWidth,
            Temperature = spec?.Temperature ?? defaults.Temperature,
            KernelAlphas = spec is null ? defaults.KernelAlphas : [.. spec.KernelAlphas],
            CdanRandomizedDim = spec?.RandomizedDimension ?? defaults.CdanRandomizedDim,
            ShotBeta = spec?.ShotBeta ?? defaults.ShotBeta,
        };
    }
}
