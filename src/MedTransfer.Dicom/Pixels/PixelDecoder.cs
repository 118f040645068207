using System.Globalization;

namespace MedTransfer.Dicom.Pixels;

/// <summary>
/// Decodes one frame of Pixel Data (7FE0,0010) into the decoded layout: samples interleaved (planar
/// configuration 0), <see cref="PixelModule.BytesPerDecodedSample"/> bytes per sample, little-endian, the stored
/// bit pattern unchanged (masking and sign extension happen in <see cref="PixelPipeline.StoredValues"/>).
/// BitsAllocated 1 decodes to one byte (0 or 1) per pixel.
/// </summary>
/// <remarks>
/// <para>What <c>source</c> is depends on the transfer syntax (PS3.5 §8.2, Annex A.4):</para>
/// <list type="bullet">
/// <item>Native syntaxes (implicit/explicit little endian, deflated, explicit big endian): the whole Pixel Data
/// value exactly as it is in the file (for big endian: still big endian; the reader must not swap it). The
/// decoder finds frame <c>frameIndex</c> itself with checked arithmetic, which is what lets BitsAllocated 1
/// frames begin in the middle of a byte. To decode a slice that holds one frame, pass a module with
/// <c>NumberOfFrames = 1</c>. Big-endian data with BitsAllocated 8 or 1 is taken byte for byte (OB); a reader
/// that met such data as OW must undo the 16-bit word swap first.</item>
/// <item>Encapsulated syntaxes (RLE, JPEG, JPEG-LS, JPEG 2000): the frame's compressed bytes, that is the
/// concatenation of the fragments that belong to the frame (without item headers and without the Basic Offset
/// Table); <c>frameIndex</c> is then used only in error messages.</item>
/// </list>
/// <para>Every malformed input ends in <see cref="DicomFormatException"/> with a reason code; a missing native
/// codec in <see cref="CodecUnavailableException"/>. The destination is either completely written or the call
/// throws: no uninitialised or stale byte is ever returned as image content (stale heap bytes in an image would leak other data).</para>
/// <para>The array-returning overload checks, before it allocates the frame, that the bytes present can hold
/// the declared frame (native length; RLE's 64-fold PackBits limit; the JPEG/JPEG-LS frame header and a lower
/// bound on their coded size; the JPEG 2000 SIZ segment). A JPEG 2000 stream whose SIZ agrees with a large
/// module is not bounded this way (its coded size can be tiny), and OpenJPEG allocates the full image itself.</para>
/// <para>JPEG-LS (CharLS) and JPEG 2000 (OpenJPEG) run native code in this process. Inputs are validated
/// before they reach it (marker structure, dimensions, precision, complete stream), but a crash inside a native
/// library cannot be caught in .NET: batch runs must isolate native decoding in a child process.</para>
/// </remarks>
public static class PixelDecoder
{
    /// <summary>Implicit VR Little Endian (PS3.5 A.1).</summary>
    public const string ImplicitVRLittleEndian = "1.2.840.10008.1.2";

    /// <summary>Explicit VR Little Endian (PS3.5 A.2).</summary>
    public const string ExplicitVRLittleEndian = "1.2.840.10008.1.2.1";

    /// <summary>Deflated Explicit VR Little Endian (PS3.5 A.5); the pixel data is native after inflation.</summary>
    public const string DeflatedExplicitVRLittleEndian = "1.2.840.10008.1.2.1.99";

    /// <summary>Explicit VR Big Endian (retired, PS3.5 A.3).</summary>
    public const string ExplicitVRBigEndian = "1.2.840.10008.1.2.2";

    /// <summary>RLE Lossless (PS3.5 A.4.2, Annex G).</summary>
    public const string RleLossless = "1.2.840.10008.1.2.5";

    /// <summary>JPEG Baseline (Process 1).</summary>
    public const string JpegBaseline = "1.2.840.10008.1.2.4.50";

    /// <summary>JPEG Extended (Process 2 and 4).</summary>
    public const string JpegExtended = "1.2.840.10008.1.2.4.51";

    /// <summary>JPEG Lossless, Non-Hierarchical (Process 14).</summary>
    public const string JpegLossless = "1.2.840.10008.1.2.4.57";

    /// <summary>JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14, Selection Value 1).</summary>
    public const string JpegLosslessSV1 = "1.2.840.10008.1.2.4.70";

    /// <summary>JPEG-LS Lossless.</summary>
    public const string JpegLsLossless = "1.2.840.10008.1.2.4.80";

    /// <summary>JPEG-LS Lossy (Near-Lossless).</summary>
    public const string JpegLsNearLossless = "1.2.840.10008.1.2.4.81";

    /// <summary>JPEG 2000 Image Compression (Lossless Only).</summary>
    public const string Jpeg2000Lossless = "1.2.840.10008.1.2.4.90";

