using System.Buffers.Binary;
using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace MedTransfer.Dicom;

/// <summary>
/// A DICOM data set (PS3.5 §7): data elements kept in ascending tag order, with typed accessors.
/// Binary values are held little-endian whatever the source transfer syntax. String values are
/// decoded with the data set's Specific Character Set (0008,0005); a sequence item without its own
/// (0008,0005) uses its parent's.
/// </summary>
/// <remarks>
/// Not thread-safe for concurrent writes; concurrent reads are safe. Accessors return null or an
/// empty result for absent elements and throw <see cref="DicomFormatException"/> with
/// <see cref="DicomErrorCode.InvalidValue"/> when a present value cannot be read as the type asked for.
/// </remarks>
public sealed class DicomDataset : IEnumerable<DicomElement>
{
    private const int MaxParentWalk = 1024;
    private static readonly DicomTag _specificCharacterSet = new(0x0008, 0x0005);

    private readonly List<DicomElement> _elements;

    /// <summary>Creates an empty data set.</summary>
    public DicomDataset()
    {
        _elements = [];
    }

    internal DicomDataset(int capacity)
    {
        _elements = new List<DicomElement>(capacity);
    }

    /// <summary>The number of elements.</summary>
    public int Count => _elements.Count;

    /// <summary>The data set that holds this one as a sequence item, used to inherit the character set.</summary>
    internal DicomDataset? Parent { get; set; }

    /// <summary>True when the element is present (even with an empty value).</summary>
    public bool Contains(DicomTag tag) => IndexOf(tag) >= 0;

    /// <summary>Gets the element for <paramref name="tag"/>.</summary>
    public bool TryGetElement(DicomTag tag, [MaybeNullWhen(false)] out DicomElement element)
    {
        int i = IndexOf(tag);
        if (i < 0)
        {
            element = null;
            return false;
        }

        element = _elements[i];
        return true;
    }

    /// <summary>Removes the element; false when it was absent.</summary>
    public bool Remove(DicomTag tag)
    {
        int i = IndexOf(tag);
        if (i < 0)
        {
            return false;
        }

        _elements.RemoveAt(i);
        return true;
    }

    /// <summary>Adds <paramref name="element"/>, replacing any element with the same tag.</summary>
    public void Set(DicomElement element)
    {
        ArgumentNullException.ThrowIfNull(element);
        if (element is DicomSequence seq)
        {
            foreach (DicomDataset item in seq.Items)
            {
                item.Parent = this;
            }
        }

        Insert(element, out _);
    }

    /// <summary>
    /// The whole value as text: string VRs decoded with the Specific Character Set and trailing
    /// space/NUL padding trimmed; binary numbers and AT formatted invariantly and joined with '\';
    /// null when absent, for sequences, encapsulated data and OB/OW/OD/OF/OL/OV values.
    /// </summary>
    public string? GetString(DicomTag tag)
    {
        if (!TryGetElement(tag, out DicomElement? e) || e is DicomSequence || e.IsEncapsulated)
        {
            return null;
        }

        DicomVR vr = EffectiveVR(e);
        ReadOnlySpan<byte> bytes = e.Value.Span;
        if (DicomVRInfo.IsString(vr) || vr == DicomVR.UN)
        {
            string text = DecodeText(bytes, vr);
            return text.TrimEnd(' ', '\0');
        }

        if (vr == DicomVR.AT)
        {
            int n = bytes.Length / 4;
            var parts = new string[n];
            for (int i = 0; i < n; i++)
            {
                parts[i] = new DicomTag(
                    BinaryPrimitives.ReadUInt16LittleEndian(bytes[(i * 4)..]),
                    BinaryPrimitives.ReadUInt16LittleEndian(bytes[((i * 4) + 2)..])).ToString();
            }

            return string.Join('\\', parts);
        }

        if (IsBinaryNumber(vr))
        {
            int n = bytes.Length / DicomVRInfo.ValueSize(vr);
            var parts = new string[n];
            for (int i = 0; i < n; i++)
            {
                parts[i] = vr is DicomVR.SV or DicomVR.UV
                    ? (vr == DicomVR.SV ? BinaryPrimitives.ReadInt64LittleEndian(bytes[(i * 8)..]).ToString(CultureInfo.InvariantCulture)
                        : BinaryPrimitives.ReadUInt64LittleEndian(bytes[(i * 8)..]).ToString(CultureInfo.InvariantCulture))
                    : DicomNumberText.FormatDouble(ReadBinary(bytes, vr, i));
            }

            return string.Join('\\', parts);
        }

        return null;
    }

