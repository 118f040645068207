using System.Globalization;

namespace MedTransfer.Dicom.Pixels;

/// <summary>
/// The image in a DICOM file: its pixel module, frames, and the modality and VOI stages read from the
/// data set, joined to the decoders. This is what callers use; <see cref="PixelDecoder"/> and
/// <see cref="PixelPipeline"/> are the span-level building blocks beneath it.
/// </summary>
/// <remarks>
/// Frames of encapsulated Pixel Data are located as PS3.5 §A.4 says: by the Extended Offset Table
/// (7FE0,0001/0002) when present, else by the Basic Offset Table, else one fragment per frame when
/// the counts agree, else (single frame) all fragments together, else by JPEG start-of-image markers
/// at fragment starts. Anything else is a typed <see cref="DicomErrorCode.InvalidPixelModule"/> error.
/// </remarks>
public sealed class DicomImage
{
    private static readonly DicomTag s_extendedOffsetTable = new(0x7FE0, 0x0001);
    private static readonly DicomTag s_extendedOffsetTableLengths = new(0x7FE0, 0x0002);

    private readonly DicomDataset _dataset;
    private readonly PixelValidationMode _mode;
    private readonly DicomFragments? _fragments;
    private long[]? _fragmentOffsets;

    private DicomImage(DicomDataset dataset, string transferSyntaxUid, PixelModule module, PixelValidationMode mode)
    {
        _dataset = dataset;
        _mode = mode;
        TransferSyntaxUid = transferSyntaxUid;
        Module = module;
        _fragments = dataset.GetFragments(DicomTag.PixelData);
        Modality = ReadModality(dataset, module, mode);
        Voi = ReadVoi(dataset, module, mode);
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

    /// <summary>The first VOI stage in the data set (VOI LUT sequence, else the first window), or null.</summary>
    public VoiTransform? Voi { get; }

    /// <summary>Reads the pixel module of <paramref name="file"/>.</summary>
    /// <exception cref="DicomFormatException">There is no pixel data, or the module is inconsistent.</exception>
    public static DicomImage Create(DicomFile file, PixelValidationMode mode = PixelValidationMode.Strict)
    {
        ArgumentNullException.ThrowIfNull(file);
        return Create(file.Dataset, file.TransferSyntax.Uid, mode);
    }

    /// <summary>Reads the pixel module of <paramref name="dataset"/> encoded in <paramref name="transferSyntaxUid"/>.</summary>
    /// <exception cref="DicomFormatException">There is no pixel data, or the module is inconsistent.</exception>
    public static DicomImage Create(DicomDataset dataset, string transferSyntaxUid, PixelValidationMode mode = PixelValidationMode.Strict)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(transferSyntaxUid);
        if (!dataset.Contains(DicomTag.PixelData))
        {
            throw new DicomFormatException(DicomErrorCode.InvalidPixelModule, "the data set has no Pixel Data", tag: DicomTag.PixelData);
        }

        PixelModule module = ReadModule(dataset);
        module.Validate(mode);
        return new DicomImage(dataset, transferSyntaxUid, module, mode);
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

        if (_fragments is null)
        {
            (ReadOnlyMemory<byte> native, string syntax) = NativeSource();
            return PixelDecoder.DecodeFrame(Module, syntax, native.Span, frame, _mode);
        }

        byte[] source = FrameFragments(frame);
        var destination = new byte[Module.DecodedFrameLength];
        PixelDecoder.DecodeFrame(Module, TransferSyntaxUid, source, 0, destination, _mode);
        return destination;
    }

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
        DicomFragments fragments = _fragments!;
        IReadOnlyList<ReadOnlyMemory<byte>> items = fragments.Fragments;
        if (items.Count == 0)
        {
            throw new DicomFormatException(DicomErrorCode.InvalidPixelModule, "encapsulated Pixel Data has no fragments", tag: DicomTag.PixelData);
        }

        (int first, int count) = LocateFrame(frame, fragments, items);
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

    private (int First, int Count) LocateFrame(int frame, DicomFragments fragments, IReadOnlyList<ReadOnlyMemory<byte>> items)
    {
        ReadOnlyMemory<byte> extended = _dataset.GetBytes(s_extendedOffsetTable);
        if (extended.Length > 0)
        {
            return ByOffsets(frame, ReadUInt64s(extended.Span), items, "Extended Offset Table");
        }

        if (fragments.BasicOffsetTable.Count > 0)
        {
            if (fragments.BasicOffsetTable.Count != FrameCount)
            {
                throw new DicomFormatException(DicomErrorCode.InvalidPixelModule, string.Create(CultureInfo.InvariantCulture, $"the Basic Offset Table has {fragments.BasicOffsetTable.Count} entries for {FrameCount} frames"), tag: DicomTag.PixelData);
            }

            return ByOffsets(frame, [.. fragments.BasicOffsetTable.Select(o => (ulong)o)], items, "Basic Offset Table");
        }

        if (items.Count == FrameCount)
        {
            return (frame, 1);
        }

        if (FrameCount == 1)
        {
            return (0, items.Count);
        }

        // No offset table and more fragments than frames: frames start where a JPEG family
        // start-of-image marker (FF D8 for JPEG/JPEG-LS, FF 4F for a J2K codestream) opens a fragment.
        var starts = new List<int>();
        for (int i = 0; i < items.Count; i++)
        {
            ReadOnlySpan<byte> f = items[i].Span;
            if (f.Length >= 2 && f[0] == 0xFF && (f[1] == 0xD8 || f[1] == 0x4F))
            {
                starts.Add(i);
            }
        }

        if (starts.Count != FrameCount || starts[0] != 0)
        {
            throw new DicomFormatException(DicomErrorCode.InvalidPixelModule, string.Create(CultureInfo.InvariantCulture, $"cannot tell which of {items.Count} fragments belong to which of {FrameCount} frames (no offset table)"), tag: DicomTag.PixelData);
        }

        int end = frame + 1 < starts.Count ? starts[frame + 1] : items.Count;
        return (starts[frame], end - starts[frame]);
    }

