using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MedTransfer.Dicom;

/// <summary>
/// Parses a DICOM stream: PS3.10 §7 preamble, "DICM" and the file meta information (explicit VR little
/// endian), then the data set in its transfer syntax (PS3.5 §7 and Annex A). Every declared length is
/// checked against the bytes that remain and the options' limits before anything is allocated or sliced;
/// nesting is bounded by <see cref="DicomReaderOptions.MaxSequenceDepth"/> before each recursion; every loop
/// consumes at least one header per iteration or ends. The preamble is never looked at.
/// </summary>
internal sealed class DicomReader
{
    private const uint Undefined = 0xFFFFFFFF;
    private const int MaxWarningsPerCode = 100;
    private const string InternalErrorDetail = "unexpected internal parse error";

    private static readonly DicomTag _groupLength = new(0x0002, 0x0000);
    private static readonly DicomTag _transferSyntaxUid = new(0x0002, 0x0010);
    private static readonly DicomTag _floatPixelData = new(0x7FE0, 0x0008);
    private static readonly DicomTag _doublePixelData = new(0x7FE0, 0x0009);

    private readonly DicomReaderOptions _options;
    private readonly bool _strict;
    private readonly List<DicomWarning> _warnings = [];
    private readonly Dictionary<DicomErrorCode, int> _warningCounts = [];
    private DicomByteSource _source;
    private long _pos;
    private bool _stopped;

    private DicomReader(DicomByteSource source, DicomReaderOptions options)
    {
        _source = source;
        _options = options;
        _strict = options.Validation == ValidationMode.Strict;
    }

    /// <summary>The detail text of the exception that wraps a runtime error the reader did not anticipate (a bug, never expected).</summary>
    internal static string UnexpectedErrorDetail => InternalErrorDetail;

    /// <summary>Parses <paramref name="source"/>; only <see cref="DicomFormatException"/> escapes.</summary>
    public static DicomFile Read(DicomByteSource source, DicomReaderOptions options)
    {
        var reader = new DicomReader(source, options);
        try
        {
            return reader.ReadFile();
        }
        catch (DicomFormatException)
        {
            throw;
        }
        catch (Exception ex) when (ex is IndexOutOfRangeException or ArgumentException or OverflowException
            or InvalidOperationException or EndOfStreamException or InvalidDataException or IOException or NotSupportedException)
        {
            throw new DicomFormatException(DicomErrorCode.InvalidStructure, InternalErrorDetail, reader._pos, null, ex);
        }
    }

    private DicomFile ReadFile()
    {
        long length = _source.Length;
        if (length == 0)
        {
            throw new DicomFormatException(DicomErrorCode.NotDicom, "the input is empty", 0);
        }

        Span<byte> scratch = stackalloc byte[16];
        var meta = new DicomDataset();
        TransferSyntax? syntax = null;
        bool hasMeta = false;
        if (length >= 132 && _source.Header(128, 4, scratch).SequenceEqual("DICM"u8))
        {
            _pos = 132;
            hasMeta = true;
        }
        else if (length >= 8 && LooksLikeDataSetStart(_source.Header(0, 8, scratch), out bool metaFirst))
        {
            _pos = 0;
            hasMeta = metaFirst;
            if (!metaFirst)
            {
                Warn(DicomErrorCode.InvalidFileMeta, "no preamble and no file meta information: a bare data set", 0, null);
            }
        }
        else
        {
            throw new DicomFormatException(DicomErrorCode.NotDicom, "no DICM prefix and no plausible data set start", 0);
        }

        if (hasMeta)
        {
            ReadMeta(meta);
            string? uid = meta.GetString(_transferSyntaxUid);
            if (uid is { Length: > 0 })
            {
                syntax = TransferSyntax.Lookup(uid);
                if (!syntax.IsKnown)
                {
                    Warn(DicomErrorCode.UnknownTransferSyntax, "unknown transfer syntax UID: read as explicit VR little endian", -1, _transferSyntaxUid);
                }
            }
            else if (!_stopped)
            {
                Problem(DicomErrorCode.InvalidFileMeta, "the file meta information has no transfer syntax UID", _pos, _transferSyntaxUid);
            }
        }

        var dataset = new DicomDataset(64);
        if (_stopped)
        {
            return new DicomFile(meta, dataset, syntax ?? TransferSyntax.ExplicitVRLittleEndian, _warnings);
        }

        syntax ??= DetectSyntax();
        if (syntax.IsDeflated)
        {
            Inflate();
        }

        var encoding = new Encoding(syntax.IsExplicitVR, syntax.IsBigEndian);
        ReadDataset(dataset, _source.Length, itemUndefined: false, encoding, depth: 0);
        return new DicomFile(meta, dataset, syntax, _warnings);
    }

