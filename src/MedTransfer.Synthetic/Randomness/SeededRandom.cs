using System.Security.Cryptography;
using System.Text;

namespace MedTransfer.Synthetic.Randomness;

/// <summary>
/// The project's deterministic random source (same seed, same numbers on every machine and thread count, so runs repeat bit for bit): xoshiro256** (Blackman &amp; Vigna 2018)
/// seeded through SplitMix64, with named sub-streams so that adding draws to one part of a generator
/// never shifts the numbers of another. Same seed → same sequence on every machine and runtime,
/// unlike <see cref="System.Random"/> whose algorithm is not specified.
/// </summary>
public sealed class SeededRandom
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    /// <summary>Creates a generator from a 64-bit seed.</summary>
    public SeededRandom(ulong seed)
    {
        ulong state = seed;
        _s0 = SplitMix64(ref state);
        _s1 = SplitMix64(ref state);
        _s2 = SplitMix64(ref state);
        _s3 = SplitMix64(ref state);
    }

    /// <summary>An independent stream for <paramref name="purpose"/> (e.g. "site-B/patient-17/noise"),
    /// derived from this generator's seed material by SHA-256, without consuming draws from it.</summary>
    public SeededRandom Derive(string purpose)
    {
        ArgumentNullException.ThrowIfNull(purpose);
        byte[] material = new byte[32 + Encoding.UTF8.GetByteCount(purpose)];
        BitConverter.TryWriteBytes(material.AsSpan(0), _s0);
        BitConverter.TryWriteBytes(material.AsSpan(8), _s1);
        BitConverter.TryWriteBytes(material.AsSpan(16), _s2);
        BitConverter.TryWriteBytes(material.AsSpan(24), _s3);
        Encoding.UTF8.GetBytes(purpose, material.AsSpan(32));
        byte[] hash = SHA256.HashData(material);
        return new SeededRandom(BitConverter.ToUInt64(hash, 0));
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [min, max).</summary>
    public double NextDouble(double min, double max) => min + ((max - min) * NextDouble());

    /// <summary>Uniform integer in [0, bound), without modulo bias (Lemire's method with rejection).</summary>
    public int NextInt(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bound);
        ulong b = (ulong)bound;
        ulong threshold = (0UL - b) % b;
        while (true)
        {
            ulong x = NextUInt64();
            UInt128 m = (UInt128)x * b;
            if ((ulong)m >= threshold)
            {
                return (int)(ulong)(m >> 64);
            }
        }
    }

    /// <summary>Standard normal draw (Box–Muller, one value per call; deterministic).</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble();
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>One SplitMix64 step (Steele, Lea &amp; Flood 2014), used for seeding.</summary>
    internal static ulong SplitMix64(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        ulong z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));
}
