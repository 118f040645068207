using MedTransfer.Evaluation.Features;

namespace MedTransfer.Evaluation.Tests.Features;

public sealed class FeaturesTests
{
    [Fact]
    public void ImageStatistics_BrightCornerMarker_ShowsUpInThatCornerOnly()
    {
        int w = 40;
        int h = 20;
        float[] pixels = new float[w * h];
        Array.Fill(pixels, 0.25f);
        pixels[0] = 1f; // top-left corner patch is 2×1 pixels (5% of 40 × 5% of 20)
        double[] f = ImageStatistics.Compute(pixels, w, h);
        int tl = ImageStatistics.Names.ToList().IndexOf("corner_tl");
        int tr = ImageStatistics.Names.ToList().IndexOf("corner_tr");

        Assert.Equal(ImageStatistics.Names.Count, f.Length);
        Assert.Equal((1 + 0.25) / 2, f[tl], 6);
        Assert.Equal(0.25, f[tr], 6);
        Assert.Equal(2.0, f[ImageStatistics.Names.ToList().IndexOf("aspect")]);
        Assert.Equal(1.0, f[..ImageStatistics.HistogramBins].Sum(), 9);
    }

    [Fact]
    public void Pca_PointsOnALine_FirstComponentExplainsEverything()
    {
        double[][] x = [.. Enumerable.Range(0, 10).Select(i => new double[] { i, 2 * i, -i })];

        (double[][] projection, double[] explained) = Pca.Project(x);

        Assert.Equal(1.0, explained[0], 9);
        Assert.Equal(0.0, explained[1], 9);
        Assert.Equal(Math.Sqrt(6) * 4.5, projection[9][0], 6);
        Assert.Equal(-projection[0][0], projection[9][0], 6);
    }
}
