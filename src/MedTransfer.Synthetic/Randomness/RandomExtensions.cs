namespace MedTransfer.Synthetic.Randomness;

/// <summary>Draws the generators need beyond <see cref="SeededRandom"/>'s own, machine-independent (see <see cref="DeterministicMath"/>).</summary>
internal static class RandomExtensions
{
    /// <summary>A standard normal draw by Marsaglia's polar method (only +, ×, ÷, sqrt and <see cref="DeterministicMath.Log"/>).</summary>
    public static double Normal(this SeededRandom random)
    {
        while (true)
        {
            double u = (2.0 * random.NextDouble()) - 1.0;
            double v = (2.0 * random.NextDouble()) - 1.0;
            double s = (u * u) + (v * v);
            if (s > 0.0 && s < 1.0)
            {
                return u * Math.Sqrt(-2.0 * DeterministicMath.Log(s) / s);
            }
        }
    }

    /// <summary>A normal draw with the given mean and standard deviation.</summary>
    public static double Normal(this SeededRandom random, double mean, double sd) => mean + (sd * random.Normal());

    /// <summary>True with probability <paramref name="p"/>.</summary>
    public static bool Chance(this SeededRandom random, double p) => random.NextDouble() < p;
}
