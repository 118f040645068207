namespace MedTransfer.Training.FineTuning;

/// <summary>
/// SplitMix64 (Steele, Lea &amp; Flood 2014): a small generator whose whole state is one number, so
/// every random decision of a run can be re-derived from (seed, purpose, step) — which makes resumed
/// runs identical to uninterrupted ones without saving generator state.
/// </summary>
internal sealed class StableRandom
{
    private ulong _state;

    public StableRandom(long seed, long stream = 0, long step = 0)
    {
        _state = Mix((ulong)seed ^ Mix((ulong)stream + 0x9E3779B97F4A7C15UL) ^ Mix((ulong)step * 0xBF58476D1CE4E5B9UL + 1));
    }

    /// <summary>Derives a 63-bit seed for torch generators from (seed, stream, step).</summary>
    public static long DeriveSeed(long seed, long stream, long step) => (long)(new StableRandom(seed, stream, step).NextUInt64() >> 1);

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [−a, a].</summary>
    public double Symmetric(double a) => ((NextDouble() * 2) - 1) * a;

    /// <summary>Uniform integer in [0, n).</summary>
    public int Next(int n) => (int)(NextUInt64() % (ulong)n);

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle<T>(IList<T> items)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
