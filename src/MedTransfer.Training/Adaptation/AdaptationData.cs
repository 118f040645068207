using static TorchSharp.torch;

namespace MedTransfer.Training.Adaptation;

/// <summary>One batch: inputs (B×…) and, for labelled data, int64 class labels (B).</summary>
/// <param name="Inputs">The inputs.</param>
/// <param name="Labels">The labels, or null for unlabelled data.</param>
public sealed record AdaptationBatch(Tensor Inputs, Tensor? Labels);

/// <summary>
/// Random-access samples for <see cref="AdaptationTrainer"/>. The trainer decides the order (seeded shuffles) and asks
/// for batches by sample index, so two sources of unequal size can be cycled independently.
/// </summary>
public interface IAdaptationDataSource
{
    /// <summary>Number of samples.</summary>
    int Count { get; }

    /// <summary>True when <see cref="Load"/> returns labels.</summary>
    bool HasLabels { get; }

    /// <summary>
    /// The samples at <paramref name="indices"/> (each in [0, Count)), in that order, stacked into one batch. The tensors
    /// belong to the caller's dispose scope; the trainer moves them to its device.
    /// </summary>
    AdaptationBatch Load(IReadOnlyList<int> indices);
}

/// <summary>An in-memory <see cref="IAdaptationDataSource"/> over an N×… input tensor and optional N int64 labels.</summary>
public sealed class TensorDataSource : IAdaptationDataSource, IDisposable
{
    private readonly Tensor _inputs;
    private readonly Tensor? _labels;

    /// <summary>Wraps copies of <paramref name="inputs"/> and <paramref name="labels"/> (the caller keeps its own).</summary>
    /// <exception cref="AdaptationException">Empty inputs, or labels of the wrong length.</exception>
    public TensorDataSource(Tensor inputs, Tensor? labels = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.dim() < 1 || inputs.shape[0] == 0)
        {
            throw new AdaptationException(AdaptationErrorCode.InvalidData, "A data source needs at least one sample.");
        }

        if (labels is not null && (labels.dim() != 1 || labels.shape[0] != inputs.shape[0]))
        {
            throw new AdaptationException(AdaptationErrorCode.ShapeMismatch, $"Labels must be a vector of {inputs.shape[0]} entries, got [{string.Join(",", labels.shape)}].");
        }

        _inputs = inputs.detach().clone();
        _labels = labels?.to_type(ScalarType.Int64).detach().clone();
        Count = checked((int)inputs.shape[0]);
    }

    /// <inheritdoc/>
    public int Count { get; }

    /// <inheritdoc/>
    public bool HasLabels => _labels is not null;

    /// <inheritdoc/>
    public AdaptationBatch Load(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        long[] idx = new long[indices.Count];
        for (int i = 0; i < idx.Length; i++)
        {
            if ((uint)indices[i] >= (uint)Count)
            {
                throw new AdaptationException(AdaptationErrorCode.InvalidData, $"Sample index {indices[i]} is outside [0, {Count}).");
            }

            idx[i] = indices[i];
        }

        using Tensor index = tensor(idx, device: _inputs.device);
        return new AdaptationBatch(_inputs.index_select(0, index), _labels?.index_select(0, index));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _inputs.Dispose();
        _labels?.Dispose();
    }
}

/// <summary>
/// Endless seeded batches over one source: a shuffled pass, batches of <c>batchSize</c> taken in order, a fresh
/// shuffle when fewer than <c>batchSize</c> samples remain (the remainder is dropped). A source smaller than the batch
/// yields its whole (shuffled) content each time.
/// </summary>
internal sealed class BatchCycler
{
    private readonly Random _rng;
    private readonly int _count;
    private readonly int _batch;
    private int[] _order = [];
    private int _position;

    public BatchCycler(int count, int batchSize, int seed)
    {
        _count = count;
        _batch = Math.Min(batchSize, count);
        _rng = new Random(seed);
        Reshuffle();
    }

    /// <summary>Completed passes (reshuffles after the first).</summary>
    public int Passes { get; private set; }

    public int[] Next()
    {
        if (_position + _batch > _count)
        {
            Reshuffle();
            Passes++;
        }

        int[] picked = _order[_position..(_position + _batch)];
        _position += _batch;
        return picked;
    }

    private void Reshuffle()
    {
        _order = [.. Enumerable.Range(0, _count)];
        _rng.Shuffle(_order);
        _position = 0;
    }
}
