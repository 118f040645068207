using MedTransfer.Dicom.Pixels;
using MedTransfer.Testing;
using Xunit;

namespace MedTransfer.Dicom.Tests.IO;

/// <summary>
/// Zeros after the last element of a file (some writers pad after Pixel Data): no element is all zeros, so the
/// reader says what it found instead of reporting an invalid VR in (0000,0000); tolerant mode stops there with a
/// warning and keeps everything before it.
/// </summary>
public sealed class TrailingZeroPaddingTests
{
    public static TheoryData<string, int> Cases => new()
    {
        { TransferSyntax.ExplicitVRLittleEndian.Uid, 3 },
        { TransferSyntax.ExplicitVRLittleEndian.Uid, 8 },
        { TransferSyntax.ExplicitVRLittleEndian.Uid, 70_001 },
        { TransferSyntax.ImplicitVRLittleEndian.Uid, 16 },
        { TransferSyntax.ExplicitVRBigEndian.Uid, 12 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Read_ZerosAfterPixelData_StrictSaysZeroPaddingWithTheOffset(string syntax, int zeros)
    {
        byte[] clean = Clean(syntax);

        var ex = Assert.Throws<DicomFormatException>(() => DicomFile.Read(Padded(clean, zeros), new DicomReaderOptions { Validation = ValidationMode.Strict }));

        Assert.Equal(DicomErrorCode.InvalidStructure, ex.Reason);
        Assert.Equal(clean.Length, ex.Offset);
        Assert.Contains($"{zeros} byte(s) of zero padding follow the last data element", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidVR", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Read_ZerosAfterPixelData_TolerantKeepsTheDataSetAndWarnsOnce(string syntax, int zeros)
    {
        byte[] clean = Clean(syntax);
        DicomFile expected = DicomFile.Read(clean, new DicomReaderOptions { Validation = ValidationMode.Strict, PixelData = PixelDataLoading.Eager });

        DicomFile file = DicomFile.Read(Padded(clean, zeros), new DicomReaderOptions { Validation = ValidationMode.Tolerant, PixelData = PixelDataLoading.Eager });

        DicomWarning warning = Assert.Single(file.Warnings);
        Assert.Equal(DicomErrorCode.InvalidStructure, warning.Code);
        Assert.Equal(clean.Length, warning.Offset);
        Assert.Contains("zero padding follow the last data element: ignored", warning.Detail, StringComparison.Ordinal);
        Assert.Equal(expected.Dataset.Count, file.Dataset.Count);
        Assert.Equal(DicomImage.Create(expected).DecodeFrame(0), DicomImage.Create(file).DecodeFrame(0));
    }

    [Fact]
    public void Open_ZerosAfterLazyPixelData_TolerantStillDecodes()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            byte[] clean = Clean(TransferSyntax.ExplicitVRLittleEndian.Uid);
            string path = Path.Combine(dir, "padded.dcm");
            File.WriteAllBytes(path, Padded(clean, 100));

            DicomFile file = DicomFile.Open(path, new DicomReaderOptions { Validation = ValidationMode.Tolerant, PixelData = PixelDataLoading.Lazy });

            Assert.Single(file.Warnings);
            Assert.Equal(DicomImage.Create(DicomFile.Read(clean)).DecodeFrame(0), DicomImage.Create(file).DecodeFrame(0));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Read_ZerosThenOtherBytes_IsNotTakenForPadding()
    {
        byte[] clean = Clean(TransferSyntax.ExplicitVRLittleEndian.Uid);
        byte[] bytes = [.. Padded(clean, 12), 0x41];

        var ex = Assert.Throws<DicomFormatException>(() => DicomFile.Read(bytes, new DicomReaderOptions { Validation = ValidationMode.Strict }));

        Assert.DoesNotContain("zero padding", ex.Message, StringComparison.Ordinal);
    }

    private static byte[] Clean(string syntax) => SampleFiles.Write(SampleFiles.Rich(), TransferSyntax.Lookup(syntax));

    private static byte[] Padded(byte[] clean, int zeros) => [.. clean, .. new byte[zeros]];
}
