using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedTransfer.Training.Adaptation;

/// <summary>
/// The domain discriminator D of DANN/CDAN: an MLP of <c>depth</c> hidden blocks (Linear → [BatchNorm1d] → ReLU →
/// [Dropout]) and a final Linear to one logit (source = 1, target = 0). tllib's default is two hidden blocks of
/// width 1024 with BatchNorm and no dropout; Ganin et al. use 1024-1024 with dropout 0.5.
/// Input B×inputDim, output B×1 logits (no sigmoid: losses use BCE-with-logits).
/// </summary>
public sealed class DomainDiscriminator : nn.Module<Tensor, Tensor>
{
    private readonly Sequential _layers;

    /// <summary>Creates the discriminator.</summary>
    /// <param name="inputDim">Width of the input (features, or the CDAN map dimension).</param>
    /// <param name="width">Hidden width.</param>
    /// <param name="depth">Number of hidden blocks (≥ 1).</param>
    /// <param name="dropout">Dropout after each hidden block (0 = none).</param>
    /// <param name="batchNorm">BatchNorm1d in each hidden block.</param>
    /// <exception cref="AdaptationException">A size is not positive or the dropout is outside [0, 1).</exception>
    public DomainDiscriminator(long inputDim, long width = 1024, int depth = 2, double dropout = 0.0, bool batchNorm = true)
        : base(nameof(DomainDiscriminator))
    {
        if (inputDim <= 0 || width <= 0 || depth < 1)
        {
            throw new AdaptationException(AdaptationErrorCode.InvalidHyperparameter, $"Domain discriminator needs inputDim > 0, width > 0 and depth ≥ 1 (got {inputDim}, {width}, {depth}).");
        }

        if (!(dropout >= 0 && dropout < 1))
        {
            throw new AdaptationException(AdaptationErrorCode.InvalidHyperparameter, $"Domain discriminator dropout must be in [0, 1) (got {dropout}).");
        }

        var blocks = new List<(string, nn.Module<Tensor, Tensor>)>();
        long previous = inputDim;
        for (int i = 0; i < depth; i++)
        {
            blocks.Add(($"fc{i}", nn.Linear(previous, width)));
            if (batchNorm)
            {
                blocks.Add(($"bn{i}", nn.BatchNorm1d(width)));
            }

            blocks.Add(($"relu{i}", nn.ReLU()));
            if (dropout > 0)
            {
                blocks.Add(($"drop{i}", nn.Dropout(dropout)));
            }

            previous = width;
        }

        blocks.Add(("out", nn.Linear(previous, 1)));
        _layers = nn.Sequential(blocks);
        InputDim = inputDim;
        RegisterComponents();
    }

    /// <summary>The expected input width.</summary>
    public long InputDim { get; }

    /// <summary>B×inputDim → B×1 domain logits.</summary>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 2 || input.shape[1] != InputDim)
        {
            throw new AdaptationException(AdaptationErrorCode.ShapeMismatch, $"Domain discriminator expects B×{InputDim} input, got [{string.Join(",", input.shape)}].");
        }

        return _layers.forward(input);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _layers.Dispose();
        }

        base.Dispose(disposing);
    }
}