    /// <summary>A bare data set (no preamble) must start with a plausible even group: 0002 (meta without preamble) to 0028.</summary>
    private static bool LooksLikeDataSetStart(ReadOnlySpan<byte> head, out bool metaFirst)
    {
        ushort group = BinaryPrimitives.ReadUInt16LittleEndian(head);
        ushort groupBE = BinaryPrimitives.ReadUInt16BigEndian(head);
        metaFirst = group == 0x0002;
        bool plausible = (group & 1) == 0 && group >= 0x0002 && group <= 0x0028;
        bool plausibleBE = groupBE == 0x0008;
        return plausible || plausibleBE;
    }

    private TransferSyntax DetectSyntax()
    {
        Span<byte> scratch = stackalloc byte[16];
        if (_source.Length - _pos < 8)
        {
            return TransferSyntax.ExplicitVRLittleEndian;
        }

        ReadOnlySpan<byte> head = _source.Header(_pos, 8, scratch);
        bool explicitVR = DicomVRInfo.TryParse(head[4], head[5], out _);
        if (BinaryPrimitives.ReadUInt16BigEndian(head) == 0x0008 && BinaryPrimitives.ReadUInt16LittleEndian(head) != 0x0008)
        {
            return TransferSyntax.ExplicitVRBigEndian;
        }

        return explicitVR ? TransferSyntax.ExplicitVRLittleEndian : TransferSyntax.ImplicitVRLittleEndian;
    }

    private void ReadMeta(DicomDataset meta)
    {
        var encoding = new Encoding(Explicit: true, BigEndian: false);
        Span<byte> scratch = stackalloc byte[16];
        long groupEnd = -1;
        bool sawGroupLength = false;
        while (!_stopped)
        {
            if (_source.Length - _pos < 4)
            {
                if (_source.Length == _pos)
                {
                    break;
                }

                Truncation(_pos, null, "the file ends inside the file meta information");
                return;
            }

            ReadOnlySpan<byte> head = _source.Header(_pos, 4, scratch);
            var tag = new DicomTag(BinaryPrimitives.ReadUInt16LittleEndian(head), BinaryPrimitives.ReadUInt16LittleEndian(head[2..]));
            if (tag.Group != 0x0002)
            {
                break;
            }

            ReadElement(meta, tag, _source.Length, encoding, depth: 0);
            if (tag == _groupLength && !sawGroupLength && !_stopped)
            {
                sawGroupLength = true;
                uint declared = meta.GetBytes(_groupLength).Length == 4
                    ? BinaryPrimitives.ReadUInt32LittleEndian(meta.GetBytes(_groupLength).Span)
                    : 0;
                groupEnd = _pos + declared;
            }
        }

        if (_stopped)
        {
            return;
        }

        if (!sawGroupLength)
        {
            Problem(DicomErrorCode.InvalidFileMeta, "the file meta information has no group length (0002,0000)", _pos, _groupLength);
        }
        else if (groupEnd != _pos)
        {
            Problem(DicomErrorCode.InvalidFileMeta, "the group length (0002,0000) disagrees with the meta elements", _pos, _groupLength);
        }
    }

