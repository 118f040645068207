using MedTransfer.Synthetic.Randomness;

namespace MedTransfer.Synthetic.Tests.Randomness;

public sealed class SeededRandomTests
{
    [Fact]
    public void SplitMix64_SeedZero_GivesPublishedFirstOutputs()
    {
        // Reference values of SplitMix64 from seed 0 (Vigna's splitmix64.c).
        ulong state = 0;

        Assert.Equal(0xE220A8397B1DCDAFUL, SeededRandom.SplitMix64(ref state));
        Assert.Equal(0x6E789E6AA1B965F4UL, SeededRandom.SplitMix64(ref state));
    }

    [Fact]
    public void SameSeed_SameSequence_DifferentSeed_DifferentSequence()
    {
        ulong[] a = Draw(new SeededRandom(42), 8);
        ulong[] b = Draw(new SeededRandom(42), 8);
        ulong[] c = Draw(new SeededRandom(43), 8);

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Derive_DoesNotConsumeParentDraws_AndStreamsDiffer()
    {
        var parent = new SeededRandom(7);
        SeededRandom noise = parent.Derive("noise");
        SeededRandom anatomy = parent.Derive("anatomy");

        Assert.Equal(Draw(new SeededRandom(7), 4), Draw(parent, 4));
        Assert.NotEqual(Draw(noise, 4), Draw(anatomy, 4));
        Assert.Equal(Draw(new SeededRandom(7).Derive("noise"), 4), Draw(new SeededRandom(7).Derive("noise"), 4));
    }

    [Fact]
    public void NextInt_IsUniformEnough_AndInRange()
    {
        var rng = new SeededRandom(1);
        int[] counts = new int[6];
        for (int i = 0; i < 60_000; i++)
        {
            counts[rng.NextInt(6)]++;
        }

        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
    }

    [Fact]
    public void NextGaussian_HasUnitMomentsOverManyDraws()
    {
        var rng = new SeededRandom(3);
        double[] x = [.. Enumerable.Range(0, 50_000).Select(_ => rng.NextGaussian())];
        double mean = x.Average();
        double variance = x.Select(v => (v - mean) * (v - mean)).Average();

        Assert.InRange(mean, -0.02, 0.02);
        Assert.InRange(variance, 0.97, 1.03);
    }

    private static ulong[] Draw(SeededRandom rng, int n) => [.. Enumerable.Range(0, n).Select(_ => rng.NextUInt64())];
}