    private (int First, int Count) ByOffsets(int frame, ulong[] offsets, IReadOnlyList<ReadOnlyMemory<byte>> items, string table)
    {
        if (offsets.Length != FrameCount)
        {
            throw new DicomFormatException(DicomErrorCode.InvalidPixelModule, string.Create(CultureInfo.InvariantCulture, $"the {table} has {offsets.Length} entries for {FrameCount} frames"), tag: DicomTag.PixelData);
        }

        // Offsets count from the first byte of the first fragment's item tag: each item adds 8 header bytes.
        _fragmentOffsets ??= ItemOffsets(items);
        int first = Array.BinarySearch(_fragmentOffsets, (long)Math.Min(offsets[frame], long.MaxValue));
        if (first < 0)
        {
            throw new DicomFormatException(DicomErrorCode.InvalidPixelModule, string.Create(CultureInfo.InvariantCulture, $"the {table} entry for frame {frame} does not point at a fragment"), tag: DicomTag.PixelData);
        }

        int end = items.Count;
        if (frame + 1 < offsets.Length)
        {
            end = Array.BinarySearch(_fragmentOffsets, (long)Math.Min(offsets[frame + 1], long.MaxValue));
            if (end <= first)
            {
                throw new DicomFormatException(DicomErrorCode.InvalidPixelModule, string.Create(CultureInfo.InvariantCulture, $"the {table} entries for frames {frame} and {frame + 1} are out of order or do not point at fragments"), tag: DicomTag.PixelData);
            }
        }

        return (first, end - first);
    }

    private static long[] ItemOffsets(IReadOnlyList<ReadOnlyMemory<byte>> items)
    {
        var offsets = new long[items.Count];
        long at = 0;
        for (int i = 0; i < items.Count; i++)
        {
            offsets[i] = at;
            at = checked(at + 8 + items[i].Length);
        }

        return offsets;
    }

    private static ulong[] ReadUInt64s(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % 8 != 0)
        {
            throw new DicomFormatException(DicomErrorCode.InvalidLength, "the Extended Offset Table length is not a multiple of 8", tag: s_extendedOffsetTable);
        }

        var values = new ulong[bytes.Length / 8];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes.Slice(i * 8, 8));
        }

        return values;
    }

    private static ModalityLut ReadModality(DicomDataset dataset, PixelModule module, PixelValidationMode mode)
    {
        IReadOnlyList<DicomDataset> lutSequence = dataset.GetSequence(new DicomTag(0x0028, 0x3000));
        if (lutSequence.Count > 0)
        {
            return ModalityLut.FromTable(ReadLut(lutSequence[0], module, mode));
        }

        double slope = dataset.GetDouble(new DicomTag(0x0028, 0x1053)) ?? 1.0;
        double intercept = dataset.GetDouble(new DicomTag(0x0028, 0x1052)) ?? 0.0;
        return slope == 1.0 && intercept == 0.0 ? ModalityLut.Identity : ModalityLut.Rescale(slope, intercept);
    }

    private static VoiTransform? ReadVoi(DicomDataset dataset, PixelModule module, PixelValidationMode mode)
    {
        IReadOnlyList<DicomDataset> voiSequence = dataset.GetSequence(new DicomTag(0x0028, 0x3010));
        if (voiSequence.Count > 0)
        {
            return VoiTransform.FromTable(ReadLut(voiSequence[0], module, mode));
        }

        double? center = dataset.GetDouble(new DicomTag(0x0028, 0x1050));
        double? width = dataset.GetDouble(new DicomTag(0x0028, 0x1051));
        if (center is null || width is null)
        {
            return null;
        }

        VoiLutFunction function = VoiTransform.ParseFunction(dataset.GetString(new DicomTag(0x0028, 0x1056)));
        return VoiTransform.Window(center.Value, width.Value, function);
    }

    private static LookupTable ReadLut(DicomDataset item, PixelModule module, PixelValidationMode mode)
    {
        var descriptorTag = new DicomTag(0x0028, 0x3002);
        int? entries = item.GetInt32(descriptorTag, 0);
        int? first = item.GetInt32(descriptorTag, 1);
        int? bits = item.GetInt32(descriptorTag, 2);
        if (entries is null || first is null || bits is null)
        {
            throw new DicomFormatException(DicomErrorCode.InvalidLut, "the LUT Descriptor needs three values", tag: descriptorTag);
        }

        // The first mapped value is US or SS following the pixel representation (PS3.3 C.11.1.1.1).
        int firstMapped = module.IsSigned && first.Value > short.MaxValue ? first.Value - 65536 : first.Value;
        LutDescriptor descriptor = LutDescriptor.FromStoredValues(entries.Value, firstMapped, bits.Value);
        return LookupTable.Create(descriptor, item.GetBytes(new DicomTag(0x0028, 0x3006)).Span, mode);
    }

    private static int Required(DicomDataset dataset, DicomTag tag, string name) =>
        Optional(dataset, tag) ?? throw new DicomFormatException(DicomErrorCode.InvalidPixelModule, $"{name} is missing", tag: tag);

    private static int? Optional(DicomDataset dataset, DicomTag tag) => dataset.GetInt32(tag);
}
