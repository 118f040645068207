using MedTransfer.Dicom;
using MedTransfer.Imaging.Images;
using MedTransfer.Imaging.Normalization;
using MedTransfer.Imaging.Resampling;
using MedTransfer.Imaging.Tests.Images;

namespace MedTransfer.Imaging.Tests.Normalization;

public sealed class XrayNormalizerTests
{
    [Theory]
    [InlineData(VoiMode.UseFileWindow, false)]
    [InlineData(VoiMode.None, false)]
    [InlineData(VoiMode.UseFileWindow, true)]
    public void Normalize_Monochrome1AndMonochrome2CopiesOfOneImage_GiveTheSameTensor(VoiMode voi, bool windowed)
    {
        // The MONOCHROME1 copy stores 4095 − v. With a window, the MONOCHROME1 file carries the mirrored
        // window: PS3.3 C.11.2.1.2.1 LINEAR uses (x − (c − 0.5))/(w − 1), so the mirror of centre c is 4096 − c.
        const int W = 61;
        const int H = 47;
        var random = new Random(11);
        ushort[] values = [.. Enumerable.Range(0, W * H).Select(i => (ushort)Math.Clamp((i % W * 40) + random.Next(0, 900), 0, 4095))];
        string dir = Directory.CreateTempSubdirectory("medtransfer-b1-").FullName;
        try
        {
            string mono2 = Path.Combine(dir, "m2.dcm");
            string mono1 = Path.Combine(dir, "m1.dcm");
            DicomTestFiles.Write(mono2, W, H, values, "MONOCHROME2", bitsStored: 12, window: windowed ? (1500, 2000) : null);
            DicomTestFiles.Write(mono1, W, H, [.. values.Select(v => (ushort)(4095 - v))], "MONOCHROME1", bitsStored: 12, window: windowed ? (4096 - 1500, 2000) : null);
            var recipe = new XrayRecipe { Voi = voi };

            XrayTensor a = XrayNormalizer.Normalize(DicomFile.Open(mono2), recipe);
            XrayTensor b = XrayNormalizer.Normalize(DicomFile.Open(mono1), recipe);

            Assert.Equal(a.Tensor.Length, b.Tensor.Length);
            for (int i = 0; i < a.Tensor.Length; i++)
            {
                Assert.Equal(a.Tensor[i], b.Tensor[i], 1e-6f);
            }

            Assert.True(b.Report.Has(NormalizationWarningCode.Monochrome1));
            Assert.False(a.Report.Has(NormalizationWarningCode.Monochrome1));
            Assert.Equal(voi == VoiMode.UseFileWindow && !windowed, a.Report.Has(NormalizationWarningCode.NoFileWindow));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Normalize_TallImage_GivesThreeIdenticalChannelsInUnitRangeWithSidePadding()
    {
        SourceImage source = Gradient(300, 400, 16);

        XrayTensor t = XrayNormalizer.Normalize(source, new XrayRecipe());

        Assert.Equal((3, 224, 224), (t.Channels, t.Height, t.Width));
        Assert.Equal(3 * 224 * 224, t.Tensor.Length);
        Assert.Equal(new SquarePlacement(224, 168, 224, 28, 0), t.Placement);
        ReadOnlySpan<float> plane = t.Tensor.AsSpan(0, 224 * 224);
        Assert.True(plane.SequenceEqual(t.Tensor.AsSpan(224 * 224, 224 * 224)));
        Assert.True(plane.SequenceEqual(t.Tensor.AsSpan(2 * 224 * 224, 224 * 224)));
        Assert.All(t.Tensor, v => Assert.InRange(v, 0f, 1f));
        Assert.Equal(0f, plane[(100 * 224) + 10]);
        Assert.Equal(0f, plane[(100 * 224) + 200]);
        Assert.Empty(t.Report.Warnings);
    }

    [Fact]
    public void Normalize_OneChannelRecipe_GivesOnePlane()
    {
        XrayTensor t = XrayNormalizer.Normalize(Gradient(50, 50, 16), new XrayRecipe { Channels = 1, Resize = new ResizeOptions(32) });

        Assert.Equal(32 * 32, t.Tensor.Length);
    }

    [Fact]
    public void Normalize_PercentileClip_MapsTheClipBoundsToZeroAndOne()
    {
        var pixels = new float[100 * 100];
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = i;
        }

        pixels[0] = -1e9f;
        pixels[^1] = 1e9f;
        var source = new SourceImage(new ImageF(100, 100, pixels), SourceImageFormat.Tiff, 16);

        XrayTensor t = XrayNormalizer.Normalize(source, new XrayRecipe { Resize = new ResizeOptions(100) });

        Assert.Equal(Percentiles.Compute(pixels, 0.5), t.ClipLow, 3);
        Assert.Equal(Percentiles.Compute(pixels, 99.5), t.ClipHigh, 3);
        Assert.Equal(0f, t.Tensor[0]);
        Assert.Equal(1f, t.Tensor[(100 * 100) - 1]);
    }

    [Fact]
    public void Normalize_8BitPngWithMaxOne_WarnsAlreadyNormalizedAndLowRange()
    {
        var random = new Random(1);
        byte[] png = PngTestEncoder.Encode(32, 32, 0, 8, [.. Enumerable.Range(0, 1024).Select(_ => (ushort)random.Next(2))]);

        XrayTensor t = XrayNormalizer.Normalize(RasterImageReader.Read(png), new XrayRecipe());

        Assert.True(t.Report.Has(NormalizationWarningCode.AlreadyNormalized));
        Assert.True(t.Report.Has(NormalizationWarningCode.LowDynamicRange));
    }

    [Fact]
    public void Normalize_FloatImageInUnitRange_WarnsAlreadyNormalizedOnly()
    {
        var random = new Random(2);
        var source = new SourceImage(new ImageF(40, 40, [.. Enumerable.Range(0, 1600).Select(_ => (float)random.NextDouble())]), SourceImageFormat.Tiff, 16);

        XrayTensor t = XrayNormalizer.Normalize(source, new XrayRecipe());

        Assert.Equal([NormalizationWarningCode.AlreadyNormalized], t.Report.Warnings.Select(w => w.Code));
    }

    [Fact]
    public void Normalize_ConstantImage_WarnsAndGivesZeros()
    {
        var source = new SourceImage(new ImageF(30, 20, Enumerable.Repeat(1234f, 600).ToArray()), SourceImageFormat.Png, 16);

        XrayTensor t = XrayNormalizer.Normalize(source, new XrayRecipe());

        Assert.True(t.Report.Has(NormalizationWarningCode.ConstantImage));
        Assert.All(t.Tensor, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Normalize_EightLevels_WarnsLowDynamicRange()
    {
        var source = new SourceImage(new ImageF(64, 64, [.. Enumerable.Range(0, 4096).Select(i => (float)(i % 8 * 1000))]), SourceImageFormat.Png, 16);

        XrayTensor t = XrayNormalizer.Normalize(source, new XrayRecipe());

        Assert.True(t.Report.Has(NormalizationWarningCode.LowDynamicRange));
        Assert.False(t.Report.Has(NormalizationWarningCode.AlreadyNormalized));
    }

    [Fact]
    public void Normalize_HalfTheImageAtTheMinimum_WarnsHeavyClipping()
    {
        var pixels = new float[100 * 100];
        for (int i = 5000; i < pixels.Length; i++)
        {
            pixels[i] = 100 + (i % 997);
        }

        var source = new SourceImage(new ImageF(100, 100, pixels), SourceImageFormat.Png, 16);

        XrayTensor t = XrayNormalizer.Normalize(source, new XrayRecipe());

        Assert.Equal([NormalizationWarningCode.HeavyClipping], t.Report.Warnings.Select(w => w.Code));
        Assert.DoesNotContain("patient", t.Report.Warnings[0].Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Normalize_ColourSource_ReportsTheConversion()
    {
        byte[] png = PngTestEncoder.Encode(20, 20, 2, 8, [.. Enumerable.Range(0, 1200).Select(i => (ushort)((i * 7) % 256))]);

        XrayTensor t = XrayNormalizer.Normalize(RasterImageReader.Read(png), new XrayRecipe());

        Assert.True(t.Report.Has(NormalizationWarningCode.ColourConverted));
    }

    [Fact]
    public void Normalize_CollimationCrop_RemovesUniformBordersOnly()
    {
        // 200 × 160: rows 0–19 and 150–159 black; columns 0–15 of the rows between white; the rest textured.
        const int W = 200;
        const int H = 160;
        var random = new Random(3);
        var pixels = new float[W * H];
        for (int y = 20; y < 150; y++)
        {
            for (int x = 0; x < W; x++)
            {
                pixels[(y * W) + x] = x < 16 ? 65535 : random.Next(5000, 60000);
            }
        }

        var source = new SourceImage(new ImageF(W, H, pixels), SourceImageFormat.Png, 16);
        var recipe = new XrayRecipe { CropCollimation = new CollimationCrop() };

        XrayTensor cropped = XrayNormalizer.Normalize(source, recipe);
        XrayTensor plain = XrayNormalizer.Normalize(source, new XrayRecipe());

        Assert.True(cropped.Report.Has(NormalizationWarningCode.BordersCropped));
        Assert.Contains("184x130 at (16, 20)", cropped.Report.Warnings.Single(w => w.Code == NormalizationWarningCode.BordersCropped).Message, StringComparison.Ordinal);
        Assert.Equal(SquarePlacement.For(184, 130, 224), cropped.Placement);
        Assert.InRange(cropped.ClipLow, 5000, 6000);
        Assert.False(plain.Report.Has(NormalizationWarningCode.BordersCropped));
        Assert.Equal(0, plain.ClipLow);
    }

    [Fact]
    public void NormalizeFile_CorruptFile_ThrowsImageFormatException()
    {
        string path = Path.Combine(Path.GetTempPath(), $"medtransfer-bad-{Guid.NewGuid():N}.png");
        try
        {
            File.WriteAllBytes(path, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0]);

            Assert.Throws<ImageFormatException>(() => XrayNormalizer.NormalizeFile(path, new XrayRecipe()));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static SourceImage Gradient(int width, int height, int bits)
    {
        var pixels = new float[width * height];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                pixels[(y * width) + x] = 100 + (x * 37) + (y * 11);
            }
        }

        return new SourceImage(new ImageF(width, height, pixels), SourceImageFormat.Png, bits);
    }
}
