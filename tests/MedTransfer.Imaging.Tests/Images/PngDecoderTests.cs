using System.Buffers.Binary;
using MedTransfer.Imaging.Images;

namespace MedTransfer.Imaging.Tests.Images;

public sealed class PngDecoderTests
{
    private static readonly ushort[] s_values16 = [0, 1, 255, 256, 257, 4095, 12345, 32768, 65534, 65535, 40000, 7];

    [Fact]
    public void Read_16BitGreyPng_KeepsAllSixteenBits()
    {
        byte[] png = PngTestEncoder.Encode(4, 3, 0, 16, s_values16);

        SourceImage image = RasterImageReader.Read(png);

        Assert.Equal(SourceImageFormat.Png, image.Format);
        Assert.Equal(16, image.BitsPerSample);
        Assert.Equal((4, 3), (image.Image.Width, image.Image.Height));
        Assert.Equal(s_values16.Select(v => (float)v), image.Image.Pixels);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Read_16BitGrey_EachFilterType_DecodesExactly(byte filter)
    {
        ushort[] values = Ramp(23 * 17, seed: filter);
        byte[] png = PngTestEncoder.Encode(23, 17, 0, 16, values, filterForRow: _ => filter);

        Assert.Equal(values.Select(v => (float)v), RasterImageReader.Read(png).Image.Pixels);
    }

    [Fact]
    public void Read_Interlaced16BitGreyWithMixedFilters_MatchesTheSamples()
    {
        ushort[] values = Ramp(13 * 11, seed: 9);
        byte[] png = PngTestEncoder.Encode(13, 11, 0, 16, values, interlaced: true, filterForRow: r => (byte)(r % 5));

        Assert.Equal(values.Select(v => (float)v), RasterImageReader.Read(png).Image.Pixels);
    }

    [Fact]
    public void Read_8BitRgb_BecomesBt601Luma()
    {
        ushort[] rgb = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 10, 10];
        byte[] png = PngTestEncoder.Encode(2, 2, 2, 8, rgb);

        SourceImage image = RasterImageReader.Read(png);

        Assert.True(image.ConvertedFromColour);
        Assert.Equal(8, image.BitsPerSample);
        Assert.Equal(0.299 * 255, image.Image.Pixels[0], 3);
        Assert.Equal(0.587 * 255, image.Image.Pixels[1], 3);
        Assert.Equal(0.114 * 255, image.Image.Pixels[2], 3);
        Assert.Equal(10, image.Image.Pixels[3], 4);
    }

    [Fact]
    public void Read_16BitRgbaAndGreyAlpha_IgnoreAlphaAndKeepSixteenBits()
    {
        byte[] rgba = PngTestEncoder.Encode(1, 1, 6, 16, [60000, 60000, 60000, 0]);
        byte[] greyAlpha = PngTestEncoder.Encode(2, 1, 4, 16, [65535, 0, 300, 65535]);

        Assert.Equal(60000f, RasterImageReader.Read(rgba).Image.Pixels[0], 1);
        Assert.Equal([65535f, 300f], RasterImageReader.Read(greyAlpha).Image.Pixels);
    }

    [Fact]
    public void Read_PngTruncatedBeforeTheEndOfItsImageData_ThrowsTyped()
    {
        byte[] png = PngTestEncoder.Encode(16, 16, 0, 16, Ramp(256, 1));

        // Every cut before the end of IDAT fails; a cut inside the 12-byte IEND leaves complete image data and may decode.
        for (int length = 8; length < png.Length - 12; length += 3)
        {
            var ex = Assert.Throws<ImageFormatException>(() => RasterImageReader.Read(png[..length]));
            Assert.True(ex.Reason is ImageFormatError.Truncated or ImageFormatError.Corrupt or ImageFormatError.Empty, ex.Reason.ToString());
        }
    }

    [Fact]
    public void Read_BadChunkCrc_IsCorrupt()
    {
        byte[] png = PngTestEncoder.Encode(4, 3, 0, 16, s_values16);
        png[40] ^= 0x55; // inside the IDAT data

        Assert.Equal(ImageFormatError.Corrupt, Assert.Throws<ImageFormatException>(() => RasterImageReader.Read(png)).Reason);
    }

    [Fact]
    public void Read_UnknownFilterType_IsCorrupt()
    {
        byte[] png = PngTestEncoder.Encode(4, 3, 0, 16, s_values16, filterForRow: _ => 7);

        Assert.Equal(ImageFormatError.Corrupt, Assert.Throws<ImageFormatException>(() => RasterImageReader.Read(png)).Reason);
    }

    [Fact]
    public void Read_HugeDeclaredSize_IsRejectedBeforeAllocating()
    {
        byte[] png = PngTestEncoder.Encode(4, 3, 0, 16, s_values16);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(16), 1_000_000);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(20), 1_000_000);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(29), PngTestEncoder.Crc32(png.AsSpan(12, 17)));

        Assert.Equal(ImageFormatError.TooLarge, Assert.Throws<ImageFormatException>(() => RasterImageReader.Read(png)).Reason);
    }

    [Fact]
    public void Read_IdatThatIsNotZlib_IsCorrupt()
    {
        using var png = new MemoryStream();
        byte[] valid = PngTestEncoder.Encode(4, 3, 0, 16, s_values16);
        png.Write(valid.AsSpan(0, 33));
        PngTestEncoder.WriteChunk(png, "IDAT", [1, 2, 3, 4, 5, 6, 7, 8]);
        PngTestEncoder.WriteChunk(png, "IEND", []);

        var ex = Assert.Throws<ImageFormatException>(() => RasterImageReader.Read(png.ToArray()));
        Assert.True(ex.Reason is ImageFormatError.Corrupt or ImageFormatError.Truncated);
    }

    [Fact]
    public void Read_SeededByteMutations_NeverEscapeTheTypedException()
    {
        byte[] png = PngTestEncoder.Encode(9, 7, 2, 16, Ramp(9 * 7 * 3, 3), filterForRow: r => (byte)(r % 5));
        var random = new Random(20261127);
        for (int trial = 0; trial < 300; trial++)
        {
            byte[] mutated = (byte[])png.Clone();
            int flips = random.Next(1, 4);
            for (int f = 0; f < flips; f++)
            {
                mutated[random.Next(8, mutated.Length)] = (byte)random.Next(256);
            }

            try
            {
                SourceImage image = RasterImageReader.Read(mutated);
                Assert.Equal(image.Image.Width * image.Image.Height, image.Image.Pixels.Length);
            }
            catch (ImageFormatException)
            {
            }
        }
    }

    internal static ushort[] Ramp(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => (ushort)random.Next(65536))];
    }
}
