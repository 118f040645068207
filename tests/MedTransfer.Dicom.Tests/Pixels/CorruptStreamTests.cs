using MedTransfer.Dicom.Pixels;
using MedTransfer.Testing;
using Xunit;

namespace MedTransfer.Dicom.Tests.Pixels;

/// <summary>
/// Truncated and bit-flipped JPEG lossless, JPEG-LS, JPEG 2000 and RLE streams of the real
/// dcm_qa_ts image end in <see cref="DicomFormatException"/> (CorruptPixelStream) or a complete frame, never in
/// another exception or a crash of the test host (CharLS and OpenJPEG run in this process).
/// </summary>
public sealed class CorruptStreamTests
{
    public static TheoryData<int> Compressed => new() { 4, 5, 7, 9 };

    [SkippableTheory]
    [MemberData(nameof(Compressed))]
    public void Decode_TruncatedStream_StrictCorruptPixelStream(int number)
    {
        byte[] source = Source(number);
        foreach (int length in new[] { 0, 2, 3, 16, 64, 200, source.Length / 3, source.Length / 2, source.Length - 40, source.Length - 3 })
        {
            var ex = Assert.Throws<DicomFormatException>(() => Decode(number, source[..length], PixelValidationMode.Strict));
            Assert.Equal(DicomErrorCode.CorruptPixelStream, ex.Reason);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Compressed))]
    public void Decode_TruncatedStream_TolerantTypedErrorOrCompleteFrame(int number)
    {
        // Tolerant mode hands truncated streams to the codecs themselves (no end-marker check).
        byte[] source = Source(number);
        foreach (int length in new[] { 0, 2, 3, 16, 64, 200, source.Length / 3, source.Length / 2, source.Length - 40, source.Length - 3 })
        {
            AssertTypedOrComplete(number, source[..length], PixelValidationMode.Tolerant);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Compressed))]
    public void Decode_FlippedBytes_TypedErrorOrCompleteFrame(int number)
    {
        Mutate(number, mutations: 40, seed: 1);
    }

    [SkippableTheory]
    [MemberData(nameof(Compressed))]
    [Trait("Category", "Fuzz")]
    public void Decode_ManyFlippedBytes_TypedErrorOrCompleteFrame(int number)
    {
        Mutate(number, mutations: 1500, seed: 2);
    }

    [SkippableTheory]
    [MemberData(nameof(Compressed))]
    public void Decode_WrongModule_CorruptPixelStream(int number)
    {
        byte[] source = Source(number);
        PixelModule wrongSize = TestPixelData.Module with { Rows = 383 };
        Assert.Throws<DicomFormatException>(() => PixelDecoder.DecodeFrame(wrongSize, TestPixelData.Syntaxes[number], source));
        PixelModule wrongSamples = TestPixelData.Module with { SamplesPerPixel = 3, PhotometricInterpretation = "RGB" };
        Assert.Throws<DicomFormatException>(() => PixelDecoder.DecodeFrame(wrongSamples, TestPixelData.Syntaxes[number], source));
    }

    [SkippableTheory]
    [MemberData(nameof(Compressed))]
    public void Decode_PrecisionAboveBitsAllocated_CorruptPixelStream(int number)
    {
        Skip.If(number == 4, "RLE has no precision of its own");
        byte[] source = Source(number);
        PixelModule eightBit = TestPixelData.Module with { BitsAllocated = 8, BitsStored = 8, HighBit = 7 };
        var ex = Assert.Throws<DicomFormatException>(() => PixelDecoder.DecodeFrame(eightBit, TestPixelData.Syntaxes[number], source));
        Assert.Equal(DicomErrorCode.CorruptPixelStream, ex.Reason);
    }

    [Fact]
    public void Decode_GarbageForEveryCompressedSyntax_CorruptPixelStream()
    {
        byte[] garbage = Enumerable.Range(0, 300).Select(i => (byte)(i * 7)).ToArray();
        PixelModule m = Modules.Mono(8, 8, 8, 8);
        foreach (string ts in new[] { PixelDecoder.RleLossless, PixelDecoder.JpegBaseline, PixelDecoder.JpegLosslessSV1, PixelDecoder.JpegLsLossless, PixelDecoder.Jpeg2000Lossless })
        {
            try
            {
                PixelDecoder.DecodeFrame(m, ts, garbage, 0, PixelValidationMode.Tolerant);
                Assert.Fail($"{ts} accepted garbage");
            }
            catch (DicomFormatException ex)
            {
                Assert.Equal(DicomErrorCode.CorruptPixelStream, ex.Reason);
            }
            catch (CodecUnavailableException)
            {
                // The native library is not installed here: also a typed error.
            }
        }
    }

    private static void Mutate(int number, int mutations, int seed)
    {
        byte[] source = Source(number);
        var random = new Random(seed * 1000 + number);
        for (int i = 0; i < mutations; i++)
        {
            byte[] copy = (byte[])source.Clone();
            int flips = 1 + random.Next(8);
            for (int f = 0; f < flips; f++)
            {
                // Bias towards the headers, where lengths and dimensions live.
                int at = random.Next(2) == 0 ? random.Next(Math.Min(400, copy.Length)) : random.Next(copy.Length);
                copy[at] = (byte)random.Next(256);
            }

            AssertTypedOrComplete(number, copy, random.Next(2) == 0 ? PixelValidationMode.Strict : PixelValidationMode.Tolerant);
        }
    }

    private static void AssertTypedOrComplete(int number, byte[] stream, PixelValidationMode mode)
    {
        try
        {
            byte[] decoded = Decode(number, stream, mode);
            Assert.Equal(TestPixelData.Module.DecodedFrameLength, decoded.Length);
        }
        catch (DicomFormatException ex)
        {
            // A flip can also turn a valid stream into a valid but unsupported one (a 16-bit predictor 5-7).
            Assert.True(ex.Reason is DicomErrorCode.CorruptPixelStream or DicomErrorCode.UnsupportedTransferSyntax, ex.Message);
        }
    }

    private static byte[] Decode(int number, byte[] stream, PixelValidationMode mode) =>
        PixelDecoder.DecodeFrame(TestPixelData.Module, TestPixelData.Syntaxes[number], stream, 0, mode);

    private static byte[] Source(int number)
    {
        Skip.If(TestPaths.SharedData(TestPixelData.Folder) is null, TestPaths.MissingReason(TestPixelData.Folder));
        Skip.If(number == 7 && PixelDecoder.JpegLsLibraryVersion is null, "libcharls2 is not installed");
        Skip.If(number == 9 && PixelDecoder.Jpeg2000LibraryVersion is null, "libopenjp2-7 is not installed");
        return TestPixelData.FrameSource(number);
    }
}

