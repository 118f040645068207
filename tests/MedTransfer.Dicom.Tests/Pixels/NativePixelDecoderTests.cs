using System.Buffers.Binary;
using MedTransfer.Dicom.Pixels;
using Xunit;

namespace MedTransfer.Dicom.Tests.Pixels;

public sealed class NativePixelDecoderTests
{
    private const string Le = PixelDecoder.ExplicitVRLittleEndian;
    private const string Be = PixelDecoder.ExplicitVRBigEndian;

    [Fact]
    public void DecodeFrame_EightBit_CopiesBytes()
    {
        byte[] data = [1, 2, 3, 4, 5, 6];
        PixelModule m = Modules.Mono(2, 3, 8, 8);
        Assert.Equal(data, PixelDecoder.DecodeFrame(m, Le, data));
        Assert.Equal(data, (byte[])PixelPipeline.StoredValues(m, data));
    }

    [Fact]
    public void DecodeFrame_SixteenBitSignedTwelveStored_SignExtends()
    {
        // 12 bits stored in 16, signed: 0x0FFF = -1, 0x0800 = -2048, 0x07FF = 2047; garbage in the top nibble is masked.
        ushort[] raw = [0x0FFF, 0x0800, 0x07FF, 0xF001];
        byte[] data = new byte[8];
        for (int i = 0; i < raw.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(2 * i), raw[i]);
        }

