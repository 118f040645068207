using System.Text;
using Xunit;

namespace MedTransfer.Dicom.Tests.Text;

/// <summary>
/// PS3.5 §6.1 and Annexes H-K. The expected bytes are those the standard prints in its examples, written here in
/// the standard's column/row notation where it uses it (e.g. 01/11 = ESC) so they can be compared by eye.
/// </summary>
public sealed class DicomCharacterSetsTests
{
    private static readonly string[] _japanese = ["", "ISO 2022 IR 87"];

    [Fact]
    public void Parse_NullEmptyOrBlank_GivesNoTerms()
    {
        Assert.Empty(DicomCharacterSets.Parse(null));
        Assert.Empty(DicomCharacterSets.Parse(string.Empty));
        Assert.Empty(DicomCharacterSets.Parse("  "));
    }

    [Fact]
    public void Parse_MultiValued_KeepsAnEmptyFirstValueAndTrimsPadding()
    {
        Assert.Equal(new[] { "ISO_IR 100" }, DicomCharacterSets.Parse("ISO_IR 100 "));
        Assert.Equal(new[] { "", "ISO 2022 IR 87" }, DicomCharacterSets.Parse("\\ISO 2022 IR 87 "));
        Assert.Equal(new[] { "ISO 2022 IR 13", "ISO 2022 IR 87" }, DicomCharacterSets.Parse("ISO 2022 IR 13\\ISO 2022 IR 87\0"));
    }

    [Fact]
    public void AnnexH31_JapaneseKanjiAndHiragana_EncodesAndDecodesAsTheStandardShows()
    {
        const string text = "Yamada^Tarou=山田^太郎=やまだ^たろう";
        byte[] expected = Bytes(
            "05/09 06/01 06/13 06/01 06/04 06/01 05/14 05/04 06/01 07/02 06/15 07/05 03/13 "
            + "01/11 02/04 04/02 03/11 03/03 04/05 04/04 01/11 02/08 04/02 05/14 "
            + "01/11 02/04 04/02 04/02 04/00 04/15 03/10 01/11 02/08 04/02 03/13 "
            + "01/11 02/04 04/02 02/04 06/04 02/04 05/14 02/04 04/00 01/11 02/08 04/02 05/14 "
            + "01/11 02/04 04/02 02/04 03/15 02/04 06/13 02/04 02/06 01/11 02/08 04/02");

        Assert.Equal(expected, DicomCharacterSets.Encode(text, _japanese, DicomVR.PN));
        Assert.Equal(text, DicomCharacterSets.Decode(expected, _japanese, DicomVR.PN));
    }

    [Fact]
    public void AnnexH32_JapaneseHalfWidthKatakana_EncodesAndDecodesAsTheStandardShows()
    {
        string[] terms = ["ISO 2022 IR 13", "ISO 2022 IR 87"];
        const string text = "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう";
        byte[] expected = Bytes(
            "13/04 12/15 12/00 13/14 05/14 12/00 13/11 11/03 03/13 "
            + "01/11 02/04 04/02 03/11 03/03 04/05 04/04 01/11 02/08 04/10 05/14 "
            + "01/11 02/04 04/02 04/02 04/00 04/15 03/10 01/11 02/08 04/10 03/13 "
            + "01/11 02/04 04/02 02/04 06/04 02/04 05/14 02/04 04/00 01/11 02/08 04/10 05/14 "
            + "01/11 02/04 04/02 02/04 03/15 02/04 06/13 02/04 02/06 01/11 02/08 04/10");

        Assert.Equal(expected, DicomCharacterSets.Encode(text, terms, DicomVR.PN));
        Assert.Equal(text, DicomCharacterSets.Decode(expected, terms, DicomVR.PN));
    }

    [Fact]
    public void AnnexH_SingleValuedIsoIr13_DecodesHalfWidthKatakana()
    {
        string[] terms = ["ISO_IR 13"];
        byte[] bytes = Bytes("13/04 12/15 12/00 13/14 05/14 12/00 13/11 11/03");
        Assert.Equal("ﾔﾏﾀﾞ^ﾀﾛｳ", DicomCharacterSets.Decode(bytes, terms, DicomVR.PN));
        Assert.Equal(bytes, DicomCharacterSets.Encode("ﾔﾏﾀﾞ^ﾀﾛｳ", terms, DicomVR.PN));
    }

