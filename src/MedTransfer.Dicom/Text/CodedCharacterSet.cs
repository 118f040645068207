using System.Text;

namespace MedTransfer.Dicom;

/// <summary>Which code element a character set is designated to (PS3.5 §6.1.2.5, ISO/IEC 2022).</summary>
internal enum CodeElement
{
    /// <summary>G0, invoked in GL (bytes 0x21-0x7E).</summary>
    G0,

    /// <summary>G1, invoked in GR (bytes 0xA0-0xFF).</summary>
    G1,
}

/// <summary>
/// One registered graphic character set (ISO-IR number) as DICOM uses it: the code element it is designated to,
/// its designation escape sequence (PS3.3 Tables C.12-3 and C.12-4), and how a character maps to bytes.
/// Single-byte sets keep a 128-entry table of the upper half; double-byte sets go through the EUC form of the
/// same repertoire in .NET's code-page provider (JIS X 0208 → EUC-JP, KS X 1001 → EUC-KR, GB 2312 → GBK restricted
/// to its GB 2312 rows).
/// </summary>
internal sealed class CodedCharacterSet
{
    private static readonly EncoderFallback _encodeNothing = new EncoderReplacementFallback(string.Empty);
    private static readonly DecoderFallback _decodeReplacement = new DecoderReplacementFallback("\uFFFD");

    private readonly Lazy<char[]>? _upperHalf;
    private readonly Lazy<Dictionary<char, byte>>? _upperHalfReverse;
    private readonly Lazy<Encoding?>? _euc;

    private CodedCharacterSet(string name, CodeElement element, byte[] escape, int bytesPerCharacter, Func<char[]>? upperHalf, int eucCodePage)
    {
        Name = name;
        Element = element;
        Escape = escape;
        BytesPerCharacter = bytesPerCharacter;
        if (upperHalf is not null)
        {
            _upperHalf = new Lazy<char[]>(upperHalf);
            _upperHalfReverse = new Lazy<Dictionary<char, byte>>(() => Reverse(_upperHalf.Value));
        }

        if (eucCodePage != 0)
        {
            _euc = new Lazy<Encoding?>(() => CodePages.Get(eucCodePage, _encodeNothing, _decodeReplacement));
        }
    }

    /// <summary>ISO-IR 6, ASCII (G0).</summary>
    public static CodedCharacterSet Ascii { get; } = new("ISO-IR 6", CodeElement.G0, [0x1B, 0x28, 0x42], 1, null, 0);

    /// <summary>
    /// ISO-IR 14, JIS X 0201 romaji (G0). Decoded and encoded as ASCII: 05/12 stays a backslash (not YEN SIGN) and
    /// 07/14 a tilde, so that the value delimiter survives decoding (PS3.5 §H.1.1 note 3).
    /// </summary>
    public static CodedCharacterSet JisRomaji { get; } = new("ISO-IR 14", CodeElement.G0, [0x1B, 0x28, 0x4A], 1, null, 0);

    /// <summary>ISO-IR 13, JIS X 0201 katakana (G1): 0xA1-0xDF → U+FF61-U+FF9F.</summary>
    public static CodedCharacterSet JisKatakana { get; } = new("ISO-IR 13", CodeElement.G1, [0x1B, 0x29, 0x49], 1, KatakanaTable, 0);

    /// <summary>ISO-IR 87, JIS X 0208 (G0, two bytes).</summary>
    public static CodedCharacterSet JisX0208 { get; } = new("ISO-IR 87", CodeElement.G0, [0x1B, 0x24, 0x42], 2, null, 20932);

    /// <summary>ISO-IR 159, JIS X 0212 (G0, two bytes). .NET has no mapping for it: its characters decode to U+FFFD.</summary>
    public static CodedCharacterSet JisX0212 { get; } = new("ISO-IR 159", CodeElement.G0, [0x1B, 0x24, 0x28, 0x44], 2, null, 0);

    /// <summary>ISO-IR 149, KS X 1001 (G1, two bytes).</summary>
    public static CodedCharacterSet KsX1001 { get; } = new("ISO-IR 149", CodeElement.G1, [0x1B, 0x24, 0x29, 0x43], 2, null, 51949);

    /// <summary>ISO-IR 58, GB 2312 (G1, two bytes).</summary>
    public static CodedCharacterSet Gb2312 { get; } = new("ISO-IR 58", CodeElement.G1, [0x1B, 0x24, 0x29, 0x41], 2, null, 936);

    /// <summary>The registration, e.g. "ISO-IR 100".</summary>
    public string Name { get; }

    /// <summary>The code element the set is designated to.</summary>
    public CodeElement Element { get; }

    /// <summary>The escape sequence that designates the set to <see cref="Element"/>.</summary>
    public byte[] Escape { get; }

    /// <summary>1 or 2.</summary>
    public int BytesPerCharacter { get; }

