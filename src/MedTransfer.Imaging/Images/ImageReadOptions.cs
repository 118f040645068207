namespace MedTransfer.Imaging.Images;

/// <summary>Resource limits of the image readers, checked against the header before any pixel buffer is allocated.</summary>
/// <param name="MaxPixels">Largest width × height accepted (default 2^28, about 16k × 16k).</param>
public sealed record ImageReadOptions(long MaxPixels = 1L << 28)
{
    /// <summary>The defaults.</summary>
    public static ImageReadOptions Default { get; } = new();

    internal void CheckSize(long width, long height, long offset)
    {
        if (width <= 0 || height <= 0)
        {
            throw new ImageFormatException(ImageFormatError.Corrupt, "the image has a zero or negative size", offset);
        }

        if (width > int.MaxValue || height > int.MaxValue || width * height > MaxPixels)
        {
            throw new ImageFormatException(ImageFormatError.TooLarge, $"{width}x{height} exceeds the limit of {MaxPixels} pixels", offset);
        }
    }
}