        PixelModule m = Modules.Mono(2, 2, 16, 12, signed: true);
        byte[] decoded = PixelDecoder.DecodeFrame(m, Le, data);
        Assert.Equal(new short[] { -1, -2048, 2047, 1 }, (short[])PixelPipeline.StoredValues(m, decoded));
    }

    [Fact]
    public void DecodeFrame_ThirtyTwoBit_ReadsUInt32()
    {
        byte[] data = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(data, 0xDEADBEEF);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(4), 7);
        PixelModule m = Modules.Mono(1, 2, 32, 32);
        Assert.Equal(new uint[] { 0xDEADBEEF, 7 }, (uint[])PixelPipeline.StoredValues(m, PixelDecoder.DecodeFrame(m, Le, data)));
        PixelModule s = Modules.Mono(1, 2, 32, 32, signed: true);
        Assert.Equal(new int[] { unchecked((int)0xDEADBEEF), 7 }, (int[])PixelPipeline.StoredValues(s, PixelDecoder.DecodeFrame(s, Le, data)));
    }

    [Fact]
    public void DecodeFrame_BigEndianSixteenBit_SwapsToLittleEndian()
    {
        byte[] data = [0x12, 0x34, 0xAB, 0xCD];
        PixelModule m = Modules.Mono(1, 2, 16, 16);
        byte[] decoded = PixelDecoder.DecodeFrame(m, Be, data);
        Assert.Equal(new ushort[] { 0x1234, 0xABCD }, (ushort[])PixelPipeline.StoredValues(m, decoded));
    }

    [Fact]
    public void DecodeFrame_BigEndianThirtyTwoBit_Swaps()
    {
        byte[] data = [0x01, 0x02, 0x03, 0x04];
        PixelModule m = Modules.Mono(1, 1, 32, 32);
        Assert.Equal(new uint[] { 0x01020304 }, (uint[])PixelPipeline.StoredValues(m, PixelDecoder.DecodeFrame(m, Be, data)));
    }

    [Fact]
    public void DecodeFrame_PlanarConfigurationOne_Interleaves()
    {
        byte[] planes = [10, 11, 20, 21, 30, 31];
        PixelModule m = Modules.Rgb(1, 2, planar: 1);
        Assert.Equal(new byte[] { 10, 20, 30, 11, 21, 31 }, PixelDecoder.DecodeFrame(m, Le, planes));
    }

    [Fact]
    public void DecodeFrame_PlanarSixteenBit_InterleavesWholeSamples()
    {
        byte[] planes = [1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0];
        PixelModule m = Modules.Rgb(1, 2, bitsAllocated: 16, planar: 1);
        Assert.Equal(new ushort[] { 1, 3, 5, 2, 4, 6 }, (ushort[])PixelPipeline.StoredValues(m, PixelDecoder.DecodeFrame(m, Le, planes)));
    }

    [Fact]
    public void DecodeFrame_Ybr422_UpsamplesChroma()
    {
        byte[] data = [100, 110, 50, 60, 120, 130, 70, 80];
        PixelModule m = Modules.Rgb(1, 4, pi: "YBR_FULL_422");
        Assert.Equal(8, m.FrameLengthBytes);
        Assert.Equal(new byte[] { 100, 50, 60, 110, 50, 60, 120, 70, 80, 130, 70, 80 }, PixelDecoder.DecodeFrame(m, Le, data));
        Assert.Equal("YBR_FULL", PixelDecoder.DecodedPhotometricInterpretation(m, Le));
    }

    [Fact]
    public void DecodeFrame_OneBitMultiFrameNotByteAligned_FramesStartMidByte()
    {
        // Three 3x3 frames = 27 bits, least significant bit first. Frame k has pixel i set when (i + k) % 3 == 0.
        PixelModule m = Modules.Mono(3, 3, 1, 1, frames: 3);
        byte[] data = new byte[m.TotalNativeBytes];
        var expected = new byte[3][];
        for (int k = 0; k < 3; k++)
        {
            expected[k] = new byte[9];
            for (int i = 0; i < 9; i++)
            {
                if ((i + k) % 3 == 0)
                {
                    int bit = (k * 9) + i;
                    data[bit / 8] |= (byte)(1 << (bit % 8));
                    expected[k][i] = 1;
                }
            }
        }

        for (int k = 0; k < 3; k++)
        {
            Assert.Equal(expected[k], PixelDecoder.DecodeFrame(m, Le, data, k));
        }
    }

    [Fact]
    public void DecodeFrame_MultiFrameSixteenBit_SelectsFrame()
    {
        PixelModule m = Modules.Mono(1, 2, 16, 16, frames: 2);
        byte[] data = [1, 0, 2, 0, 3, 0, 4, 0];
        Assert.Equal(new ushort[] { 3, 4 }, (ushort[])PixelPipeline.StoredValues(m, PixelDecoder.DecodeFrame(m, Le, data, 1)));
    }

    [Fact]
    public void DecodeFrame_PixelDataShorterThanDeclared_InvalidPixelModule_EvenTolerant()
    {
        PixelModule m = Modules.Mono(4, 4, 16, 16);
        byte[] data = new byte[31];
        foreach (PixelValidationMode mode in new[] { PixelValidationMode.Strict, PixelValidationMode.Tolerant })
        {
            var ex = Assert.Throws<DicomFormatException>(() => PixelDecoder.DecodeFrame(m, Le, data, 0, mode));
            Assert.Equal(DicomErrorCode.InvalidPixelModule, ex.Reason);
        }
    }

    [Fact]
    public void DecodeFrame_PixelDataLongerThanDeclared_StrictRejects_TolerantIgnoresTail()
    {
        PixelModule m = Modules.Mono(2, 2, 8, 8);
        byte[] data = [1, 2, 3, 4, 9, 9];
        Assert.Equal(DicomErrorCode.InvalidPixelModule, Assert.Throws<DicomFormatException>(() => PixelDecoder.DecodeFrame(m, Le, data)).Reason);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, PixelDecoder.DecodeFrame(m, Le, data, 0, PixelValidationMode.Tolerant));
    }

    [Fact]
    public void DecodeFrame_OddLengthWithPaddingByte_Accepted()
    {
        PixelModule m = Modules.Mono(1, 3, 8, 8);
        Assert.Equal(new byte[] { 1, 2, 3 }, PixelDecoder.DecodeFrame(m, Le, new byte[] { 1, 2, 3, 0 }));
    }

    [Fact]
    public void DecodeFrame_ZeroLengthPixelData_InvalidPixelModule()
    {
        PixelModule m = Modules.Mono(2, 2, 8, 8);
        Assert.Equal(DicomErrorCode.InvalidPixelModule, Assert.Throws<DicomFormatException>(() => PixelDecoder.DecodeFrame(m, Le, ReadOnlySpan<byte>.Empty)).Reason);
    }

    [Fact]
    public void DecodeFrame_FrameIndexOutOfRange_InvalidPixelModule()
    {
        PixelModule m = Modules.Mono(1, 1, 8, 8, frames: 2);
        Assert.Equal(DicomErrorCode.InvalidPixelModule, Assert.Throws<DicomFormatException>(() => PixelDecoder.DecodeFrame(m, Le, new byte[] { 1, 2 }, 2)).Reason);
    }

    [Fact]
    public void DecodeFrame_DeclaredHugeButBacked10Bytes_RejectedBeforeAllocating()
    {
        // 60000 x 60000 x 16 bits = 7.2 GB declared, 10 bytes present: the frame exceeds the 2 GiB limit.
        PixelModule m = Modules.Mono(60000, 60000, 16, 16);
        Assert.Equal(DicomErrorCode.PixelDataTooLarge, Assert.Throws<DicomFormatException>(() => PixelDecoder.DecodeFrame(m, Le, new byte[10])).Reason);
    }

    [Fact]
    public void DecodeFrame_UnknownTransferSyntax_UnsupportedTransferSyntax()
    {
        PixelModule m = Modules.Mono(1, 1, 8, 8);
        Assert.Equal(DicomErrorCode.UnsupportedTransferSyntax, Assert.Throws<DicomFormatException>(() => PixelDecoder.DecodeFrame(m, "1.2.3.4", new byte[] { 1 })).Reason);
    }

    [Fact]
    public void DecodeFrame_DestinationTooSmall_ArgumentException()
    {
        PixelModule m = Modules.Mono(2, 2, 8, 8);
        Assert.Throws<ArgumentException>(() => PixelDecoder.DecodeFrame(m, Le, new byte[4], new byte[3]));
    }
}

