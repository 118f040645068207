namespace MedTransfer.Imaging.Images;

/// <summary>Why a PNG, JPEG, TIFF or DICOM image could not be turned into an <see cref="ImageF"/>.</summary>
public enum ImageFormatError
{
    /// <summary>The file is empty or too short to hold any image header.</summary>
    Empty,

    /// <summary>The bytes are not PNG, JPEG, TIFF or DICOM Part 10.</summary>
    UnknownFormat,

    /// <summary>The data ends before the image does.</summary>
    Truncated,

    /// <summary>A structure is inconsistent (bad checksum, bad filter, impossible size, decoder failure).</summary>
    Corrupt,

    /// <summary>A valid file using a feature this reader does not handle (e.g. palette TIFF, 32-bit float TIFF).</summary>
    Unsupported,

    /// <summary>The declared size exceeds <see cref="ImageReadOptions.MaxPixels"/>.</summary>
    TooLarge,
}

/// <summary>
/// The one exception of the image readers, so callers catch one type: every malformed or unsupported input ends here, with a
/// reason code and, where known, the byte offset. Messages never carry pixel or patient data.
/// </summary>
public sealed class ImageFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ImageFormatException(ImageFormatError reason, string message, long offset = -1, Exception? innerException = null)
        : base(offset >= 0 ? $"{reason}: {message} (at byte {offset})" : $"{reason}: {message}", innerException)
    {
        Reason = reason;
        Offset = offset;
    }

    /// <summary>Creates an exception with reason <see cref="ImageFormatError.Corrupt"/>.</summary>
    public ImageFormatException()
        : this(ImageFormatError.Corrupt, "the image is not valid")
    {
    }

    /// <summary>Creates an exception with reason <see cref="ImageFormatError.Corrupt"/>.</summary>
    public ImageFormatException(string message)
        : this(ImageFormatError.Corrupt, message)
    {
    }

    /// <summary>Creates an exception with reason <see cref="ImageFormatError.Corrupt"/>.</summary>
    public ImageFormatException(string message, Exception innerException)
        : this(ImageFormatError.Corrupt, message, -1, innerException)
    {
    }

    /// <summary>The reason code.</summary>
    public ImageFormatError Reason { get; }

    /// <summary>Byte offset of the problem in the file, or −1 when unknown.</summary>
    public long Offset { get; }
}
