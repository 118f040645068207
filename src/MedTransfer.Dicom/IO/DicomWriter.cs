using System.Buffers.Binary;
using System.IO.Compression;

namespace MedTransfer.Dicom;

/// <summary>
/// Writes PS3.10 files: 128 zero bytes of preamble, "DICM", the file meta information (explicit VR little
/// endian with its group length), then the data set in the chosen transfer syntax (PS3.5 §7 and Annex A).
/// Values are padded to even length with the VR's padding byte (PS3.5 §7.1.1); retired group lengths
/// (gggg,0000) and stray group 0002 elements in the data set are not written; encapsulated Pixel Data is
/// written fragment by fragment as held (the writer never transcodes).
/// </summary>
internal static class DicomWriter
{
    /// <summary>Our implementation class UID (PS3.7 Annex D.3.3.2), a UUID-derived UID under 2.25.</summary>
    public const string ImplementationClassUid = "2.25.214087364318203748619022147355196104177";

    /// <summary>Our implementation version name (at most 16 characters).</summary>
    public const string ImplementationVersionName = "MEDTRANSFER_010";

    private const uint Undefined = 0xFFFFFFFF;
    private const int MaxDepth = 1024;

    private static readonly DicomTag _metaGroupLength = new(0x0002, 0x0000);
    private static readonly DicomTag _metaVersion = new(0x0002, 0x0001);
    private static readonly DicomTag _mediaSopClass = new(0x0002, 0x0002);
    private static readonly DicomTag _mediaSopInstance = new(0x0002, 0x0003);
    private static readonly DicomTag _transferSyntaxUid = new(0x0002, 0x0010);
    private static readonly DicomTag _implementationClass = new(0x0002, 0x0012);
    private static readonly DicomTag _implementationVersion = new(0x0002, 0x0013);
    private static readonly DicomTag _sopClass = new(0x0008, 0x0016);
    private static readonly DicomTag _sopInstance = new(0x0008, 0x0018);

    public static void Write(Stream output, DicomFile file, DicomWriteOptions options)
    {
        TransferSyntax syntax = options.TransferSyntax ?? (file.TransferSyntax.IsKnown ? file.TransferSyntax : TransferSyntax.ExplicitVRLittleEndian);
        if (!syntax.IsKnown)
        {
            syntax = TransferSyntax.ExplicitVRLittleEndian;
        }

        CheckPixelEncoding(file.Dataset, syntax);
        var writer = new Writer(output, options.SequenceLength == SequenceLengthEncoding.Defined);
        output.Write(new byte[128]);
        output.Write("DICM"u8);
        DicomDataset meta = BuildMeta(file, syntax);
        writer.WriteDataset(meta, new Syntax(true, false), 0, isMeta: true);
        if (syntax.IsDeflated)
        {
            using var deflate = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true);
            var inner = new Writer(deflate, options.SequenceLength == SequenceLengthEncoding.Defined);
            inner.WriteDataset(file.Dataset, new Syntax(true, false), 0, isMeta: false);
        }
        else
        {
            writer.WriteDataset(file.Dataset, new Syntax(syntax.IsExplicitVR, syntax.IsBigEndian), 0, isMeta: false);
        }

