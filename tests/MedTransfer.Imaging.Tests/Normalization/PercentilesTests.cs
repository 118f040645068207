using MedTransfer.Imaging.Normalization;

namespace MedTransfer.Imaging.Tests.Normalization;

public sealed class PercentilesTests
{
    [Theory]
    // numpy.percentile([1, 2, 3, 4, 10], q) with the default 'linear' method.
    [InlineData(0, 1.0)]
    [InlineData(25, 2.0)]
    [InlineData(50, 3.0)]
    [InlineData(90, 7.6)]
    [InlineData(100, 10.0)]
    public void Compute_SmallArray_MatchesNumpyLinear(double percent, double expected)
    {
        Assert.Equal(expected, Percentiles.Compute([10f, 2f, 4f, 1f, 3f], percent), 5);
    }

    [Fact]
    public void Compute_IgnoresNaNAndInfinity()
    {
        Assert.Equal(2.0, Percentiles.Compute([float.NaN, 1f, 2f, 3f, float.PositiveInfinity], 50), 6);
    }

    [Fact]
    public void Compute_NoFiniteValue_Throws()
    {
        Assert.Throws<ArgumentException>(() => Percentiles.Compute([float.NaN], 50));
    }

    [Fact]
    public void ClipAndScale_OutlierPixels_AreClippedIntoUnitRange()
    {
        float[] image = [.. Enumerable.Range(0, 1000).Select(i => (float)i)];
        image[0] = -1e6f;
        image[999] = 1e6f;

        Percentiles.ClipAndScale(image, 0.5, 99.5);

        Assert.Equal(0f, image[0]);
        Assert.Equal(1f, image[999]);
        Assert.InRange(image[500], 0.49f, 0.51f);
    }

    [Fact]
    public void ClipAndScale_ConstantImage_BecomesZeros()
    {
        float[] image = [5f, 5f, 5f];

        Percentiles.ClipAndScale(image, 0.5, 99.5);

        Assert.All(image, v => Assert.Equal(0f, v));
    }
}
