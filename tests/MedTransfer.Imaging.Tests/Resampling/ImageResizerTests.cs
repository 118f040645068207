using MedTransfer.Imaging.Resampling;

namespace MedTransfer.Imaging.Tests.Resampling;

public sealed class ImageResizerTests
{
    [Theory]
    [InlineData(ResizeMethod.Area, 300, 200, 37, 91)]
    [InlineData(ResizeMethod.Area, 17, 13, 64, 40)]
    [InlineData(ResizeMethod.Lanczos3, 300, 200, 37, 91)]
    [InlineData(ResizeMethod.Lanczos3, 17, 13, 64, 40)]
    public void Resize_ConstantImage_StaysConstant(ResizeMethod method, int w, int h, int ow, int oh)
    {
        var image = new ImageF(w, h, Enumerable.Repeat(0.37f, w * h).ToArray());

        ImageF result = ImageResizer.Resize(image, ow, oh, method);

        Assert.All(result.Pixels, v => Assert.Equal(0.37f, v, 5));
    }

    [Fact]
    public void Resize_AreaByTwo_EqualsBlockMeans()
    {
        float[] pixels =
        [
            1, 2, 3, 4,
            5, 6, 7, 8,
            9, 10, 11, 12,
            13, 14, 15, 16,
        ];

        ImageF result = ImageResizer.Resize(new ImageF(4, 4, pixels), 2, 2, ResizeMethod.Area);

        Assert.Equal([3.5f, 5.5f, 11.5f, 13.5f], result.Pixels);
    }

    [Fact]
    public void Resize_AreaThreeToTwo_WeighsPartiallyCoveredPixels()
    {
        // Footprints [0, 1.5) and [1.5, 3): (a + b/2)/1.5 and (b/2 + c)/1.5.
        ImageF result = ImageResizer.Resize(new ImageF(3, 1, [3f, 6f, 9f]), 2, 1, ResizeMethod.Area);

        Assert.Equal((3 + 3) / 1.5f, result.Pixels[0], 5);
        Assert.Equal((3 + 9) / 1.5f, result.Pixels[1], 5);
    }

    [Theory]
    [InlineData(ResizeMethod.Area, 0.05)]
    [InlineData(ResizeMethod.Lanczos3, 0.02)]
    public void ToSquare_FineGratingOnACrSizedImage_AveragesToFlatGrey(ResizeMethod method, double tolerance)
    {
        // A one-pixel checker/column grating of 0/1 at 2048 × 2500: a sampler that aliases returns 0s and 1s.
        const int W = 2048;
        const int H = 2500;
        var pixels = new float[W * H];
        for (int y = 0; y < H; y++)
        {
            for (int x = 0; x < W; x++)
            {
                pixels[(y * W) + x] = ((x + y) & 1) == 0 ? 1f : 0f;
            }
        }

        ImageF result = ImageResizer.ToSquare(new ImageF(W, H, pixels), 224, method);
        SquarePlacement p = SquarePlacement.For(W, H, 224);

        for (int y = p.OffsetY; y < p.OffsetY + p.Height; y++)
        {
            for (int x = p.OffsetX; x < p.OffsetX + p.Width; x++)
            {
                Assert.InRange(result[x, y], 0.5 - tolerance, 0.5 + tolerance);
            }
        }
    }

    [Fact]
    public void ToSquare_ColumnGrating_AveragesToFlatGrey()
    {
        const int W = 2048;
        const int H = 2500;
        var pixels = new float[W * H];
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (i % W) % 2 == 0 ? 1f : 0f;
        }

        ImageF result = ImageResizer.ToSquare(new ImageF(W, H, pixels), 224, ResizeMethod.Area);
        SquarePlacement p = SquarePlacement.For(W, H, 224);

        float[] inside = [.. Enumerable.Range(p.OffsetY, p.Height).SelectMany(y => Enumerable.Range(p.OffsetX, p.Width).Select(x => result[x, y]))];
        Assert.InRange(inside.Min(), 0.45, 0.55);
        Assert.InRange(inside.Max(), 0.45, 0.55);
        Assert.Equal(0.5, inside.Average(), 2);
    }

    [Fact]
    public void ToSquare_WideImage_PreservesAspectAndCentresWithPadding()
    {
        var image = new ImageF(100, 50, Enumerable.Repeat(1f, 5000).ToArray(), 0.1, 0.1);

        ImageF result = ImageResizer.ToSquare(image, 20, ResizeMethod.Area, padValue: -1f);

        Assert.Equal(new SquarePlacement(20, 20, 10, 0, 5), SquarePlacement.For(100, 50, 20));
        for (int y = 0; y < 20; y++)
        {
            float expected = y is >= 5 and < 15 ? 1f : -1f;
            for (int x = 0; x < 20; x++)
            {
                Assert.Equal(expected, result[x, y], 5);
            }
        }

        Assert.Equal(0.5, result.SpacingX, 9);
        Assert.Equal(0.5, result.SpacingY, 9);
    }

    [Fact]
    public void SquarePlacement_TallCrImage_Rounds183Point5UpAndCentres()
    {
        // 2048 × 224 / 2500 = 183.5 → 184 (halves away from zero); (224 − 184) / 2 = 20.
        Assert.Equal(new SquarePlacement(224, 184, 224, 20, 0), SquarePlacement.For(2048, 2500, 224));
        Assert.Equal(new SquarePlacement(224, 224, 1, 0, 111), SquarePlacement.For(10000, 1, 224));
        Assert.Equal(new SquarePlacement(7, 6, 7, 0, 0), SquarePlacement.For(6, 7, 7));
    }

    [Fact]
    public void Resize_Lanczos3UpsampleOfLinearRamp_StaysLinearAwayFromEdges()
    {
        const int N = 40;
        float[] ramp = [.. Enumerable.Range(0, N).Select(i => (float)i)];

        ImageF result = ImageResizer.Resize(new ImageF(N, 1, ramp), 3 * N, 1, ResizeMethod.Lanczos3);

        // Output o samples the input at (o + 0.5)/3 − 0.5. Normalised Lanczos-3 is not exactly linear-reproducing: at
        // phase offsets 1/6 and 1/3 its first moment is off by 0.0186 and 0.0162 pixel (computed from the kernel).
        for (int o = 12; o < (3 * N) - 12; o++)
        {
            double expected = ((o + 0.5) / 3.0) - 0.5;
            Assert.InRange(result.Pixels[o] - expected, -0.019, 0.019);
        }
    }

    [Fact]
    public void Resize_Lanczos3DownsampleOfLinearRamp_StaysLinearAwayFromEdges()
    {
        const int N = 300;
        float[] ramp = [.. Enumerable.Range(0, N).Select(i => (float)i)];

        ImageF result = ImageResizer.Resize(new ImageF(N, 1, ramp), 100, 1, ResizeMethod.Lanczos3);

        for (int o = 5; o < 95; o++)
        {
            Assert.Equal((3.0 * o) + 1.0, result.Pixels[o], 2);
        }
    }
}
