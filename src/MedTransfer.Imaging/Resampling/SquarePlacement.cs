namespace MedTransfer.Imaging.Resampling;

/// <summary>
/// Where an aspect-preserving resize puts the image inside a square canvas: the longer side fills the canvas, the
/// shorter side is scaled by the same factor and rounded to the nearest pixel (halves away from zero), and the image
/// is centred (the odd padding pixel goes to the right/bottom).
/// </summary>
/// <param name="Size">The canvas side.</param>
/// <param name="Width">Scaled image width.</param>
/// <param name="Height">Scaled image height.</param>
/// <param name="OffsetX">First canvas column of the image.</param>
/// <param name="OffsetY">First canvas row of the image.</param>
public readonly record struct SquarePlacement(int Size, int Width, int Height, int OffsetX, int OffsetY)
{
    /// <summary>The placement of a <paramref name="width"/>×<paramref name="height"/> image in a <paramref name="size"/>² canvas.</summary>
    public static SquarePlacement For(int width, int height, int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        int w;
        int h;
        if (width >= height)
        {
            w = size;
            h = Math.Max(1, (int)Math.Round((double)height * size / width, MidpointRounding.AwayFromZero));
        }
        else
        {
            h = size;
            w = Math.Max(1, (int)Math.Round((double)width * size / height, MidpointRounding.AwayFromZero));
        }

        return new SquarePlacement(size, w, h, (size - w) / 2, (size - h) / 2);
    }
}
