namespace MedTransfer.Dicom.Pixels;

/// <summary>
/// The image in a DICOM file: its pixel module, frames, and the modality and VOI stages read from the
/// data set, joined to the decoders. This is what callers use; <see cref="PixelDecoder"/> and
/// <see cref="PixelPipeline"/> are the span-level building blocks beneath it.
/// </summary>
/// <remarks>
/// Frames of encapsulated Pixel Data are located as PS3.5 §A.4 says (see <see cref="FrameLocator"/>): by the
/// Extended or Basic Offset Table, else one fragment per frame, else all fragments for one frame, else by JPEG
/// start-of-image markers; tolerant mode recovers from an inconsistent offset table the same way. The VOI stage is
/// read only when presentation values are asked for, so a window the standard forbids never stops a caller that
/// needs stored values. What tolerant decoding recovered from is listed in <see cref="Warnings"/>.
/// </remarks>
public sealed class DicomImage
{
    private const int MaxWarningsPerCode = 100;

    private readonly DicomDataset _dataset;
    private readonly PixelValidationMode _mode;
    private readonly DicomFragments? _fragments;
    private readonly FrameLocator? _locator;
    private readonly Lazy<VoiTransform?> _strictVoi;
    private readonly Lazy<VoiTransform?> _tolerantVoi;
    private readonly Lock _gate = new();
    private readonly List<DicomWarning> _warnings = [];

    private DicomImage(DicomDataset dataset, string transferSyntaxUid, PixelModule module, PixelValidationMode mode, ChromaUpsampling upsampling)
    {
        _dataset = dataset;
        _mode = mode;
        TransferSyntaxUid = transferSyntaxUid;
        Module = module;
        ChromaUpsampling = upsampling;
        _fragments = dataset.GetFragments(DicomTag.PixelData);
        _locator = _fragments is null ? null : new FrameLocator(dataset, _fragments, module.NumberOfFrames, mode, Record);
        Modality = ReadModality(dataset, module, mode);
        _strictVoi = new Lazy<VoiTransform?>(() => VoiSelection.Select(dataset, module, PixelValidationMode.Strict, Record));
        _tolerantVoi = new Lazy<VoiTransform?>(() => VoiSelection.Select(dataset, module, PixelValidationMode.Tolerant, Record));
    }

    /// <summary>The image pixel module as declared in the data set.</summary>
    public PixelModule Module { get; }

    /// <summary>The transfer syntax of the pixel data.</summary>
    public string TransferSyntaxUid { get; }

    /// <summary>Number of frames.</summary>
    public int FrameCount => Module.NumberOfFrames;

    /// <summary>The photometric interpretation of decoded frames (e.g. RGB for YBR JPEG 2000).</summary>
    public string DecodedPhotometricInterpretation => PixelDecoder.DecodedPhotometricInterpretation(Module, TransferSyntaxUid);

    /// <summary>The modality LUT stage: a LUT sequence, or rescale slope/intercept (identity when absent).</summary>
    public ModalityLut Modality { get; }

    /// <summary>How subsampled JPEG chroma is brought to full size when frames are decoded.</summary>
    public ChromaUpsampling ChromaUpsampling { get; }

    /// <summary>
    /// The VOI stage chosen by this image's validation mode (<see cref="SelectVoi"/>): the VOI LUT Sequence, else the
    /// first window, or null when the data set has none. Read on first use.
    /// </summary>
    /// <exception cref="DicomFormatException">Strict mode: the first VOI source is invalid (e.g. Window Width 0).</exception>
    public VoiTransform? Voi => SelectVoi(_mode);

    /// <summary>
    /// What decoding and VOI selection recovered from so far (an offset table replaced, bytes after an end marker
    /// cut off, a window dropped). Codes, tags and fixed texts only: no value from the file.
    /// </summary>
    public IReadOnlyList<DicomWarning> Warnings
    {
        get
        {
            lock (_gate)
            {
                return [.. _warnings];
            }
        }
    }

    /// <summary>Reads the pixel module of <paramref name="file"/>.</summary>
    /// <exception cref="DicomFormatException">There is no pixel data, or the module is inconsistent.</exception>
    public static DicomImage Create(DicomFile file, PixelValidationMode mode = PixelValidationMode.Strict, ChromaUpsampling upsampling = ChromaUpsampling.Fancy)
    {
        ArgumentNullException.ThrowIfNull(file);
        return Create(file.Dataset, file.TransferSyntax.Uid, mode, upsampling);
    }