    private void Inflate()
    {
        long remaining = _source.Length - _pos;
        if (remaining > Array.MaxLength)
        {
            throw new DicomFormatException(DicomErrorCode.ValueLengthExceedsData, "the deflated data set is too large", _pos);
        }

        ReadOnlyMemory<byte> compressed = _source.Take(_pos, (int)remaining);
        long limit = Math.Min(Array.MaxLength, _options.MaxInflatedBytes);

        // Count first, keeping nothing, so that a deflate bomb is refused having used 64 KiB rather than the gigabytes
        // it inflates to; then inflate again into a buffer of exactly the counted size. Inflation is deterministic, so
        // the second pass yields the same bytes and stops at the same damage, if any.
        (long size, bool damaged) = InflateInto(compressed, null, limit);
        if (size > limit)
        {
            throw new DicomFormatException(DicomErrorCode.ValueLengthExceedsData, FormattableString.Invariant($"the deflated data set inflates to more than the configured limit of {_options.MaxInflatedBytes} bytes"), _pos);
        }

        if (damaged)
        {
            if (_strict)
            {
                throw new DicomFormatException(DicomErrorCode.InvalidDeflateStream, "the deflated data set is corrupt", _pos);
            }

            Warn(DicomErrorCode.InvalidDeflateStream, "the deflated data set is corrupt: read up to the damage", _pos, null);
        }

        byte[] buffer = new byte[size];
        InflateInto(compressed, buffer, size);
        _source = DicomByteSource.FromMemory(buffer);
        _pos = 0;
    }

