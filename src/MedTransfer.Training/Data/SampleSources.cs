using static TorchSharp.torch;

namespace MedTransfer.Training.Data;

/// <summary>
/// Samples the trainer draws batches from by index: images (<see cref="ImageSet"/>), tensors held in memory
/// (<see cref="TensorSamples"/>), or activations of frozen layers computed once. The trainer decides the order
/// (seeded from the run seed and the step), so unequal sources can be cycled independently.
/// </summary>
public interface ISampleSource
{
    /// <summary>Number of samples.</summary>
    int Count { get; }

    /// <summary>Class index of each sample; −1 marks an unlabelled sample.</summary>
    IReadOnlyList<int> Labels { get; }

    /// <summary>The inputs at <paramref name="indices"/>, in that order, as one batch on <paramref name="device"/> (the caller's dispose scope owns it).</summary>
    Tensor Inputs(IReadOnlyList<int> indices, Device? device = null);
}

/// <summary>An in-memory <see cref="ISampleSource"/> over an N×… tensor and optional labels.</summary>
public sealed class TensorSamples : ISampleSource, IDisposable
{
    private readonly Tensor _inputs;

    /// <summary>Wraps a copy of <paramref name="inputs"/> (the caller keeps its own); <paramref name="labels"/> null = unlabelled.</summary>
    /// <exception cref="ArgumentException">No samples, or labels of the wrong length.</exception>
    public TensorSamples(Tensor inputs, IReadOnlyList<int>? labels = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.dim() < 1 || inputs.shape[0] == 0)
        {
            throw new ArgumentException("A sample source needs at least one sample.", nameof(inputs));
        }

        Count = checked((int)inputs.shape[0]);
        if (labels is not null && labels.Count != Count)
        {
            throw new ArgumentException($"{labels.Count} labels for {Count} samples.", nameof(labels));
        }

        _inputs = inputs.detach().clone();
        _inputs.DetachFromDisposeScope();
        Labels = labels is null ? [.. Enumerable.Repeat(-1, Count)] : [.. labels];
    }

    /// <summary>Wraps <paramref name="inputs"/> with int64 labels from a tensor (e.g. a test's generated data).</summary>
    public static TensorSamples Labelled(Tensor inputs, Tensor labels) => new(inputs, ToList(labels));

    /// <inheritdoc/>
    public int Count { get; }

    /// <inheritdoc/>
    public IReadOnlyList<int> Labels { get; }

    /// <inheritdoc/>
    public Tensor Inputs(IReadOnlyList<int> indices, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(indices);
        long[] idx = new long[indices.Count];
        for (int i = 0; i < idx.Length; i++)
        {
            if ((uint)indices[i] >= (uint)Count)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), indices[i], $"Sample index outside [0, {Count}).");
            }

            idx[i] = indices[i];
        }

        using Tensor index = tensor(idx, device: _inputs.device);
        Tensor picked = _inputs.index_select(0, index);
        if (device is null || device.type == _inputs.device.type)
        {
            return picked;
        }

        using (picked)
        {
            return picked.to(device);
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _inputs.Dispose();

    private static int[] ToList(Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        using Tensor l = labels.to_type(ScalarType.Int64).cpu();
        return [.. l.data<long>().ToArray().Select(v => checked((int)v))];
    }
}