    /// <summary>Reads the pixel module of <paramref name="dataset"/> encoded in <paramref name="transferSyntaxUid"/>.</summary>
    /// <exception cref="DicomFormatException">There is no pixel data, or the module is inconsistent.</exception>
    public static DicomImage Create(DicomDataset dataset, string transferSyntaxUid, PixelValidationMode mode = PixelValidationMode.Strict, ChromaUpsampling upsampling = ChromaUpsampling.Fancy)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(transferSyntaxUid);
        if (!dataset.Contains(DicomTag.PixelData))
        {
            throw new DicomFormatException(DicomErrorCode.InvalidPixelModule, "the data set has no Pixel Data", tag: DicomTag.PixelData);
        }

        PixelModule module = ReadModule(dataset);
        module.Validate(mode);
        return new DicomImage(dataset, transferSyntaxUid, module, mode, upsampling);
    }

    /// <summary>Reads the Image Pixel module attributes (PS3.3 C.7.6.3) with the standard's defaults for optional ones.</summary>
    /// <exception cref="DicomFormatException">A required attribute (Rows, Columns, Bits Allocated) is missing or not a number.</exception>
    public static PixelModule ReadModule(DicomDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        int rows = Required(dataset, new DicomTag(0x0028, 0x0010), "Rows");
        int columns = Required(dataset, new DicomTag(0x0028, 0x0011), "Columns");
        int bitsAllocated = Required(dataset, new DicomTag(0x0028, 0x0100), "Bits Allocated");
        int samples = Optional(dataset, new DicomTag(0x0028, 0x0002)) ?? 1;
        int bitsStored = Optional(dataset, new DicomTag(0x0028, 0x0101)) ?? bitsAllocated;
        int highBit = Optional(dataset, new DicomTag(0x0028, 0x0102)) ?? (bitsStored - 1);
        int representation = Optional(dataset, new DicomTag(0x0028, 0x0103)) ?? 0;
        int planar = Optional(dataset, new DicomTag(0x0028, 0x0006)) ?? 0;
        int frames = Optional(dataset, new DicomTag(0x0028, 0x0008)) ?? 1;
        string photometric = dataset.GetString(new DicomTag(0x0028, 0x0004))?.Trim() is { Length: > 0 } pi
            ? pi
            : samples == 1 ? "MONOCHROME2" : "RGB";
        return new PixelModule(rows, columns, samples, bitsAllocated, bitsStored, highBit, representation, planar, photometric, frames);
    }

    /// <summary>Decodes frame <paramref name="frame"/> to the native little-endian layout (samples interleaved).</summary>
    /// <exception cref="DicomFormatException">The data is missing, short, or corrupt.</exception>
    /// <exception cref="CodecUnavailableException">The codec's native library is not installed.</exception>
    public byte[] DecodeFrame(int frame)
    {
        if (frame < 0 || frame >= FrameCount)
        {
            throw new ArgumentOutOfRangeException(nameof(frame), frame, $"The image has {FrameCount} frame(s).");
        }

        var settings = new PixelDecodeSettings(_mode, ChromaUpsampling, Record);
        if (_fragments is null)
        {
            (ReadOnlyMemory<byte> native, string syntax) = NativeSource();
            return PixelDecoder.DecodeFrame(Module, syntax, native.Span, frame, settings);
        }

        byte[] source = FrameFragments(frame);
        var destination = new byte[Module.DecodedFrameLength];
        PixelDecoder.DecodeFrame(Module, TransferSyntaxUid, source, frame, destination, settings);
        return destination;
    }

    /// <summary>
    /// The VOI stage (PS3.3 C.11.2): the first item of the VOI LUT Sequence, else the first Window Center / Width
    /// pair. <see cref="PixelValidationMode.Strict"/> rejects that source when it is invalid (a Window Width below 1
    /// for LINEAR, a malformed LUT); <see cref="PixelValidationMode.Tolerant"/> drops it with a warning in
    /// <see cref="Warnings"/> and takes the next (another LUT item, the next window), else null: no VOI, the
    /// modality values stand. Callers that need only stored values never call this.
    /// </summary>
    /// <exception cref="DicomFormatException">Strict mode: the first VOI source is invalid.</exception>
    public VoiTransform? SelectVoi(PixelValidationMode mode) => mode == PixelValidationMode.Strict ? _strictVoi.Value : _tolerantVoi.Value;

    /// <summary>The stored values of one frame (before any LUT): byte[], sbyte[], ushort[], short[], uint[] or int[]
    /// by Bits Allocated and Pixel Representation, samples interleaved.</summary>
    public Array StoredValues(int frame) => PixelPipeline.StoredValues(Module, DecodeFrame(frame));

    /// <summary>
    /// One greyscale frame as floats where bright means dense: modality LUT, then (when <paramref name="applyVoi"/>
    /// and the data set has one) the VOI stage in [0, 1], then MONOCHROME1 inversion (PS3.3 C.11, in the standard's order, so MONOCHROME1 and MONOCHROME2 copies give the same values).
    /// </summary>
    /// <exception cref="DicomFormatException">The image is not greyscale, or its data is malformed.</exception>
    public float[] PresentationFloats(int frame, bool applyVoi = true)
    {
        if (!Module.IsMonochrome)
        {
            throw new DicomFormatException(DicomErrorCode.InvalidPixelModule, "presentation floats are defined for MONOCHROME1/2 images; use RgbFloats for colour", tag: new DicomTag(0x0028, 0x0004));
        }

        return PixelPipeline.ToPresentationFloats(Module, DecodeFrame(frame), Modality, applyVoi ? Voi : null);
    }

    /// <summary>
    /// The native Pixel Data bytes and the syntax to decode them with. The reader stores binary values
    /// little-endian (it swaps OW as 16-bit words when reading Explicit VR Big Endian), while the decoder
    /// takes file bytes plus the file's syntax: so 16-bit OW from a big-endian file is already little-endian,
    /// and other OW layouts get the reader's word swap undone to give the decoder the file's bytes.
    /// </summary>
    private (ReadOnlyMemory<byte> Bytes, string Syntax) NativeSource()
    {
        ReadOnlyMemory<byte> bytes = _dataset.GetBytes(DicomTag.PixelData);
        bool bigEndian = TransferSyntaxUid == PixelDecoder.ExplicitVRBigEndian;
        bool wordSwappedByReader = bigEndian && _dataset.TryGetElement(DicomTag.PixelData, out DicomElement? element) && element.VR == DicomVR.OW;
        if (!wordSwappedByReader)
        {
            return (bytes, TransferSyntaxUid);
        }

        if (Module.BitsAllocated == 16)
        {
            return (bytes, PixelDecoder.ExplicitVRLittleEndian);
        }

        byte[] fileOrder = bytes.ToArray();
        for (int i = 0; i + 1 < fileOrder.Length; i += 2)
        {
            (fileOrder[i], fileOrder[i + 1]) = (fileOrder[i + 1], fileOrder[i]);
        }

        return (fileOrder, TransferSyntaxUid);
    }

    private byte[] FrameFragments(int frame)
    {
        IReadOnlyList<ReadOnlyMemory<byte>> items = _fragments!.Fragments;
        (int first, int count) = _locator!.Locate(frame);
        long total = 0;
        for (int i = first; i < first + count; i++)
        {
            total = checked(total + items[i].Length);
        }

        if (total > PixelModule.MaxFrameBytes)
        {
            throw new DicomFormatException(DicomErrorCode.PixelDataTooLarge, "a compressed frame exceeds the largest supported size", tag: DicomTag.PixelData);
        }

        var joined = new byte[total];
        int at = 0;
        for (int i = first; i < first + count; i++)
        {
            items[i].Span.CopyTo(joined.AsSpan(at));
            at += items[i].Length;
        }

        return joined;
    }

    private void Record(DicomWarning warning)
    {
        lock (_gate)
        {
            if (_warnings.Count(w => w.Code == warning.Code) < MaxWarningsPerCode && !_warnings.Contains(warning))
            {
                _warnings.Add(warning);
            }
        }
    }

    private static ModalityLut ReadModality(DicomDataset dataset, PixelModule module, PixelValidationMode mode)
    {
        IReadOnlyList<DicomDataset> lutSequence = dataset.GetSequence(new DicomTag(0x0028, 0x3000));
        if (lutSequence.Count > 0)
        {
            return ModalityLut.FromTable(LookupTable.FromSequenceItem(lutSequence[0], module, mode));
        }

        double slope = dataset.GetDouble(new DicomTag(0x0028, 0x1053)) ?? 1.0;
        double intercept = dataset.GetDouble(new DicomTag(0x0028, 0x1052)) ?? 0.0;
        return slope == 1.0 && intercept == 0.0 ? ModalityLut.Identity : ModalityLut.Rescale(slope, intercept);
    }

    private static int Required(DicomDataset dataset, DicomTag tag, string name) =>
        Optional(dataset, tag) ?? throw new DicomFormatException(DicomErrorCode.InvalidPixelModule, $"{name} is missing", tag: tag);

    private static int? Optional(DicomDataset dataset, DicomTag tag) => dataset.GetInt32(tag);
}