        output.Flush();
    }

    private static void CheckPixelEncoding(DicomDataset dataset, TransferSyntax syntax)
    {
        if (!dataset.TryGetElement(DicomTag.PixelData, out DicomElement? pixels))
        {
            return;
        }

        if (syntax.IsEncapsulated && !pixels.IsEncapsulated)
        {
            throw new InvalidOperationException($"Transfer syntax {syntax.Uid} needs encapsulated Pixel Data, but the data set holds native pixels: encode them with a pixel codec first.");
        }

        if (!syntax.IsEncapsulated && pixels.IsEncapsulated)
        {
            throw new InvalidOperationException($"Transfer syntax {syntax.Uid} needs native Pixel Data, but the data set holds encapsulated fragments: decode them with a pixel codec first.");
        }
    }

    private static DicomDataset BuildMeta(DicomFile file, TransferSyntax syntax)
    {
        var meta = new DicomDataset();
        foreach (DicomElement e in file.FileMeta)
        {
            if (e.Tag.Group == 0x0002 && e.Tag != _metaGroupLength)
            {
                meta.Set(e);
            }
        }

        meta.SetBytes(_metaVersion, DicomVR.OB, new byte[] { 0, 1 });
        CopyIfMissing(meta, _mediaSopClass, file.Dataset, _sopClass);
        CopyIfMissing(meta, _mediaSopInstance, file.Dataset, _sopInstance);
        meta.Set(_transferSyntaxUid, DicomVR.UI, syntax.Uid);
        meta.Set(_implementationClass, DicomVR.UI, ImplementationClassUid);
        meta.Set(_implementationVersion, DicomVR.SH, ImplementationVersionName);
        long length = Writer.Measure(meta, new Syntax(true, false), defined: true, depth: 0, isMeta: true);
        if (length > uint.MaxValue - 1)
        {
            throw new InvalidOperationException("The file meta information is too large.");
        }

        byte[] groupLength = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(groupLength, (uint)length);
        meta.SetBytes(_metaGroupLength, DicomVR.UL, groupLength);
        return meta;
    }

    private static void CopyIfMissing(DicomDataset meta, DicomTag metaTag, DicomDataset dataset, DicomTag source)
    {
        if (!meta.Contains(metaTag) && dataset.TryGetElement(source, out DicomElement? e) && e is not DicomSequence && !e.IsEncapsulated)
        {
            meta.SetBytes(metaTag, DicomVR.UI, e.Value);
        }
    }

    private readonly record struct Syntax(bool Explicit, bool BigEndian);

    private sealed class Writer
    {
        private readonly Stream _out;
        private readonly bool _defined;
        private readonly byte[] _header = new byte[12];

        public Writer(Stream output, bool definedLengths)
        {
            _out = output;
            _defined = definedLengths;
        }

        public static long Measure(DicomDataset ds, Syntax syntax, bool defined, int depth, bool isMeta)
        {
            if (depth > MaxDepth)
            {
                throw new InvalidOperationException("Sequences are nested too deeply to write (a data set inside itself?).");
            }

            long total = 0;
            foreach (DicomElement e in ds)
            {
                if (Skip(e.Tag, isMeta, depth))
                {
                    continue;
                }

                total += MeasureElement(e, syntax, defined, depth);
            }

            return total;
        }

        public void WriteDataset(DicomDataset ds, Syntax syntax, int depth, bool isMeta)
        {
            if (depth > MaxDepth)
            {
                throw new InvalidOperationException("Sequences are nested too deeply to write (a data set inside itself?).");
            }

            foreach (DicomElement e in ds)
            {
                if (Skip(e.Tag, isMeta, depth))
                {
                    continue;
                }

                WriteElement(e, syntax, depth);
            }
        }

        private static bool Skip(DicomTag tag, bool isMeta, int depth)
        {
            if (isMeta)
            {
                return false;
            }

            return tag.Element == 0 || (depth == 0 && tag.Group == 0x0002);
        }

        private static long MeasureElement(DicomElement e, Syntax syntax, bool defined, int depth)
        {
            if (e is DicomSequence seq)
            {
                long content = 0;
                foreach (DicomDataset item in seq.Items)
                {
                    content += 8 + Measure(item, syntax, defined, depth + 1, isMeta: false) + (defined ? 0 : 8);
                }

                return HeaderSize(DicomVR.SQ, syntax) + content + (defined ? 0 : 8);
            }

            if (e.Fragments is { } fragments)
            {
                long content = 8 + (4L * fragments.BasicOffsetTable.Count) + 8;
                foreach (ReadOnlyMemory<byte> f in fragments.Fragments)
                {
                    content += 8 + f.Length + (f.Length & 1);
                }

                return HeaderSize(e.VR, syntax) + content;
            }

            long length = e.Length + (e.Length & 1);
            DicomVR vr = WireVR(e.VR, length, syntax);
            return HeaderSize(vr, syntax) + length;
        }

        private static int HeaderSize(DicomVR vr, Syntax syntax) =>
            !syntax.Explicit ? 8 : DicomVRInfo.HasLongLength(vr) ? 12 : 8;

        /// <summary>A value too long for a 16-bit length field is written as UN (PS3.5 §6.2.2 note).</summary>
        private static DicomVR WireVR(DicomVR vr, long paddedLength, Syntax syntax) =>
            syntax.Explicit && !DicomVRInfo.HasLongLength(vr) && paddedLength > ushort.MaxValue ? DicomVR.UN : vr;

        private void WriteElement(DicomElement e, Syntax syntax, int depth)
        {
            if (e is DicomSequence seq)
            {
                uint length = Undefined;
                if (_defined)
                {
                    length = ToLength(MeasureElement(e, syntax, true, depth) - HeaderSize(DicomVR.SQ, syntax));
                }

                WriteHeader(e.Tag, DicomVR.SQ, length, syntax);
                foreach (DicomDataset item in seq.Items)
                {
                    uint itemLength = _defined ? ToLength(Measure(item, syntax, true, depth + 1, isMeta: false)) : Undefined;
                    WriteItemHeader(DicomTag.Item, itemLength, syntax);
                    WriteDataset(item, syntax, depth + 1, isMeta: false);
                    if (!_defined)
                    {
                        WriteItemHeader(DicomTag.ItemDelimitation, 0, syntax);
                    }
                }

                if (!_defined)
                {
                    WriteItemHeader(DicomTag.SequenceDelimitation, 0, syntax);
                }

                return;
            }

            if (e.Fragments is { } fragments)
            {
                DicomVR vr = e.VR is DicomVR.OB or DicomVR.OW ? e.VR : DicomVR.OB;
                WriteHeader(e.Tag, vr, Undefined, syntax);
                IReadOnlyList<uint> table = fragments.BasicOffsetTable;
                WriteItemHeader(DicomTag.Item, ToLength(4L * table.Count), syntax);
                byte[] entries = new byte[4 * table.Count];
                for (int i = 0; i < table.Count; i++)
                {
                    if (syntax.BigEndian)
                    {
                        BinaryPrimitives.WriteUInt32BigEndian(entries.AsSpan(i * 4), table[i]);
                    }
                    else
                    {
                        BinaryPrimitives.WriteUInt32LittleEndian(entries.AsSpan(i * 4), table[i]);
                    }
                }

                _out.Write(entries);
                foreach (ReadOnlyMemory<byte> f in fragments.Fragments)
                {
                    WriteItemHeader(DicomTag.Item, ToLength(f.Length + (f.Length & 1)), syntax);
                    _out.Write(f.Span);
                    if ((f.Length & 1) != 0)
                    {
                        _out.WriteByte(0);
                    }
                }

                WriteItemHeader(DicomTag.SequenceDelimitation, 0, syntax);
                return;
            }

            ReadOnlyMemory<byte> value = e.Value;
            long padded = value.Length + (value.Length & 1);
            DicomVR wireVR = WireVR(e.VR, padded, syntax);
            WriteHeader(e.Tag, wireVR, ToLength(padded), syntax);
            int swap = syntax.BigEndian ? ByteSwap.UnitFor(e.VR) : 1;
            if (swap > 1)
            {
                byte[] copy = value.ToArray();
                ByteSwap.InPlace(copy, swap);
                _out.Write(copy);
            }
            else
            {
                _out.Write(value.Span);
            }

            if ((value.Length & 1) != 0)
            {
                _out.WriteByte(DicomVRInfo.PaddingByte(e.VR));
            }
        }

        private static uint ToLength(long length) =>
            length is >= 0 and < Undefined ? (uint)length : throw new InvalidOperationException("A value or sequence is too long for a 32-bit DICOM length.");

        private void WriteHeader(DicomTag tag, DicomVR vr, uint length, Syntax syntax)
        {
            Span<byte> h = _header;
            WriteTag(h, tag, syntax.BigEndian);
            if (!syntax.Explicit)
            {
                WriteUInt32(h[4..], length, syntax.BigEndian);
                _out.Write(h[..8]);
                return;
            }

            string code = vr.ToString();
            h[4] = (byte)code[0];
            h[5] = (byte)code[1];
            if (DicomVRInfo.HasLongLength(vr))
            {
                h[6] = 0;
                h[7] = 0;
                WriteUInt32(h[8..], length, syntax.BigEndian);
                _out.Write(h[..12]);
                return;
            }

            if (syntax.BigEndian)
            {
                BinaryPrimitives.WriteUInt16BigEndian(h[6..], checked((ushort)length));
            }
            else
            {
                BinaryPrimitives.WriteUInt16LittleEndian(h[6..], checked((ushort)length));
            }

            _out.Write(h[..8]);
        }

        private void WriteItemHeader(DicomTag tag, uint length, Syntax syntax)
        {
            Span<byte> h = _header;
            WriteTag(h, tag, syntax.BigEndian);
            WriteUInt32(h[4..], length, syntax.BigEndian);
            _out.Write(h[..8]);
        }

        private static void WriteTag(Span<byte> h, DicomTag tag, bool bigEndian)
        {
            if (bigEndian)
            {
                BinaryPrimitives.WriteUInt16BigEndian(h, tag.Group);
                BinaryPrimitives.WriteUInt16BigEndian(h[2..], tag.Element);
            }
            else
            {
                BinaryPrimitives.WriteUInt16LittleEndian(h, tag.Group);
                BinaryPrimitives.WriteUInt16LittleEndian(h[2..], tag.Element);
            }
        }

        private static void WriteUInt32(Span<byte> h, uint value, bool bigEndian)
        {
            if (bigEndian)
            {
                BinaryPrimitives.WriteUInt32BigEndian(h, value);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(h, value);
            }
        }
    }
}
