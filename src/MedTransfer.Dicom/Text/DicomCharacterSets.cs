using System.Collections.Concurrent;
using System.Text;

namespace MedTransfer.Dicom;

/// <summary>
/// Decodes and encodes string values under the Specific Character Set (0008,0005): PS3.5 §6.1 and PS3.3 C.12.1.1.2.
/// <list type="bullet">
/// <item>Only SH, LO, ST, PN, LT, UC and UT use the Specific Character Set; every other VR (CS, UI, DA, AE, ...) is
/// the default repertoire, read as Latin-1 so that a stray non-ASCII byte survives a read and re-write.</item>
/// <item>Absent or empty: ISO_IR 6, with bytes above 0x7F read as Latin-1 (tolerance; the standard allows none).</item>
/// <item>ISO_IR 100, 101, 109, 110, 144, 127, 126, 138, 148, 203, 166 and 13 (JIS X 0201); ISO_IR 192 (UTF-8),
/// GB18030 and GBK.</item>
/// <item>Several values: ISO 2022 code extensions. Escape sequences designate ISO-IR 6, 100, ..., 13/14, 87
/// (JIS X 0208), 159 (JIS X 0212), 149 (KS X 1001) and 58 (GB 2312) to G0 or G1 within a value; the initial
/// designation (value 1) returns at CR, LF, TAB, FF and other control characters, at the backslash between values
/// of SH, LO, PN and UC, and at the ^ and = delimiters of PN (PS3.5 §6.1.2.5.3).</item>
/// </list>
/// Nothing here throws on data: bytes that the character set does not define decode to U+FFFD; characters that no
/// listed character set can encode become '?'; an unknown term is read as ISO_IR 100 when it is value 1 and is
/// ignored otherwise (a bad byte in a name must never stop a read). Decode a whole value field first and split on '\' afterwards: in GBK,
/// GB18030 and ISO 2022 multi-byte sets the byte 0x5C can be half of a character.
/// </summary>
internal static class DicomCharacterSets
{
    private const byte Esc = 0x1B;

    private static readonly ConcurrentDictionary<string, Plan> _plans = new(StringComparer.Ordinal);
    private static readonly Plan _default = new(null, CodedCharacterSet.Ascii, null, Latin1Set, [], false);

    /// <summary>ISO-IR 100 as a G1 set (ESC 02/13 04/01).</summary>
    private static CodedCharacterSet Latin1Set => Sets.Latin1;

    /// <summary>
    /// Splits a Specific Character Set value into its terms: split on '\', spaces and NUL padding trimmed; an empty
    /// value 1 is kept (it means ISO-IR 6 with code extensions). Null, empty or blank → no terms.
    /// </summary>
    public static IReadOnlyList<string> Parse(string? specificCharacterSetValue)
    {
        if (string.IsNullOrWhiteSpace(specificCharacterSetValue?.Trim('\0')))
        {
            return [];
        }

        string[] terms = specificCharacterSetValue.Split('\\');
        for (int i = 0; i < terms.Length; i++)
        {
            terms[i] = terms[i].Trim(' ', '\0');
        }

        int count = terms.Length;
        while (count > 1 && terms[count - 1].Length == 0)
        {
            count--;
        }

        return count == terms.Length ? terms : terms[..count];
    }

    /// <summary>
    /// Decodes a value field of <paramref name="vr"/> (all values, with their backslashes; padding included) read
    /// under <paramref name="specificCharacterSet"/> (the terms from <see cref="Parse"/>). Never throws on data.
    /// </summary>
    public static string Decode(ReadOnlySpan<byte> bytes, IReadOnlyList<string> specificCharacterSet, DicomVR vr)
    {
        ArgumentNullException.ThrowIfNull(specificCharacterSet);
        if (bytes.IsEmpty)
        {
            return string.Empty;
        }

        if (!UsesSpecificCharacterSet(vr) || (bytes.IndexOfAnyInRange((byte)0x80, (byte)0xFF) < 0 && bytes.IndexOf(Esc) < 0))
        {
            return Encoding.Latin1.GetString(bytes);
        }

        Plan plan = Resolve(specificCharacterSet);
        return plan.Whole is { } whole ? whole.GetString(bytes) : DecodeIso2022(bytes, plan, vr);
    }

