using System.Globalization;

namespace MedTransfer.Dicom;

/// <summary>
/// A DICOM attribute tag: (group, element), as defined in PS3.5 §7.1.
/// Ordering follows the numeric value, which is the order elements must appear in a data set.
/// </summary>
public readonly record struct DicomTag(ushort Group, ushort Element) : IComparable<DicomTag>
{
    /// <summary>Creates a tag from its 32-bit value 0xGGGGEEEE.</summary>
    public DicomTag(uint value)
        : this((ushort)(value >> 16), (ushort)(value & 0xFFFF))
    {
    }

    /// <summary>The 32-bit value 0xGGGGEEEE.</summary>
    public uint Value => ((uint)Group << 16) | Element;

    /// <summary>True for tags in odd groups (private data elements, PS3.5 §7.8), other than groups 1, 3, 5, 7 and 0xFFFF.</summary>
    public bool IsPrivate => (Group & 1) == 1 && Group > 0x0008 && Group != 0xFFFF;

    /// <summary>True for private creator elements (gggg,0010-00FF) in a private group (PS3.5 §7.8.1).</summary>
    public bool IsPrivateCreator => IsPrivate && Element >= 0x0010 && Element <= 0x00FF;

    /// <summary>Item (FFFE,E000), PS3.5 §7.5.</summary>
    public static DicomTag Item { get; } = new(0xFFFE, 0xE000);

    /// <summary>Item Delimitation Item (FFFE,E00D).</summary>
    public static DicomTag ItemDelimitation { get; } = new(0xFFFE, 0xE00D);

    /// <summary>Sequence Delimitation Item (FFFE,E0DD).</summary>
    public static DicomTag SequenceDelimitation { get; } = new(0xFFFE, 0xE0DD);

    /// <summary>Pixel Data (7FE0,0010).</summary>
    public static DicomTag PixelData { get; } = new(0x7FE0, 0x0010);

    /// <summary>Parses "(0028,0010)", "0028,0010" or "00280010" (hexadecimal).</summary>
    /// <exception cref="FormatException">The text is not a tag.</exception>
    public static DicomTag Parse(string text)
    {
        if (TryParse(text, out DicomTag tag))
        {
            return tag;
        }

        throw new FormatException("Not a DICOM tag: expected (gggg,eeee) or ggggeeee in hexadecimal.");
    }

    /// <summary>Parses a tag without throwing; see <see cref="Parse"/> for the accepted forms.</summary>
    public static bool TryParse(string? text, out DicomTag tag)
    {
        tag = default;
        if (text is null)
        {
            return false;
        }

        string s = text.Trim();
        if (s.StartsWith('(') && s.EndsWith(')'))
        {
            s = s[1..^1];
        }

        s = s.Replace(",", string.Empty, StringComparison.Ordinal);
        if (s.Length != 8 || !uint.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint value))
        {
            return false;
        }

        tag = new DicomTag(value);
        return true;
    }

    /// <inheritdoc />
    public int CompareTo(DicomTag other) => Value.CompareTo(other.Value);

    /// <summary>Formats as "(gggg,eeee)" in upper-case hexadecimal.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"({Group:X4},{Element:X4})");

    /// <summary>Numeric ordering.</summary>
    public static bool operator <(DicomTag left, DicomTag right) => left.Value < right.Value;

    /// <summary>Numeric ordering.</summary>
    public static bool operator >(DicomTag left, DicomTag right) => left.Value > right.Value;

    /// <summary>Numeric ordering.</summary>
    public static bool operator <=(DicomTag left, DicomTag right) => left.Value <= right.Value;

    /// <summary>Numeric ordering.</summary>
    public static bool operator >=(DicomTag left, DicomTag right) => left.Value >= right.Value;
}
