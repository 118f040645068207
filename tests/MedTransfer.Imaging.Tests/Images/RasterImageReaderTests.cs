using BitMiracle.LibTiff.Classic;
using MedTransfer.Dicom;
using MedTransfer.Imaging.Images;
using SkiaSharp;

namespace MedTransfer.Imaging.Tests.Images;

public sealed class RasterImageReaderTests
{
    [Fact]
    public void Read_GreyJpeg_DecodesCloseToTheEncodedValues()
    {
        byte[] jpeg = EncodeJpeg(32, 24, (x, y) => (byte)(40 + (x * 4)), grey: true);

        SourceImage image = RasterImageReader.Read(jpeg);

        Assert.Equal(SourceImageFormat.Jpeg, image.Format);
        Assert.Equal(8, image.BitsPerSample);
        Assert.Equal((32, 24), (image.Image.Width, image.Image.Height));
        Assert.InRange(image.Image[10, 10], 40 + 40 - 4, 40 + 40 + 4);
    }

    [Fact]
    public void Read_ColourJpeg_BecomesLuma()
    {
        byte[] jpeg = EncodeJpeg(16, 16, (_, _) => 0, grey: false, colour: new SKColor(200, 60, 20));

        SourceImage image = RasterImageReader.Read(jpeg);

        double expected = (0.299 * 200) + (0.587 * 60) + (0.114 * 20);
        Assert.InRange(image.Image[8, 8], expected - 4, expected + 4);
        Assert.True(image.ConvertedFromColour);
    }