    /// <summary>
    /// Inflates <paramref name="compressed"/> into <paramref name="destination"/> (or, when null, into a reused scratch
    /// buffer, only counting), stopping once more than <paramref name="limit"/> bytes came out or the stream is damaged.
    /// </summary>
    private static (long Size, bool Damaged) InflateInto(ReadOnlyMemory<byte> compressed, byte[]? destination, long limit)
    {
        byte[] chunk = destination ?? new byte[64 * 1024];
        long total = 0;
        using var input = MemoryMarshal.TryGetArray(compressed, out ArraySegment<byte> segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(compressed.ToArray(), writable: false);
        using var inflater = new DeflateStream(input, CompressionMode.Decompress);
        try
        {
            while (total <= limit)
            {
                int n = destination is null
                    ? inflater.Read(chunk, 0, chunk.Length)
                    : inflater.Read(chunk, (int)total, (int)Math.Min(chunk.Length - total, int.MaxValue));
                if (n == 0)
                {
                    break;
                }

                total += n;
                if (destination is not null && total == destination.Length)
                {
                    break;
                }
            }
        }
        catch (InvalidDataException)
        {
            return (total, true);
        }

        return (total, false);
    }

    /// <summary>Reads elements until <paramref name="end"/> or, for an undefined-length item, its delimiter.</summary>
    private void ReadDataset(DicomDataset ds, long end, bool itemUndefined, Encoding enc, int depth)
    {
        Span<byte> scratch = stackalloc byte[16];
        while (!_stopped)
        {
            if (_pos >= end)
            {
                if (itemUndefined)
                {
                    MissingDelimiter(end, "an item of undefined length has no item delimiter");
                }

                return;
            }

            if (depth == 0 && end == _source.Length && IsZeroPadding(_pos, end))
            {
                // Some writers pad the file after the last element (often after Pixel Data) with zeros: no element
                // can be all zeros, so say what was found rather than "InvalidVR in (0000,0000)".
                long padding = end - _pos;
                string detail = string.Create(CultureInfo.InvariantCulture, $"{padding} byte(s) of zero padding follow the last data element");
                if (_strict)
                {
                    throw new DicomFormatException(DicomErrorCode.InvalidStructure, detail + " (not a data element)", _pos, null);
                }

                Warn(DicomErrorCode.InvalidStructure, detail + ": ignored", _pos, null);
                _pos = end;
                return;
            }

            if (end - _pos < 8)
            {
                Truncation(end, null, "the data ends inside an element header");
                return;
            }

            ReadOnlySpan<byte> head = _source.Header(_pos, 8, scratch);
            DicomTag tag = ReadTag(head, enc.BigEndian);
            if (tag.Group == 0xFFFE)
            {
                uint len = ReadUInt32(head[4..], enc.BigEndian);
                if (tag == DicomTag.ItemDelimitation && itemUndefined)
                {
                    _pos += 8;
                    return;
                }

                if (tag == DicomTag.SequenceDelimitation && itemUndefined)
                {
                    Problem(DicomErrorCode.InvalidStructure, "an item ends without its item delimiter", _pos, tag);
                    return;
                }

                Problem(DicomErrorCode.InvalidStructure, "a stray item or delimiter inside a data set", _pos, tag);
                _pos += 8;
                if (tag == DicomTag.Item && len != Undefined && len <= end - _pos)
                {
                    _pos += len;
                }

                continue;
            }

            if (depth == 0 && tag == DicomTag.PixelData && _options.StopAtPixelData)
            {
                _pos = end;
                return;
            }

            ReadElement(ds, tag, end, enc, depth);
        }
    }

    private void ReadElement(DicomDataset ds, DicomTag tag, long end, Encoding enc, int depth)
    {
        Span<byte> scratch = stackalloc byte[16];
        long start = _pos;
        DicomVR vr;
        uint length;
        int headerSize;
        bool implicitHere = !enc.Explicit;
        ReadOnlySpan<byte> head = _source.Header(start, 8, scratch);
        if (enc.Explicit)
        {
            if (DicomVRInfo.TryParse(head[4], head[5], out vr))
            {
                if (DicomVRInfo.HasLongLength(vr))
                {
                    if (end - start < 12)
                    {
                        Truncation(end, tag, "the data ends inside an element header");
                        return;
                    }

                    length = ReadUInt32(_source.Header(start + 8, 4, scratch), enc.BigEndian);
                    headerSize = 12;
                }
                else
                {
                    length = enc.BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(head[6..]) : BinaryPrimitives.ReadUInt16LittleEndian(head[6..]);
                    headerSize = 8;
                }
            }
            else if (IsUpper(head[4]) && IsUpper(head[5]))
            {
                Problem(DicomErrorCode.InvalidVR, "an unknown VR code: read as UN with a 32-bit length", start, tag);
                if (end - start < 12)
                {
                    Truncation(end, tag, "the data ends inside an element header");
                    return;
                }

                vr = DicomVR.UN;
                length = ReadUInt32(_source.Header(start + 8, 4, scratch), enc.BigEndian);
                headerSize = 12;
            }
            else
            {
                Problem(DicomErrorCode.InvalidVR, "an element encoded with implicit VR inside an explicit VR data set", start, tag);
                vr = ImplicitVR(tag);
                length = ReadUInt32(head[4..], enc.BigEndian);
                headerSize = 8;
                implicitHere = true;
            }
        }
        else
        {
            vr = ImplicitVR(tag);
            length = ReadUInt32(head[4..], enc.BigEndian);
            headerSize = 8;
        }

        _pos = start + headerSize;
        bool isPixel = IsPixelTag(tag);
        if (length == Undefined)
        {
            if (tag == DicomTag.PixelData && vr != DicomVR.SQ)
            {
                ReadFragments(ds, tag, vr == DicomVR.OW ? DicomVR.OW : DicomVR.OB, end, enc, depth);
                return;
            }

            if (vr == DicomVR.SQ || vr == DicomVR.UN || implicitHere)
            {
                // PS3.5 §6.2.2: a UN value of undefined length is a sequence encoded in implicit VR little endian.
                Encoding inner = vr == DicomVR.UN && enc.Explicit && !implicitHere ? new Encoding(false, false) : enc;
                Add(ds, ReadSequence(ds, tag, end, sequenceUndefined: true, inner, depth + 1), start);
                return;
            }

            Problem(DicomErrorCode.InvalidLength, "undefined length on a VR that cannot have it: read as a sequence", start, tag);
            Add(ds, ReadSequence(ds, tag, end, sequenceUndefined: true, enc, depth + 1), start);
            return;
        }

        long limit = isPixel && depth == 0 ? _options.MaxPixelBytes : _options.MaxElementLength;
        if (length > limit)
        {
            throw new DicomFormatException(
                isPixel ? DicomErrorCode.PixelDataTooLarge : DicomErrorCode.ValueLengthExceedsData,
                "the declared value length exceeds the configured limit", start, tag);
        }

        if (length > end - _pos)
        {
            ValueBeyondData(end, start, tag);
            return;
        }

        if ((length & 1) != 0)
        {
            Problem(DicomErrorCode.InvalidLength, "an odd value length", start, tag);
        }

        if (vr == DicomVR.SQ)
        {
            Add(ds, ReadSequence(ds, tag, _pos + length, sequenceUndefined: false, enc, depth + 1), start);
            return;
        }

        if (vr == DicomVR.UN && length >= 8 && !isPixel && DicomDictionary.GetVR(tag) == DicomVR.SQ && TryReadUnknownAsSequence(ds, tag, start, length, depth))
        {
            return;
        }

        int count = (int)length;
        if (isPixel && depth == 0 && _options.PixelData == PixelDataLoading.Skip)
        {
            _pos += count;
            return;
        }

        int swap = enc.BigEndian ? ByteSwap.UnitFor(vr) : 1;
        DicomElement element;
        if (isPixel && depth == 0 && _options.PixelData == PixelDataLoading.Lazy && _source.CanDefer)
        {
            _source.MarkDeferred(_pos);
            element = new DicomElement(tag, vr, new DeferredValue(_source.Path!, _pos, count, swap, tag));
        }
        else
        {
            ReadOnlyMemory<byte> value = _source.Take(_pos, count);
            if (swap > 1)
            {
                byte[] copy = value.ToArray();
                ByteSwap.InPlace(copy, swap);
                value = copy;
            }

            element = new DicomElement(tag, vr, value);
        }

        _pos += count;
        Add(ds, element, start);
    }

    /// <summary>
    /// A UN element whose dictionary VR is SQ (a sequence relayed by a system that did not know the tag)
    /// holds implicit VR little endian items (PS3.5 §6.2.2). When the bytes do not parse as items they stay UN.
    /// </summary>
    private bool TryReadUnknownAsSequence(DicomDataset ds, DicomTag tag, long elementStart, uint length, int depth)
    {
        long start = _pos;
        int warningCount = _warnings.Count;
        DicomSequence seq;
        try
        {
            seq = ReadSequence(ds, tag, _pos + length, sequenceUndefined: false, new Encoding(false, false), depth + 1);
        }
        catch (DicomFormatException ex) when (ex.Reason != DicomErrorCode.SequenceTooDeep)
        {
            _stopped = false;
            _pos = start;
            _warnings.RemoveRange(warningCount, _warnings.Count - warningCount);
            return false;
        }

        if (_stopped || _pos != start + length)
        {
            _stopped = false;
            _pos = start;
            _warnings.RemoveRange(warningCount, _warnings.Count - warningCount);
            return false;
        }

        Add(ds, seq, elementStart);
        return true;
    }

    private DicomSequence ReadSequence(DicomDataset parent, DicomTag tag, long end, bool sequenceUndefined, Encoding enc, int depth)
    {
        if (depth > _options.MaxSequenceDepth)
        {
            throw new DicomFormatException(DicomErrorCode.SequenceTooDeep, "sequences are nested deeper than MaxSequenceDepth", _pos, tag);
        }

        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            // A caller on a small stack: refuse before the recursion could exhaust it.
            throw new DicomFormatException(DicomErrorCode.SequenceTooDeep, "sequences are nested deeper than the calling thread's stack allows", _pos, tag);
        }

        Span<byte> scratch = stackalloc byte[16];
        var items = new List<DicomDataset>();
        while (!_stopped)
        {
            if (_pos >= end)
            {
                if (sequenceUndefined)
                {
                    MissingDelimiter(end, "a sequence of undefined length has no sequence delimiter");
                }

                break;
            }

            if (end - _pos < 8)
            {
                Truncation(end, tag, "the data ends inside an item header");
                break;
            }

            ReadOnlySpan<byte> head = _source.Header(_pos, 8, scratch);
            DicomTag itemTag = ReadTag(head, enc.BigEndian);
            uint len = ReadUInt32(head[4..], enc.BigEndian);
            if (itemTag == DicomTag.SequenceDelimitation)
            {
                _pos += 8;
                if (!sequenceUndefined)
                {
                    Problem(DicomErrorCode.InvalidStructure, "a sequence delimiter in a sequence of defined length", _pos - 8, tag);
                    continue;
                }

                break;
            }

            if (itemTag == DicomTag.Item)
            {
                long itemStart = _pos;
                _pos += 8;
                var item = new DicomDataset { Parent = parent };
                if (len == Undefined)
                {
                    ReadDataset(item, end, itemUndefined: true, enc, depth);
                }
                else
                {
                    if (len > end - _pos)
                    {
                        ValueBeyondData(end, itemStart, tag);
                        break;
                    }

                    if ((len & 1) != 0)
                    {
                        Problem(DicomErrorCode.InvalidLength, "an odd item length", itemStart, tag);
                    }

                    ReadDataset(item, _pos + len, itemUndefined: false, enc, depth);
                }

                items.Add(item);
                continue;
            }

            if (sequenceUndefined)
            {
                Problem(DicomErrorCode.InvalidStructure, "a sequence ends without its sequence delimiter", _pos, tag);
                break;
            }

            Problem(DicomErrorCode.InvalidStructure, "an element where a sequence item was expected", _pos, tag);
            _pos = end;
            break;
        }

        return new DicomSequence(tag, items);
    }

