namespace MedTransfer.Imaging;

/// <summary>
/// A 2-D single-channel float image, row-major (<c>Pixels[y * Width + x]</c>), with its pixel spacing in
/// millimetres (NaN when unknown). The common currency between readers (DICOM, PNG/JPEG/TIFF), the
/// normalization recipes and the cache. Bright means dense for radiographs once a reader has applied
/// the DICOM presentation pipeline.
/// </summary>
public sealed class ImageF
{
    /// <summary>Creates an image over <paramref name="pixels"/> (not copied).</summary>
    /// <exception cref="ArgumentException">The sizes do not match the buffer.</exception>
    public ImageF(int width, int height, float[] pixels, double spacingX = double.NaN, double spacingY = double.NaN)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if ((long)width * height != pixels.Length)
        {
            throw new ArgumentException($"A {width}x{height} image needs {(long)width * height} pixels, not {pixels.Length}.", nameof(pixels));
        }

        Width = width;
        Height = height;
        Pixels = pixels;
        SpacingX = spacingX;
        SpacingY = spacingY;
    }

    /// <summary>Columns.</summary>
    public int Width { get; }

    /// <summary>Rows.</summary>
    public int Height { get; }

    /// <summary>The pixels, row-major.</summary>
    public float[] Pixels { get; }

    /// <summary>Column spacing (mm between adjacent columns), NaN when unknown.</summary>
    public double SpacingX { get; }

    /// <summary>Row spacing (mm between adjacent rows), NaN when unknown.</summary>
    public double SpacingY { get; }

    /// <summary>The pixel at column <paramref name="x"/>, row <paramref name="y"/>.</summary>
    public float this[int x, int y]
    {
        get => Pixels[(y * Width) + x];
        set => Pixels[(y * Width) + x] = value;
    }
}
