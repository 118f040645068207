using MedTransfer.Imaging.Normalization;

namespace MedTransfer.Imaging.Tests.Normalization;

public sealed class PercentileSelectionTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Compute_LargeInput_EqualsSortedOrderStatistics(int seed)
    {
        // Above the sort threshold Compute uses the radix selection; it must give NumPy's linear-interpolation answer.
        var random = new Random(seed);
        float[] values = [.. Enumerable.Range(0, 50_000).Select(_ => seed == 3 ? random.Next(-5, 6) : (float)((random.NextDouble() - 0.3) * Math.Pow(10, random.Next(-3, 4))))];
        values[17] = float.NaN;
        values[99] = float.NegativeInfinity;
        values[1000] = -0f;
        double[] percents = [0, 0.5, 1, 25, 50, 90, 99.5, 100];

        double[] fast = Percentiles.Compute(values, percents);

        float[] sorted = [.. values.Where(float.IsFinite).OrderBy(v => v)];
        for (int i = 0; i < percents.Length; i++)
        {
            double position = percents[i] / 100 * (sorted.Length - 1);
            int lower = (int)Math.Floor(position);
            int upper = Math.Min(lower + 1, sorted.Length - 1);
            double expected = sorted[lower] + ((sorted[upper] - (double)sorted[lower]) * (position - lower));
            Assert.Equal(expected, fast[i], 12);
        }
    }

    [Fact]
    public void Compute_LargeAllNaN_Throws()
    {
        Assert.Throws<ArgumentException>(() => Percentiles.Compute(Enumerable.Repeat(float.NaN, 10_000).ToArray(), 50));
    }
}