    [Fact]
    public void Read_TruncatedOrGarbledJpeg_ThrowsTyped()
    {
        byte[] jpeg = EncodeJpeg(64, 64, (x, y) => (byte)((x * y) & 0xFF), grey: true);
        var garbled = (byte[])jpeg.Clone();
        for (int i = 20; i < garbled.Length; i += 3)
        {
            garbled[i] = 0xFF;
        }

        Assert.Throws<ImageFormatException>(() => RasterImageReader.Read(jpeg[..(jpeg.Length / 2)]));
        Assert.Throws<ImageFormatException>(() => RasterImageReader.Read(garbled));
        Assert.Throws<ImageFormatException>(() => RasterImageReader.Read([0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 1, 2, 3]));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Read_16BitGreyTiff_StripsOrTiles_KeepsValues(bool tiled)
    {
        ushort[] values = PngDecoderTests.Ramp(40 * 35, 5);
        byte[] tiff = WriteTiff(40, 35, 1, 16, values, Photometric.MINISBLACK, tiled);

        SourceImage image = RasterImageReader.Read(tiff);

        Assert.Equal(SourceImageFormat.Tiff, image.Format);
        Assert.Equal(16, image.BitsPerSample);
        Assert.Equal(values.Select(v => (float)v), image.Image.Pixels);
    }

    [Fact]
    public void Read_BigEndian16BitTiff_KeepsValues()
    {
        ushort[] values = [1, 256, 4095, 65535, 12345, 0];
        byte[] tiff = WriteTiff(3, 2, 1, 16, values, Photometric.MINISBLACK, tiled: false, bigEndian: true);
        Assert.Equal((byte)'M', tiff[0]);

        Assert.Equal(values.Select(v => (float)v), RasterImageReader.Read(tiff).Image.Pixels);
    }

    [Fact]
    public void Read_PalettePng_IsDecodedBySkiaToLuma()
    {
        using var png = new MemoryStream();
        byte[] reference = PngTestEncoder.Encode(2, 1, 0, 8, [0, 1]);
        png.Write(reference.AsSpan(0, 8));
        byte[] header = reference[16..29];
        header[9] = 3; // palette colour type
        PngTestEncoder.WriteChunk(png, "IHDR", header);
        PngTestEncoder.WriteChunk(png, "PLTE", [255, 0, 0, 50, 50, 50]);
        byte[] rest = reference[33..];
        png.Write(rest); // the IDAT (indices 0 and 1) and IEND of the reference

        SourceImage image = RasterImageReader.Read(png.ToArray());

        Assert.Equal(8, image.BitsPerSample);
        Assert.Equal(0.299 * 255, image.Image.Pixels[0], 1);
        Assert.Equal(50f, image.Image.Pixels[1]);
    }

    [Fact]
    public void Read_8BitMinIsWhiteTiff_IsInverted()
    {
        byte[] tiff = WriteTiff(2, 1, 1, 8, [0, 200], Photometric.MINISWHITE, tiled: false);

        Assert.Equal([255f, 55f], RasterImageReader.Read(tiff).Image.Pixels);
    }

    [Fact]
    public void Read_RgbTiff_BecomesLuma()
    {
        byte[] tiff = WriteTiff(2, 1, 3, 8, [255, 0, 0, 0, 0, 255], Photometric.RGB, tiled: false);

        SourceImage image = RasterImageReader.Read(tiff);

        Assert.Equal(0.299 * 255, image.Image.Pixels[0], 3);
        Assert.Equal(0.114 * 255, image.Image.Pixels[1], 3);
    }

    [Fact]
    public void Read_CorruptTiff_ThrowsTyped()
    {
        byte[] tiff = WriteTiff(64, 64, 1, 16, PngDecoderTests.Ramp(64 * 64, 2), Photometric.MINISBLACK, tiled: false);

        Assert.Throws<ImageFormatException>(() => RasterImageReader.Read(tiff[..40]));
        Assert.Throws<ImageFormatException>(() => RasterImageReader.Read([(byte)'I', (byte)'I', 42, 0, 0xFF, 0xFF, 0xFF, 0x7F, 0, 0]));
        var random = new Random(7);
        for (int trial = 0; trial < 100; trial++)
        {
            byte[] mutated = (byte[])tiff.Clone();
            mutated[random.Next(4, Math.Min(mutated.Length, 400))] = (byte)random.Next(256);
            mutated[random.Next(4, mutated.Length)] = (byte)random.Next(256);
            try
            {
                _ = RasterImageReader.Read(mutated);
            }
            catch (ImageFormatException)
            {
            }
        }
    }

    [Fact]
    public void Read_UnknownOrEmptyBytes_AreTypedErrors()
    {
        Assert.Equal(ImageFormatError.Empty, Assert.Throws<ImageFormatException>(() => RasterImageReader.Read([])).Reason);
        Assert.Equal(ImageFormatError.UnknownFormat, Assert.Throws<ImageFormatException>(() => RasterImageReader.Read("\u007fELF....ELF...."u8.ToArray())).Reason);
    }

    [Fact]
    public void Read_DicomFile_UsesPresentationValuesAndSpacing()
    {
        string path = Path.Combine(Path.GetTempPath(), $"medtransfer-img-{Guid.NewGuid():N}.dcm");
        try
        {
            DicomTestFiles.Write(path, 3, 2, [0, 10, 20, 30, 40, 50], "MONOCHROME2", spacing: [0.2, 0.15]);

            SourceImage image = RasterImageReader.Read(path);

            Assert.Equal(SourceImageFormat.Dicom, image.Format);
            Assert.Equal([0f, 10f, 20f, 30f, 40f, 50f], image.Image.Pixels);
            Assert.Equal(0.15, image.Image.SpacingX, 9);
            Assert.Equal(0.2, image.Image.SpacingY, 9);
            Assert.False(image.VoiApplied);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Read_DicomWithShortPixelDataOrColour_ThrowsTyped()
    {
        DicomDataset shortData = DicomTestFiles.Dataset(3, 2, [1, 2], "MONOCHROME2");
        DicomDataset colour = DicomTestFiles.Dataset(3, 2, [1, 2, 3, 4, 5, 6], "MONOCHROME2");
        colour.Set(new DicomTag(0x0028, 0x0004), DicomVR.CS, "PALETTE COLOR");

        Assert.Throws<ImageFormatException>(() => DicomSourceReader.Read(new DicomFile(shortData, TransferSyntax.ExplicitVRLittleEndian)));
        Assert.Throws<ImageFormatException>(() => DicomSourceReader.Read(new DicomFile(colour, TransferSyntax.ExplicitVRLittleEndian)));
    }

    internal static byte[] EncodeJpeg(int width, int height, Func<int, int, byte> value, bool grey, SKColor? colour = null)
    {
        var info = new SKImageInfo(width, height, grey ? SKColorType.Gray8 : SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                byte v = value(x, y);
                bitmap.SetPixel(x, y, colour ?? new SKColor(v, v, v));
            }
        }

        using SKImage image = SKImage.FromBitmap(bitmap);
        using SKData data = image.Encode(SKEncodedImageFormat.Jpeg, 100);
        return data.ToArray();
    }

    internal static byte[] WriteTiff(int width, int height, int samples, int bits, ushort[] values, Photometric photometric, bool tiled, bool bigEndian = false)
    {
        string path = Path.Combine(Path.GetTempPath(), $"medtransfer-tiff-{Guid.NewGuid():N}.tif");
        try
        {
            using (Tiff tiff = Tiff.Open(path, bigEndian ? "wb" : "wl"))
            {
                tiff.SetField(TiffTag.IMAGEWIDTH, width);
                tiff.SetField(TiffTag.IMAGELENGTH, height);
                tiff.SetField(TiffTag.SAMPLESPERPIXEL, samples);
                tiff.SetField(TiffTag.BITSPERSAMPLE, bits);
                tiff.SetField(TiffTag.PHOTOMETRIC, photometric);
                tiff.SetField(TiffTag.PLANARCONFIG, PlanarConfig.CONTIG);
                tiff.SetField(TiffTag.COMPRESSION, tiled ? Compression.DEFLATE : Compression.NONE);
                int bytesPerPixel = samples * bits / 8;
                byte[] Pixel(int x, int y)
                {
                    var b = new byte[bytesPerPixel];
                    for (int s = 0; s < samples; s++)
                    {
                        ushort v = values[(((y * width) + x) * samples) + s];
                        if (bits == 16)
                        {
                            BitConverter.TryWriteBytes(b.AsSpan(s * 2), v);
                        }
                        else
                        {
                            b[s] = (byte)v;
                        }
                    }

                    return b;
                }

                if (tiled)
                {
                    const int Tile = 16;
                    tiff.SetField(TiffTag.TILEWIDTH, Tile);
                    tiff.SetField(TiffTag.TILELENGTH, Tile);
                    var buffer = new byte[Tile * Tile * bytesPerPixel];
                    for (int ty = 0; ty < height; ty += Tile)
                    {
                        for (int tx = 0; tx < width; tx += Tile)
                        {
                            Array.Clear(buffer);
                            for (int y = 0; y < Tile && ty + y < height; y++)
                            {
                                for (int x = 0; x < Tile && tx + x < width; x++)
                                {
                                    Pixel(tx + x, ty + y).CopyTo(buffer, ((y * Tile) + x) * bytesPerPixel);
                                }
                            }

                            tiff.WriteTile(buffer, tx, ty, 0, 0);
                        }
                    }
                }
                else
                {
                    tiff.SetField(TiffTag.ROWSPERSTRIP, 7);
                    var line = new byte[width * bytesPerPixel];
                    for (int y = 0; y < height; y++)
                    {
                        for (int x = 0; x < width; x++)
                        {
                            Pixel(x, y).CopyTo(line, x * bytesPerPixel);
                        }

                        tiff.WriteScanline(line, y);
                    }
                }
            }

            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