    /// <summary>A single-byte G1 set (one of the ISO 8859 parts, or TIS 620) given by the code page holding it in its upper half.</summary>
    public static CodedCharacterSet UpperHalf(string name, byte finalByte, int codePage) =>
        new(name, CodeElement.G1, [0x1B, 0x2D, finalByte], 1, () => CodePageTable(codePage), 0);

    /// <summary>Decodes one byte 0x80-0xFF of a single-byte G1 set; U+FFFD when the set has no character there.</summary>
    public char DecodeUpper(byte value) => _upperHalf is null ? '\uFFFD' : _upperHalf.Value[value & 0x7F];

    /// <summary>
    /// Decodes a double-byte character given in its GL form (both bytes 0x21-0x7E) into <paramref name="output"/>;
    /// U+FFFD when the set has no mapping for it.
    /// </summary>
    public void DecodePair(byte first, byte second, StringBuilder output)
    {
        Encoding? euc = _euc?.Value;
        if (euc is null)
        {
            output.Append('\uFFFD');
            return;
        }

        ReadOnlySpan<byte> pair = [(byte)(first | 0x80), (byte)(second | 0x80)];
        Span<char> chars = stackalloc char[4];
        int count = euc.GetChars(pair, chars);
        if (count == 0)
        {
            output.Append('\uFFFD');
        }
        else
        {
            output.Append(chars[..count]);
        }
    }

    /// <summary>
    /// Encodes one character (a UTF-16 code unit or a surrogate pair) into <paramref name="gl"/> as the set's GL
    /// bytes (for a G1 set the caller adds 0x80); false when the set cannot represent it.
    /// </summary>
    public bool TryEncode(ReadOnlySpan<char> character, Span<byte> gl, out int written)
    {
        written = 0;
        if (BytesPerCharacter == 1)
        {
            if (character.Length != 1 || _upperHalfReverse is null || !_upperHalfReverse.Value.TryGetValue(character[0], out byte upper))
            {
                return false;
            }

            gl[0] = (byte)(upper & 0x7F);
            written = 1;
            return true;
        }

        Encoding? euc = _euc?.Value;
        if (euc is null)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[8];
        int count = euc.GetBytes(character, bytes);
        if (count != 2 || bytes[0] < 0xA1 || bytes[0] > 0xFE || bytes[1] < 0xA1 || bytes[1] > 0xFE)
        {
            return false;
        }

        // Best-fit mappings would silently change the character: accept only an exact round trip.
        Span<char> back = stackalloc char[4];
        int backCount = euc.GetChars(bytes[..2], back);
        if (!back[..backCount].SequenceEqual(character))
        {
            return false;
        }

        gl[0] = (byte)(bytes[0] & 0x7F);
        gl[1] = (byte)(bytes[1] & 0x7F);
        written = 2;
        return true;
    }

    /// <inheritdoc />
    public override string ToString() => Name;

    private static char[] CodePageTable(int codePage)
    {
        var table = new char[128];
        for (int i = 0; i < 32; i++)
        {
            table[i] = (char)(0x80 + i); // C1 controls, as in every ISO 8859 part.
        }

        Encoding? encoding = codePage == 28591 ? Encoding.Latin1 : CodePages.Get(codePage, _encodeNothing, _decodeReplacement);
        Span<byte> one = stackalloc byte[1];
        Span<char> chars = stackalloc char[2];
        for (int i = 32; i < 128; i++)
        {
            if (encoding is null)
            {
                table[i] = '\uFFFD';
                continue;
            }

            one[0] = (byte)(0x80 + i);
            int count = encoding.GetChars(one, chars);
            table[i] = count == 1 ? chars[0] : '\uFFFD';
        }

        return table;
    }

    private static char[] KatakanaTable()
    {
        var table = new char[128];
        for (int i = 0; i < 128; i++)
        {
            table[i] = i switch
            {
                < 32 => (char)(0x80 + i),
                >= 0x21 and <= 0x5F => (char)(0xFF61 + i - 0x21),
                _ => '\uFFFD',
            };
        }

        return table;
    }

    private static Dictionary<char, byte> Reverse(char[] table)
    {
        var reverse = new Dictionary<char, byte>();
        for (int i = 0; i < table.Length; i++)
        {
            if (table[i] != '\uFFFD')
            {
                reverse.TryAdd(table[i], (byte)(0x80 + i));
            }
        }

        return reverse;
    }
}

/// <summary>Access to the code pages of <see cref="CodePagesEncodingProvider"/> without registering it globally.</summary>
internal static class CodePages
{
    /// <summary>The code page with the given fallbacks, or null when this runtime does not have it.</summary>
    public static Encoding? Get(int codePage, EncoderFallback encoderFallback, DecoderFallback decoderFallback)
    {
        try
        {
            return CodePagesEncodingProvider.Instance.GetEncoding(codePage, encoderFallback, decoderFallback);
        }
        catch (NotSupportedException)
        {
            return null;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
