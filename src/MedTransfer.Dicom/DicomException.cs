namespace MedTransfer.Dicom;

/// <summary>The root of every error the DICOM layer raises on purpose, so callers catch one family per boundary.
/// Messages never contain values from the file (no patient data): only reason codes, tags and offsets.</summary>
public abstract class DicomException : Exception
{
    /// <summary>Creates the exception.</summary>
    protected DicomException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

/// <summary>Why a DICOM stream was rejected. Stable codes: scripts and quarantine records key on them.</summary>
public enum DicomErrorCode
{
    /// <summary>Not a DICOM file at all (no preamble/DICM and no plausible data set start).</summary>
    NotDicom,
    /// <summary>The stream ended before a structure it had announced was complete.</summary>
    Truncated,
    /// <summary>A declared value length is larger than the bytes that remain, or larger than the configured limit.</summary>
    ValueLengthExceedsData,
    /// <summary>A length that the encoding forbids (odd where it must be even, undefined where it must be defined, ...).</summary>
    InvalidLength,
    /// <summary>Sequences nested deeper than <c>DicomReaderOptions.MaxSequenceDepth</c>.</summary>
    SequenceTooDeep,
    /// <summary>Items, delimiters or fragments where the standard does not allow them.</summary>
    InvalidStructure,
    /// <summary>An explicit VR that is not a known two-letter code.</summary>
    InvalidVR,
    /// <summary>Tags out of ascending order (strict mode) or repeated.</summary>
    TagOrder,
    /// <summary>The file meta information is missing or inconsistent.</summary>
    InvalidFileMeta,
    /// <summary>A transfer syntax the reader or the decoder does not support.</summary>
    UnsupportedTransferSyntax,
    /// <summary>The image pixel module is inconsistent (Rows, Columns, bits, samples, frames vs the data).</summary>
    InvalidPixelModule,
    /// <summary>Decoded pixel data would exceed <c>MaxPixelBytes</c>.</summary>
    PixelDataTooLarge,
    /// <summary>A compressed pixel stream (RLE, JPEG, JPEG-LS, JPEG 2000) is corrupt.</summary>
    CorruptPixelStream,
    /// <summary>A LUT (modality, VOI, palette) is malformed or indexed past its end.</summary>
    InvalidLut,
    /// <summary>A value cannot be read as the type asked for.</summary>
    InvalidValue,
    /// <summary>The file could not be read (I/O), or it is a directory.</summary>
    Unreadable,
    /// <summary>The transfer syntax UID is not registered (a warning: the data set is read as explicit VR little endian).</summary>
    UnknownTransferSyntax,
    /// <summary>The Deflate stream of a deflated transfer syntax (PS3.5 §A.5) is corrupt.</summary>
    InvalidDeflateStream,
}

/// <summary>A malformed or hostile DICOM input, with a reason code, the byte offset and the tag where known.</summary>
public sealed class DicomFormatException : DicomException
{
    /// <summary>Creates the exception. <paramref name="detail"/> must not contain values from the file.</summary>
    public DicomFormatException(DicomErrorCode reason, string detail, long offset = -1, DicomTag? tag = null, Exception? inner = null)
        : base(Format(reason, detail, offset, tag), inner)
    {
        Reason = reason;
        Offset = offset;
        Tag = tag;
    }

    /// <summary>The stable reason code.</summary>
    public DicomErrorCode Reason { get; }

    /// <summary>Byte offset in the stream where the problem was found, or -1.</summary>
    public long Offset { get; }

    /// <summary>The element being read, where known.</summary>
    public DicomTag? Tag { get; }

    private static string Format(DicomErrorCode reason, string detail, long offset, DicomTag? tag)
    {
        string where = offset >= 0 ? $" at offset {offset}" : string.Empty;
        string at = tag is { } t ? $" in {t}" : string.Empty;
        return $"{reason}{at}{where}: {detail}";
    }
}

/// <summary>A pixel codec that needs a native library which is not installed.</summary>
public sealed class CodecUnavailableException : DicomException
{
    /// <summary>Creates the exception naming the codec and the Debian package that provides it.</summary>
    public CodecUnavailableException(string codec, string package, Exception? inner = null)
        : base($"The {codec} codec is unavailable: install the system package '{package}' (Debian/Ubuntu: apt-get install {package}).", inner)
    {
        Codec = codec;
        Package = package;
    }

    /// <summary>The codec's name, e.g. "JPEG-LS".</summary>
    public string Codec { get; }

    /// <summary>The package that provides it, e.g. "libcharls2".</summary>
    public string Package { get; }
}