    [Fact]
    public void AnnexI2_KoreanHangulAndHanja_EncodesAndDecodesAsTheStandardShows()
    {
        string[] terms = ["", "ISO 2022 IR 149"];
        const string text = "Hong^Gildong=洪^吉洞=홍^길동";
        byte[] expected = Bytes(
            "04/08 06/15 06/14 06/07 05/14 04/07 06/09 06/12 06/04 06/15 06/14 06/07 03/13 "
            + "01/11 02/04 02/09 04/03 15/11 15/03 05/14 01/11 02/04 02/09 04/03 13/01 12/14 13/04 13/07 03/13 "
            + "01/11 02/04 02/09 04/03 12/08 10/11 05/14 01/11 02/04 02/09 04/03 11/01 14/06 11/05 11/15");

        Assert.Equal(expected, DicomCharacterSets.Encode(text, terms, DicomVR.PN));
        Assert.Equal(text, DicomCharacterSets.Decode(expected, terms, DicomVR.PN));
    }

    [Fact]
    public void AnnexJ1_ChineseUtf8_EncodesAndDecodesAsTheStandardShows()
    {
        string[] terms = ["ISO_IR 192"];
        const string text = "Wang^XiaoDong=王^小東=";
        byte[] expected =
        [
            0x57, 0x61, 0x6e, 0x67, 0x5e, 0x58, 0x69, 0x61, 0x6f, 0x44, 0x6f, 0x6e, 0x67, 0x3d,
            0xe7, 0x8e, 0x8b, 0x5e, 0xe5, 0xb0, 0x8f, 0xe6, 0x9d, 0xb1, 0x3d,
        ];

        Assert.Equal(expected, DicomCharacterSets.Encode(text, terms, DicomVR.PN));
        Assert.Equal(text, DicomCharacterSets.Decode(expected, terms, DicomVR.PN));
    }

    [Theory]
    [InlineData("GB18030")]
    [InlineData("GBK")]
    public void AnnexJ3_ChineseGb18030AndGbk_EncodesAndDecodesAsTheStandardShows(string term)
    {
        const string text = "Wang^XiaoDong=王^小东=";
        byte[] expected =
        [
            0x57, 0x61, 0x6e, 0x67, 0x5e, 0x58, 0x69, 0x61, 0x6f, 0x44, 0x6f, 0x6e, 0x67, 0x3d,
            0xcd, 0xf5, 0x5e, 0xd0, 0xa1, 0xb6, 0xab, 0x3d,
        ];

        Assert.Equal(expected, DicomCharacterSets.Encode(text, [term], DicomVR.PN));
        Assert.Equal(text, DicomCharacterSets.Decode(expected, [term], DicomVR.PN));
    }

    [Fact]
    public void AnnexJ4_Gb18030LongTextWithLineBreaks_Decodes()
    {
        const string text = "The first line includes中文.\r\nThe second line includes中文, too.\r\nThe third line.\r\n";
        byte[] encoded = DicomCharacterSets.Encode(text, ["GB18030"], DicomVR.LT);
        byte[] firstLine = [.. Encoding.ASCII.GetBytes("The first line includes"), 0xd6, 0xd0, 0xce, 0xc4, 0x2e, 0x0d, 0x0a];
        Assert.Equal(firstLine, encoded[..firstLine.Length]);
        Assert.Equal(text, DicomCharacterSets.Decode(encoded, ["GB18030"], DicomVR.LT));
    }

