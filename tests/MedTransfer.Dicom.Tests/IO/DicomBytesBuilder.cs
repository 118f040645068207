using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace MedTransfer.Dicom.Tests.IO;

/// <summary>
/// Writes DICOM bytes by hand, so tests can build well-formed and deliberately malformed streams
/// (lengths that lie, missing delimiters, implicit elements inside explicit data sets) without the writer under test.
/// </summary>
internal sealed class DicomBytesBuilder
{
    public const uint Undefined = 0xFFFFFFFF;

    private readonly ArrayBufferWriter<byte> _out = new();

    public DicomBytesBuilder(bool explicitVR = true, bool bigEndian = false)
    {
        Explicit = explicitVR;
        BigEndian = bigEndian;
    }

    public bool Explicit { get; set; }

    public bool BigEndian { get; set; }

    public long Position => _out.WrittenCount;

    /// <summary>128-byte preamble (zeros unless given) and "DICM".</summary>
    public DicomBytesBuilder Preamble(byte[]? preamble = null)
    {
        byte[] p = new byte[128];
        preamble?.AsSpan(0, Math.Min(128, preamble.Length)).CopyTo(p);
        _out.Write(p);
        _out.Write("DICM"u8);
        return this;
    }

    /// <summary>Explicit VR little endian group 0002 with a correct group length.</summary>
    public DicomBytesBuilder Meta(string transferSyntaxUid)
    {
        var meta = new DicomBytesBuilder(explicitVR: true, bigEndian: false);
        meta.Element(0x0002, 0x0001, "OB", [0, 1]);
        meta.Element(0x0002, 0x0002, "UI", Uid("1.2.840.10008.5.1.4.1.1.7"));
        meta.Element(0x0002, 0x0003, "UI", Uid("1.2.3.4.5"));
        meta.Element(0x0002, 0x0010, "UI", Uid(transferSyntaxUid));
        byte[] body = meta.ToArray();
        var head = new DicomBytesBuilder(explicitVR: true, bigEndian: false);
        head.Element(0x0002, 0x0000, "UL", BitConverter.GetBytes((uint)body.Length));
        _out.Write(head.ToArray());
        _out.Write(body);
        return this;
    }

    public static byte[] Uid(string uid)
    {
        byte[] b = Encoding.ASCII.GetBytes(uid);
        return b.Length % 2 == 0 ? b : [.. b, 0];
    }

    public static byte[] Text(string text)
    {
        byte[] b = Encoding.ASCII.GetBytes(text);
        return b.Length % 2 == 0 ? b : [.. b, (byte)' '];
    }

    public static byte[] UInt16s(params ushort[] values)
    {
        byte[] b = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(i * 2), values[i]);
        }

        return b;
    }

    /// <summary>An element with a correct length. Binary values are given little-endian and swapped here for big endian.</summary>
    public DicomBytesBuilder Element(ushort group, ushort element, string vr, byte[] value, int swapUnit = 0)
    {
        byte[] v = value;
        int unit = swapUnit > 0 ? swapUnit : DefaultSwap(vr);
        if (BigEndian && unit > 1)
        {
            v = (byte[])value.Clone();
            for (int i = 0; i + unit <= v.Length; i += unit)
            {
                Array.Reverse(v, i, unit);
            }
        }

        Header(group, element, vr, (uint)v.Length);
        _out.Write(v);
        return this;
    }

    /// <summary>A header with any length (the caller writes as many value bytes as it likes).</summary>
    public DicomBytesBuilder Header(ushort group, ushort element, string vr, uint length)
    {
        Tag(group, element);
        if (!Explicit)
        {
            UInt32(length);
            return this;
        }

        _out.Write(Encoding.ASCII.GetBytes(vr));
        if (IsLong(vr))
        {
            UInt16(0);
            UInt32(length);
        }
        else
        {
            UInt16(checked((ushort)length));
        }

        return this;
    }

    /// <summary>An implicit-VR header regardless of <see cref="Explicit"/> (vendor quirk).</summary>
    public DicomBytesBuilder ImplicitHeader(ushort group, ushort element, uint length)
    {
        Tag(group, element);
        UInt32(length);
        return this;
    }

    public DicomBytesBuilder SequenceStart(ushort group, ushort element, uint length = Undefined) => Header(group, element, "SQ", length);

    public DicomBytesBuilder Item(uint length = Undefined) => Tag(0xFFFE, 0xE000).UInt32(length);

    public DicomBytesBuilder ItemEnd() => Tag(0xFFFE, 0xE00D).UInt32(0);

    public DicomBytesBuilder SequenceEnd() => Tag(0xFFFE, 0xE0DD).UInt32(0);

    public DicomBytesBuilder Tag(ushort group, ushort element) => UInt16(group).UInt16(element);

    public DicomBytesBuilder UInt16(ushort v)
    {
        Span<byte> b = stackalloc byte[2];
        if (BigEndian)
        {
            BinaryPrimitives.WriteUInt16BigEndian(b, v);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(b, v);
        }

        _out.Write(b);
        return this;
    }

    public DicomBytesBuilder UInt32(uint v)
    {
        Span<byte> b = stackalloc byte[4];
        if (BigEndian)
        {
            BinaryPrimitives.WriteUInt32BigEndian(b, v);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        }

        _out.Write(b);
        return this;
    }

    public DicomBytesBuilder Raw(ReadOnlySpan<byte> bytes)
    {
        _out.Write(bytes);
        return this;
    }

    public byte[] ToArray() => _out.WrittenSpan.ToArray();

    private static bool IsLong(string vr) => vr is "OB" or "OD" or "OF" or "OL" or "OV" or "OW" or "SQ" or "UC" or "UN" or "UR" or "UT" or "SV" or "UV";

    private static int DefaultSwap(string vr) => vr switch
    {
        "US" or "SS" or "OW" or "AT" => 2,
        "UL" or "SL" or "FL" or "OF" or "OL" => 4,
        "FD" or "OD" or "SV" or "UV" or "OV" => 8,
        _ => 1,
    };
}
