using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
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
/// <para>
/// With an <see cref="IActivationStore"/>, each image of an <see cref="ImageSet"/> that has a content key is first
/// looked up there under a derivation that hashes the frozen layers' exact weights and statistics, the cut, the
/// code and the thread count, and what was computed is put there: a later run over the same files reads the
/// activations instead of computing them, and gets the same bits.
/// </para>
/// </summary>
public sealed class ActivationCache : IDisposable
{
    private const int Batch = 32;
    private readonly Dictionary<Key, CachedActivations> _entries = [];
    private readonly IActivationStore? _store;
    private (Backbone Backbone, FrozenForward Forward)? _engine;

    /// <summary>Creates an empty cache holding at most <paramref name="maxBytes"/> of activations (default 2 GiB).</summary>
    /// <param name="maxBytes">The memory budget.</param>
    /// <param name="store">Durable per-image storage shared with other runs, or null.</param>
    public ActivationCache(long maxBytes = 2L << 30, IActivationStore? store = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        MaxBytes = maxBytes;
        _store = store;
    }

    /// <summary>The memory budget.</summary>
    public long MaxBytes { get; }

    /// <summary>The durable store consulted before computing, or null.</summary>
    public IActivationStore? Store => _store;

    /// <summary>Bytes held.</summary>
    public long Bytes { get; private set; }

    /// <summary>Images whose activations came from the store.</summary>
    public int StoreHits { get; private set; }

    /// <summary>Images whose activations were computed (and put in the store when there is one).</summary>
    public int Computed { get; private set; }

