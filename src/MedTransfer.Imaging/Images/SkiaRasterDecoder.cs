using SkiaSharp;

namespace MedTransfer.Imaging.Images;

/// <summary>JPEG and palette/low-bit PNG through SkiaSharp's codecs, 8 bits per sample, no colour management.</summary>
internal static class SkiaRasterDecoder
{
    internal static SourceImage Decode(byte[] bytes, SourceImageFormat format, ImageReadOptions options)
    {
        try
        {
            using SKData data = SKData.CreateCopy(bytes);
            using SKCodec? codec = SKCodec.Create(data);
            if (codec is null)
            {
                throw new ImageFormatException(ImageFormatError.Corrupt, $"the {format} decoder does not recognise the stream");
            }

            SKImageInfo source = codec.Info;
            options.CheckSize(source.Width, source.Height, -1);
            bool grey = source.ColorType == SKColorType.Gray8;
            var info = new SKImageInfo(source.Width, source.Height, grey ? SKColorType.Gray8 : SKColorType.Rgba8888, SKAlphaType.Unpremul);
            using var bitmap = new SKBitmap(info);
            SKCodecResult result = codec.GetPixels(info, bitmap.GetPixels());
            if (result != SKCodecResult.Success)
            {
                ImageFormatError reason = result == SKCodecResult.IncompleteInput ? ImageFormatError.Truncated : ImageFormatError.Corrupt;
                throw new ImageFormatException(reason, $"the {format} decoder stopped with {result}");
            }

            ReadOnlySpan<byte> px = bitmap.GetPixelSpan();
            int stride = bitmap.RowBytes;
            var pixels = new float[(long)info.Width * info.Height];
            bool colour = false;
            for (int y = 0; y < info.Height; y++)
            {
                ReadOnlySpan<byte> row = px.Slice(y * stride, stride);
                for (int x = 0; x < info.Width; x++)
                {
                    float v;
                    if (grey)
                    {
                        v = row[x];
                    }
                    else
                    {
                        byte r = row[x * 4];
                        byte g = row[(x * 4) + 1];
                        byte b = row[(x * 4) + 2];
                        colour |= r != g || g != b;
                        v = r == g && g == b ? r : (float)RasterImageReader.Bt601Luma(r, g, b);
                    }

                    pixels[((long)y * info.Width) + x] = v;
                }
            }

            return new SourceImage(new ImageF(info.Width, info.Height, pixels), format, 8, ConvertedFromColour: colour);
        }
        catch (Exception ex) when (ex is not ImageFormatException and not OutOfMemoryException)
        {
            throw new ImageFormatException(ImageFormatError.Corrupt, $"the {format} decoder failed", -1, ex);
        }
    }
}