    /// <summary>Encapsulated Pixel Data (PS3.5 §A.4): a Basic Offset Table item, fragment items, a sequence delimiter.</summary>
    private void ReadFragments(DicomDataset ds, DicomTag tag, DicomVR vr, long end, Encoding enc, int depth)
    {
        long start = _pos;
        Span<byte> scratch = stackalloc byte[16];
        bool top = depth == 0;
        bool skip = top && _options.PixelData == PixelDataLoading.Skip;
        bool defer = top && _options.PixelData == PixelDataLoading.Lazy && _source.CanDefer;
        uint[] offsetTable = [];
        var offsets = new List<long>();
        var lengths = new List<int>();
        long total = 0;
        bool first = true;
        while (true)
        {
            if (end - _pos < 8)
            {
                if (_pos >= end)
                {
                    MissingDelimiter(end, "encapsulated pixel data has no sequence delimiter");
                }
                else
                {
                    Truncation(end, tag, "the data ends inside a fragment header");
                }

                return;
            }

            ReadOnlySpan<byte> head = _source.Header(_pos, 8, scratch);
            DicomTag itemTag = ReadTag(head, enc.BigEndian);
            uint len = ReadUInt32(head[4..], enc.BigEndian);
            if (itemTag == DicomTag.SequenceDelimitation)
            {
                if (first)
                {
                    Problem(DicomErrorCode.InvalidStructure, "encapsulated pixel data without a basic offset table item", _pos, tag);
                }

                _pos += 8;
                break;
            }

            if (itemTag != DicomTag.Item)
            {
                Problem(DicomErrorCode.InvalidStructure, "encapsulated pixel data ends without its sequence delimiter", _pos, tag);
                break;
            }

            long itemStart = _pos;
            if (len == Undefined)
            {
                throw new DicomFormatException(DicomErrorCode.InvalidLength, "a fragment of undefined length", itemStart, tag);
            }

            if (len > end - (_pos + 8))
            {
                ValueBeyondData(end, itemStart, tag);
                return;
            }

            _pos += 8;
            if (first)
            {
                first = false;
                if (len % 4 != 0)
                {
                    Problem(DicomErrorCode.InvalidLength, "a basic offset table length that is not a multiple of 4: ignored", itemStart, tag);
                }
                else if (len > _options.MaxElementLength)
                {
                    throw new DicomFormatException(DicomErrorCode.ValueLengthExceedsData, "the basic offset table exceeds the configured limit", itemStart, tag);
                }
                else if (len > 0 && !skip)
                {
                    ReadOnlySpan<byte> table = _source.Take(_pos, (int)len).Span;
                    offsetTable = new uint[len / 4];
                    for (int i = 0; i < offsetTable.Length; i++)
                    {
                        offsetTable[i] = ReadUInt32(table[(i * 4)..], enc.BigEndian);
                    }
                }

                _pos += len;
                if (defer)
                {
                    _source.MarkDeferred(_pos);
                }

                continue;
            }

            if ((len & 1) != 0)
            {
                Problem(DicomErrorCode.InvalidLength, "an odd fragment length", itemStart, tag);
            }

            total += len;
            if (total > _options.MaxPixelBytes || len > Array.MaxLength)
            {
                throw new DicomFormatException(DicomErrorCode.PixelDataTooLarge, "encapsulated pixel data exceeds the configured limit", itemStart, tag);
            }

            offsets.Add(_pos);
            lengths.Add((int)len);
            _pos += len;
        }

        if (skip)
        {
            return;
        }

        DicomFragments fragments;
        if (defer)
        {
            fragments = new DicomFragments(offsetTable, new DeferredFragments(_source.Path!, [.. offsets], [.. lengths], tag));
        }
        else
        {
            var values = new ReadOnlyMemory<byte>[offsets.Count];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = _source.Take(offsets[i], lengths[i]);
            }

            fragments = new DicomFragments(offsetTable, values);
        }

