namespace MedTransfer.Dicom;

/// <summary>How strictly the reader applies PS3.5 and PS3.10.</summary>
public enum ValidationMode
{
    /// <summary>Any deviation (odd lengths, missing delimiters, a VR that is not a VR, tags out of order ...) throws <see cref="DicomFormatException"/>.</summary>
    Strict,

    /// <summary>Known vendor quirks and truncation at the end of the file are recovered from and recorded in <see cref="DicomFile.Warnings"/>.</summary>
    Tolerant,
}

/// <summary>When the bytes of top-level Pixel Data (7FE0,0008/0009/0010) are read.</summary>
public enum PixelDataLoading
{
    /// <summary>Read together with the header.</summary>
    Eager,

    /// <summary>
    /// For files opened by path: only the offset and length are recorded and the bytes are read on first
    /// access of <see cref="DicomElement.Value"/> or <see cref="DicomFragments.Fragments"/>. For in-memory
    /// input the value is a slice of the input buffer (no copy), which is just as cheap.
    /// </summary>
    Lazy,

    /// <summary>The Pixel Data element is stepped over and left out of the data set.</summary>
    Skip,
}

/// <summary>
/// Reader policy and resource limits. Every declared length is compared with these limits and with the bytes that
/// remain before anything is allocated, so a hostile header (a 1 GB length backed by 10 bytes, sequences nested
/// thousands deep) is refused instead of exhausting memory or the stack.
/// </summary>
public sealed record DicomReaderOptions
{
    /// <summary>The highest <see cref="MaxSequenceDepth"/> accepted: the reader recurses once per nesting level.</summary>
    public const int SequenceDepthCeiling = 256;

    private readonly int _maxSequenceDepth = 64;
    private readonly long _maxElementLength = 256L * 1024 * 1024;
    private readonly long _maxPixelBytes = 2L * 1024 * 1024 * 1024;
    private readonly long _maxInflatedBytes = 512L * 1024 * 1024;

    /// <summary>The defaults: tolerant, depth 64, 256 MiB per element, 2 GiB of pixel data, lazy pixel data.</summary>
    public static DicomReaderOptions Default { get; } = new();

    /// <summary>Strict or tolerant parsing. Default <see cref="ValidationMode.Tolerant"/>.</summary>
    public ValidationMode Validation { get; init; } = ValidationMode.Tolerant;

    /// <summary>The deepest sequence nesting accepted (1 to <see cref="SequenceDepthCeiling"/>); deeper raises <see cref="DicomErrorCode.SequenceTooDeep"/>. Default 64.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside 1..<see cref="SequenceDepthCeiling"/>.</exception>
    public int MaxSequenceDepth
    {
        get => _maxSequenceDepth;
        init => _maxSequenceDepth = value is >= 1 and <= SequenceDepthCeiling ? value : throw new ArgumentOutOfRangeException(nameof(value), "Between 1 and SequenceDepthCeiling.");
    }

    /// <summary>The largest value length accepted for an element other than Pixel Data. Default 256 MiB.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive.</exception>
    public long MaxElementLength
    {
        get => _maxElementLength;
        init => _maxElementLength = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), "Must be positive.");
    }

    /// <summary>The largest Pixel Data accepted (native value or sum of fragments). Default 2 GiB.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive.</exception>
    public long MaxPixelBytes
    {
        get => _maxPixelBytes;
        init => _maxPixelBytes = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), "Must be positive.");
    }

    /// <summary>
    /// The largest size a deflated data set (Deflated Explicit VR Little Endian, PS3.5 §A.5) may inflate to; larger is
    /// <see cref="DicomErrorCode.ValueLengthExceedsData"/>. Default 512 MiB. The reader first inflates into a 64 KiB
    /// buffer that it reuses, only counting, and stops as soon as the count passes this limit; then it allocates the
    /// exact size and inflates again. So a "deflate bomb" (a few MB that inflate to gigabytes) costs some CPU time but
    /// never more memory than this limit: with the defaults, reading and decoding any one deflated file stays below
    /// 1 GiB (the inflated data set plus its decoded pixels).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive.</exception>
    public long MaxInflatedBytes
    {
        get => _maxInflatedBytes;
        init => _maxInflatedBytes = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), "Must be positive.");
    }

    /// <summary>When Pixel Data bytes are read. Default <see cref="PixelDataLoading.Lazy"/>.</summary>
    public PixelDataLoading PixelData { get; init; } = PixelDataLoading.Lazy;

    /// <summary>Stop parsing at top-level Pixel Data (7FE0,0010): it and everything after it are left out. Default false.</summary>
    public bool StopAtPixelData { get; init; }
}

/// <summary>How sequences are written.</summary>
public enum SequenceLengthEncoding
{
    /// <summary>Undefined length with item and sequence delimiters (PS3.5 §7.5.2).</summary>
    Undefined,

    /// <summary>Explicit lengths for sequences and items.</summary>
    Defined,
}

/// <summary>Writer options.</summary>
public sealed record DicomWriteOptions
{
    /// <summary>The defaults: the file's own transfer syntax, undefined-length sequences.</summary>
    public static DicomWriteOptions Default { get; } = new();

    /// <summary>
    /// The transfer syntax to write, or null for the file's own (an unknown syntax is written as Explicit VR
    /// Little Endian). Native syntaxes need native Pixel Data and encapsulated syntaxes need fragments: the
    /// writer never transcodes pixels.
    /// </summary>
    public TransferSyntax? TransferSyntax { get; init; }

    /// <summary>Defined or undefined lengths for sequences and items. Default <see cref="SequenceLengthEncoding.Undefined"/>.</summary>
    public SequenceLengthEncoding SequenceLength { get; init; } = SequenceLengthEncoding.Undefined;
}
