using System.Text;
using MedTransfer.Dicom.Tests.IO;
using MedTransfer.Testing;
using Xunit;

namespace MedTransfer.Dicom.Tests.Security;

/// <summary>One test per kind of hostile input the reader must survive (not DICOM, truncated, lying lengths, deep nesting, oversized pixel modules, ...), with hostile bytes built in code.</summary>
public class DicomReaderSecurityTests
{
    private static readonly DicomReaderOptions Strict = HostileInput.Strict;
    private static readonly DicomReaderOptions Tolerant = HostileInput.Tolerant;

    // ---- A1: not DICOM at all -------------------------------------------------------------

    [Fact]
    public void Read_EmptyInput_ThrowsNotDicom()
    {
        Assert.Equal(DicomErrorCode.NotDicom, Assert.Throws<DicomFormatException>(() => DicomFile.Read(Array.Empty<byte>(), Tolerant)).Reason);
    }

    [Fact]
    public void Open_EmptyFile_ThrowsNotDicom()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            string path = Path.Combine(dir, "empty.dcm");
            File.WriteAllBytes(path, []);
            Assert.Equal(DicomErrorCode.NotDicom, Assert.Throws<DicomFormatException>(() => DicomFile.Open(path)).Reason);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData(0x00)]
    [InlineData(0x41)]
    [InlineData(0xFF)]
    public void Read_TwentyBytes_ThrowsTyped(byte fill)
    {
        byte[] bytes = Enumerable.Repeat(fill, 20).ToArray();
        Assert.Throws<DicomFormatException>(() => DicomFile.Read(bytes, Strict));
        Assert.Throws<DicomFormatException>(() => DicomFile.Read(bytes, Tolerant));
    }

    [Theory]
    [InlineData("png")]
    [InlineData("zip")]
    [InlineData("elf")]
    [InlineData("pdf")]
    public void Read_ForeignFileMagic_ThrowsNotDicom(string kind)
    {
        byte[] magic = kind switch
        {
            "png" => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52],
            "zip" => [0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00],
            "elf" => [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00],
            _ => Encoding.ASCII.GetBytes("%PDF-1.7\n"),
        };
        byte[] bytes = new byte[600];
        magic.CopyTo(bytes, 0);
        new Random(1).NextBytes(bytes.AsSpan(magic.Length));
        foreach (DicomReaderOptions options in new[] { Strict, Tolerant })
        {
            Assert.Equal(DicomErrorCode.NotDicom, Assert.Throws<DicomFormatException>(() => DicomFile.Read(bytes, options)).Reason);
        }
    }

    [Fact]
    public void Open_DirectoryNamedDcm_ThrowsUnreadable()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            string path = Path.Combine(dir, "x.dcm");
            Directory.CreateDirectory(path);
            Assert.Equal(DicomErrorCode.Unreadable, Assert.Throws<DicomFormatException>(() => DicomFile.Open(path)).Reason);
            Assert.Equal(DicomErrorCode.Unreadable, Assert.Throws<DicomFormatException>(() => DicomFile.Open(Path.Combine(dir, "missing.dcm"))).Reason);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [SkippableFact]
    public void Open_FileWithoutReadPermission_ThrowsUnreadable()
    {
        Skip.If(OperatingSystem.IsWindows(), "POSIX permissions");
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        string dir = TestPaths.NewTempDirectory();
        try
        {
            string path = Path.Combine(dir, "locked.dcm");
            File.WriteAllBytes(path, SampleFiles.RichFile());
            File.SetUnixFileMode(path, UnixFileMode.None);
            bool readable;
            try
            {
                using (File.OpenRead(path))
                {
                }

                readable = true;
            }
            catch (UnauthorizedAccessException)
            {
                readable = false;
            }

            Skip.If(readable, "running with privileges that ignore file permissions (root)");
            Assert.Equal(DicomErrorCode.Unreadable, Assert.Throws<DicomFormatException>(() => DicomFile.Open(path)).Reason);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Open_BatchWithPoisonFiles_OnlyTypedErrorsAndTheGoodFilesLoad()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            File.WriteAllBytes(Path.Combine(dir, "a.dcm"), SampleFiles.RichFile());
            File.WriteAllBytes(Path.Combine(dir, "b.dcm"), []);
            File.WriteAllBytes(Path.Combine(dir, "c.dcm"), [0x7F, 0x45, 0x4C, 0x46, 1, 2, 3, 4, 5, 6]);
            Directory.CreateDirectory(Path.Combine(dir, "d.dcm"));
            File.WriteAllBytes(Path.Combine(dir, "e.dcm"), SampleFiles.RichFile(encapsulated: true));
            int loaded = 0;
            var reasons = new List<DicomErrorCode>();
            foreach (string path in Directory.EnumerateFileSystemEntries(dir).Order(StringComparer.Ordinal))
            {
                try
                {
                    DicomFile.Open(path);
                    loaded++;
                }
                catch (DicomFormatException ex)
                {
                    reasons.Add(ex.Reason);
                }
            }

            Assert.Equal(2, loaded);
            Assert.Equal([DicomErrorCode.NotDicom, DicomErrorCode.NotDicom, DicomErrorCode.Unreadable], reasons);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    // ---- A3: lengths that lie ---------------------------------------------------------------

    public static TheoryData<string> Encodings() => ["explicit", "implicit", "fragment"];

    private static byte[] WithDeclaredLength(string encoding, uint declared, int present)
    {
        DicomBytesBuilder b;
        switch (encoding)
        {
            case "explicit":
                b = new DicomBytesBuilder().Preamble().Meta("1.2.840.10008.1.2.1");
                b.Element(0x0028, 0x0010, "US", DicomBytesBuilder.UInt16s(2));
                b.Header(0x0029, 0x1010, "OB", declared);
                break;
            case "implicit":
                b = new DicomBytesBuilder().Preamble().Meta("1.2.840.10008.1.2");
                b.Explicit = false;
                b.Element(0x0028, 0x0010, "US", DicomBytesBuilder.UInt16s(2));
                b.Header(0x0029, 0x1010, "UN", declared);
                break;
            default:
                b = new DicomBytesBuilder().Preamble().Meta("1.2.840.10008.1.2.4.50");
                b.Element(0x0028, 0x0010, "US", DicomBytesBuilder.UInt16s(2));
                b.Header(0x7FE0, 0x0010, "OB", DicomBytesBuilder.Undefined).Item(0).Item(declared);
                break;
        }

        b.Raw(new byte[present]);
        return b.ToArray();
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Read_DeclaredLengthBeyondData_ThrowsBeforeAllocating(string encoding)
    {
        byte[] bytes = WithDeclaredLength(encoding, 1_000_000_000, 10);
        DicomFile.Read(SampleFiles.RichFile(), Strict);

        long before = GC.GetAllocatedBytesForCurrentThread();
        DicomFormatException ex = Assert.Throws<DicomFormatException>(() => DicomFile.Read(bytes, Strict with { MaxPixelBytes = 4L << 30, MaxElementLength = 4L << 30 }));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(DicomErrorCode.ValueLengthExceedsData, ex.Reason);
        Assert.True(allocated < 4 << 20, $"allocated {allocated} bytes");
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Read_DeclaredLengthBeyondData_TolerantDropsTheValueWithAWarning(string encoding)
    {
        byte[] bytes = WithDeclaredLength(encoding, 1_000_000_000, 10);
        long before = GC.GetAllocatedBytesForCurrentThread();
        DicomFile file = DicomFile.Read(bytes, Tolerant with { MaxPixelBytes = 4L << 30, MaxElementLength = 4L << 30 });
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(2, file.Dataset.GetInt32(new DicomTag(0x0028, 0x0010)));
        Assert.False(file.Dataset.Contains(new DicomTag(0x0029, 0x1010)));
        Assert.False(file.Dataset.Contains(DicomTag.PixelData));
        Assert.Contains(file.Warnings, w => w.Code == DicomErrorCode.Truncated);
        Assert.True(allocated < 4 << 20, $"allocated {allocated} bytes");
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Open_DeclaredLengthBeyondData_MemoryStaysFlat(string encoding)
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            string path = Path.Combine(dir, "lie.dcm");
            File.WriteAllBytes(path, WithDeclaredLength(encoding, 1_000_000_000, 10));
            long before = GC.GetAllocatedBytesForCurrentThread();
            Assert.Throws<DicomFormatException>(() => DicomFile.Open(path, Strict));
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 4 << 20);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Read_LengthFFFFFFFE_ThrowsTyped(string encoding)
    {
        byte[] bytes = WithDeclaredLength(encoding, 0xFFFFFFFE, 16);
        foreach (DicomReaderOptions options in new[] { Strict, Tolerant })
        {
            (DicomFile? file, DicomFormatException? error) = HostileInput.TryRead(bytes, options);
            Assert.True(error is not null || file!.Warnings.Count > 0);
        }

        Assert.Equal(DicomErrorCode.ValueLengthExceedsData, Assert.Throws<DicomFormatException>(() => DicomFile.Read(bytes, Strict with { MaxPixelBytes = 8L << 30, MaxElementLength = 8L << 30 })).Reason);
    }

    [Fact]
    public void Read_DeclaredLengthAboveConfiguredLimit_ThrowsEvenWhenTheBytesArePresent()
    {
        var b = new DicomBytesBuilder().Preamble().Meta("1.2.840.10008.1.2.1");
        b.Element(0x0029, 0x1010, "OB", new byte[4096]);
        byte[] bytes = b.ToArray();
        DicomFormatException ex = Assert.Throws<DicomFormatException>(() => DicomFile.Read(bytes, Tolerant with { MaxElementLength = 1024 }));
        Assert.Equal(DicomErrorCode.ValueLengthExceedsData, ex.Reason);
        Assert.Equal(new DicomTag(0x0029, 0x1010), ex.Tag);
        Assert.True(ex.Offset > 132);
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Read_OddLength_StrictThrowsTolerantWarns(string encoding)
    {
        DicomBytesBuilder b;
        if (encoding == "fragment")
        {
            b = new DicomBytesBuilder().Preamble().Meta("1.2.840.10008.1.2.4.50");
            b.Header(0x7FE0, 0x0010, "OB", DicomBytesBuilder.Undefined).Item(0).Item(3).Raw([1, 2, 3]).SequenceEnd();
        }
        else
        {
            b = new DicomBytesBuilder().Preamble().Meta(encoding == "explicit" ? "1.2.840.10008.1.2.1" : "1.2.840.10008.1.2");
            b.Explicit = encoding == "explicit";
            b.Header(0x0010, 0x0020, "LO", 3).Raw("ABC"u8).Element(0x0028, 0x0010, "US", DicomBytesBuilder.UInt16s(5));
        }

        byte[] bytes = b.ToArray();
        Assert.Equal(DicomErrorCode.InvalidLength, Assert.Throws<DicomFormatException>(() => DicomFile.Read(bytes, Strict)).Reason);
        DicomFile file = DicomFile.Read(bytes, Tolerant);
        Assert.Contains(file.Warnings, w => w.Code == DicomErrorCode.InvalidLength);
        if (encoding == "fragment")
        {
            Assert.Equal([1, 2, 3], file.Dataset.GetFragments(DicomTag.PixelData)!.Fragments[0].ToArray());
        }
        else
        {
            Assert.Equal("ABC", file.Dataset.GetString(new DicomTag(0x0010, 0x0020)));
            Assert.Equal(5, file.Dataset.GetInt32(new DicomTag(0x0028, 0x0010)));
        }
    }

    [Fact]
    public void Read_UndefinedLengthOnAStringVR_StrictThrowsInvalidLength()
    {
        var b = new DicomBytesBuilder().Preamble().Meta("1.2.840.10008.1.2.1");
        b.Header(0x0010, 0x0020, "UT", DicomBytesBuilder.Undefined).SequenceEnd();
        byte[] bytes = b.ToArray();
        Assert.Equal(DicomErrorCode.InvalidLength, Assert.Throws<DicomFormatException>(() => DicomFile.Read(bytes, Strict)).Reason);
        Assert.Contains(DicomFile.Read(bytes, Tolerant).Warnings, w => w.Code == DicomErrorCode.InvalidLength);
    }

    // ---- A4: nesting ------------------------------------------------------------------------

    [Fact]
    public void Read_SequencesNestedFiveDeep_Loads()
    {
        DicomFile file = DicomFile.Read(HostileInput.Nested(5), Strict);
        DicomDataset ds = file.Dataset;
        for (int i = 0; i < 5; i++)
        {
            ds = ds.GetSequence(new DicomTag(0x0008, 0x1140))[0];
        }

        Assert.Equal("1.2", ds.GetString(new DicomTag(0x0008, 0x1155)));
    }

    [Theory]
    [InlineData(ValidationMode.Strict)]
    [InlineData(ValidationMode.Tolerant)]
    public void Read_SequencesNestedAtTheLimit_LoadsAndLimitPlusOneThrows(ValidationMode mode)
    {
        var options = new DicomReaderOptions { Validation = mode, MaxSequenceDepth = 64 };
        DicomFile.Read(HostileInput.Nested(64), options);
        DicomFormatException ex = Assert.Throws<DicomFormatException>(() => DicomFile.Read(HostileInput.Nested(65), options));
        Assert.Equal(DicomErrorCode.SequenceTooDeep, ex.Reason);
        DicomFile.Read(HostileInput.Nested(10), options with { MaxSequenceDepth = 10 });
        Assert.Equal(DicomErrorCode.SequenceTooDeep, Assert.Throws<DicomFormatException>(() => DicomFile.Read(HostileInput.Nested(11), options with { MaxSequenceDepth = 10 })).Reason);
    }

    [Fact]
    public void Read_SequencesNested2000Deep_ThrowsSequenceTooDeepOnASmallStack()
    {
        byte[] bytes = HostileInput.Nested(2000);
        Exception? caught = null;
        var thread = new Thread(
            () =>
            {
                try
                {
                    DicomFile.Read(bytes, new DicomReaderOptions { MaxSequenceDepth = DicomReaderOptions.SequenceDepthCeiling });
                }
                catch (Exception ex)
                {
                    caught = ex;
                }
            },
            256 * 1024);
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)));
        DicomFormatException typed = Assert.IsType<DicomFormatException>(caught);
        Assert.Equal(DicomErrorCode.SequenceTooDeep, typed.Reason);
    }

    [Fact]
    public void Options_DepthOutsideItsRange_IsRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new DicomReaderOptions { MaxSequenceDepth = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new DicomReaderOptions { MaxSequenceDepth = DicomReaderOptions.SequenceDepthCeiling + 1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new DicomReaderOptions { MaxElementLength = 0 });
    }

    // ---- A5: loops that must make progress ----------------------------------------------------

    [Fact]
    public void Read_SequenceOfExplicitLengthZero_FinishesWithAnEmptySequence()
    {
        var b = new DicomBytesBuilder().Preamble().Meta("1.2.840.10008.1.2.1");
        b.SequenceStart(0x0008, 0x1140, 0);
        b.Element(0x0028, 0x0010, "US", DicomBytesBuilder.UInt16s(1));
        byte[] bytes = b.ToArray();
        DicomFile file = HostileInput.WithinBudget(() => DicomFile.Read(bytes, Strict), TimeSpan.FromSeconds(10));
        Assert.Empty(file.Dataset.GetSequence(new DicomTag(0x0008, 0x1140)));
        Assert.Equal(1, file.Dataset.GetInt32(new DicomTag(0x0028, 0x0010)));
    }

    [Fact]
    public void Read_ManyEmptyItems_FinishesQuickly()
    {
        var b = new DicomBytesBuilder().Preamble().Meta("1.2.840.10008.1.2.1");
        b.SequenceStart(0x0008, 0x1140, 8 * 100_000);
        for (int i = 0; i < 100_000; i++)
        {
            b.Item(0);
        }

        byte[] bytes = b.ToArray();
        DicomFile file = HostileInput.WithinBudget(() => DicomFile.Read(bytes, Strict), TimeSpan.FromSeconds(10));
        Assert.Equal(100_000, file.Dataset.GetSequence(new DicomTag(0x0008, 0x1140)).Count);
    }

    [Fact]
    public void Read_ItemWithoutDelimiter_StrictThrowsTolerantLoadsWithWarning()
    {
        var b = new DicomBytesBuilder().Preamble().Meta("1.2.840.10008.1.2.1");
        b.SequenceStart(0x0008, 0x1140).Item().Element(0x0008, 0x1155, "UI", DicomBytesBuilder.Uid("1.2"));
        b.SequenceEnd();
        b.Element(0x0028, 0x0010, "US", DicomBytesBuilder.UInt16s(3));
        byte[] bytes = b.ToArray();

        Assert.Equal(DicomErrorCode.InvalidStructure, Assert.Throws<DicomFormatException>(() => HostileInput.WithinBudget(() => DicomFile.Read(bytes, Strict), TimeSpan.FromSeconds(10))).Reason);
        DicomFile file = HostileInput.WithinBudget(() => DicomFile.Read(bytes, Tolerant), TimeSpan.FromSeconds(10));
        Assert.Equal("1.2", file.Dataset.GetSequence(new DicomTag(0x0008, 0x1140))[0].GetString(new DicomTag(0x0008, 0x1155)));
        Assert.Equal(3, file.Dataset.GetInt32(new DicomTag(0x0028, 0x0010)));
        Assert.Contains(file.Warnings, w => w.Code == DicomErrorCode.InvalidStructure);
    }

    [Fact]
    public void Read_StrayDelimitersAtTopLevel_StrictThrowsTolerantSkipsThem()
    {
        var b = new DicomBytesBuilder().Preamble().Meta("1.2.840.10008.1.2.1");
        b.Element(0x0008, 0x0016, "UI", DicomBytesBuilder.Uid("1.2"));
        b.SequenceEnd().ItemEnd().Item(0);
        b.Element(0x0028, 0x0010, "US", DicomBytesBuilder.UInt16s(3));
        byte[] bytes = b.ToArray();

        Assert.Equal(DicomErrorCode.InvalidStructure, Assert.Throws<DicomFormatException>(() => HostileInput.WithinBudget(() => DicomFile.Read(bytes, Strict), TimeSpan.FromSeconds(10))).Reason);
        DicomFile file = HostileInput.WithinBudget(() => DicomFile.Read(bytes, Tolerant), TimeSpan.FromSeconds(10));
        Assert.Equal(3, file.Dataset.GetInt32(new DicomTag(0x0028, 0x0010)));
        Assert.Equal(3, file.Warnings.Count(w => w.Code == DicomErrorCode.InvalidStructure));
    }

    // ---- A9: the preamble ---------------------------------------------------------------------

    [Theory]
    [InlineData("MZ")]
    [InlineData("ELF")]
    public void Save_PreambleWithExecutableMagic_IsZeroedWhenRewritten(string kind)
    {
        byte[] magic = kind == "MZ" ? [0x4D, 0x5A, 0x90, 0x00, 0x03] : [0x7F, 0x45, 0x4C, 0x46, 0x02];
        byte[] preamble = new byte[128];
        magic.CopyTo(preamble, 0);
        preamble[127] = 0xCC;
        byte[] original = SampleFiles.RichFile();
        preamble.CopyTo(original, 0);

        DicomFile file = DicomFile.Read(original, Strict);
        using var ms = new MemoryStream();
        file.Save(ms);
        byte[] rewritten = ms.ToArray();

        Assert.All(rewritten.AsSpan(0, 128).ToArray(), b => Assert.Equal(0, b));
        Assert.Equal("DICM"u8.ToArray(), rewritten.AsSpan(128, 4).ToArray());
    }

    // ---- A11: vendor quirks, tolerant and strict twins -------------------------------------------

    private static byte[] ExplicitDeclaredImplicitEncoded()
    {
        var b = new DicomBytesBuilder().Preamble().Meta("1.2.840.10008.1.2.1");
        b.Explicit = false;
        b.Element(0x0008, 0x0016, "UI", DicomBytesBuilder.Uid("1.2.3"));
        b.Element(0x0010, 0x0010, "PN", DicomBytesBuilder.Text("Doe^Jane"));
        b.Element(0x0028, 0x0010, "US", DicomBytesBuilder.UInt16s(256));
        b.Element(0x7FE0, 0x0010, "OW", new byte[16]);
        return b.ToArray();
    }

    [Fact]
    public void Read_ExplicitDeclaredButImplicitEncoded_StrictThrowsInvalidVR()
    {
        Assert.Equal(DicomErrorCode.InvalidVR, Assert.Throws<DicomFormatException>(() => DicomFile.Read(ExplicitDeclaredImplicitEncoded(), Strict)).Reason);
    }

    [Fact]
    public void Read_ExplicitDeclaredButImplicitEncoded_TolerantLoadsWithWarning()
    {
        DicomFile file = DicomFile.Read(ExplicitDeclaredImplicitEncoded(), Tolerant);
        Assert.Equal(256, file.Dataset.GetInt32(new DicomTag(0x0028, 0x0010)));
        Assert.Equal("Doe^Jane", file.Dataset.GetString(new DicomTag(0x0010, 0x0010)));
        Assert.Equal(16, file.Dataset.GetBytes(DicomTag.PixelData).Length);
        Assert.Contains(file.Warnings, w => w.Code == DicomErrorCode.InvalidVR);
    }

    private static byte[] UnknownThatIsASequence()
    {
        var b = new DicomBytesBuilder().Preamble().Meta("1.2.840.10008.1.2.1");
        b.Header(0x0008, 0x1140, "UN", DicomBytesBuilder.Undefined);
        b.Explicit = false;
        b.Item().Element(0x0008, 0x1155, "UI", DicomBytesBuilder.Uid("1.2.7")).ItemEnd().SequenceEnd();
        return b.ToArray();
    }

    [Theory]
    [InlineData(ValidationMode.Strict)]
    [InlineData(ValidationMode.Tolerant)]
    public void Read_UNThatIsReallyASequence_LoadsInBothModes(ValidationMode mode)
    {
        DicomFile file = DicomFile.Read(UnknownThatIsASequence(), new DicomReaderOptions { Validation = mode });
        Assert.Equal("1.2.7", file.Dataset.GetSequence(new DicomTag(0x0008, 0x1140))[0].GetString(new DicomTag(0x0008, 0x1155)));
    }

    private static byte[] MissingDelimitersAtEnd()
    {
        var b = new DicomBytesBuilder().Preamble().Meta("1.2.840.10008.1.2.1");
        b.Element(0x0008, 0x0016, "UI", DicomBytesBuilder.Uid("1.2.3"));
        b.SequenceStart(0x0008, 0x1140).Item().Element(0x0008, 0x1155, "UI", DicomBytesBuilder.Uid("1.2.8"));
        return b.ToArray();
    }

    [Fact]
    public void Read_MissingDelimitersAtEndOfFile_StrictThrowsTruncated()
    {
        Assert.Equal(DicomErrorCode.Truncated, Assert.Throws<DicomFormatException>(() => DicomFile.Read(MissingDelimitersAtEnd(), Strict)).Reason);
    }

    [Fact]
    public void Read_MissingDelimitersAtEndOfFile_TolerantKeepsTheItemsWithWarning()
    {
        DicomFile file = DicomFile.Read(MissingDelimitersAtEnd(), Tolerant);
        Assert.Equal("1.2.8", file.Dataset.GetSequence(new DicomTag(0x0008, 0x1140))[0].GetString(new DicomTag(0x0008, 0x1155)));
        Assert.Equal("1.2.3", file.Dataset.GetString(new DicomTag(0x0008, 0x0016)));
        Assert.Contains(file.Warnings, w => w.Code == DicomErrorCode.Truncated);
    }

    [Fact]
    public void Read_EncapsulatedWithoutSequenceDelimiter_StrictThrowsTolerantKeepsFragments()
    {
        var b = new DicomBytesBuilder().Preamble().Meta("1.2.840.10008.1.2.4.50");
        b.Header(0x7FE0, 0x0010, "OB", DicomBytesBuilder.Undefined).Item(0).Item(4).Raw([1, 2, 3, 4]);
        b.Element(0xFFFC, 0xFFFC, "OB", new byte[2]);
        byte[] bytes = b.ToArray();
        Assert.Equal(DicomErrorCode.InvalidStructure, Assert.Throws<DicomFormatException>(() => DicomFile.Read(bytes, Strict)).Reason);
        DicomFile file = DicomFile.Read(bytes, Tolerant);
        Assert.Equal(1, file.Dataset.GetFragments(DicomTag.PixelData)!.Count);
        Assert.True(file.Dataset.Contains(new DicomTag(0xFFFC, 0xFFFC)));
    }

    // ---- D1 for the reader: messages and warnings carry no values --------------------------------

    [Fact]
    public void Read_ErrorsAndWarnings_NeverContainValuesFromTheFile()
    {
        const string Canary = "CANARY7731";
        var b = new DicomBytesBuilder().Preamble().Meta("1.2.840.10008.1.2.1");
        b.Element(0x0010, 0x0010, "PN", DicomBytesBuilder.Text(Canary));
        b.Header(0x0010, 0x0020, "LO", 11).Raw(Encoding.ASCII.GetBytes(Canary + "X"));
        b.Element(0x0028, 0x0010, "IS", DicomBytesBuilder.Text(Canary));
        b.Header(0x0029, 0x1010, "OB", 100).Raw(Encoding.ASCII.GetBytes(Canary));
        byte[] bytes = b.ToArray();

        DicomFormatException strict = Assert.Throws<DicomFormatException>(() => DicomFile.Read(bytes, Strict));
        Assert.DoesNotContain(Canary, strict.Message, StringComparison.Ordinal);
        DicomFile file = DicomFile.Read(bytes, Tolerant);
        Assert.NotEmpty(file.Warnings);
        Assert.All(file.Warnings, w => Assert.DoesNotContain(Canary, w.ToString(), StringComparison.Ordinal));
        DicomFormatException value = Assert.Throws<DicomFormatException>(() => file.Dataset.GetInt32(new DicomTag(0x0028, 0x0010)));
        Assert.DoesNotContain(Canary, value.Message, StringComparison.Ordinal);
    }
}