    /// <summary>The values of a multi-valued string split on '\' (LT, ST, UT and UR are never split), each trimmed; empty when absent.</summary>
    public string[] GetStrings(DicomTag tag)
    {
        string? text = GetString(tag);
        if (string.IsNullOrEmpty(text))
        {
            return [];
        }

        DicomVR vr = TryGetElement(tag, out DicomElement? e) ? EffectiveVR(e) : DicomVR.UN;
        if (vr is DicomVR.LT or DicomVR.ST or DicomVR.UT or DicomVR.UR)
        {
            return [text];
        }

        string[] parts = text.Split('\\');
        for (int i = 0; i < parts.Length; i++)
        {
            parts[i] = parts[i].Trim(' ', '\0');
        }

        return parts;
    }

    /// <summary>
    /// Value <paramref name="index"/> as an integer, from US, SS, UL, SL, SV, UV, IS (and integral DS, FL, FD);
    /// null when absent, empty or when <paramref name="index"/> is past the last value.
    /// </summary>
    /// <exception cref="DicomFormatException">The value is not an integer or does not fit 32 bits (<see cref="DicomErrorCode.InvalidValue"/>).</exception>
    public int? GetInt32(DicomTag tag, int index = 0)
    {
        double? d = GetNumber(tag, index, integral: true);
        if (d is null)
        {
            return null;
        }

        double v = d.Value;
        if (v < int.MinValue || v > int.MaxValue)
        {
            throw new DicomFormatException(DicomErrorCode.InvalidValue, "the value does not fit a 32-bit integer", -1, tag);
        }

        return (int)v;
    }

    /// <summary>Value <paramref name="index"/> as a number, from DS, IS, FL, FD, US, SS, UL, SL, SV, UV, OF, OD; null when absent or past the end.</summary>
    /// <exception cref="DicomFormatException">The value is not a number (<see cref="DicomErrorCode.InvalidValue"/>).</exception>
    public double? GetDouble(DicomTag tag, int index = 0) => GetNumber(tag, index, integral: false);

    /// <summary>All values as numbers; empty when absent.</summary>
    /// <exception cref="DicomFormatException">A value is not a number.</exception>
    public double[] GetDoubles(DicomTag tag)
    {
        if (!TryGetElement(tag, out DicomElement? e) || e is DicomSequence || e.IsEncapsulated)
        {
            return [];
        }

        DicomVR vr = EffectiveVR(e);
        if (IsBinaryNumber(vr))
        {
            ReadOnlySpan<byte> bytes = e.Value.Span;
            var result = new double[bytes.Length / DicomVRInfo.ValueSize(vr)];
            for (int i = 0; i < result.Length; i++)
            {
                result[i] = ReadBinary(bytes, vr, i);
            }

            return result;
        }

        if (vr is DicomVR.DS or DicomVR.IS)
        {
            string[] parts = GetStrings(tag);
            var result = new double[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                result[i] = ParseText(parts[i], tag);
            }

            return result;
        }

        throw new DicomFormatException(DicomErrorCode.InvalidValue, "the VR does not hold numbers", -1, tag);
    }

    /// <summary>The raw value bytes (little-endian for binary VRs); empty when absent, for sequences and encapsulated data.</summary>
    public ReadOnlyMemory<byte> GetBytes(DicomTag tag) =>
        TryGetElement(tag, out DicomElement? e) && e is not DicomSequence && !e.IsEncapsulated ? e.Value : ReadOnlyMemory<byte>.Empty;

    /// <summary>The items of a sequence; empty when absent or not a sequence.</summary>
    public IReadOnlyList<DicomDataset> GetSequence(DicomTag tag) =>
        TryGetElement(tag, out DicomElement? e) && e is DicomSequence s ? s.Items : [];