        Add(ds, new DicomElement(tag, vr, fragments), start);
    }

    private void Add(DicomDataset ds, DicomElement element, long offset)
    {
        if (!ds.Insert(element, out bool outOfOrder) || outOfOrder)
        {
            Problem(DicomErrorCode.TagOrder, "tags out of ascending order or repeated (the last one is kept)", offset, element.Tag);
        }
    }

    /// <summary>A value or item runs past the data: at the end of the input, tolerant mode keeps what came before.</summary>
    private void ValueBeyondData(long end, long offset, DicomTag tag)
    {
        if (!_strict && end == _source.Length)
        {
            Warn(DicomErrorCode.Truncated, "a value runs past the end of the data: dropped", offset, tag);
            _stopped = true;
            return;
        }

        throw new DicomFormatException(DicomErrorCode.ValueLengthExceedsData, "the declared length is larger than the bytes that remain", offset, tag);
    }

    private void Truncation(long end, DicomTag? tag, string detail)
    {
        if (!_strict && end == _source.Length)
        {
            Warn(DicomErrorCode.Truncated, detail, _pos, tag);
            _stopped = true;
            return;
        }

        throw new DicomFormatException(DicomErrorCode.Truncated, detail, _pos, tag);
    }

    private void MissingDelimiter(long end, string detail)
    {
        if (end == _source.Length)
        {
            Truncation(end, null, detail);
            return;
        }

        Problem(DicomErrorCode.InvalidStructure, detail, _pos, null);
    }

    /// <summary>A deviation: strict mode throws, tolerant mode records a warning and goes on.</summary>
    private void Problem(DicomErrorCode code, string detail, long offset, DicomTag? tag)
    {
        if (_strict)
        {
            throw new DicomFormatException(code, detail, offset, tag);
        }

        Warn(code, detail, offset, tag);
    }

    private void Warn(DicomErrorCode code, string detail, long offset, DicomTag? tag)
    {
        _warningCounts.TryGetValue(code, out int n);
        if (n < MaxWarningsPerCode)
        {
            _warnings.Add(new DicomWarning(code, offset, tag, detail));
        }

        _warningCounts[code] = n + 1;
    }

    /// <summary>True when every byte from <paramref name="from"/> to <paramref name="end"/> is zero (checked in chunks, the first one small).</summary>
    private bool IsZeroPadding(long from, long end)
    {
        Span<byte> scratch = stackalloc byte[16];
        int head = (int)Math.Min(8, end - from);
        if (head <= 0 || _source.Header(from, head, scratch).ContainsAnyExcept((byte)0))
        {
            return false;
        }

        for (long at = from + head; at < end;)
        {
            int chunk = (int)Math.Min(1 << 16, end - at);
            if (_source.Take(at, chunk).Span.ContainsAnyExcept((byte)0))
            {
                return false;
            }

            at += chunk;
        }

        return true;
    }

    private static DicomVR ImplicitVR(DicomTag tag)
    {
        if (tag == DicomTag.PixelData)
        {
            return DicomVR.OW;
        }

        DicomVR vr = DicomDictionary.GetVR(tag);
        return vr == DicomVR.None ? DicomVR.UN : vr;
    }

    private static bool IsPixelTag(DicomTag tag) => tag == DicomTag.PixelData || tag == _floatPixelData || tag == _doublePixelData;

    private static bool IsUpper(byte b) => b >= 'A' && b <= 'Z';

    private static DicomTag ReadTag(ReadOnlySpan<byte> head, bool bigEndian) => bigEndian
        ? new DicomTag(BinaryPrimitives.ReadUInt16BigEndian(head), BinaryPrimitives.ReadUInt16BigEndian(head[2..]))
        : new DicomTag(BinaryPrimitives.ReadUInt16LittleEndian(head), BinaryPrimitives.ReadUInt16LittleEndian(head[2..]));

    private static uint ReadUInt32(ReadOnlySpan<byte> bytes, bool bigEndian) =>
        bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : BinaryPrimitives.ReadUInt32LittleEndian(bytes);

    private readonly record struct Encoding(bool Explicit, bool BigEndian);
}
