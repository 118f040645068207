using System.Runtime.CompilerServices;
using MedTransfer.Training.Backbones;
using MedTransfer.Training.Data;
using MedTransfer.Training.Models;
using static TorchSharp.torch;

namespace MedTransfer.Training.FineTuning;

/// <summary>
/// Activations of a backbone's frozen layers, computed once per sample set and shared by every training run that
/// freezes the same layers of the same initial backbone (every method and seed of an experiment, the pretrained
/// features of its diagnostics). An entry is keyed by the set (by reference), the backbone's
/// <see cref="Backbone.Identity"/> and the cut, so it is only valid for a model whose frozen layers still hold
/// their initial weights and statistics: after AdaBN has re-estimated them, score without the cache.
/// Entries beyond <see cref="MaxBytes"/> are not kept; the trainer then runs the frozen layers on every batch.
/// </summary>
public sealed class ActivationCache : IDisposable
{
    private readonly Dictionary<Key, CachedActivations> _entries = [];

    /// <summary>Creates an empty cache holding at most <paramref name="maxBytes"/> of activations (default 2 GiB).</summary>
    public ActivationCache(long maxBytes = 2L << 30)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        MaxBytes = maxBytes;
    }

    /// <summary>The memory budget.</summary>
    public long MaxBytes { get; }

    /// <summary>Bytes held.</summary>
    public long Bytes { get; private set; }

    /// <summary>
    /// The activations of <paramref name="set"/> at <paramref name="cut"/> of <paramref name="model"/>'s backbone,
    /// computed now (evaluation mode, no gradients, batches of 32) unless already held; null when they would not fit
    /// the budget.
    /// </summary>
    public CachedActivations? Get(TransferModel model, BackboneCut cut, ISampleSource set, Device device, IProgress<(int Done, int Total)>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(cut);
        ArgumentNullException.ThrowIfNull(set);
        var key = new Key(set, model.Features.Backbone.Identity, cut.Index);
        if (_entries.TryGetValue(key, out CachedActivations? hit))
        {
            return hit;
        }

        Backbone backbone = model.Features.Backbone;
        bool training = backbone.training;
        backbone.eval();
        var parts = new List<Tensor>();
        try
        {
            using var guard = no_grad();
            for (int start = 0; start < set.Count; start += 32)
            {
                using var scope = NewDisposeScope();
                int[] idx = [.. Enumerable.Range(start, Math.Min(32, set.Count - start))];
                Tensor a = backbone.ForwardTo(cut, set.Inputs(idx, device)).contiguous();
                if (start == 0)
                {
                    long bytes = a.NumberOfElements / idx.Length * set.Count * a.ElementSize;
                    if (Bytes + bytes > MaxBytes)
                    {
                        return null;
                    }
                }

                parts.Add(a.MoveToOuterDisposeScope());
                progress?.Report((start + idx.Length, set.Count));
            }

            Tensor all = cat(parts, 0);
            all.DetachFromDisposeScope();
            var entry = new CachedActivations(all, set.Labels);
            _entries[key] = entry;
            Bytes += all.NumberOfElements * all.ElementSize;
            return entry;
        }
        finally
        {
            foreach (Tensor p in parts)
            {
                p.Dispose();
            }

            backbone.train(training);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (CachedActivations entry in _entries.Values)
        {
            entry.Dispose();
        }

        _entries.Clear();
        Bytes = 0;
    }

    private readonly record struct Key(ISampleSource Set, string Backbone, int Cut)
    {
        public bool Equals(Key other) => ReferenceEquals(Set, other.Set) && Backbone == other.Backbone && Cut == other.Cut;

        public override int GetHashCode() => HashCode.Combine(RuntimeHelpers.GetHashCode(Set), Backbone, Cut);
    }
}

/// <summary>A set's activations at a backbone cut (N×…), with the set's labels: a sample source of its own.</summary>
public sealed class CachedActivations : ISampleSource, IDisposable
{
    internal CachedActivations(Tensor activations, IReadOnlyList<int> labels)
    {
        Activations = activations;
        Labels = labels;
        Count = checked((int)activations.shape[0]);
    }

    /// <summary>The activations, N×….</summary>
    public Tensor Activations { get; }

    /// <inheritdoc/>
    public int Count { get; }

    /// <inheritdoc/>
    public IReadOnlyList<int> Labels { get; }

    /// <inheritdoc/>
    public Tensor Inputs(IReadOnlyList<int> indices, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(indices);
        using Tensor index = tensor(indices.Select(i => (long)i).ToArray(), device: Activations.device);
        Tensor picked = Activations.index_select(0, index);
        if (device is null || device.type == Activations.device.type)
        {
            return picked;
        }

        using (picked)
        {
            return picked.to(device);
        }
    }

    /// <inheritdoc/>
    public void Dispose() => Activations.Dispose();
}
