using MedTransfer.Dicom.Pixels;
using Xunit;

namespace MedTransfer.Dicom.Tests.Pixels;

public sealed class PixelDecoderTests
{
    [Theory]
    [InlineData(PixelDecoder.ImplicitVRLittleEndian, true, false)]
    [InlineData(PixelDecoder.ExplicitVRLittleEndian, true, false)]
    [InlineData(PixelDecoder.DeflatedExplicitVRLittleEndian, true, false)]
    [InlineData(PixelDecoder.ExplicitVRBigEndian, true, false)]
    [InlineData(PixelDecoder.RleLossless, true, true)]
    [InlineData(PixelDecoder.JpegBaseline, true, true)]
    [InlineData(PixelDecoder.JpegExtended, true, true)]
    [InlineData(PixelDecoder.JpegLossless, true, true)]
    [InlineData(PixelDecoder.JpegLosslessSV1, true, true)]
    [InlineData(PixelDecoder.JpegLsLossless, true, true)]
    [InlineData(PixelDecoder.JpegLsNearLossless, true, true)]
    [InlineData(PixelDecoder.Jpeg2000Lossless, true, true)]
    [InlineData(PixelDecoder.Jpeg2000, true, true)]
    [InlineData("1.2.840.10008.1.2.4.100", false, false)]
    [InlineData("1.2.840.10008.1.2.4.201", false, false)]
    public void IsSupported_And_IsEncapsulated(string uid, bool supported, bool encapsulated)
    {
        Assert.Equal(supported, PixelDecoder.IsSupported(uid));
        Assert.Equal(encapsulated, PixelDecoder.IsEncapsulated(uid));
    }

    [Fact]
    public void IsSupported_UidWithNulPadding_Accepted()
    {
        Assert.True(PixelDecoder.IsSupported("1.2.840.10008.1.2.1\0"));
    }

    [Theory]
    [InlineData("YBR_RCT", PixelDecoder.Jpeg2000Lossless, "RGB")]
    [InlineData("YBR_ICT", PixelDecoder.Jpeg2000, "RGB")]
    [InlineData("YBR_FULL_422", PixelDecoder.JpegBaseline, "YBR_FULL")]
    [InlineData("YBR_FULL_422", PixelDecoder.ExplicitVRLittleEndian, "YBR_FULL")]
    [InlineData("YBR_FULL", PixelDecoder.RleLossless, "YBR_FULL")]
    [InlineData("RGB", PixelDecoder.JpegLsLossless, "RGB")]
    public void DecodedPhotometricInterpretation_ReflectsWhatTheCodecDoes(string declared, string uid, string decoded)
    {
        PixelModule m = Modules.Rgb(2, 2, pi: declared);
        Assert.Equal(decoded, PixelDecoder.DecodedPhotometricInterpretation(m, uid));
    }

    [Fact]
    public void DecodedPhotometricInterpretation_Monochrome_Unchanged()
    {
        Assert.Equal("MONOCHROME1", PixelDecoder.DecodedPhotometricInterpretation(Modules.Mono(1, 1, 8, 8, pi: "MONOCHROME1 "), PixelDecoder.JpegLsLossless));
    }

    [Fact]
    public void NativeCodecLibrary_MissingLibrary_Null()
    {
        Assert.Null(NativeCodecLibrary.TryLoad(["libdoes-not-exist-medtransfer.so.9"], ["nothing"]));
    }

    [SkippableFact]
    public void NativeCodecLibrary_MissingSymbol_Null()
    {
        Skip.If(PixelDecoder.JpegLsLibraryVersion is null, "libcharls2 is not installed");
        Assert.Null(NativeCodecLibrary.TryLoad(["libcharls.so.2"], ["charls_symbol_that_does_not_exist"]));
    }

    [Fact]
    public void DecodeFrame_SameFrameTwiceIntoReusedBuffer_BitIdentical()
    {
        // B4 for the managed codecs with data generated here (the real-file version is in RealFileDecodeTests).
        PixelModule m = Modules.Rgb(9, 13, bitsAllocated: 16);
        byte[] frame = Enumerable.Range(0, (int)m.DecodedFrameLength).Select(i => (byte)((i * 31) ^ (i >> 3))).ToArray();
        byte[] rle = RleEncoder.EncodeFrame(m, frame);
        byte[] buffer = new byte[m.DecodedFrameLength];
        PixelDecoder.DecodeFrame(m, PixelDecoder.RleLossless, rle, buffer);
        byte[] first = (byte[])buffer.Clone();
        Array.Fill(buffer, (byte)0xCD);
        PixelDecoder.DecodeFrame(m, PixelDecoder.RleLossless, rle, buffer);
        Assert.Equal(first, buffer);
        Assert.Equal(frame, first);
    }
}
