using System.Numerics;
using System.Runtime.InteropServices;

namespace MedTransfer.Imaging.Images;

/// <summary>
/// A greyscale image kept as one 16-bit index per pixel into a table of values: pixel (x, y) is
/// <c>Values[Indices[y * Width + x]]</c>. This is how integer images (DICOM stored values of at most 16 bits, 8/16-bit
/// raster samples) reach the X-ray recipe without a full-size float copy: the DICOM presentation pipeline (modality
/// LUT → VOI → MONOCHROME1 inversion) is evaluated once per possible stored value instead of once per pixel, and the
/// percentile clip comes from an exact counting histogram of the indices (see <see cref="Normalization.XrayNormalizer"/>).
/// </summary>
public sealed class IndexedImage
{
    /// <summary>Creates an image over <paramref name="indices"/> and <paramref name="values"/> (neither is copied).</summary>
    /// <param name="width">Columns.</param>
    /// <param name="height">Rows.</param>
    /// <param name="indices">One index per pixel, row-major; every index must be below <c>values.Length</c>.</param>
    /// <param name="values">The value of each index (at most 65 536 entries).</param>
    /// <param name="spacingX">Column spacing in mm, NaN when unknown.</param>
    /// <param name="spacingY">Row spacing in mm, NaN when unknown.</param>
    /// <exception cref="ArgumentException">The sizes do not match, the table is empty or too long, or an index is out of range.</exception>
    public IndexedImage(int width, int height, ushort[] indices, float[] values, double spacingX = double.NaN, double spacingY = double.NaN)
        : this(width, height, indices, values, spacingX, spacingY, indicesKnownInRange: false)
    {
    }

    /// <summary>For readers that produce indices below the table length by construction (masked stored bits): skips the O(n) range check.</summary>
    internal IndexedImage(int width, int height, ushort[] indices, float[] values, double spacingX, double spacingY, bool indicesKnownInRange)
    {
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if ((long)width * height != indices.Length)
        {
            throw new ArgumentException($"A {width}x{height} image needs {(long)width * height} indices, not {indices.Length}.", nameof(indices));
        }

        if (values.Length is 0 or > 65536)
        {
            throw new ArgumentException($"The value table needs 1 to 65536 entries, not {values.Length}.", nameof(values));
        }

        if (!indicesKnownInRange && values.Length < 65536)
        {
            ushort max = MaxIndex(indices);
            if (max >= values.Length)
            {
                throw new ArgumentException($"Index {max} is outside the {values.Length}-entry value table.", nameof(indices));
            }
        }

        Width = width;
        Height = height;
        Indices = indices;
        Values = values;
        SpacingX = spacingX;
        SpacingY = spacingY;
    }

    /// <summary>Columns.</summary>
    public int Width { get; }

    /// <summary>Rows.</summary>
    public int Height { get; }

    /// <summary>The per-pixel indices, row-major.</summary>
    public ushort[] Indices { get; }

    /// <summary>The value of each index.</summary>
    public float[] Values { get; }

    /// <summary>Column spacing (mm), NaN when unknown.</summary>
    public double SpacingX { get; }

    /// <summary>Row spacing (mm), NaN when unknown.</summary>
    public double SpacingY { get; }

    /// <summary>The image as floats (one table lookup per pixel).</summary>
    public ImageF ToImageF()
    {
        var pixels = new float[Indices.Length];
        float[] values = Values;
        ushort[] indices = Indices;
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = values[indices[i]];
        }

        return new ImageF(Width, Height, pixels, SpacingX, SpacingY);
    }

    private static ushort MaxIndex(ReadOnlySpan<ushort> indices)
    {
        int i = 0;
        ushort max = 0;
        if (Vector.IsHardwareAccelerated && indices.Length >= Vector<ushort>.Count)
        {
            var acc = Vector<ushort>.Zero;
            ReadOnlySpan<Vector<ushort>> vs = MemoryMarshal.Cast<ushort, Vector<ushort>>(indices);
            foreach (Vector<ushort> v in vs)
            {
                acc = Vector.Max(acc, v);
            }

            for (int k = 0; k < Vector<ushort>.Count; k++)
            {
                max = Math.Max(max, acc[k]);
            }

            i = vs.Length * Vector<ushort>.Count;
        }

        for (; i < indices.Length; i++)
        {
            max = Math.Max(max, indices[i]);
        }

        return max;
    }
}
