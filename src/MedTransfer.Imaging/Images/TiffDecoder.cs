using System.Buffers.Binary;
using BitMiracle.LibTiff.Classic;

namespace MedTransfer.Imaging.Images;

/// <summary>
/// TIFF through LibTiff.NET: the first directory, unsigned 8/16-bit samples, MinIsBlack/MinIsWhite greyscale and
/// RGB(A), chunky or planar, strips or tiles, any compression LibTiff supports. LibTiff's message handler is
/// replaced process-wide by one that stays silent (libraries never write to the console: the application decides what the user sees); errors
/// surface as a failed open or read and become <see cref="ImageFormatException"/>.
/// </summary>
internal static class TiffDecoder
{
    private static readonly Lock s_handlerLock = new();
    private static bool s_handlerInstalled;

    internal static bool IsTiff(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= 4 && ((bytes[0] == 'I' && bytes[1] == 'I' && bytes[2] == 42 && bytes[3] == 0) || (bytes[0] == 'M' && bytes[1] == 'M' && bytes[2] == 0 && bytes[3] == 42));

    internal static SourceImage Decode(byte[] bytes, ImageReadOptions options)
    {
        InstallSilentHandler();
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            using Tiff? tiff = Tiff.ClientOpen("image", "r", stream, new TiffStream());
            if (tiff is null)
            {
                throw new ImageFormatException(ImageFormatError.Corrupt, "LibTiff cannot open the TIFF directory");
            }

            return DecodeDirectory(tiff, options);
        }
        catch (Exception ex) when (ex is not ImageFormatException and not OutOfMemoryException)
        {
            throw new ImageFormatException(ImageFormatError.Corrupt, "the TIFF decoder failed", -1, ex);
        }
    }

    private static SourceImage DecodeDirectory(Tiff tiff, ImageReadOptions options)
    {
        int width = Field(tiff, TiffTag.IMAGEWIDTH, -1);
        int height = Field(tiff, TiffTag.IMAGELENGTH, -1);
        int bits = Field(tiff, TiffTag.BITSPERSAMPLE, 1);
        int samples = Field(tiff, TiffTag.SAMPLESPERPIXEL, 1);
        int format = Field(tiff, TiffTag.SAMPLEFORMAT, (int)SampleFormat.UINT);
        var photometric = (Photometric)Field(tiff, TiffTag.PHOTOMETRIC, (int)Photometric.MINISBLACK);
        var planar = (PlanarConfig)Field(tiff, TiffTag.PLANARCONFIG, (int)PlanarConfig.CONTIG);
        options.CheckSize(width, height, -1);
        if (bits is not (8 or 16) || format != (int)SampleFormat.UINT)
        {
            throw new ImageFormatException(ImageFormatError.Unsupported, $"TIFF with {bits}-bit samples of format {format} (only unsigned 8/16-bit are read)");
        }

        bool grey = photometric is Photometric.MINISBLACK or Photometric.MINISWHITE;
        if (!(grey && samples is 1 or 2) && !(photometric == Photometric.RGB && samples is 3 or 4))
        {
            throw new ImageFormatException(ImageFormatError.Unsupported, $"TIFF photometric {photometric} with {samples} samples per pixel");
        }

        int colourSamples = grey ? 1 : 3;
        int bytesPerSample = bits / 8;
        var planes = new ushort[colourSamples][];
        for (int s = 0; s < colourSamples; s++)
        {
            planes[s] = new ushort[(long)width * height];
        }

        int pixelStride = planar == PlanarConfig.CONTIG ? samples : 1;
        int planeCount = planar == PlanarConfig.CONTIG ? 1 : colourSamples;
        for (int plane = 0; plane < planeCount; plane++)
        {
            if (tiff.IsTiled())
            {
                ReadTiles(tiff, width, height, bytesPerSample, pixelStride, plane, colourSamples, planar, planes);
            }
            else
            {
                ReadScanlines(tiff, width, height, bytesPerSample, pixelStride, plane, colourSamples, planar, planes);
            }
        }

        double max = bits == 8 ? 255 : 65535;
        var pixels = new float[(long)width * height];
        for (long i = 0; i < pixels.Length; i++)
        {
            double v = grey ? planes[0][i] : RasterImageReader.Bt601Luma(planes[0][i], planes[1][i], planes[2][i]);
            pixels[i] = (float)(photometric == Photometric.MINISWHITE ? max - v : v);
        }

        return new SourceImage(new ImageF(width, height, pixels), SourceImageFormat.Tiff, bits, ConvertedFromColour: !grey);
    }

