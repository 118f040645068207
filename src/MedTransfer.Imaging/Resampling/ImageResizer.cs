namespace MedTransfer.Imaging.Resampling;

/// <summary>Separable, anti-aliased 2-D resizing of <see cref="ImageF"/> (see <see cref="ResizeMethod"/>).</summary>
public static class ImageResizer
{
    /// <summary>Resizes to exactly <paramref name="width"/>×<paramref name="height"/> (aspect not preserved); spacing follows the scale.</summary>
    public static ImageF Resize(ImageF source, int width, int height, ResizeMethod method = ResizeMethod.Area)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        var pixels = new float[(long)width * height];
        SeparableResampler.Resize(source.Pixels, source.Width, new PixelRegion(0, 0, source.Width, source.Height), pixels, width, 0, 0, width, height, method, IntensityMap.Identity);
        return new ImageF(width, height, pixels, source.SpacingX * source.Width / width, source.SpacingY * source.Height / height);
    }

    /// <summary>
    /// Aspect-preserving resize into a <paramref name="size"/>² canvas filled with <paramref name="padValue"/>, placed as
    /// <see cref="SquarePlacement.For"/> says. The spacing reported is that of the scaled image.
    /// </summary>
    public static ImageF ToSquare(ImageF source, int size, ResizeMethod method = ResizeMethod.Area, float padValue = 0f)
    {
        ArgumentNullException.ThrowIfNull(source);
        SquarePlacement p = SquarePlacement.For(source.Width, source.Height, size);
        var pixels = new float[(long)size * size];
        if (padValue != 0f)
        {
            pixels.AsSpan().Fill(padValue);
        }

        SeparableResampler.Resize(source.Pixels, source.Width, new PixelRegion(0, 0, source.Width, source.Height), pixels, size, p.OffsetX, p.OffsetY, p.Width, p.Height, method, IntensityMap.Identity);
        return new ImageF(size, size, pixels, source.SpacingX * source.Width / p.Width, source.SpacingY * source.Height / p.Height);
    }
}
