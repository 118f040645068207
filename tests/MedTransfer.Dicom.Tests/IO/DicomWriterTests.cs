using System.Buffers.Binary;
using MedTransfer.Dicom.Tests.Data;
using MedTransfer.Testing;
using Xunit;

namespace MedTransfer.Dicom.Tests.IO;

public class DicomWriterTests
{
    public static TheoryData<string, SequenceLengthEncoding> NativeSyntaxes()
    {
        var data = new TheoryData<string, SequenceLengthEncoding>();
        foreach (string uid in new[] { "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2" })
        {
            data.Add(uid, SequenceLengthEncoding.Undefined);
            data.Add(uid, SequenceLengthEncoding.Defined);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(NativeSyntaxes))]
    public void Save_ThenRead_RoundTripsEveryElement(string uid, SequenceLengthEncoding sequences)
    {
        TransferSyntax syntax = TransferSyntax.Lookup(uid);
        DicomDataset original = SampleFiles.Rich();
        byte[] bytes = SampleFiles.Write(original, syntax, sequences);

        DicomFile back = DicomFile.Read(bytes, new DicomReaderOptions { Validation = ValidationMode.Strict });

        Assert.Same(syntax, back.TransferSyntax);
        Assert.Empty(back.Warnings);
        DatasetAssert.Equal(original, back.Dataset, compareVR: syntax.IsExplicitVR);
        Assert.Equal(4, back.Dataset.GetInt32(SampleFiles.Rows));
        Assert.Equal(-1024, back.Dataset.GetInt32(SampleFiles.SignedShort));
        Assert.Equal("Ñandú", back.Dataset.GetSequence(SampleFiles.ReferencedSeriesSequence)[1].GetString(SampleFiles.PatientName));
        Assert.Equal(Math.PI, back.Dataset.GetDouble(SampleFiles.DoubleValue));
    }