    private static void ReadScanlines(Tiff tiff, int width, int height, int bytesPerSample, int pixelStride, int plane, int colourSamples, PlanarConfig planar, ushort[][] planes)
    {
        int size = tiff.ScanlineSize();
        if (size < (long)width * pixelStride * bytesPerSample)
        {
            throw new ImageFormatException(ImageFormatError.Corrupt, "TIFF scanline is shorter than the declared width");
        }

        var line = new byte[size];
        for (int y = 0; y < height; y++)
        {
            if (!tiff.ReadScanline(line, 0, y, (short)plane))
            {
                throw new ImageFormatException(ImageFormatError.Truncated, $"TIFF row {y} cannot be read");
            }

            Scatter(line, 0, width, y, 0, width, bytesPerSample, pixelStride, plane, colourSamples, planar, planes);
        }
    }

    private static void ReadTiles(Tiff tiff, int width, int height, int bytesPerSample, int pixelStride, int plane, int colourSamples, PlanarConfig planar, ushort[][] planes)
    {
        int tileWidth = Field(tiff, TiffTag.TILEWIDTH, 0);
        int tileHeight = Field(tiff, TiffTag.TILELENGTH, 0);
        if (tileWidth <= 0 || tileHeight <= 0 || (long)tileWidth * tileHeight * pixelStride * bytesPerSample > tiff.TileSize())
        {
            throw new ImageFormatException(ImageFormatError.Corrupt, "TIFF tile size is inconsistent");
        }

        var tile = new byte[tiff.TileSize()];
        for (int ty = 0; ty < height; ty += tileHeight)
        {
            for (int tx = 0; tx < width; tx += tileWidth)
            {
                if (tiff.ReadTile(tile, 0, tx, ty, 0, (short)plane) < 0)
                {
                    throw new ImageFormatException(ImageFormatError.Truncated, "a TIFF tile cannot be read");
                }

                int rows = Math.Min(tileHeight, height - ty);
                int cols = Math.Min(tileWidth, width - tx);
                for (int r = 0; r < rows; r++)
                {
                    Scatter(tile, r * tileWidth * pixelStride * bytesPerSample, cols, ty + r, tx, width, bytesPerSample, pixelStride, plane, colourSamples, planar, planes);
                }
            }
        }
    }

    private static void Scatter(byte[] source, int offset, int count, int y, int x0, int width, int bytesPerSample, int pixelStride, int plane, int colourSamples, PlanarConfig planar, ushort[][] planes)
    {
        long destination = ((long)y * width) + x0;
        for (int x = 0; x < count; x++)
        {
            for (int s = 0; s < (planar == PlanarConfig.CONTIG ? colourSamples : 1); s++)
            {
                int at = offset + (((x * pixelStride) + s) * bytesPerSample);
                // LibTiff returns 16-bit samples in the host's (little-endian) order after swabbing.
                ushort v = bytesPerSample == 1 ? source[at] : BinaryPrimitives.ReadUInt16LittleEndian(source.AsSpan(at));
                planes[planar == PlanarConfig.CONTIG ? s : plane][destination + x] = v;
            }
        }
    }

    private static int Field(Tiff tiff, TiffTag tag, int fallback)
    {
        FieldValue[]? value = tiff.GetField(tag) ?? tiff.GetFieldDefaulted(tag);
        return value is { Length: > 0 } ? value[0].ToInt() : fallback;
    }

    private static void InstallSilentHandler()
    {
        lock (s_handlerLock)
        {
            if (!s_handlerInstalled)
            {
                Tiff.SetErrorHandler(new SilentHandler());
                s_handlerInstalled = true;
            }
        }
    }

    private sealed class SilentHandler : TiffErrorHandler
    {
        public override void ErrorHandler(Tiff tif, string method, string format, params object[] args)
        {
        }

        public override void ErrorHandlerExt(Tiff tif, object clientData, string method, string format, params object[] args)
        {
        }

        public override void WarningHandler(Tiff tif, string method, string format, params object[] args)
        {
        }

        public override void WarningHandlerExt(Tiff tif, object clientData, string method, string format, params object[] args)
        {
        }
    }
}