    /// <summary>JPEG 2000 Image Compression.</summary>
    public const string Jpeg2000 = "1.2.840.10008.1.2.4.91";

    /// <summary>The version of the CharLS library used for JPEG-LS, or null when <c>libcharls2</c> is not installed.</summary>
    public static string? JpegLsLibraryVersion => JpegLsCodec.Version;

    /// <summary>The version of the OpenJPEG library used for JPEG 2000, or null when <c>libopenjp2-7</c> is not installed.</summary>
    public static string? Jpeg2000LibraryVersion => Jpeg2000Codec.Version;

    /// <summary>True when <see cref="DecodeFrame(PixelModule, string, ReadOnlySpan{byte}, int, Span{byte}, PixelValidationMode, ChromaUpsampling)"/> handles the transfer syntax
    /// (JPEG-LS and JPEG 2000 additionally need their native library at run time).</summary>
    public static bool IsSupported(string transferSyntaxUid) => Classify(transferSyntaxUid) != SyntaxKind.Unsupported;

    /// <summary>True for transfer syntaxes whose Pixel Data is encapsulated (PS3.5 §8.2, A.4).</summary>
    public static bool IsEncapsulated(string transferSyntaxUid) => Classify(transferSyntaxUid) is SyntaxKind.Rle or SyntaxKind.Jpeg or SyntaxKind.JpegLs or SyntaxKind.Jpeg2000;

    /// <summary>
    /// The photometric interpretation of the decoded bytes. It differs from the declared one when decoding
    /// changes the colour layout: YBR_FULL_422 is upsampled to YBR_FULL (native and JPEG), and JPEG 2000
    /// YBR_RCT/YBR_ICT come out as RGB because the codec inverts its component transform (PS3.5 A.4.4).
    /// </summary>
    public static string DecodedPhotometricInterpretation(PixelModule module, string transferSyntaxUid)
    {
        ArgumentNullException.ThrowIfNull(module);
        string pi = module.Photometric;
        SyntaxKind kind = Classify(transferSyntaxUid);
        if (pi == "YBR_FULL_422")
        {
            return "YBR_FULL";
        }

        if (kind == SyntaxKind.Jpeg2000 && pi is "YBR_RCT" or "YBR_ICT")
        {
            return "RGB";
        }

        return pi;
    }

    /// <summary>Decodes frame <paramref name="frameIndex"/> into a new array of <see cref="PixelModule.DecodedFrameLength"/> bytes.</summary>
    /// <param name="module">The image pixel module.</param>
    /// <param name="transferSyntaxUid">The transfer syntax of the file.</param>
    /// <param name="source">Native: the whole Pixel Data value; encapsulated: the frame's concatenated fragments (see the type remarks).</param>
    /// <param name="frameIndex">The zero-based frame number.</param>
    /// <param name="mode">Strict (default) or tolerant validation.</param>
    /// <param name="upsampling">How subsampled JPEG chroma is brought to full size (libjpeg's fancy upsampling by default).</param>
    /// <exception cref="DicomFormatException">The module or the data is malformed.</exception>
    /// <exception cref="CodecUnavailableException">The native codec library is not installed.</exception>
    public static byte[] DecodeFrame(PixelModule module, string transferSyntaxUid, ReadOnlySpan<byte> source, int frameIndex = 0, PixelValidationMode mode = PixelValidationMode.Strict, ChromaUpsampling upsampling = ChromaUpsampling.Fancy) =>
        DecodeFrame(module, transferSyntaxUid, source, frameIndex, new PixelDecodeSettings(mode, upsampling));

