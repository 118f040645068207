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
    private EngineSlot? _engine;

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
                ? Compute(backbone, cut, set, [.. Enumerable.Range(0, set.Count)], device, progress, 0, budget: true)
                : ComputeWithStore(backbone, cut, set, contentKeys, device, progress);
            if (all is null)
            {
                return null;
            }

            if (contentKeys is null)
            {
                Computed += set.Count;
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

    // The samples at `indices` through the frozen layers, in batches of 32 in that order, as one tensor on `device`;
    // null when the whole set would not fit the budget. `done` counts samples already served, for progress.
    private Tensor? Compute(Backbone backbone, BackboneCut cut, ISampleSource set, IReadOnlyList<int> indices, Device device, IProgress<(int Done, int Total)>? progress, int done, bool budget)
    {
        var parts = new List<Tensor>();
        try
        {
            using var guard = no_grad();
            for (int start = 0; start < indices.Count; start += Batch)
            {
                using var scope = NewDisposeScope();
                int[] idx = [.. indices.Skip(start).Take(Batch)];
                Tensor a = Engine(backbone, cut, device).Forward.Forward(set.Inputs(idx, device)).contiguous();
                if (budget && start == 0 && !Fits(a.NumberOfElements / idx.Length, set.Count, a.ElementSize))
                {
                    return null;
                }

                parts.Add(a.MoveToOuterDisposeScope());
                progress?.Report((done + start + idx.Length, set.Count));
            }

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

    // Samples the store holds are read; the others are computed (in index order, so a cold run batches exactly as one
    // without a store) and put there.
    private Tensor? ComputeWithStore(Backbone backbone, BackboneCut cut, ISampleSource set, IReadOnlyList<string?> contentKeys, Device device, IProgress<(int Done, int Total)>? progress)
    {
        string derivation = Engine(backbone, cut, device).Derivation;
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

        if (missing.Count < n)
        {
            progress?.Report((n - missing.Count, n));
        }

        Tensor? computed = missing.Count == 0 ? null : Compute(backbone, cut, set, missing, device, progress, n - missing.Count, budget: true);
        if (missing.Count > 0 && computed is null)
        {
            return null;
        }

        if (computed is not null)
        {
            int[] shape = [.. computed.shape.Skip(1).Select(d => checked((int)d))];
            if (sampleShape is not null && !shape.AsSpan().SequenceEqual(sampleShape))
            {
                // The stored entries disagree with what the layers give now (a store shared with other code): use none.
                computed.Dispose();
                stored = new float[]?[n];
                missing = [.. Enumerable.Range(0, n)];
                computed = Compute(backbone, cut, set, missing, device, progress, 0, budget: true);
                if (computed is null)
                {
                    return null;
                }
            }

            PutAll(computed, missing, contentKeys, derivation);
            sampleShape = shape;
        }

        StoreHits += n - missing.Count;
        Computed += missing.Count;
        if (missing.Count == n)
        {
            return computed; // every sample computed, in index order
        }

        if (!Fits(sampleShape!.Aggregate(1L, (p, d) => p * d), n, 4))
        {
            computed?.Dispose();
            return null;
        }

        using var scope = NewDisposeScope();
        Tensor result = zeros([n, .. sampleShape!.Select(d => (long)d)], ScalarType.Float32);
        if (computed is not null)
        {
            result.index_copy_(0, tensor(missing.Select(i => (long)i).ToArray()), computed.cpu());
            computed.Dispose();
        }

        long[] dims = [.. sampleShape!.Select(d => (long)d)];
        for (int i = 0; i < n; i++)
        {
            if (stored[i] is { } values)
            {
                result[i].copy_(tensor(values, dims));
            }
        }

        Tensor onDevice = device.type == TorchSharp.DeviceType.CPU ? result : result.to(device);
        return onDevice.DetachFromDisposeScope();
    }

    // Each computed sample (rows of `activations`, in the order of `indices`) into the store.
    private void PutAll(Tensor activations, IReadOnlyList<int> indices, IReadOnlyList<string?> contentKeys, string derivation)
    {
        using Tensor cpu = activations.cpu();
        int[] shape = [.. cpu.shape.Skip(1).Select(d => checked((int)d))];
        float[] values = cpu.data<float>().ToArray();
        int per = values.Length / indices.Count;
        for (int j = 0; j < indices.Count; j++)
        {
            _store!.Put(contentKeys[indices[j]]!, derivation, values.AsSpan(j * per, per), shape);
        }
    }

    /// <summary>
    /// What frozen activations are a function of beyond the image: the exact weights and statistics of the backbone
    /// (hashed, so retrained or re-estimated layers never match), the cut, the thread count (kernels may split work
    /// differently), the engine, and the code that runs them (the build of this library and of TorchSharp).
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
            Tensor all = Compute(backbone, cut, set, [.. Enumerable.Range(0, set.Count)], device, null, 0, budget: false)!;
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

    // The engine of the last (backbone, cut) served, with the derivation of its activations (hashing the weights once).
    private sealed class EngineSlot(Backbone backbone, FrozenForward forward, BackboneCut cut)
    {
        private string? _derivation;

        public Backbone Backbone { get; } = backbone;

        public FrozenForward Forward { get; } = forward;

        public string Derivation => _derivation ??= ActivationCache.Derivation(Backbone, cut, Forward.Name);
    }

    // The frozen forward pass: ONNX Runtime where it can run this backbone here (measured 1.3–1.8× TorchSharp on the
    // ResNet-18's frozen layers on 2 CPU cores), else TorchSharp. The choice depends on the backbone and the device
    // only, never on a timing, so a run computes the same activations every time. One engine is kept, for the last
    // (backbone, cut): the sets of one model ask in a row, and each engine holds a copy of the weights.
    private EngineSlot Engine(Backbone backbone, BackboneCut cut, Device device)
    {
        if (_engine is { } e && ReferenceEquals(e.Backbone, backbone) && e.Forward.Cut.Index == cut.Index)
        {
            return e;
        }

        _engine?.Forward.Dispose();
        _engine = null;
        FrozenForward forward = ForcedEngine is { } forced ? FrozenForward.Create(backbone, cut, forced, device) : FrozenForward.CreatePreferred(backbone, cut, device);
        _engine = new EngineSlot(backbone, forward, cut);
        return _engine;
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
