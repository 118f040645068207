using MedTransfer.Dicom.Pixels;
using Xunit;

namespace MedTransfer.Dicom.Tests.Pixels;

/// <summary>
/// Bytes after a JPEG-family end-of-image marker (PS3.5 A.4 pads fragments; real encoders leave 1–7 more bytes):
/// accepted after the last FF D9 in both modes, cut off before the codec, and recorded; a stream without an end
/// marker near its end stays a typed "truncated" error.
/// </summary>
public sealed class JpegEndMarkerTests
{
    private const int Width = 24;
    private const int Height = 16;

    [Theory]
    [InlineData(PixelValidationMode.Strict)]
    [InlineData(PixelValidationMode.Tolerant)]
    public void DecodeFrame_JpegWithBytesAfterTheEndMarker_DecodesLikeTheCleanStreamAndSaysSo(PixelValidationMode mode)
    {
        byte[] clean = Jpeg();
        byte[] padded = [.. clean, 0x12, 0x34, 0x56, 0x00, 0x9A, 0xBC, 0x00];
        DicomImage image = DicomImage.Create(Dataset(padded), PixelDecoder.JpegBaseline, mode);

        byte[] decoded = image.DecodeFrame(0);

        Assert.Equal(PixelDecoder.DecodeFrame(Module, PixelDecoder.JpegBaseline, clean), decoded);
        DicomWarning warning = Assert.Single(image.Warnings);
        Assert.Equal(DicomErrorCode.CorruptPixelStream, warning.Code);
        Assert.Contains("frame 0: 7 byte(s) after the end-of-image marker were ignored", warning.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void DecodeFrame_JpegWithZeroPaddingOnly_DecodesWithoutAWarning()
    {
        byte[] clean = Jpeg();
        DicomImage image = DicomImage.Create(Dataset([.. clean, 0, 0, 0, 0]), PixelDecoder.JpegBaseline);

        Assert.Equal(PixelDecoder.DecodeFrame(Module, PixelDecoder.JpegBaseline, clean), image.DecodeFrame(0));
        Assert.Empty(image.Warnings);
    }

    [Fact]
    public void DecodeFrame_TruncatedJpeg_StrictSaysTruncated()
    {
        byte[] cut = Jpeg()[..^40];

        var ex = Assert.Throws<DicomFormatException>(() => PixelDecoder.DecodeFrame(Module, PixelDecoder.JpegBaseline, cut));

        Assert.Equal(DicomErrorCode.CorruptPixelStream, ex.Reason);
        Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DecodeFrame_EndMarkerFurtherFromTheEndThanTheLimit_IsTreatedAsTruncated()
    {
        // An end marker followed by more than a little padding is more likely a thumbnail's inside a cut stream.
        byte[] far = [.. Jpeg(), .. Enumerable.Repeat((byte)0x55, PixelDecoder.MaxBytesAfterEndMarker + 1)];

        var ex = Assert.Throws<DicomFormatException>(() => PixelDecoder.DecodeFrame(Module, PixelDecoder.JpegBaseline, far));

        Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData(PixelValidationMode.Strict)]
    [InlineData(PixelValidationMode.Tolerant)]
    public void DecodeFrame_JpegLsWithBytesAfterTheEndMarker_Decodes(PixelValidationMode mode)
    {
        Skip.If(PixelDecoder.JpegLsLibraryVersion is null, "libcharls2 is not installed");
        byte[] samples = Samples();
        byte[] stream = JpegLsRoundTripTests.Encode(samples, Width, Height, 8, 1, 0, 0);
        DicomImage image = DicomImage.Create(Dataset([.. stream, 0x01, 0x02, 0x03]), PixelDecoder.JpegLsLossless, mode);

        Assert.Equal(samples, image.DecodeFrame(0));
        Assert.Contains("after the end-of-image marker", Assert.Single(image.Warnings).Detail, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void DecodeFrame_TruncatedJpegLsInTolerantMode_IsStillRefusedBeforeTheCodec()
    {
        Skip.If(PixelDecoder.JpegLsLibraryVersion is null, "libcharls2 is not installed");
        byte[] stream = JpegLsRoundTripTests.Encode(Samples(), Width, Height, 8, 1, 0, 0);

        var ex = Assert.Throws<DicomFormatException>(() => PixelDecoder.DecodeFrame(Module, PixelDecoder.JpegLsLossless, stream[..^20], mode: PixelValidationMode.Tolerant));

        Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
    }

    private static PixelModule Module => Modules.Mono(Height, Width, 8, 8);

    private static byte[] Samples() => [.. Enumerable.Range(0, Width * Height).Select(i => (byte)((i * 7) + (i / Width * 3)))];

    private static byte[] Jpeg() => JpegBaselineTests.Encode(Samples(), Width, Height, 1);

    private static DicomDataset Dataset(byte[] stream) => EncapsulatedDatasets.Create(Module, new DicomFragments([], [stream]));
}