    public static TheoryData<string, SequenceLengthEncoding> EncapsulatedSyntaxes()
    {
        var data = new TheoryData<string, SequenceLengthEncoding>();
        foreach (TransferSyntax ts in TransferSyntax.Known.Where(t => t.IsEncapsulated))
        {
            data.Add(ts.Uid, ts.Uid.EndsWith(".4.50", StringComparison.Ordinal) ? SequenceLengthEncoding.Defined : SequenceLengthEncoding.Undefined);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EncapsulatedSyntaxes))]
    public void Save_EncapsulatedSyntax_KeepsFragmentsAndOffsetTable(string uid, SequenceLengthEncoding sequences)
    {
        TransferSyntax syntax = TransferSyntax.Lookup(uid);
        DicomDataset original = SampleFiles.RichEncapsulated();
        byte[] bytes = SampleFiles.Write(original, syntax, sequences);
        DicomFile back = DicomFile.Read(bytes, new DicomReaderOptions { Validation = ValidationMode.Strict });
        Assert.Same(syntax, back.TransferSyntax);
        DatasetAssert.Equal(original, back.Dataset);
        DicomFragments f = back.Dataset.GetFragments(DicomTag.PixelData)!;
        Assert.Equal([0u, 16u], f.BasicOffsetTable);
        Assert.Equal(3, f.Count);
    }

    [Fact]
    public void Save_WritesZeroPreambleDicmAndConsistentMeta()
    {
        var file = new DicomFile(SampleFiles.Rich());
        using var ms = new MemoryStream();
        file.Save(ms);
        byte[] bytes = ms.ToArray();

        Assert.All(bytes.AsSpan(0, 128).ToArray(), b => Assert.Equal(0, b));
        Assert.Equal("DICM"u8.ToArray(), bytes.AsSpan(128, 4).ToArray());
        DicomFile back = DicomFile.Read(bytes, new DicomReaderOptions { Validation = ValidationMode.Strict });
        Assert.Equal("1.2.840.10008.1.2.1", back.FileMeta.GetString(new DicomTag(0x0002, 0x0010)));
        Assert.Equal(DicomWriter.ImplementationClassUid, back.FileMeta.GetString(new DicomTag(0x0002, 0x0012)));
        Assert.StartsWith("2.25.", DicomWriter.ImplementationClassUid, StringComparison.Ordinal);
        Assert.Equal("1.2.840.10008.5.1.4.1.1.7", back.FileMeta.GetString(new DicomTag(0x0002, 0x0002)));
        Assert.Equal("1.2.3.4.5.6.7", back.FileMeta.GetString(new DicomTag(0x0002, 0x0003)));
        uint groupLength = BinaryPrimitives.ReadUInt32LittleEndian(back.FileMeta.GetBytes(new DicomTag(0x0002, 0x0000)).Span);
        int metaEnd = 132 + 12 + (int)groupLength;
        Assert.Equal(0x0008, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(metaEnd)));
        Assert.Equal(0x0002, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(metaEnd - 2 - 16 - 6)));
    }

    [Fact]
    public void Save_NativePixelsInEncapsulatedSyntax_ThrowsInvalidOperation()
    {
        var file = new DicomFile(SampleFiles.Rich());
        using var ms = new MemoryStream();
        Assert.Throws<InvalidOperationException>(() => file.Save(ms, new DicomWriteOptions { TransferSyntax = TransferSyntax.RleLossless }));
        var encapsulated = new DicomFile(SampleFiles.RichEncapsulated(), TransferSyntax.JpegBaseline);
        Assert.Throws<InvalidOperationException>(() => encapsulated.Save(ms, new DicomWriteOptions { TransferSyntax = TransferSyntax.ExplicitVRLittleEndian }));
    }

    [Fact]
    public void Save_DefinedLengths_WritesNoUndefinedLengthOrDelimiter()
    {
        DicomDataset ds = SampleFiles.Rich();
        ds.Remove(DicomTag.PixelData);
        byte[] bytes = SampleFiles.Write(ds, TransferSyntax.ExplicitVRLittleEndian, SequenceLengthEncoding.Defined);
        Assert.Equal(-1, bytes.AsSpan().IndexOf(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }));
        Assert.Equal(-1, bytes.AsSpan().IndexOf(new byte[] { 0xFE, 0xFF, 0xDD, 0xE0 }));
        byte[] undefined = SampleFiles.Write(ds, TransferSyntax.ExplicitVRLittleEndian, SequenceLengthEncoding.Undefined);
        Assert.NotEqual(-1, undefined.AsSpan().IndexOf(new byte[] { 0xFE, 0xFF, 0xDD, 0xE0 }));
    }

    [Fact]
    public void Save_ValueTooLongForA16BitLength_IsWrittenAsUNAndStillReadable()
    {
        var ds = new DicomDataset();
        ds.Set(SampleFiles.PatientId, DicomVR.LO, new string('x', 70_000));
        byte[] bytes = SampleFiles.Write(ds, TransferSyntax.ExplicitVRLittleEndian);
        DicomFile back = DicomFile.Read(bytes, new DicomReaderOptions { Validation = ValidationMode.Strict });
        Assert.True(back.Dataset.TryGetElement(SampleFiles.PatientId, out DicomElement? e));
        Assert.Equal(DicomVR.UN, e.VR);
        Assert.Equal(70_000, back.Dataset.GetString(SampleFiles.PatientId)!.Length);
    }

    [Fact]
    public void Save_OddLengthBytes_ArePaddedToEvenWithTheVRPadding()
    {
        var ds = new DicomDataset();
        ds.SetBytes(SampleFiles.PatientId, DicomVR.LO, "ABC"u8.ToArray());
        ds.SetBytes(SampleFiles.PrivateValue, DicomVR.OB, new byte[] { 1, 2, 3 });
        byte[] bytes = SampleFiles.Write(ds, TransferSyntax.ExplicitVRLittleEndian);
        DicomFile back = DicomFile.Read(bytes, new DicomReaderOptions { Validation = ValidationMode.Strict });
        Assert.Equal("ABC "u8.ToArray(), back.Dataset.GetBytes(SampleFiles.PatientId).ToArray());
        Assert.Equal([1, 2, 3, 0], back.Dataset.GetBytes(SampleFiles.PrivateValue).ToArray());
        Assert.Equal(0, bytes.Length % 2);
    }

    [Fact]
    public void Save_ToPath_ReplacesAtomicallyAndOpenReadsPixelsLazily()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            string path = Path.Combine(dir, "a.dcm");
            File.WriteAllText(path, "old content");
            DicomDataset original = SampleFiles.Rich();
            new DicomFile(original).Save(path);
            Assert.Single(Directory.GetFiles(dir));

            DicomFile lazy = DicomFile.Open(path);
            Assert.True(lazy.Dataset.TryGetElement(DicomTag.PixelData, out DicomElement? pixels));
            Assert.True(pixels.IsDeferred);
            Assert.Equal(48, pixels.Length);
            DatasetAssert.Equal(original, lazy.Dataset);
            Assert.False(pixels.IsDeferred);

            DicomFile eager = DicomFile.Open(path, new DicomReaderOptions { PixelData = PixelDataLoading.Eager });
            Assert.False(eager.Dataset.TryGetElement(DicomTag.PixelData, out DicomElement? e) && e.IsDeferred);

            DicomFile skipped = DicomFile.Open(path, new DicomReaderOptions { PixelData = PixelDataLoading.Skip });
            Assert.False(skipped.Dataset.Contains(DicomTag.PixelData));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Open_Lazy_ReadsTheHeaderButNotThePixels(bool encapsulated)
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            DicomDataset ds = SampleFiles.Rich();
            ds.SetBytes(new DicomTag(0x0029, 0x1020), DicomVR.OB, new byte[60_000]);
            byte[] pixels = new byte[8 << 20];
            if (encapsulated)
            {
                ds.SetFragments(DicomTag.PixelData, DicomVR.OB, new DicomFragments([], Enumerable.Range(0, 64).Select(i => (ReadOnlyMemory<byte>)pixels.AsMemory(i * (1 << 17), 1 << 17))));
            }
            else
            {
                ds.SetBytes(DicomTag.PixelData, DicomVR.OW, pixels);
            }

            string path = Path.Combine(dir, "big.dcm");
            new DicomFile(ds, encapsulated ? TransferSyntax.JpegBaseline : TransferSyntax.ExplicitVRLittleEndian).Save(path);
            DicomFile.Open(path);

            long before = GC.GetAllocatedBytesForCurrentThread();
            DicomFile file = DicomFile.Open(path);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            Assert.True(allocated < 256 * 1024, $"allocated {allocated} bytes for a header of about 62 KB");
            Assert.Equal(8 << 20, file.Dataset.TryGetElement(DicomTag.PixelData, out DicomElement? px) ? px.Length : 0);
            Assert.Equal(60_000, file.Dataset.GetBytes(new DicomTag(0x0029, 0x1020)).Length);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Open_LazyEncapsulated_LoadsFragmentsOnFirstAccess()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            string path = Path.Combine(dir, "j.dcm");
            File.WriteAllBytes(path, SampleFiles.RichFile(encapsulated: true));
            DicomFile file = DicomFile.Open(path);
            DicomFragments f = file.Dataset.GetFragments(DicomTag.PixelData)!;
            Assert.True(f.IsDeferred);
            Assert.Equal(3, f.Count);
            Assert.Equal([0u, 16u], f.BasicOffsetTable);
            Assert.Equal(SampleFiles.Fragments().Fragments[2].ToArray(), f.Fragments[2].ToArray());
            Assert.False(f.IsDeferred);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Open_LazyPixelsOfAFileThatShrank_ThrowsTruncatedOnAccess()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            string path = Path.Combine(dir, "s.dcm");
            byte[] bytes = SampleFiles.RichFile();
            File.WriteAllBytes(path, bytes);
            DicomFile file = DicomFile.Open(path);
            File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length - 10).ToArray());
            Assert.True(file.Dataset.TryGetElement(DicomTag.PixelData, out DicomElement? pixels));
            Assert.Equal(DicomErrorCode.Truncated, Assert.Throws<DicomFormatException>(() => pixels.Value).Reason);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Read_StopAtPixelData_LeavesPixelsAndLaterElementsOut()
    {
        DicomDataset ds = SampleFiles.Rich();
        ds.SetBytes(SampleFiles.TrailingPadding, DicomVR.OB, new byte[4]);
        byte[] bytes = SampleFiles.Write(ds, TransferSyntax.ExplicitVRLittleEndian);
        DicomFile file = DicomFile.Read(bytes, new DicomReaderOptions { StopAtPixelData = true, Validation = ValidationMode.Strict });
        Assert.False(file.Dataset.Contains(DicomTag.PixelData));
        Assert.False(file.Dataset.Contains(SampleFiles.TrailingPadding));
        Assert.Equal(4, file.Dataset.GetInt32(SampleFiles.Rows));

        DicomFile all = DicomFile.Read(bytes);
        Assert.True(all.Dataset.Contains(SampleFiles.TrailingPadding));
    }

    [Fact]
    public void Read_FromNonSeekableStream_MatchesMemoryRead()
    {
        byte[] bytes = SampleFiles.RichFile();
        using var stream = new NonSeekableStream(bytes);
        DicomFile file = DicomFile.Read(stream);
        DatasetAssert.Equal(SampleFiles.Rich(), file.Dataset);
    }

    private sealed class NonSeekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();
    }
}