    /// <summary>As the public overload, recording recoveries in <see cref="PixelDecodeSettings.Warnings"/>.</summary>
    internal static byte[] DecodeFrame(PixelModule module, string transferSyntaxUid, ReadOnlySpan<byte> source, int frameIndex, PixelDecodeSettings settings)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(transferSyntaxUid);
        module.Validate(settings.Mode);
        CheckBeforeAllocating(module, Classify(transferSyntaxUid), source, frameIndex, settings.Mode);
        byte[] destination = new byte[module.DecodedFrameLength];
        DecodeFrame(module, transferSyntaxUid, source, frameIndex, destination, settings);
        return destination;
    }

    /// <summary>Decodes the first frame (or a one-frame native slice) into <paramref name="destination"/>.</summary>
    /// <param name="module">The image pixel module.</param>
    /// <param name="transferSyntaxUid">The transfer syntax of the file.</param>
    /// <param name="source">Native: the Pixel Data value; encapsulated: the frame's concatenated fragments.</param>
    /// <param name="destination">At least <see cref="PixelModule.DecodedFrameLength"/> bytes; exactly that many are written.</param>
    /// <param name="mode">Strict (default) or tolerant validation.</param>
    public static void DecodeFrame(PixelModule module, string transferSyntaxUid, ReadOnlySpan<byte> source, Span<byte> destination, PixelValidationMode mode = PixelValidationMode.Strict) =>
        DecodeFrame(module, transferSyntaxUid, source, 0, destination, mode);

    /// <summary>Decodes frame <paramref name="frameIndex"/> into <paramref name="destination"/>.</summary>
    /// <param name="module">The image pixel module.</param>
    /// <param name="transferSyntaxUid">The transfer syntax of the file.</param>
    /// <param name="source">Native: the whole Pixel Data value; encapsulated: the frame's concatenated fragments (see the type remarks).</param>
    /// <param name="frameIndex">The zero-based frame number.</param>
    /// <param name="destination">At least <see cref="PixelModule.DecodedFrameLength"/> bytes; exactly that many are written.</param>
    /// <param name="mode">Strict (default) or tolerant validation.</param>
    /// <param name="upsampling">How subsampled JPEG chroma is brought to full size (libjpeg's fancy upsampling by default).</param>
    /// <exception cref="DicomFormatException">The module or the data is malformed.</exception>
    /// <exception cref="CodecUnavailableException">The native codec library is not installed.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too small (a caller error, not a file error).</exception>
    public static void DecodeFrame(PixelModule module, string transferSyntaxUid, ReadOnlySpan<byte> source, int frameIndex, Span<byte> destination, PixelValidationMode mode = PixelValidationMode.Strict, ChromaUpsampling upsampling = ChromaUpsampling.Fancy) =>
        DecodeFrame(module, transferSyntaxUid, source, frameIndex, destination, new PixelDecodeSettings(mode, upsampling));

    /// <summary>As the public overload, with the chroma upsampling to use and a place to record what was recovered.</summary>
    internal static void DecodeFrame(PixelModule module, string transferSyntaxUid, ReadOnlySpan<byte> source, int frameIndex, Span<byte> destination, PixelDecodeSettings settings)
    {
        PixelValidationMode mode = settings.Mode;
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(transferSyntaxUid);
        module.Validate(mode);
        long length = module.DecodedFrameLength;
        if (destination.Length < length)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The destination holds {destination.Length} bytes; the decoded frame needs {length}."), nameof(destination));
        }

        if (frameIndex < 0 || frameIndex >= module.NumberOfFrames)
        {
            throw new DicomFormatException(DicomErrorCode.InvalidPixelModule, string.Create(CultureInfo.InvariantCulture, $"frame {frameIndex} does not exist (NumberOfFrames {module.NumberOfFrames})"), tag: DicomTag.PixelData);
        }

        Span<byte> target = destination[..(int)length];
        SyntaxKind kind = Classify(transferSyntaxUid);
        switch (kind)
        {
            case SyntaxKind.NativeLittle:
                NativePixelCodec.Decode(module, bigEndian: false, source, frameIndex, target, mode);
                break;
            case SyntaxKind.NativeBig:
                NativePixelCodec.Decode(module, bigEndian: true, source, frameIndex, target, mode);
                break;
            case SyntaxKind.Rle:
                RleCodec.Decode(module, source, frameIndex, target, mode);
                break;
            case SyntaxKind.Jpeg:
                RequireNotEmpty(source, frameIndex);
                JpegCodec.Decode(module, source, frameIndex, target, settings);
                break;
            case SyntaxKind.JpegLs:
                RequireNotEmpty(source, frameIndex);
                JpegLsCodec.Decode(module, source, frameIndex, target, settings);
                break;
            case SyntaxKind.Jpeg2000:
                RequireNotEmpty(source, frameIndex);
                Jpeg2000Codec.Decode(module, source, frameIndex, target, settings);
                break;
            default:
                throw new DicomFormatException(DicomErrorCode.UnsupportedTransferSyntax, "the transfer syntax has no pixel decoder", tag: DicomTag.PixelData);
        }
    }

    internal static DicomFormatException Corrupt(int frameIndex, string detail, Exception? inner = null) =>
        new(DicomErrorCode.CorruptPixelStream, string.Create(CultureInfo.InvariantCulture, $"frame {frameIndex}: {detail}"), tag: DicomTag.PixelData, inner: inner);

    /// <summary>
    /// The JPEG-family stream (JPEG, JPEG-LS, a JPEG 2000 codestream) up to and including its end marker FF D9
    /// (EOI / EOC). PS3.5 A.4 pads fragments to an even length and real encoders leave a few more bytes after the
    /// marker, so the stream may end with zeros of any length, or with up to <see cref="MaxBytesAfterEndMarker"/>
    /// other bytes after the last FF D9: those are cut off (a warning records the non-zero ones) and no codec sees
    /// them. A stream with no end marker near its end is truncated: strict mode rejects it before any codec (and
    /// any native code) runs; tolerant mode hands it to the codec as it is, unless <paramref name="markerRequired"/>
    /// (JPEG-LS: CharLS spends seconds on a truncated stream, and one never decodes to a complete frame anyway).
    /// </summary>
    internal static ReadOnlySpan<byte> ThroughEndMarker(ReadOnlySpan<byte> stream, int frameIndex, PixelValidationMode mode, bool markerRequired, Action<DicomWarning>? warnings)
    {
        int end = stream.Length;
        while (end > 0 && stream[end - 1] == 0)
        {
            end--;
        }

        if (end >= 2 && stream[end - 2] == 0xFF && stream[end - 1] == 0xD9)
        {
            return stream[..end];
        }

        int from = Math.Max(0, end - MaxBytesAfterEndMarker - 2);
        int marker = stream[from..end].LastIndexOf(EndMarker);
        if (marker >= 0)
        {
            int cut = from + marker + 2;
            warnings?.Invoke(new DicomWarning(DicomErrorCode.CorruptPixelStream, -1, DicomTag.PixelData, string.Create(CultureInfo.InvariantCulture, $"frame {frameIndex}: {stream.Length - cut} byte(s) after the end-of-image marker were ignored")));
            return stream[..cut];
        }

        if (mode == PixelValidationMode.Strict || markerRequired)
        {
            throw Corrupt(frameIndex, "the compressed stream does not end with the end-of-image marker (truncated)");
        }

        return stream;
    }

    /// <summary>The most non-zero bytes accepted after a JPEG-family end marker. Real files carry 1–7; a larger
    /// window would let a truncated stream pass whenever an embedded thumbnail's end marker lies near the cut.</summary>
    internal const int MaxBytesAfterEndMarker = 64;

    private static ReadOnlySpan<byte> EndMarker => [0xFF, 0xD9];

    /// <summary>
    /// Cheap checks that tie the declared frame size to the bytes actually present, run before the decoded
    /// frame is allocated (a 1 GB declaration backed by 10 bytes must not allocate 1 GB).
    /// Native: the frame must be present. RLE: PackBits expands at most 64-fold (2 bytes → 128), so a frame
    /// larger than 64 × the stream is impossible. JPEG, JPEG-LS, JPEG 2000: the frame header's dimensions,
    /// parsed in managed code, must equal the module's.
    /// </summary>
    private static void CheckBeforeAllocating(PixelModule module, SyntaxKind kind, ReadOnlySpan<byte> source, int frameIndex, PixelValidationMode mode)
    {
        if (frameIndex < 0 || frameIndex >= module.NumberOfFrames)
        {
            return;
        }

        switch (kind)
        {
            case SyntaxKind.NativeLittle:
            case SyntaxKind.NativeBig:
                NativePixelCodec.CheckLength(module, source.Length, frameIndex, mode);
                break;
            case SyntaxKind.Rle:
                if (module.DecodedFrameLength > checked(64L * source.Length))
                {
                    throw Corrupt(frameIndex, string.Create(CultureInfo.InvariantCulture, $"an RLE stream of {source.Length} bytes cannot hold a frame of {module.DecodedFrameLength} bytes"));
                }

                break;
            case SyntaxKind.Jpeg:
            case SyntaxKind.JpegLs:
                RequireNotEmpty(source, frameIndex);
                JpegFrameHeader.Check(module, source, frameIndex);
                break;
            case SyntaxKind.Jpeg2000:
                RequireNotEmpty(source, frameIndex);
                Jpeg2000Codec.CheckHeader(module, source, frameIndex);
                break;
            default:
                break;
        }
    }

    private static void RequireNotEmpty(ReadOnlySpan<byte> source, int frameIndex)
    {
        if (source.Length < 4)
        {
            throw Corrupt(frameIndex, "the compressed frame is empty or shorter than a marker");
        }
    }

    private static SyntaxKind Classify(string? uid) => uid?.Trim().TrimEnd('\0') switch
    {
        ImplicitVRLittleEndian or ExplicitVRLittleEndian or DeflatedExplicitVRLittleEndian => SyntaxKind.NativeLittle,
        ExplicitVRBigEndian => SyntaxKind.NativeBig,
        RleLossless => SyntaxKind.Rle,
        JpegBaseline or JpegExtended or JpegLossless or JpegLosslessSV1 => SyntaxKind.Jpeg,
        JpegLsLossless or JpegLsNearLossless => SyntaxKind.JpegLs,
        Jpeg2000Lossless or Jpeg2000 => SyntaxKind.Jpeg2000,
        _ => SyntaxKind.Unsupported,
    };

    private enum SyntaxKind
    {
        Unsupported,
        NativeLittle,
        NativeBig,
        Rle,
        Jpeg,
        JpegLs,
        Jpeg2000,
    }
}