    /// <summary>The encapsulated fragments of an element (Pixel Data in an encapsulated transfer syntax), or null.</summary>
    public DicomFragments? GetFragments(DicomTag tag) =>
        TryGetElement(tag, out DicomElement? e) ? e.Fragments : null;

    /// <summary>
    /// Sets a value given as text. For string VRs the text is the whole value (use '\' between values)
    /// encoded with the Specific Character Set and padded to even length; for binary numeric VRs it is
    /// parsed as '\'-separated invariant numbers; for AT as '\'-separated tags.
    /// Text is encoded with the Specific Character Set in force at the time of the call: set (0008,0005) first,
    /// and attach a new item to its parent (<see cref="SetSequence"/>) before setting its text so it inherits the parent's.
    /// </summary>
    /// <exception cref="ArgumentException">The VR is SQ, or the text cannot be converted.</exception>
    public void Set(DicomTag tag, DicomVR vr, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (vr is DicomVR.SQ or DicomVR.None)
        {
            throw new ArgumentException("Use SetSequence for SQ; None is not a value VR.", nameof(vr));
        }

        if (IsBinaryNumber(vr))
        {
            if (value.Length == 0)
            {
                SetBytes(tag, vr, ReadOnlyMemory<byte>.Empty);
                return;
            }

            string[] parts = value.Split('\\');
            var numbers = new double[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                if (!DicomNumberText.TryParseDouble(parts[i].Trim(), out numbers[i]))
                {
                    throw new ArgumentException("Not a number.", nameof(value));
                }
            }

            SetNumbers(tag, vr, numbers);
            return;
        }

        if (vr == DicomVR.AT)
        {
            string[] parts = value.Length == 0 ? [] : value.Split('\\');
            byte[] bytes = new byte[parts.Length * 4];
            for (int i = 0; i < parts.Length; i++)
            {
                DicomTag t = DicomTag.Parse(parts[i]);
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 4), t.Group);
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan((i * 4) + 2), t.Element);
            }

            SetBytes(tag, vr, bytes);
            return;
        }

        IReadOnlyList<string> charset = tag == _specificCharacterSet ? [] : GetSpecificCharacterSet();
        byte[] encoded = TextCodec.Encode(value, charset, vr);
        if ((encoded.Length & 1) != 0)
        {
            Array.Resize(ref encoded, encoded.Length + 1);
            encoded[^1] = DicomVRInfo.PaddingByte(vr);
        }

        Insert(new DicomElement(tag, vr, encoded), out _);
    }

    /// <summary>Sets a multi-valued string (values joined with '\'); see <see cref="Set(DicomTag, DicomVR, string)"/>.</summary>
    public void Set(DicomTag tag, DicomVR vr, params string[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        Set(tag, vr, string.Join('\\', values));
    }

    /// <summary>
    /// Sets numbers: binary little-endian for US, SS, UL, SL, SV, UV, FL, FD, OF, OD, OW, OL; text for DS and IS.
    /// </summary>
    /// <exception cref="ArgumentException">The VR is not numeric, or a value is out of range or not integral for an integer VR.</exception>
    public void SetNumbers(DicomTag tag, DicomVR vr, params double[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (vr is DicomVR.DS or DicomVR.IS)
        {
            var parts = new string[values.Length];
            for (int i = 0; i < values.Length; i++)
            {
                double v = values[i];
                if (vr == DicomVR.IS)
                {
                    RequireIntegral(v, int.MinValue, int.MaxValue);
                    parts[i] = ((long)v).ToString(CultureInfo.InvariantCulture);
                }
                else
                {
                    parts[i] = DicomNumberText.FormatDecimal(v);
                }
            }

            Set(tag, vr, string.Join('\\', parts));
            return;
        }

        int size = vr is DicomVR.OW ? 2 : vr is DicomVR.OL ? 4 : IsBinaryNumber(vr) ? DicomVRInfo.ValueSize(vr) : 0;
        if (size == 0)
        {
            throw new ArgumentException("The VR does not hold numbers.", nameof(vr));
        }

        byte[] bytes = new byte[values.Length * size];
        Span<byte> span = bytes;
        for (int i = 0; i < values.Length; i++)
        {
            double v = values[i];
            Span<byte> dest = span.Slice(i * size, size);
            switch (vr)
            {
                case DicomVR.US or DicomVR.OW:
                    RequireIntegral(v, ushort.MinValue, ushort.MaxValue);
                    BinaryPrimitives.WriteUInt16LittleEndian(dest, (ushort)v);
                    break;
                case DicomVR.SS:
                    RequireIntegral(v, short.MinValue, short.MaxValue);
                    BinaryPrimitives.WriteInt16LittleEndian(dest, (short)v);
                    break;
                case DicomVR.UL or DicomVR.OL:
                    RequireIntegral(v, uint.MinValue, uint.MaxValue);
                    BinaryPrimitives.WriteUInt32LittleEndian(dest, (uint)v);
                    break;
                case DicomVR.SL:
                    RequireIntegral(v, int.MinValue, int.MaxValue);
                    BinaryPrimitives.WriteInt32LittleEndian(dest, (int)v);
                    break;
                case DicomVR.SV:
                    RequireIntegral(v, -9.2233720368547758E18, 9.2233720368547748E18);
                    BinaryPrimitives.WriteInt64LittleEndian(dest, (long)v);
                    break;
                case DicomVR.UV:
                    RequireIntegral(v, 0, 1.8446744073709550E19);
                    BinaryPrimitives.WriteUInt64LittleEndian(dest, (ulong)v);
                    break;
                case DicomVR.FL or DicomVR.OF:
                    BinaryPrimitives.WriteSingleLittleEndian(dest, (float)v);
                    break;
                default:
                    BinaryPrimitives.WriteDoubleLittleEndian(dest, v);
                    break;
            }
        }

        Insert(new DicomElement(tag, vr, bytes), out _);
    }

    /// <summary>Sets raw value bytes (binary VRs little-endian). Odd lengths are padded by the writer.</summary>
    /// <exception cref="ArgumentException">The VR is SQ or None.</exception>
    public void SetBytes(DicomTag tag, DicomVR vr, ReadOnlyMemory<byte> bytes)
    {
        if (vr is DicomVR.SQ or DicomVR.None)
        {
            throw new ArgumentException("Use SetSequence for SQ; None is not a value VR.", nameof(vr));
        }

        Insert(new DicomElement(tag, vr, bytes), out _);
    }

    /// <summary>Sets a sequence; the items become children of this data set (character set inheritance).</summary>
    public void SetSequence(DicomTag tag, IEnumerable<DicomDataset> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        Set(new DicomSequence(tag, items));
    }

    /// <summary>Sets encapsulated data (normally Pixel Data with VR OB).</summary>
    public void SetFragments(DicomTag tag, DicomVR vr, DicomFragments fragments) =>
        Insert(new DicomElement(tag, vr, fragments), out _);

    /// <summary>The Specific Character Set (0008,0005) values in force here: this data set's own, else the parent item's, else empty (default repertoire).</summary>
    public IReadOnlyList<string> GetSpecificCharacterSet()
    {
        DicomDataset? ds = this;
        for (int hops = 0; ds is not null && hops < MaxParentWalk; hops++)
        {
            int i = ds.IndexOf(_specificCharacterSet);
            if (i >= 0)
            {
                return DicomCharacterSets.Parse(System.Text.Encoding.Latin1.GetString(ds._elements[i].Value.Span));
            }

            ds = ds.Parent;
        }

        return [];
    }

    /// <inheritdoc />
    public IEnumerator<DicomElement> GetEnumerator() => _elements.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Appends or inserts an element read from a stream; returns false (and replaces) when the tag was already present.</summary>
    internal bool Insert(DicomElement element, out bool outOfOrder)
    {
        outOfOrder = false;
        int n = _elements.Count;
        if (n == 0 || _elements[n - 1].Tag.Value < element.Tag.Value)
        {
            _elements.Add(element);
            return true;
        }

        outOfOrder = true;
        int i = IndexOf(element.Tag);
        if (i >= 0)
        {
            _elements[i] = element;
            return false;
        }

        _elements.Insert(~i, element);
        return true;
    }

    private int IndexOf(DicomTag tag)
    {
        uint key = tag.Value;
        int lo = 0;
        int hi = _elements.Count - 1;
        while (lo <= hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            uint v = _elements[mid].Tag.Value;
            if (v == key)
            {
                return mid;
            }

            if (v < key)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return ~lo;
    }

    private string DecodeText(ReadOnlySpan<byte> bytes, DicomVR vr) =>
        TextCodec.Decode(bytes, GetSpecificCharacterSet(), vr);

    private double? GetNumber(DicomTag tag, int index, bool integral)
    {
        if (index < 0 || !TryGetElement(tag, out DicomElement? e) || e is DicomSequence || e.IsEncapsulated)
        {
            return null;
        }

        DicomVR vr = EffectiveVR(e);
        double value;
        if (IsBinaryNumber(vr))
        {
            ReadOnlySpan<byte> bytes = e.Value.Span;
            int size = DicomVRInfo.ValueSize(vr);
            if (index >= bytes.Length / size)
            {
                return null;
            }

            value = ReadBinary(bytes, vr, index);
        }
        else if (vr is DicomVR.DS or DicomVR.IS)
        {
            string[] parts = GetStrings(tag);
            if (index >= parts.Length || parts[index].Length == 0)
            {
                return null;
            }

            value = ParseText(parts[index], tag);
        }
        else
        {
            throw new DicomFormatException(DicomErrorCode.InvalidValue, "the VR does not hold numbers", -1, tag);
        }

        if (integral && (!double.IsFinite(value) || Math.Floor(value) != value))
        {
            throw new DicomFormatException(DicomErrorCode.InvalidValue, "the value is not an integer", -1, tag);
        }

        return value;
    }

    private static double ParseText(string text, DicomTag tag)
    {
        if (!DicomNumberText.TryParseDouble(text, out double v))
        {
            throw new DicomFormatException(DicomErrorCode.InvalidValue, "the text is not a number", -1, tag);
        }

        return v;
    }

    private static void RequireIntegral(double v, double min, double max)
    {
        if (!double.IsFinite(v) || Math.Floor(v) != v || v < min || v > max)
        {
            throw new ArgumentOutOfRangeException(nameof(v), "The value is not an integer in the VR's range.");
        }
    }

    private static bool IsBinaryNumber(DicomVR vr) => vr is DicomVR.US or DicomVR.SS or DicomVR.UL or DicomVR.SL
        or DicomVR.SV or DicomVR.UV or DicomVR.FL or DicomVR.FD or DicomVR.OF or DicomVR.OD;

    private static double ReadBinary(ReadOnlySpan<byte> bytes, DicomVR vr, int index) => vr switch
    {
        DicomVR.US => BinaryPrimitives.ReadUInt16LittleEndian(bytes[(index * 2)..]),
        DicomVR.SS => BinaryPrimitives.ReadInt16LittleEndian(bytes[(index * 2)..]),
        DicomVR.UL => BinaryPrimitives.ReadUInt32LittleEndian(bytes[(index * 4)..]),
        DicomVR.SL => BinaryPrimitives.ReadInt32LittleEndian(bytes[(index * 4)..]),
        DicomVR.SV => BinaryPrimitives.ReadInt64LittleEndian(bytes[(index * 8)..]),
        DicomVR.UV => BinaryPrimitives.ReadUInt64LittleEndian(bytes[(index * 8)..]),
        DicomVR.FL or DicomVR.OF => BinaryPrimitives.ReadSingleLittleEndian(bytes[(index * 4)..]),
        _ => BinaryPrimitives.ReadDoubleLittleEndian(bytes[(index * 8)..]),
    };

    /// <summary>UN values are interpreted with the dictionary's VR when it knows one (PS3.5 §6.2.2: UN holds the implicit little-endian encoding).</summary>
    private static DicomVR EffectiveVR(DicomElement e)
    {
        if (e.VR != DicomVR.UN)
        {
            return e.VR;
        }

        DicomVR known = DicomDictionary.GetVR(e.Tag);
        return known is DicomVR.SQ or DicomVR.None ? DicomVR.UN : known;
    }
}
