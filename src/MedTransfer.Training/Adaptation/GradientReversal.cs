using static TorchSharp.torch;

namespace MedTransfer.Training.Adaptation;

/// <summary>
/// Gradient reversal R (Ganin &amp; Lempitsky, ICML 2015): identity in the forward pass, gradient × (−λ) in the
/// backward pass. Shape: any; the output has the input's shape, dtype and device.
/// </summary>
/// <remarks>
/// Implemented without a custom autograd function as <c>y = x.detach() + (x − x.detach())·(−λ)</c>: the second term is
/// exactly zero in value (x − x is 0 bit for bit, for finite x), so the forward pass is the identity exactly, while its
/// derivative with respect to x is −λ. This keeps the layer a plain composition of differentiable ops on every
/// device and needs no managed callback during backward.
/// </remarks>
public static class GradientReversal
{
    /// <summary>Applies R with coefficient <paramref name="lambda"/>.</summary>
    /// <param name="input">Any tensor.</param>
    /// <param name="lambda">λ ≥ 0 (the gradient is multiplied by −λ).</param>
    public static Tensor Apply(Tensor input, double lambda)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!double.IsFinite(lambda))
        {
            throw new AdaptationException(AdaptationErrorCode.InvalidHyperparameter, "The gradient-reversal λ must be finite.");
        }

        using Tensor detached = input.detach();
        using Tensor zero = input - detached;
        using Tensor reversed = zero * (-lambda);
        return detached + reversed;
    }
}

/// <summary>A module form of <see cref="GradientReversal"/> whose <see cref="Lambda"/> the trainer sets each step.</summary>
public sealed class GradientReversalLayer : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the layer with λ = <paramref name="lambda"/>.</summary>
    public GradientReversalLayer(double lambda = 1.0)
        : base(nameof(GradientReversalLayer))
    {
        Lambda = lambda;
    }

    /// <summary>The current λ.</summary>
    public double Lambda { get; set; }

    /// <summary>Identity forward; gradient × (−<see cref="Lambda"/>) backward.</summary>
    public override Tensor forward(Tensor input) => GradientReversal.Apply(input, Lambda);
}
