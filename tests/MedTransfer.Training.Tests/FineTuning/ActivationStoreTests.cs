using MedTransfer.Training.Backbones;
using MedTransfer.Training.Configuration;
using MedTransfer.Training.Data;
using MedTransfer.Training.FineTuning;
using MedTransfer.Training.Models;
using MedTransfer.Training.Tests.Runtime;
using static TorchSharp.torch;

namespace MedTransfer.Training.Tests.FineTuning;

/// <summary>Frozen activations kept in a durable store: read back as the computed bits, recomputed when anything they depend on changes.</summary>
[Collection(TorchCollection.Name)]
public sealed class ActivationStoreTests
{
    private sealed class MemoryStore : IActivationStore
    {
        public Dictionary<(string, string), (float[] Values, int[] Shape)> Entries { get; } = [];

        public int Gets { get; private set; }

        public bool TryGet(string contentKey, string derivation, out float[]? values, out int[]? shape)
        {
            Gets++;
            bool found = Entries.TryGetValue((contentKey, derivation), out var e);
            values = found ? [.. e.Values] : null;
            shape = found ? [.. e.Shape] : null;
            return found;
        }

        public void Put(string contentKey, string derivation, ReadOnlySpan<float> values, ReadOnlySpan<int> shape) =>
            Entries[(contentKey, derivation)] = (values.ToArray(), shape.ToArray());
    }

    private static ImageSet Keyed(int count, int seed)
    {
        ImageSet raw = TinyImages.Create(count, 32, seed);
        var set = new ImageSet(32);
        for (int i = 0; i < raw.Count; i++)
        {
            set.Add(raw.Ids[i], raw.Pixels(i).ToArray(), raw.Labels[i], raw.Domains[i], raw.Groups[i], $"{seed:x8}{i:x8}".PadLeft(64, '0'));
        }

        return set;
    }

    private static float[] Values(Tensor t) => t.contiguous().data<float>().ToArray();

    [Theory]
    [InlineData("stage3")]
    [InlineData("head")]
    public void SecondCache_ReadsEveryImageFromTheStore_AndGetsTheSameBits(string trainableFrom)
    {
        var config = new FineTuneConfig { ImageSize = 32, Seed = 3 };
        using TransferModel model = TransferModel.Create(config);
        BackboneCut cut = model.Features.Backbone.CutBefore(trainableFrom)!;
        ImageSet set = Keyed(40, 1); // more than one batch of 32
        var store = new MemoryStore();
        float[] without;
        using (var plain = new ActivationCache())
        {
            without = Values(plain.Get(model, cut, set, CPU)!.Activations);
        }

        float[] cold;
        using (var first = new ActivationCache(store: store))
        {
            cold = Values(first.Get(model, cut, set, CPU)!.Activations);
            Assert.Equal(40, first.Computed);
            Assert.Equal(0, first.StoreHits);
        }

        Assert.Equal(40, store.Entries.Count);
        using var second = new ActivationCache(store: store);
        float[] warm = Values(second.Get(model, cut, set, CPU)!.Activations);

        Assert.Equal(40, second.StoreHits);
        Assert.Equal(0, second.Computed);
        Assert.Equal(without, cold); // a store changes nothing about what is computed
        Assert.Equal(cold, warm);
    }

    [Fact]
    public void PartlyStored_ComputesOnlyTheMissingImages()
    {
        var config = new FineTuneConfig { ImageSize = 32, Seed = 3 };
        using TransferModel model = TransferModel.Create(config);
        BackboneCut cut = model.Features.Backbone.CutBefore("head")!;
        ImageSet set = Keyed(10, 2);
        var store = new MemoryStore();
        float[] full;
        using (var first = new ActivationCache(store: store))
        {
            full = Values(first.Get(model, cut, set, CPU)!.Activations);
        }

        // Three entries lost (a corrupt entry is a miss to the cache): only those three are computed again.
        foreach (var k in store.Entries.Keys.Order().Take(3).ToList())
        {
            store.Entries.Remove(k);
        }

        using var second = new ActivationCache(store: store);
        float[] again = Values(second.Get(model, cut, set, CPU)!.Activations);
        Assert.Equal(7, second.StoreHits);
        Assert.Equal(3, second.Computed);
        Assert.Equal(full.Length, again.Length);
        for (int i = 0; i < full.Length; i++)
        {
            Assert.True(Math.Abs(full[i] - again[i]) <= 1e-5 * Math.Max(1, Math.Abs(full[i])), $"element {i}");
        }
    }

    [Fact]
    public void ChangedFrozenWeights_ChangeTheDerivation_SoNothingStaleIsRead()
    {
        var config = new FineTuneConfig { ImageSize = 32, Seed = 3 };
        using TransferModel model = TransferModel.Create(config);
        BackboneCut cut = model.Features.Backbone.CutBefore("stage4")!;
        string before = ActivationCache.Derivation(model.Features.Backbone, cut, "engine");
        Assert.Equal(before, ActivationCache.Derivation(model.Features.Backbone, cut, "engine"));
        Assert.NotEqual(before, ActivationCache.Derivation(model.Features.Backbone, cut, "another engine"));
        Assert.NotEqual(before, ActivationCache.Derivation(model.Features.Backbone, model.Features.Backbone.CutBefore("stage3")!, "engine"));

        using (no_grad())
        {
            Tensor first = model.Features.Backbone.parameters().First();
            first.add_(1e-3f);
        }

        Assert.NotEqual(before, ActivationCache.Derivation(model.Features.Backbone, cut, "engine"));
    }

    [Fact]
    public void ImagesWithoutAContentKey_AreNeverStored()
    {
        var config = new FineTuneConfig { ImageSize = 32, Seed = 3 };
        using TransferModel model = TransferModel.Create(config);
        var store = new MemoryStore();
        using var cache = new ActivationCache(store: store);
        Assert.NotNull(cache.Get(model, model.Features.Backbone.CutBefore("head")!, TinyImages.Create(6, 32, 3), CPU));
        Assert.Empty(store.Entries);
        Assert.Equal(0, store.Gets);
    }
}