/// <summary>A huge declared frame backed by a few bytes is rejected before the frame buffer exists.</summary>
public sealed class AllocationBeforeValidationTests
{
    private static readonly PixelModule _huge = Modules.Mono(30000, 30000, 16, 16); // 1.8 GB, under the 2 GiB frame limit

    private static void AssertRejectedWithoutAllocating(string transferSyntax, byte[] source, DicomErrorCode reason)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<DicomFormatException>(() => PixelDecoder.DecodeFrame(_huge, transferSyntax, source));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(reason, ex.Reason);
        Assert.True(allocated < 1_000_000, $"{allocated} bytes allocated");
    }

    [Fact]
    public void Native_TenBytes_InvalidPixelModule() =>
        AssertRejectedWithoutAllocating(PixelDecoder.ExplicitVRLittleEndian, new byte[10], DicomErrorCode.InvalidPixelModule);

    [Fact]
    public void Rle_SmallStream_CorruptPixelStream()
    {
        byte[] rle = new byte[200];
        rle[0] = 2;
        AssertRejectedWithoutAllocating(PixelDecoder.RleLossless, rle, DicomErrorCode.CorruptPixelStream);
    }

    [Theory]
    [InlineData(0xC3, PixelDecoder.JpegLosslessSV1)]
    [InlineData(0xC0, PixelDecoder.JpegBaseline)]
    [InlineData(0xF7, PixelDecoder.JpegLsLossless)]
    public void JpegFamily_HeaderAgreesButStreamTooShort_CorruptPixelStream(byte sof, string transferSyntax)
    {
        // SOI, a frame header that agrees with the module (30000 x 30000, one 16-bit component), SOS, EOI.
        byte[] stream =
        [
            0xFF, 0xD8, 0xFF, sof, 0x00, 0x0B, 0x10, 0x75, 0x30, 0x75, 0x30, 0x01, 0x01, 0x11, 0x00,
            0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xD9,
        ];
        AssertRejectedWithoutAllocating(transferSyntax, stream, DicomErrorCode.CorruptPixelStream);
    }

    [Fact]
    public void JpegFamily_HeaderDisagreesWithModule_CorruptPixelStream()
    {
        byte[] stream = [0xFF, 0xD8, 0xFF, 0xC3, 0x00, 0x0B, 0x10, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00, 0xFF, 0xD9];
        AssertRejectedWithoutAllocating(PixelDecoder.JpegLosslessSV1, stream, DicomErrorCode.CorruptPixelStream);
    }
}