/// <summary>Byte-array regressions for fuzzing findings, built in code.</summary>
public sealed class Jpeg2000SizRegressionTests
{
    /// <summary>A minimal codestream: SOC, SIZ (one 8-bit component), then EOC. The SIZ check runs before the
    /// native library is even loaded, so these tests need no OpenJPEG.</summary>
    private static byte[] Codestream(uint xsiz, uint ysiz, uint xosiz, uint yosiz)
    {
        var bytes = new List<byte> { 0xFF, 0x4F, 0xFF, 0x51, 0x00, 41, 0x00, 0x00 };
        foreach (uint v in new[] { xsiz, ysiz, xosiz, yosiz, 64u, 64u, 0u, 0u })
        {
            bytes.AddRange(new[] { (byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v });
        }

        bytes.AddRange(new byte[] { 0x00, 0x01, 0x07, 0x01, 0x01, 0xFF, 0xD9 });
        return bytes.ToArray();
    }

    [Fact]
    public void Decode_SizOffsetBeyondImageSize_CorruptPixelStreamNotOverflow()
    {
        // Found by Decode_ManyFlippedBytes: XOsiz > Xsiz made the error message itself overflow (checked uint).
        var ex = Assert.Throws<DicomFormatException>(() => PixelDecoder.DecodeFrame(Modules.Mono(8, 8, 8, 8), PixelDecoder.Jpeg2000Lossless, Codestream(8, 8, 4000000000, 9)));
        Assert.Equal(DicomErrorCode.CorruptPixelStream, ex.Reason);
    }

    [Fact]
    public void Decode_SizSizeDiffersFromModule_CorruptPixelStream()
    {
        var ex = Assert.Throws<DicomFormatException>(() => PixelDecoder.DecodeFrame(Modules.Mono(8, 8, 8, 8), PixelDecoder.Jpeg2000Lossless, Codestream(65535, 65535, 0, 0)));
        Assert.Equal(DicomErrorCode.CorruptPixelStream, ex.Reason);
    }
}

public sealed class JpegLosslessPredictorTests
{
    [SkippableFact]
    public void Decode_SixteenBitLosslessWithPredictor6_RefusedNotDecodedWrongly()
    {
        Skip.If(TestPaths.SharedData(TestPixelData.Folder) is null, TestPaths.MissingReason(TestPixelData.Folder));
        byte[] stream = TestPixelData.FrameSource(5);
        int sos = Enumerable.Range(0, stream.Length - 1).First(i => stream[i] == 0xFF && stream[i + 1] == 0xDA);
        int ss = sos + 5 + (2 * stream[sos + 4]);
        Assert.Equal(1, stream[ss]); // process 14, selection value 1
        stream[ss] = 6;
        var ex = Assert.Throws<DicomFormatException>(() => PixelDecoder.DecodeFrame(TestPixelData.Module, PixelDecoder.JpegLossless, stream));
        Assert.Equal(DicomErrorCode.UnsupportedTransferSyntax, ex.Reason);
    }
}