    [Fact]
    public void AnnexK2_ChineseGb2312WithCodeExtensions_EncodesAndDecodesAsTheStandardShows()
    {
        string[] terms = ["", "ISO 2022 IR 58"];
        const string text = "Zhang^XiaoDong=张^小东=";
        byte[] expected =
        [
            0x5A, 0x68, 0x61, 0x6E, 0x67, 0x5E, 0x58, 0x69, 0x61, 0x6F, 0x44, 0x6F, 0x6E, 0x67, 0x3D,
            0x1B, 0x24, 0x29, 0x41, 0xD5, 0xC5, 0x5E, 0x1B, 0x24, 0x29, 0x41, 0xD0, 0xA1, 0xB6, 0xAB, 0x3D,
        ];

        Assert.Equal(expected, DicomCharacterSets.Encode(text, terms, DicomVR.PN));

        // The standard's example ends with one space of padding; decoding keeps it (trimming is the reader's job).
        Assert.Equal(text + " ", DicomCharacterSets.Decode([.. expected, 0x20], terms, DicomVR.PN));
    }

    [Fact]
    public void Section6123_Latin1Example_Decodes()
    {
        byte[] bytes = Bytes("04/07 15/12 06/14 07/04 06/08 06/05 07/02");
        Assert.Equal("Günther", DicomCharacterSets.Decode(bytes, ["ISO_IR 100"], DicomVR.PN));
        Assert.Equal(bytes, DicomCharacterSets.Encode("Günther", ["ISO_IR 100"], DicomVR.PN));
    }

    [Theory]
    [InlineData("ISO_IR 100", "Müller^Françoise", new byte[] { 0x4D, 0xFC, 0x6C, 0x6C, 0x65, 0x72, 0x5E, 0x46, 0x72, 0x61, 0x6E, 0xE7, 0x6F, 0x69, 0x73, 0x65 })]
    [InlineData("ISO_IR 144", "Иванов", new byte[] { 0xB8, 0xD2, 0xD0, 0xDD, 0xDE, 0xD2 })]
    [InlineData("ISO_IR 126", "Διονυσιος", new byte[] { 0xC4, 0xE9, 0xEF, 0xED, 0xF5, 0xF3, 0xE9, 0xEF, 0xF2 })]
    [InlineData("ISO_IR 192", "Ñandú^Zoë", new byte[] { 0xC3, 0x91, 0x61, 0x6E, 0x64, 0xC3, 0xBA, 0x5E, 0x5A, 0x6F, 0xC3, 0xAB })]
    public void SingleValuedCharacterSets_RoundTripWithTheExpectedBytes(string term, string text, byte[] expected)
    {
        Assert.Equal(expected, DicomCharacterSets.Encode(text, [term], DicomVR.PN));
        Assert.Equal(text, DicomCharacterSets.Decode(expected, [term], DicomVR.PN));
    }