    /// <summary>
    /// The activations of <paramref name="set"/> at <paramref name="cut"/> of <paramref name="model"/>'s backbone,
    /// read from the store or computed now (evaluation mode, no gradients, batches of 32) unless already held; null
    /// when they would not fit the budget.
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
        try
        {
            IReadOnlyList<string?>? contentKeys = _store is not null && set is ImageSet images && images.ContentKeys.All(k => k is not null) ? images.ContentKeys : null;
            Tensor? all = contentKeys is null
                ? Compute(backbone, cut, set, device, progress)
                : ComputeWithStore(backbone, cut, set, contentKeys!, device, progress);
            if (all is null)
            {
                return null;
            }

            var entry = new CachedActivations(all, set.Labels);
            _entries[key] = entry;
            Bytes += all.NumberOfElements * all.ElementSize;
            return entry;
        }
        finally
        {
            backbone.train(training);
        }
    }

    private bool Fits(long perSample, int count, long elementSize) => Bytes + (perSample * count * elementSize) <= MaxBytes;

    // Every sample through the frozen layers, in batches of 32 in index order.
    private Tensor? Compute(Backbone backbone, BackboneCut cut, ISampleSource set, Device device, IProgress<(int Done, int Total)>? progress, bool budget = true)
    {
        var parts = new List<Tensor>();
        try
        {
            using var guard = no_grad();
            for (int start = 0; start < set.Count; start += Batch)
            {
                using var scope = NewDisposeScope();
                int[] idx = [.. Enumerable.Range(start, Math.Min(Batch, set.Count - start))];
                Tensor a = Engine(backbone, cut, device).Forward(set.Inputs(idx, device)).contiguous();
                if (budget && start == 0 && !Fits(a.NumberOfElements / idx.Length, set.Count, a.ElementSize))
                {
                    return null;
                }

                parts.Add(a.MoveToOuterDisposeScope());
                progress?.Report((start + idx.Length, set.Count));
            }

            Computed += set.Count;
            Tensor all = cat(parts, 0);
            all.DetachFromDisposeScope();
            return all;
        }
        finally
        {
            foreach (Tensor p in parts)
            {
                p.Dispose();
            }
        }
    }

    // Samples the store holds are read; the others are computed in batches of up to 32 (in index order, so a cold run
    // batches exactly as one without a store) and put there.
    private Tensor? ComputeWithStore(Backbone backbone, BackboneCut cut, ISampleSource set, IReadOnlyList<string?> contentKeys, Device device, IProgress<(int Done, int Total)>? progress)
    {
        string derivation = Derivation(backbone, cut, Engine(backbone, cut, device).Name);
        int n = set.Count;
        var stored = new float[]?[n];
        int[]? sampleShape = null;
        var missing = new List<int>();
        for (int i = 0; i < n; i++)
        {
            if (_store!.TryGet(contentKeys[i]!, derivation, out float[]? values, out int[]? shape) && (sampleShape is null || shape!.AsSpan().SequenceEqual(sampleShape)))
            {
                stored[i] = values;
                sampleShape ??= shape;
            }
            else
            {
                missing.Add(i);
            }
        }

        int done = n - missing.Count;
        if (done > 0)
        {
            progress?.Report((done, n));
        }

        Tensor? result = null;
        try
        {
            using var guard = no_grad();
            for (int m = 0; m < missing.Count; m += Batch)
            {
                using var scope = NewDisposeScope();
                int[] idx = [.. missing.Skip(m).Take(Batch)];
                Tensor a = Engine(backbone, cut, device).Forward(set.Inputs(idx, device)).contiguous();
                Tensor cpu = a.device_type == TorchSharp.DeviceType.CPU ? a : a.cpu();
                int[] shape = [.. cpu.shape.Skip(1).Select(d => checked((int)d))];
                if (sampleShape is not null && !shape.AsSpan().SequenceEqual(sampleShape))
                {
                    // The stored activations have another shape than the layers now give: none of them can be used.
                    throw new InvalidOperationException("Stored activations do not have the shape the frozen layers produce; clear the feature cache.");
                }

                sampleShape = shape;
                if (result is null)
                {
                    long per = shape.Aggregate(1L, (p, d) => p * d);
                    if (!Fits(per, n, 4))
                    {
                        return null;
                    }

                    result = zeros([n, .. shape.Select(d => (long)d)], ScalarType.Float32).DetachFromDisposeScope();
                }

                float[] values = cpu.data<float>().ToArray();
                int per1 = values.Length / idx.Length;
                for (int j = 0; j < idx.Length; j++)
                {
                    _store!.Put(contentKeys[idx[j]]!, derivation, values.AsSpan(j * per1, per1), shape);
                }

                Tensor rows = tensor(idx.Select(i => (long)i).ToArray());
                result.index_copy_(0, rows, cpu);
                done += idx.Length;
                progress?.Report((done, n));
            }

            if (result is null)
            {
                long per = sampleShape!.Aggregate(1L, (p, d) => p * d);
                if (!Fits(per, n, 4))
                {
                    return null;
                }

                result = zeros([n, .. sampleShape!.Select(d => (long)d)], ScalarType.Float32).DetachFromDisposeScope();
            }

            for (int i = 0; i < n; i++)
            {
                if (stored[i] is { } values)
                {
                    using var scope = NewDisposeScope();
                    result[i].copy_(tensor(values, [.. sampleShape!.Select(d => (long)d)]));
                }
            }

            StoreHits += n - missing.Count;
            Computed += missing.Count;
            if (device.type == TorchSharp.DeviceType.CPU)
            {
                Tensor done1 = result;
                result = null;
                return done1;
            }

            return result.to(device).DetachFromDisposeScope();
        }
        finally
        {
            result?.Dispose();
        }
    }

    /// <summary>
    /// What frozen activations are a function of beyond the image: the exact weights and statistics of the backbone
    /// (hashed, so retrained or re-estimated layers never match), the cut, the thread count (kernels may split work
    /// differently), and the code that runs them (the build of this library and of TorchSharp).
    /// </summary>
    internal static string Derivation(Backbone backbone, BackboneCut cut, string engine)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Text(string s) => hash.AppendData(Encoding.UTF8.GetBytes(s + "\n"));
        Text("medtransfer-activations/1");
        Text(typeof(ActivationCache).Assembly.ManifestModule.ModuleVersionId.ToString());
        Text(typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString() ?? "?");
        Text(string.Create(CultureInfo.InvariantCulture, $"cut={cut.Index};end={cut.AtEnd};threads={get_num_threads()};size={backbone.ImageSize};engine={engine}"));
        foreach ((string name, Tensor t) in backbone.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).Concat(backbone.named_buffers()).OrderBy(p => p.Item1, StringComparer.Ordinal))
        {
            using Tensor c = t.detach().to(ScalarType.Float32, CPU).contiguous();
            Text(name + ":" + string.Join(",", c.shape));
            hash.AppendData(MemoryMarshal.AsBytes(c.data<float>().ToArray().AsSpan()));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..32];
    }

    /// <summary>
    /// The activations of <paramref name="set"/> at <paramref name="cut"/>, computed now with the cache's engine and
    /// not kept (for images made on the fly, such as the shortcut check's masked copies): the caller disposes them.
    /// </summary>
    public CachedActivations ComputeOnce(TransferModel model, BackboneCut cut, ISampleSource set, Device device)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(cut);
        ArgumentNullException.ThrowIfNull(set);
        Backbone backbone = model.Features.Backbone;
        bool training = backbone.training;
        backbone.eval();
        try
        {
            Tensor all = Compute(backbone, cut, set, device, null, budget: false)!;
            Computed -= set.Count;
            return new CachedActivations(all, set.Labels);
        }
        finally
        {
            backbone.train(training);
        }
    }

    /// <summary>Tests: always this engine instead of the preferred one.</summary>
    internal FeatureEngine? ForcedEngine { get; init; }

    /// <summary>Which engine runs the frozen layers (e.g. "onnxruntime 1.22.0 (2 threads)"), once one has run.</summary>
    public string? EngineName => _engine?.Forward.Name;

    // The frozen forward pass: ONNX Runtime where it can run this backbone here (measured 1.3–1.8× TorchSharp on the
    // ResNet-18's frozen layers on 2 CPU cores), else TorchSharp. The choice depends on the backbone and the device
    // only, never on a timing, so a run computes the same activations every time. One engine is kept, for the last
    // (backbone, cut): the sets of one model ask in a row, and each engine holds a copy of the weights.
    private FrozenForward Engine(Backbone backbone, BackboneCut cut, Device device)
    {
        if (_engine is { } e && ReferenceEquals(e.Backbone, backbone) && e.Forward.Cut.Index == cut.Index)
        {
            return e.Forward;
        }

        _engine?.Forward.Dispose();
        _engine = null;
        FrozenForward forward = ForcedEngine is { } forced ? FrozenForward.Create(backbone, cut, forced, device) : FrozenForward.CreatePreferred(backbone, cut, device);
        _engine = (backbone, forward);
        return forward;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (CachedActivations entry in _entries.Values)
        {
            entry.Dispose();
        }

        _entries.Clear();
        _engine?.Forward.Dispose();
        _engine = null;
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