    /// <summary>
    /// Encodes <paramref name="text"/> (all values of <paramref name="vr"/>, joined by '\') under
    /// <paramref name="specificCharacterSet"/>, returning to the initial designation wherever PS3.5 §6.1.2.5.3
    /// requires it. No padding is added. Never throws on data.
    /// </summary>
    public static byte[] Encode(string text, IReadOnlyList<string> specificCharacterSet, DicomVR vr)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(specificCharacterSet);
        if (!UsesSpecificCharacterSet(vr) || System.Text.Ascii.IsValid(text))
        {
            return Encoding.Latin1.GetBytes(text);
        }

        Plan plan = Resolve(specificCharacterSet);
        return plan.Whole is { } whole ? whole.GetBytes(text) : EncodeIso2022(text, plan, vr);
    }

    /// <summary>True for the VRs whose character repertoire the Specific Character Set extends or replaces (PS3.5 §6.1.2.2).</summary>
    public static bool UsesSpecificCharacterSet(DicomVR vr) => vr is DicomVR.SH or DicomVR.LO or DicomVR.ST or DicomVR.PN
        or DicomVR.LT or DicomVR.UC or DicomVR.UT;

    private static bool IsDelimiter(int c, DicomVR vr) =>
        (c == '\\' && vr is DicomVR.SH or DicomVR.LO or DicomVR.PN or DicomVR.UC) || ((c == '^' || c == '=') && vr == DicomVR.PN);

    private static Plan Resolve(IReadOnlyList<string> terms)
    {
        if (terms.Count == 0)
        {
            return _default;
        }

        string key = string.Join('\\', terms);
        if (_plans.TryGetValue(key, out Plan? cached))
        {
            return cached;
        }

        Plan plan = Build(terms);
        if (_plans.Count < 256)
        {
            _plans.TryAdd(key, plan);
        }

        return plan;
    }

    private static Plan Build(IReadOnlyList<string> terms)
    {
        var known = new List<Term>(terms.Count);
        bool extensions = terms.Count > 1;
        for (int i = 0; i < terms.Count; i++)
        {
            string normalized = Normalize(terms[i] ?? string.Empty);
            extensions |= normalized.StartsWith("ISO2022", StringComparison.Ordinal);
            if (Sets.Terms.TryGetValue(normalized, out Term? term))
            {
                known.Add(term);
            }
            else if (i == 0)
            {
                known.Add(Sets.Terms["ISOIR100"]);
            }
        }

        // UTF-8, GB18030 and GBK admit no code extensions: one of them anywhere wins (value 1 in a valid data set).
        foreach (Term term in known)
        {
            if (term.Whole is { } whole)
            {
                return new Plan(whole, CodedCharacterSet.Ascii, null, Latin1Set, [], false);
            }
        }

        Term first = known[0];
        CodedCharacterSet initialG0 = first.G0 is { BytesPerCharacter: 1 } g0 ? g0 : CodedCharacterSet.Ascii;
        CodedCharacterSet? initialG1 = first.G1;
        var available = new List<CodedCharacterSet>();
        foreach (Term term in known)
        {
            foreach (CodedCharacterSet? set in (ReadOnlySpan<CodedCharacterSet?>)[term.G1, term.G0])
            {
                if (set is not null && !available.Contains(set))
                {
                    available.Add(set);
                }
            }
        }

        CodedCharacterSet fallbackG1 = initialG1 ?? available.Find(s => s.Element == CodeElement.G1) ?? Latin1Set;
        return new Plan(null, initialG0, initialG1, fallbackG1, [.. available], extensions);
    }

    /// <summary>"ISO_IR 100", "ISO-IR 100", "iso_ir100" → "ISOIR100".</summary>
    private static string Normalize(string term)
    {
        var builder = new StringBuilder(term.Length);
        foreach (char c in term)
        {
            if (c is not (' ' or '_' or '-' or '\0'))
            {
                builder.Append(char.ToUpperInvariant(c));
            }
        }

        return builder.ToString();
    }

    private static string DecodeIso2022(ReadOnlySpan<byte> bytes, Plan plan, DicomVR vr)
    {
        var output = new StringBuilder(bytes.Length);
        CodedCharacterSet g0 = plan.InitialG0;
        CodedCharacterSet? g1 = plan.InitialG1;
        int i = 0;
        while (i < bytes.Length)
        {
            byte b = bytes[i];
            if (b == Esc)
            {
                i += ReadEscape(bytes[i..], ref g0, ref g1, output);
                continue;
            }

            if (b < 0x20)
            {
                output.Append((char)b);
                g0 = plan.InitialG0;
                g1 = plan.InitialG1;
                i++;
                continue;
            }

            if (b < 0x80)
            {
                if (g0.BytesPerCharacter == 2 && b is > 0x20 and < 0x7F)
                {
                    if (i + 1 < bytes.Length && bytes[i + 1] is > 0x20 and < 0x7F)
                    {
                        g0.DecodePair(b, bytes[i + 1], output);
                        i += 2;
                    }
                    else
                    {
                        output.Append('\uFFFD');
                        i++;
                    }

                    continue;
                }

                if (g0 == CodedCharacterSet.JisKatakana)
                {
                    output.Append(g0.DecodeUpper((byte)(b | 0x80)));
                }
                else if (IsDelimiter(b, vr))
                {
                    output.Append((char)b);
                    g0 = plan.InitialG0;
                    g1 = plan.InitialG1;
                }
                else
                {
                    output.Append((char)b);
                }

                i++;
                continue;
            }

            CodedCharacterSet upper = g1 ?? plan.FallbackG1;
            if (upper.BytesPerCharacter == 2 && b is >= 0xA1 and <= 0xFE)
            {
                if (i + 1 < bytes.Length && bytes[i + 1] is >= 0xA1 and <= 0xFE)
                {
                    upper.DecodePair((byte)(b & 0x7F), (byte)(bytes[i + 1] & 0x7F), output);
                    i += 2;
                }
                else
                {
                    output.Append('\uFFFD');
                    i++;
                }

                continue;
            }

            output.Append(upper.BytesPerCharacter == 2 ? (b < 0xA0 ? (char)b : '\uFFFD') : upper.DecodeUpper(b));
            i++;
        }

        return output.ToString();
    }

    /// <summary>
    /// Reads the escape sequence at the start of <paramref name="bytes"/> (ESC, intermediate bytes 02/00-02/15, a
    /// final byte 03/00-07/14) and applies it; returns the bytes consumed. An unknown or truncated sequence is
    /// skipped and leaves one U+FFFD.
    /// </summary>
    private static int ReadEscape(ReadOnlySpan<byte> bytes, ref CodedCharacterSet g0, ref CodedCharacterSet? g1, StringBuilder output)
    {
        int end = 1;
        while (end < bytes.Length && end < 5 && bytes[end] is >= 0x20 and <= 0x2F)
        {
            end++;
        }

        if (end >= bytes.Length || bytes[end] is < 0x30 or > 0x7E)
        {
            output.Append('\uFFFD');
            return Math.Max(1, Math.Min(end, bytes.Length));
        }

        end++;
        if (Sets.Designations.TryGetValue(Key(bytes[1..end]), out Designation designation))
        {
            if (designation.Element == CodeElement.G0)
            {
                g0 = designation.Set;
            }
            else
            {
                g1 = designation.Set;
            }
        }
        else
        {
            output.Append('\uFFFD');
        }

        return end;
    }

    private static byte[] EncodeIso2022(string text, Plan plan, DicomVR vr)
    {
        var output = new List<byte>(text.Length * 2);
        CodedCharacterSet g0 = plan.InitialG0;
        CodedCharacterSet? g1 = plan.InitialG1;
        Span<byte> gl = stackalloc byte[2];
        int i = 0;
        while (i < text.Length)
        {
            int length = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            ReadOnlySpan<char> character = text.AsSpan(i, length);
            i += length;
            char c = character[0];

            if (c < 0x20 || IsDelimiter(c, vr))
            {
                ReturnToInitial(output, plan, ref g0, ref g1);
                output.Add((byte)c);
                g1 = plan.InitialG1;
                continue;
            }

            if (c < 0x80)
            {
                EnsureSingleByteG0(output, plan, ref g0);
                output.Add((byte)c);
                continue;
            }

            if (!TryEncodeExtended(character, plan, output, ref g0, ref g1, gl))
            {
                EnsureSingleByteG0(output, plan, ref g0);
                output.Add((byte)'?');
            }
        }

        ReturnToInitial(output, plan, ref g0, ref g1);
        return [.. output];
    }

    /// <summary>
    /// Encodes a non-ASCII character with the first set that has it, in this order: the set in G1, the double-byte
    /// set in G0, value 1's G1 set, then the sets of the other values in their order; designates it when needed.
    /// </summary>
    private static bool TryEncodeExtended(ReadOnlySpan<char> character, Plan plan, List<byte> output, ref CodedCharacterSet g0, ref CodedCharacterSet? g1, Span<byte> gl)
    {
        foreach (CodedCharacterSet? candidate in (ReadOnlySpan<CodedCharacterSet?>)[g1, g0.BytesPerCharacter == 2 ? g0 : null, plan.InitialG1])
        {
            if (candidate is not null && TryEmit(candidate, character, plan, output, ref g0, ref g1, gl))
            {
                return true;
            }
        }

        foreach (CodedCharacterSet candidate in plan.Available)
        {
            if (TryEmit(candidate, character, plan, output, ref g0, ref g1, gl))
            {
                return true;
            }
        }

        return false;
    }

    private static bool TryEmit(CodedCharacterSet set, ReadOnlySpan<char> character, Plan plan, List<byte> output, ref CodedCharacterSet g0, ref CodedCharacterSet? g1, Span<byte> gl)
    {
        bool designated = set.Element == CodeElement.G0 ? g0 == set : g1 == set;
        if ((!designated && !plan.CodeExtensions) || !set.TryEncode(character, gl, out int written))
        {
            return false;
        }

        if (!designated)
        {
            output.AddRange(set.Escape);
            if (set.Element == CodeElement.G0)
            {
                g0 = set;
            }
            else
            {
                g1 = set;
            }
        }

        byte high = set.Element == CodeElement.G1 ? (byte)0x80 : (byte)0;
        for (int k = 0; k < written; k++)
        {
            output.Add((byte)(gl[k] | high));
        }

        return true;
    }

    private static void EnsureSingleByteG0(List<byte> output, Plan plan, ref CodedCharacterSet g0)
    {
        if (g0 != plan.InitialG0)
        {
            output.AddRange(plan.InitialG0.Escape);
            g0 = plan.InitialG0;
        }
    }

    private static void ReturnToInitial(List<byte> output, Plan plan, ref CodedCharacterSet g0, ref CodedCharacterSet? g1)
    {
        EnsureSingleByteG0(output, plan, ref g0);
        if (g1 != plan.InitialG1 && plan.InitialG1 is { } initialG1)
        {
            output.AddRange(initialG1.Escape);
            g1 = initialG1;
        }
    }

    private static string Key(ReadOnlySpan<byte> intermediatesAndFinal) => Encoding.ASCII.GetString(intermediatesAndFinal);

    /// <summary>How a Specific Character Set resolves: a whole-value encoding, or ISO 2022 designations.</summary>
    private sealed record Plan(
        Encoding? Whole,
        CodedCharacterSet InitialG0,
        CodedCharacterSet? InitialG1,
        CodedCharacterSet FallbackG1,
        CodedCharacterSet[] Available,
        bool CodeExtensions);

    /// <summary>What one Defined Term designates (PS3.3 Tables C.12-2 to C.12-5).</summary>
    private sealed record Term(CodedCharacterSet? G0, CodedCharacterSet? G1, Encoding? Whole);

    private readonly record struct Designation(CodedCharacterSet Set, CodeElement Element);

    /// <summary>The character sets and Defined Terms, built once.</summary>
    private static class Sets
    {
        public static readonly CodedCharacterSet Latin1 = CodedCharacterSet.UpperHalf("ISO-IR 100", 0x41, 28591);

        private static readonly CodedCharacterSet[] _upperHalves =
        [
            Latin1,
            CodedCharacterSet.UpperHalf("ISO-IR 101", 0x42, 28592),
            CodedCharacterSet.UpperHalf("ISO-IR 109", 0x43, 28593),
            CodedCharacterSet.UpperHalf("ISO-IR 110", 0x44, 28594),
            CodedCharacterSet.UpperHalf("ISO-IR 144", 0x4C, 28595),
            CodedCharacterSet.UpperHalf("ISO-IR 127", 0x47, 28596),
            CodedCharacterSet.UpperHalf("ISO-IR 126", 0x46, 28597),
            CodedCharacterSet.UpperHalf("ISO-IR 138", 0x48, 28598),
            CodedCharacterSet.UpperHalf("ISO-IR 148", 0x4D, 28599),
            CodedCharacterSet.UpperHalf("ISO-IR 203", 0x62, 28605),
            CodedCharacterSet.UpperHalf("ISO-IR 166", 0x54, 874),
        ];

        public static readonly Dictionary<string, Term> Terms = BuildTerms();

        public static readonly Dictionary<string, Designation> Designations = BuildDesignations();

        private static Dictionary<string, Term> BuildTerms()
        {
            var terms = new Dictionary<string, Term>(StringComparer.Ordinal);
            void Add(string number, Term term)
            {
                terms[$"ISOIR{number}"] = term;
                terms[$"ISO2022IR{number}"] = term;
            }

            Add("6", new Term(CodedCharacterSet.Ascii, null, null));
            terms[string.Empty] = new Term(CodedCharacterSet.Ascii, null, null);
            foreach (CodedCharacterSet set in _upperHalves)
            {
                Add(set.Name["ISO-IR ".Length..], new Term(CodedCharacterSet.Ascii, set, null));
            }

            Add("13", new Term(CodedCharacterSet.JisRomaji, CodedCharacterSet.JisKatakana, null));
            Add("87", new Term(CodedCharacterSet.JisX0208, null, null));
            Add("159", new Term(CodedCharacterSet.JisX0212, null, null));
            Add("149", new Term(null, CodedCharacterSet.KsX1001, null));
            Add("58", new Term(null, CodedCharacterSet.Gb2312, null));
            terms["ISOIR192"] = new Term(null, null, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false));
            terms["GB18030"] = new Term(null, null, CodePages.Get(54936, new EncoderReplacementFallback("?"), new DecoderReplacementFallback("\uFFFD")));
            terms["GBK"] = new Term(null, null, CodePages.Get(936, new EncoderReplacementFallback("?"), new DecoderReplacementFallback("\uFFFD")));
            return terms;
        }

        private static Dictionary<string, Designation> BuildDesignations()
        {
            var designations = new Dictionary<string, Designation>(StringComparer.Ordinal);
            void Add(CodedCharacterSet set, CodeElement element, string sequence) => designations[sequence] = new Designation(set, element);

            foreach (CodedCharacterSet set in (CodedCharacterSet[])[.. _upperHalves, CodedCharacterSet.Ascii, CodedCharacterSet.JisRomaji,
                CodedCharacterSet.JisKatakana, CodedCharacterSet.JisX0208, CodedCharacterSet.JisX0212, CodedCharacterSet.KsX1001, CodedCharacterSet.Gb2312])
            {
                Add(set, set.Element, Key(set.Escape.AsSpan(1)));
            }

            // Tolerated alternatives seen in the wild: katakana in G0, JIS C 6226-1978 for JIS X 0208,
            // and the ISO 2022 spellings of JIS X 0208 and KS X 1001 / GB 2312 in G0.
            Add(CodedCharacterSet.JisKatakana, CodeElement.G0, "(I");
            Add(CodedCharacterSet.JisX0208, CodeElement.G0, "$@");
            Add(CodedCharacterSet.JisX0208, CodeElement.G0, "$(B");
            Add(CodedCharacterSet.KsX1001, CodeElement.G0, "$(C");
            Add(CodedCharacterSet.Gb2312, CodeElement.G0, "$(A");
            Add(CodedCharacterSet.Ascii, CodeElement.G1, ")B");
            return designations;
        }
    }
}
