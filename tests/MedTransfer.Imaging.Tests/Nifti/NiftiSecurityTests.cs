using System.Buffers.Binary;
using MedTransfer.Imaging.Nifti;
using MedTransfer.Testing;

namespace MedTransfer.Imaging.Tests.Nifti;

/// <summary>Hostile NIfTI headers built in code: every one ends in a typed <see cref="NiftiFormatException"/> before allocating.</summary>
public sealed class NiftiSecurityTests
{
    [Theory]
    [InlineData(new short[] { 3, -2, 2, 2, 1, 1, 1, 1 }, NiftiErrorCode.InvalidDimensions)]
    [InlineData(new short[] { 3, 2, 0, 2, 1, 1, 1, 1 }, NiftiErrorCode.InvalidDimensions)]
    [InlineData(new short[] { 0, 2, 2, 2, 1, 1, 1, 1 }, NiftiErrorCode.InvalidDimensions)]
    [InlineData(new short[] { 8, 2, 2, 2, 1, 1, 1, 1 }, NiftiErrorCode.InvalidDimensions)]
    [InlineData(new short[] { -1, 2, 2, 2, 1, 1, 1, 1 }, NiftiErrorCode.InvalidDimensions)]
    [InlineData(new short[] { 7, 32767, 32767, 32767, 32767, 32767, 32767, 32767 }, NiftiErrorCode.TooLarge)]
    [InlineData(new short[] { 3, 32767, 32767, 32767, 1, 1, 1, 1 }, NiftiErrorCode.TooLarge)]
    // The reason arrives boxed: a public test method cannot name the reader's internal enum in its signature.
    public void Read_HostileDims_Rejected(short[] dim, object reason) =>
        AssertRejected(new NiftiBytes { Dim = dim }.Build(), (NiftiErrorCode)reason);

    [Fact]
    public void Read_LargeDimsSmallFile_TruncatedWithoutAllocating()
    {
        // 16 M voxels of float64 declared (128 MiB), 8 bytes present.
        var crafted = new NiftiBytes { Dim = [3, 256, 256, 256, 1, 1, 1, 1], DataType = 64, BitPix = 64 };
        long before = GC.GetAllocatedBytesForCurrentThread();

        AssertRejected(crafted.Build(), NiftiErrorCode.Truncated);
        AssertRejected(NiftiBytes.Gzip(crafted.Build()), NiftiErrorCode.Truncated);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "the announced size was allocated");
    }

    [Theory]
    [InlineData(100000f, NiftiErrorCode.InvalidOffset)]
    [InlineData(200f, NiftiErrorCode.InvalidOffset)]
    [InlineData(-352f, NiftiErrorCode.InvalidOffset)]
    [InlineData(float.NaN, NiftiErrorCode.InvalidOffset)]
    [InlineData(352.5f, NiftiErrorCode.InvalidOffset)]
    public void Read_BadVoxOffset_Rejected(float offset, object reason)
    {
        byte[] bytes = new NiftiBytes().Build();
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(108), offset);

        AssertRejected(bytes, (NiftiErrorCode)reason);
        AssertRejected(NiftiBytes.Gzip(bytes), (NiftiErrorCode)reason);
    }

    [Theory]
    [InlineData(32, 64)] // complex64
    [InlineData(128, 24)] // RGB24
    [InlineData(1, 1)] // binary
    [InlineData(999, 8)]
    [InlineData(2, 16)] // bitpix disagrees with uint8
    public void Read_UnsupportedDatatype_Rejected(short datatype, short bitpix) =>
        AssertRejected(new NiftiBytes { DataType = datatype, BitPix = bitpix }.Build(), NiftiErrorCode.UnsupportedDatatype);

    [Fact]
    public void Read_TwoFileMagic_NotNifti() => AssertRejected(new NiftiBytes { Magic = "ni1" }.Build(), NiftiErrorCode.NotNifti);

    [Fact]
    public void Read_NonFiniteSform_InvalidGeometry()
    {
        var crafted = new NiftiBytes { SformCode = 1, Srow = [1, 0, 0, float.NaN, 0, 1, 0, 0, 0, 0, 1, 0] };

        AssertRejected(crafted.Build(), NiftiErrorCode.InvalidGeometry);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(200)]
    [InlineData(355)]
    public void Read_TruncatedHeaderOrData_Truncated(int length)
    {
        byte[] bytes = new NiftiBytes().Build();

        AssertRejected(bytes[..length], NiftiErrorCode.Truncated);
    }

    [Fact]
    public void Read_FileEndsBeforeVoxOffset_InvalidOffset() => AssertRejected(new NiftiBytes().Build()[..350], NiftiErrorCode.InvalidOffset);

    [Fact]
    public void Read_EveryTruncation_TypedErrorOnly()
    {
        byte[] bytes = new NiftiBytes().Build();
        for (int length = 0; length < bytes.Length; length++)
        {
            Assert.Throws<NiftiFormatException>(() => NiftiReader.Read(new MemoryStream(bytes[..length])));
        }
    }

    [Fact]
    public void Read_NotNifti_Rejected()
    {
        AssertRejected("\u0089PNG\r\n\u001a\n0000000000000000"u8.ToArray(), NiftiErrorCode.NotNifti);
        AssertRejected([0x1F, 0x8B, 8, 0, 1, 2, 3, 4, 5, 6, 7], NiftiErrorCode.InvalidGzip);
    }

    [Fact]
    public void Read_Nifti2HugeDims_TooLarge()
    {
        using var stream = new MemoryStream();
        NiftiWriter.Write([new Volume(1, 1, 1, [1], [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1])], stream, new NiftiWriteOptions { Version = 2 });
        byte[] bytes = stream.ToArray();
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(16 + 8), 1L << 40);

        AssertRejected(bytes, NiftiErrorCode.TooLarge);
    }

    [Fact]
    public void Read_Directory_Unreadable()
    {
        string dir = TestPaths.NewTempDirectory("medtransfer-nifti-dir");
        try
        {
            Assert.Equal(NiftiErrorCode.Unreadable, Assert.Throws<NiftiFormatException>(() => NiftiReader.Read(dir)).Reason);
        }
        finally
        {
            Directory.Delete(dir);
        }
    }

    [FsCheck.Xunit.Property(MaxTest = 500)]
    public void Read_MutatedHeader_TypedErrorOrImage(int position, byte value)
    {
        byte[] bytes = new NiftiBytes { SformCode = 1 }.Build();
        bytes[Math.Abs(position % bytes.Length)] = value;

        try
        {
            NiftiImage image = NiftiReader.Read(new MemoryStream(bytes));
            Assert.Equal(image.Data.LongLength, image.Dimensions.Aggregate(1L, (a, b) => a * b));
        }
        catch (NiftiFormatException)
        {
        }
    }

    private static void AssertRejected(byte[] bytes, NiftiErrorCode reason)
    {
        NiftiFormatException ex = Assert.Throws<NiftiFormatException>(() => NiftiReader.Read(new MemoryStream(bytes)));
        Assert.Equal(reason, ex.Reason);
    }
}
