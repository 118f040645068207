using MedTransfer.Training.Onnx;
using static TorchSharp.torch;

namespace MedTransfer.Training.Backbones;

/// <summary>What runs a backbone's frozen layers for feature extraction (<see cref="FrozenForward"/>).</summary>
public enum FeatureEngine
{
    /// <summary>TorchSharp: <see cref="Backbone.ForwardTo"/> in evaluation mode without gradients.</summary>
    Torch,

    /// <summary>ONNX Runtime (CPU, full graph optimization) on a snapshot of the backbone's weights.</summary>
    OnnxRuntime,
}

/// <summary>Why <see cref="FrozenForward.Create"/> could not build the engine asked for.</summary>
public sealed class FeatureEngineException : Exception
{
    /// <summary>Creates the exception.</summary>
    public FeatureEngineException(FeatureEngine engine, string message, Exception? inner = null)
        : base(message, inner)
    {
        Engine = engine;
    }

    /// <summary>The engine that was asked for.</summary>
    public FeatureEngine Engine { get; }
}

/// <summary>
/// Runs a backbone's layers before a cut in evaluation mode, as <see cref="Backbone.ForwardTo"/> does, with one of
/// the <see cref="FeatureEngine"/>s: the frozen part of fine-tuning and the features of diagnostics only need this
/// forward pass, which an inference engine may run faster than the training framework.
/// </summary>
public abstract class FrozenForward : IDisposable
{
    private protected FrozenForward(BackboneCut cut, FeatureEngine engine)
    {
        Cut = cut;
        Engine = engine;
    }

    /// <summary>Where the layers run up to.</summary>
    public BackboneCut Cut { get; }

    /// <summary>The engine in use.</summary>
    public FeatureEngine Engine { get; }

    /// <summary>A short description for reports, e.g. "onnxruntime 1.31.1 (2 threads)".</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Builds the forward pass of <paramref name="backbone"/>'s layers before <paramref name="cut"/> with
    /// <paramref name="engine"/>. <see cref="FeatureEngine.OnnxRuntime"/> copies the backbone's current weights and
    /// BatchNorm statistics: create the engine again after they change (AdaBN, training).
    /// </summary>
    /// <param name="backbone">The backbone (not disposed by the engine).</param>
    /// <param name="cut">A cut of that backbone (<see cref="Backbone.CutBefore"/>).</param>
    /// <param name="engine">The engine.</param>
    /// <param name="device">Where the inputs live and the activations are wanted; null: the CPU.</param>
    /// <exception cref="FeatureEngineException">The engine cannot run this backbone here (which is said).</exception>
    public static FrozenForward Create(Backbone backbone, BackboneCut cut, FeatureEngine engine, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(cut);
        return engine switch
        {
            FeatureEngine.Torch => new TorchFrozenForward(backbone, cut),
            FeatureEngine.OnnxRuntime => OnnxFrozenForward.Create(backbone, cut, device ?? CPU),
            _ => throw new ArgumentOutOfRangeException(nameof(engine), engine, "Unknown feature engine."),
        };
    }

    /// <summary>
    /// The faster engine that can run this backbone here: <see cref="FeatureEngine.OnnxRuntime"/> on the CPU (measured
    /// 1.3–1.8× TorchSharp's images/s on the ImageNet ResNet-18, batch 32, 128² and 224², 2 threads, with activations
    /// within 1e-4 of TorchSharp's relative to their scale), otherwise <see cref="FeatureEngine.Torch"/> with the
    /// reason in <see cref="FallbackReason"/>. The choice depends only on the backbone and the device, never on a timing,
    /// so the same run computes the same activations.
    /// </summary>
    /// <param name="backbone">The backbone (not disposed by the engine).</param>
    /// <param name="cut">A cut of that backbone (<see cref="Backbone.CutBefore"/>).</param>
    /// <param name="device">Where the inputs live and the activations are wanted; null: the CPU.</param>
    public static FrozenForward CreatePreferred(Backbone backbone, BackboneCut cut, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(cut);
        try
        {
            return OnnxFrozenForward.Create(backbone, cut, device ?? CPU);
        }
        catch (FeatureEngineException ex)
        {
            return new TorchFrozenForward(backbone, cut) { FallbackReason = ex.Message };
        }
    }

    /// <summary>Why <see cref="CreatePreferred"/> fell back to TorchSharp; null when it did not.</summary>
    public string? FallbackReason { get; private init; }

    /// <summary>
    /// The activations at <see cref="Cut"/> of a batch N×C×S×S (C = 1 or 3, values in [0, 1]): the shape
    /// <see cref="Backbone.ForwardTo"/> returns (N×C'×H×W, or N×D at the end of the backbone), float32, without gradients.
    /// </summary>
    public abstract Tensor Forward(Tensor input);

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the engine's resources.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }

    private sealed class TorchFrozenForward(Backbone backbone, BackboneCut cut) : FrozenForward(cut, FeatureEngine.Torch)
    {
        public override string Name => "torchsharp " + typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString(3);

        public override Tensor Forward(Tensor input)
        {
            ArgumentNullException.ThrowIfNull(input);
            bool training = backbone.training;
            if (training)
            {
                backbone.eval();
            }

            try
            {
                using var guard = no_grad();
                return backbone.ForwardTo(Cut, input);
            }
            finally
            {
                if (training)
                {
                    backbone.train();
                }
            }
        }
    }
}
