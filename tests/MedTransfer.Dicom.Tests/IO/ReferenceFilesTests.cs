using MedTransfer.Dicom.Tests.Data;
using MedTransfer.Testing;
using Xunit;

namespace MedTransfer.Dicom.Tests.IO;

/// <summary>The nine dcm_qa_ts files (one image in nine transfer syntaxes), read in strict mode.</summary>
public class ReferenceFilesTests
{
    private const string DataSet = "dcm_qa_ts";
    private static readonly DicomReaderOptions Strict = new() { Validation = ValidationMode.Strict };

    public static TheoryData<int, string> Files() => new()
    {
        { 1, "1.2.840.10008.1.2.1" },
        { 2, "1.2.840.10008.1.2" },
        { 3, "1.2.840.10008.1.2.2" },
        { 4, "1.2.840.10008.1.2.5" },
        { 5, "1.2.840.10008.1.2.4.70" },
        { 6, "1.2.840.10008.1.2.4.70" }, // the README says JPEG-LS, but gdcmconv --jpeg wrote JPEG Lossless SV1
        { 7, "1.2.840.10008.1.2.4.80" },
        { 8, "1.2.840.10008.1.2.4.80" },
        { 9, "1.2.840.10008.1.2.4.90" },
    };

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void Open_Strict_ParsesHeaderAndFindsPixelData(int number, string syntaxUid)
    {
        string path = PathOf(number);
        DicomFile file = DicomFile.Open(path, Strict);

        Assert.Equal(syntaxUid, file.TransferSyntax.Uid);
        Assert.Empty(file.Warnings);
        int rows = file.Dataset.GetInt32(SampleFiles.Rows) ?? 0;
        int columns = file.Dataset.GetInt32(SampleFiles.Columns) ?? 0;
        Assert.True(rows > 0 && columns > 0);
        Assert.True(file.Dataset.TryGetElement(DicomTag.PixelData, out DicomElement? pixels));
        if (file.TransferSyntax.IsEncapsulated)
        {
            DicomFragments f = file.Dataset.GetFragments(DicomTag.PixelData)!;
            Assert.True(f.Count >= 1);
            Assert.True(f.IsDeferred);
            Assert.True(f.Fragments[0].Length > 0);
        }
        else
        {
            Assert.True(pixels.IsDeferred);
            int bits = file.Dataset.GetInt32(SampleFiles.BitsAllocated) ?? 0;
            Assert.Equal((long)rows * columns * (bits / 8), pixels.Value.Length);
        }
    }

    [SkippableFact]
    public void Open_AllNine_AgreeOnRowsColumnsAndNativePixels()
    {
        DicomFile reference = DicomFile.Open(PathOf(1), Strict with { PixelData = PixelDataLoading.Eager });
        int rows = reference.Dataset.GetInt32(SampleFiles.Rows)!.Value;
        int columns = reference.Dataset.GetInt32(SampleFiles.Columns)!.Value;
        for (int n = 2; n <= 9; n++)
        {
            DicomFile other = DicomFile.Open(PathOf(n), Strict);
            Assert.Equal(rows, other.Dataset.GetInt32(SampleFiles.Rows));
            Assert.Equal(columns, other.Dataset.GetInt32(SampleFiles.Columns));
            if (!other.TransferSyntax.IsEncapsulated)
            {
                Assert.True(reference.Dataset.GetBytes(DicomTag.PixelData).Span.SequenceEqual(other.Dataset.GetBytes(DicomTag.PixelData).Span), $"file {n}: native pixels differ");
            }
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void Open_ThenSaveAndRead_RoundTrips(int number, string syntaxUid)
    {
        DicomFile file = DicomFile.Open(PathOf(number), Strict);
        using var ms = new MemoryStream();
        file.Save(ms);
        DicomFile back = DicomFile.Read(ms.ToArray(), Strict);
        TransferSyntax expected = TransferSyntax.Lookup(syntaxUid);
        Assert.Same(expected, back.TransferSyntax);
        DatasetAssert.Equal(file.Dataset, back.Dataset);
    }

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void ReadFromMemoryAndStream_MatchOpen(int number, string syntaxUid)
    {
        string path = PathOf(number);
        DicomFile opened = DicomFile.Open(path, Strict);
        DicomFile fromMemory = DicomFile.Read(File.ReadAllBytes(path), Strict);
        using FileStream stream = File.OpenRead(path);
        DicomFile fromStream = DicomFile.Read(stream, Strict);
        Assert.Equal(syntaxUid, fromMemory.TransferSyntax.Uid);
        DatasetAssert.Equal(opened.Dataset, fromMemory.Dataset);
        DatasetAssert.Equal(opened.Dataset, fromStream.Dataset);
        DatasetAssert.Equal(opened.FileMeta, fromMemory.FileMeta);
    }

    private static string PathOf(int number)
    {
        string? root = TestPaths.SharedData(DataSet);
        Skip.If(root is null, TestPaths.MissingReason(DataSet));
        return Path.Combine(root!, "In", $"{number}.dcm");
    }
}