    [Theory]
    [InlineData("ISO_IR 101", "Łódź Żółć")]
    [InlineData("ISO_IR 109", "Ħamrun ġgantija")]
    [InlineData("ISO_IR 110", "Ģirts Ķemers")]
    [InlineData("ISO_IR 127", "مرحبا")]
    [InlineData("ISO_IR 138", "שלום")]
    [InlineData("ISO_IR 148", "Şişli Ğ")]
    [InlineData("ISO_IR 203", "€ Œuvre Šárka")]
    [InlineData("ISO_IR 166", "สวัสดี")]
    [InlineData("ISO_IR 13", "ﾔﾏﾀﾞ ﾀﾛｳ")]
    [InlineData("ISO_IR 192", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀")]
    [InlineData("GB18030", "王小东 𠀀")]
    public void SingleValuedCharacterSets_RoundTrip(string term, string text)
    {
        byte[] encoded = DicomCharacterSets.Encode(text, [term], DicomVR.LO);
        Assert.DoesNotContain((byte)'?', encoded);
        Assert.Equal(text, DicomCharacterSets.Decode(encoded, [term], DicomVR.LO));
    }

    [Fact]
    public void CodeExtensions_SwitchG1BetweenLatin1AndCyrillic_AndResetAtLineEnds()
    {
        string[] terms = ["ISO 2022 IR 100", "ISO 2022 IR 144"];
        const string text = "é Иван\r\nü";
        byte[] encoded = DicomCharacterSets.Encode(text, terms, DicomVR.LT);

        // é in the initial G1 (Latin-1); ESC 02/13 04/12 designates Cyrillic; back to Latin-1 before CR.
        byte[] expected = [0xE9, 0x20, 0x1B, 0x2D, 0x4C, 0xB8, 0xD2, 0xD0, 0xDD, 0x1B, 0x2D, 0x41, 0x0D, 0x0A, 0xFC];
        Assert.Equal(expected, encoded);
        Assert.Equal(text, DicomCharacterSets.Decode(encoded, terms, DicomVR.LT));

        // A writer that forgot to switch back: the line end still restores Latin-1 for the reader.
        byte[] careless = [0x1B, 0x2D, 0x4C, 0xB8, 0x0D, 0x0A, 0xFC];
        Assert.Equal("И\r\nü", DicomCharacterSets.Decode(careless, terms, DicomVR.LT));
    }

    [Fact]
    public void CodeExtensions_BackslashEndsAValueOfLO_ButNotOfLT()
    {
        string[] terms = ["ISO 2022 IR 100", "ISO 2022 IR 144"];
        byte[] bytes = [0x1B, 0x2D, 0x4C, 0xB8, 0x5C, 0xFC];
        Assert.Equal("И\\ü", DicomCharacterSets.Decode(bytes, terms, DicomVR.LO));
        Assert.Equal("И\\ќ", DicomCharacterSets.Decode(bytes, terms, DicomVR.LT));
    }

    [Fact]
    public void CodeExtensions_MultipleValuesOfLO_EachReturnToTheInitialSet()
    {
        const string text = "山田\\やまだ";
        byte[] encoded = DicomCharacterSets.Encode(text, _japanese, DicomVR.LO);
        byte[] expected = [0x1B, 0x24, 0x42, 0x3B, 0x33, 0x45, 0x44, 0x1B, 0x28, 0x42, 0x5C, 0x1B, 0x24, 0x42, 0x24, 0x64, 0x24, 0x5E, 0x24, 0x40, 0x1B, 0x28, 0x42];
        Assert.Equal(expected, encoded);
        Assert.Equal(text, DicomCharacterSets.Decode(encoded, _japanese, DicomVR.LO));
    }

    [Fact]
    public void Decode_InvalidUtf8_GivesReplacementCharacters()
    {
        byte[] bytes = [0x41, 0xFF, 0x42, 0xC3, 0x28, 0xE2, 0x82];
        string decoded = DicomCharacterSets.Decode(bytes, ["ISO_IR 192"], DicomVR.PN);
        Assert.StartsWith("A\uFFFDB\uFFFD(", decoded, StringComparison.Ordinal);
        Assert.EndsWith("\uFFFD", decoded, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_TruncatedOrInvalidMultiByteSequences_GiveReplacementCharacters()
    {
        Assert.Equal("\uFFFD", DicomCharacterSets.Decode([0x1B, 0x24, 0x42, 0x3B], _japanese, DicomVR.PN));
        Assert.Equal("A\uFFFD", DicomCharacterSets.Decode([0x41, 0x1B, 0x24], _japanese, DicomVR.PN));
        Assert.Equal("\uFFFDB", DicomCharacterSets.Decode([0x1B, 0x28, 0x5A, 0x42], _japanese, DicomVR.PN));
        Assert.Equal("\uFFFDA", DicomCharacterSets.Decode([0xB0, 0x41], ["", "ISO 2022 IR 149"], DicomVR.PN));
    }

    [Fact]
    public void Decode_JisX0212_IsReplacedButDoesNotDerailTheRest()
    {
        byte[] bytes = [0x1B, 0x24, 0x28, 0x44, 0x30, 0x21, 0x1B, 0x28, 0x42, 0x41];
        Assert.Equal("\uFFFDA", DicomCharacterSets.Decode(bytes, ["", "ISO 2022 IR 159"], DicomVR.PN));
    }

    [Theory]
    [InlineData("ISO_IR 999")]
    [InlineData("LATIN1-ISH")]
    public void Decode_UnknownTerm_FallsBackToLatin1(string term)
    {
        Assert.Equal("Ménard", DicomCharacterSets.Decode([0x4D, 0xE9, 0x6E, 0x61, 0x72, 0x64], [term], DicomVR.PN));
        Assert.Equal(new byte[] { 0x4D, 0xE9, 0x6E, 0x61, 0x72, 0x64 }, DicomCharacterSets.Encode("Ménard", [term], DicomVR.PN));
    }

    [Fact]
    public void Decode_EmptyTermList_IsAsciiWithLatin1Tolerance()
    {
        Assert.Equal("Doe^John", DicomCharacterSets.Decode("Doe^John"u8, [], DicomVR.PN));
        Assert.Equal("Ménard", DicomCharacterSets.Decode([0x4D, 0xE9, 0x6E, 0x61, 0x72, 0x64], [], DicomVR.PN));
        Assert.Equal(string.Empty, DicomCharacterSets.Decode([], [], DicomVR.PN));
    }

    [Theory]
    [InlineData("iso_ir 100")]
    [InlineData("ISO-IR 100")]
    [InlineData("ISO_IR100")]
    public void Decode_SloppilyWrittenTerm_IsRecognised(string term)
    {
        Assert.Equal("Иван", DicomCharacterSets.Decode([0xB8, 0xD2, 0xD0, 0xDD], [term.Replace("100", "144", StringComparison.Ordinal)], DicomVR.PN));
    }

    [Theory]
    [InlineData(DicomVR.CS)]
    [InlineData(DicomVR.UI)]
    [InlineData(DicomVR.DA)]
    [InlineData(DicomVR.AE)]
    public void Decode_VRsOutsideTheSpecificCharacterSet_AreReadByteForByte(DicomVR vr)
    {
        byte[] utf8 = [0xC3, 0xA9];
        Assert.Equal("Ã©", DicomCharacterSets.Decode(utf8, ["ISO_IR 192"], vr));
        Assert.Equal(utf8, DicomCharacterSets.Encode("Ã©", ["ISO_IR 192"], vr));
    }

    [Fact]
    public void Encode_CharacterNoListedSetHas_BecomesQuestionMark()
    {
        Assert.Equal("A?B"u8.ToArray(), DicomCharacterSets.Encode("AИB", ["ISO_IR 100"], DicomVR.LO));
        Assert.Equal("A?B"u8.ToArray(), DicomCharacterSets.Encode("A한B", _japanese, DicomVR.LO));
    }

    [Fact]
    public void Decode_RandomBytesUnderEveryCharacterSet_NeverThrows()
    {
        string[][] termLists =
        [
            [], ["ISO_IR 100"], ["ISO_IR 192"], ["GB18030"], ["GBK"], ["ISO_IR 13"], ["ISO_IR 166"], ["ISO_IR 127"],
            ["", "ISO 2022 IR 87"], ["ISO 2022 IR 13", "ISO 2022 IR 87", "ISO 2022 IR 159"], ["", "ISO 2022 IR 149"],
            ["", "ISO 2022 IR 58"], ["ISO 2022 IR 100", "ISO 2022 IR 144", "ISO 2022 IR 126"], ["nonsense", "more nonsense"],
        ];
        var random = new Random(20260127);
        byte[] buffer = new byte[64];
        for (int round = 0; round < 2000; round++)
        {
            random.NextBytes(buffer);
            if (round % 3 == 0)
            {
                buffer[random.Next(buffer.Length)] = 0x1B;
            }

            foreach (string[] terms in termLists)
            {
                foreach (DicomVR vr in (DicomVR[])[DicomVR.PN, DicomVR.LO, DicomVR.LT])
                {
                    string decoded = DicomCharacterSets.Decode(buffer.AsSpan(0, random.Next(buffer.Length + 1)), terms, vr);
                    _ = DicomCharacterSets.Encode(decoded, terms, vr);
                }
            }
        }
    }

    /// <summary>Parses the standard's "cc/rr" notation (column/row of the code table) into bytes.</summary>
    private static byte[] Bytes(string columnRow) =>
        [.. columnRow.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(cr => (byte)((int.Parse(cr[..2]) << 4) | int.Parse(cr[3..])))];
}
