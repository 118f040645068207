using System.Buffers.Binary;
using FsCheck.Xunit;
using MedTransfer.Dicom.Pixels;
using Xunit;

namespace MedTransfer.Dicom.Tests.Pixels;

public sealed class RleCodecTests
{
    private const string Rle = PixelDecoder.RleLossless;

    private static byte[] Pattern(int length, int seed)
    {
        var random = new Random(seed);
        byte[] data = new byte[length];
        for (int i = 0; i < length; i++)
        {
            // Mix long runs and noise so both PackBits run kinds occur.
            data[i] = (i / 7 % 3 == 0) ? (byte)(i / 50) : (byte)random.Next(256);
        }

        return data;
    }

    public static TheoryData<int, int, int> Layouts => new()
    {
        { 8, 1, 1 },
        { 8, 3, 1 },
        { 16, 1, 1 },
        { 16, 3, 1 },
        { 32, 1, 1 },
        { 8, 1, 3 },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void EncodeThenDecode_RoundTrips(int bitsAllocated, int samples, int frames)
    {
        var m = new PixelModule(13, 301, samples, bitsAllocated, bitsAllocated, bitsAllocated - 1, 0, 0, samples == 3 ? "RGB" : "MONOCHROME2", frames);
        for (int f = 0; f < frames; f++)
        {
            byte[] frame = Pattern((int)m.DecodedFrameLength, f);
            byte[] encoded = RleEncoder.EncodeFrame(m, frame);
            Assert.Equal(samples * (bitsAllocated / 8), BinaryPrimitives.ReadInt32LittleEndian(encoded));
            Assert.Equal(frame, PixelDecoder.DecodeFrame(m, Rle, encoded, f));
        }
    }

    [Fact]
    public void EncodeThenDecode_OneBit_RoundTrips()
    {
        PixelModule m = Modules.Mono(5, 11, 1, 1);
        byte[] frame = Pattern(55, 3).Select(b => (byte)(b & 1)).ToArray();
        Assert.Equal(frame, PixelDecoder.DecodeFrame(m, Rle, RleEncoder.EncodeFrame(m, frame)));
    }

    [Fact]
    public void Decode_SixteenBit_MostSignificantPlaneFirst()
    {
        // Hand-built: two segments, high bytes then low bytes, each one literal run of 2.
        byte[] rle = new byte[64 + 4 + 4];
        BinaryPrimitives.WriteUInt32LittleEndian(rle, 2);
        BinaryPrimitives.WriteUInt32LittleEndian(rle.AsSpan(4), 64);
        BinaryPrimitives.WriteUInt32LittleEndian(rle.AsSpan(8), 68);
        rle[64] = 1; rle[65] = 0x12; rle[66] = 0xAB; rle[67] = 0x80;
        rle[68] = 1; rle[69] = 0x34; rle[70] = 0xCD; rle[71] = 0x80;
        PixelModule m = Modules.Mono(1, 2, 16, 16);
        Assert.Equal(new ushort[] { 0x1234, 0xABCD }, (ushort[])PixelPipeline.StoredValues(m, PixelDecoder.DecodeFrame(m, Rle, rle)));
    }

    [Fact]
    public void Decode_SegmentOffsetPastBuffer_CorruptPixelStream()
    {
        PixelModule m = Modules.Mono(4, 4, 8, 8);
        byte[] rle = RleEncoder.EncodeFrame(m, new byte[16]);
        BinaryPrimitives.WriteUInt32LittleEndian(rle.AsSpan(4), 100000);
        AssertCorrupt(m, rle);
    }

    [Fact]
    public void Decode_SegmentOffsetInsideHeader_CorruptPixelStream()
    {
        PixelModule m = Modules.Mono(4, 4, 8, 8);
        byte[] rle = RleEncoder.EncodeFrame(m, new byte[16]);
        BinaryPrimitives.WriteUInt32LittleEndian(rle.AsSpan(4), 8);
        AssertCorrupt(m, rle);
    }

    [Fact]
    public void Decode_SegmentsOutOfOrder_CorruptPixelStream()
    {
        PixelModule m = Modules.Mono(4, 4, 16, 16);
        byte[] rle = RleEncoder.EncodeFrame(m, Pattern(32, 1));
        uint first = BinaryPrimitives.ReadUInt32LittleEndian(rle.AsSpan(4));
        uint second = BinaryPrimitives.ReadUInt32LittleEndian(rle.AsSpan(8));
        BinaryPrimitives.WriteUInt32LittleEndian(rle.AsSpan(4), second);
        BinaryPrimitives.WriteUInt32LittleEndian(rle.AsSpan(8), first);
        AssertCorrupt(m, rle);
    }

    [Fact]
    public void Decode_LiteralRunPastEnd_CorruptPixelStream()
    {
        PixelModule m = Modules.Mono(4, 4, 8, 8);
        byte[] rle = new byte[64 + 3];
        BinaryPrimitives.WriteUInt32LittleEndian(rle, 1);
        BinaryPrimitives.WriteUInt32LittleEndian(rle.AsSpan(4), 64);
        rle[64] = 15; // 16 literal bytes announced, 2 present
        AssertCorrupt(m, rle);
    }

    [Fact]
    public void Decode_SegmentEndsEarly_CorruptPixelStream_EvenTolerant()
    {
        PixelModule m = Modules.Mono(4, 4, 8, 8);
        byte[] rle = new byte[64 + 2];
        BinaryPrimitives.WriteUInt32LittleEndian(rle, 1);
        BinaryPrimitives.WriteUInt32LittleEndian(rle.AsSpan(4), 64);
        rle[64] = unchecked((byte)-7); rle[65] = 5; // 8 of 16 bytes
        AssertCorrupt(m, rle);
        var ex = Assert.Throws<DicomFormatException>(() => PixelDecoder.DecodeFrame(m, Rle, rle, 0, PixelValidationMode.Tolerant));
        Assert.Equal(DicomErrorCode.CorruptPixelStream, ex.Reason);
    }

    [Fact]
    public void Decode_RunOverflowsPlane_StrictRejects_TolerantTruncates()
    {
        PixelModule m = Modules.Mono(2, 2, 8, 8);
        byte[] rle = new byte[64 + 2];
        BinaryPrimitives.WriteUInt32LittleEndian(rle, 1);
        BinaryPrimitives.WriteUInt32LittleEndian(rle.AsSpan(4), 64);
        rle[64] = unchecked((byte)-9); rle[65] = 7; // 10 bytes for a 4-byte plane
        AssertCorrupt(m, rle);
        Assert.Equal(new byte[] { 7, 7, 7, 7 }, PixelDecoder.DecodeFrame(m, Rle, rle, 0, PixelValidationMode.Tolerant));
    }

    [Fact]
    public void Decode_WrongSegmentCount_CorruptPixelStream()
    {
        PixelModule m8 = Modules.Mono(4, 4, 8, 8);
        byte[] rle = RleEncoder.EncodeFrame(m8, new byte[16]);
        AssertCorrupt(Modules.Mono(4, 4, 16, 16), rle);
        BinaryPrimitives.WriteUInt32LittleEndian(rle, 16);
        AssertCorrupt(m8, rle);
    }

    [Fact]
    public void Decode_ShorterThanHeader_CorruptPixelStream()
    {
        AssertCorrupt(Modules.Mono(4, 4, 8, 8), new byte[10]);
    }

    [Fact]
    public void Decode_TruncatedAtEveryOffset_TypedErrorOnly()
    {
        PixelModule m = Modules.Rgb(7, 9, bitsAllocated: 16);
        byte[] rle = RleEncoder.EncodeFrame(m, Pattern((int)m.DecodedFrameLength, 5));
        for (int length = 0; length < rle.Length - 1; length++)
        {
            byte[] cut = rle[..length];
            var ex = Assert.Throws<DicomFormatException>(() => PixelDecoder.DecodeFrame(m, Rle, cut));
            Assert.Equal(DicomErrorCode.CorruptPixelStream, ex.Reason);
        }
    }

    [Property(MaxTest = 300)]
    public bool Decode_RandomSegmentBytes_TypedErrorOrFullFrame(byte[] body)
    {
        PixelModule m = Modules.Mono(3, 5, 8, 8);
        body ??= [];
        byte[] rle = new byte[64 + body.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(rle, 1);
        BinaryPrimitives.WriteUInt32LittleEndian(rle.AsSpan(4), 64);
        body.CopyTo(rle, 64);
        try
        {
            return PixelDecoder.DecodeFrame(m, Rle, rle).Length == 15;
        }
        catch (DicomFormatException ex)
        {
            return ex.Reason == DicomErrorCode.CorruptPixelStream;
        }
    }

    private static void AssertCorrupt(PixelModule m, byte[] rle)
    {
        var ex = Assert.Throws<DicomFormatException>(() => PixelDecoder.DecodeFrame(m, Rle, rle));
        Assert.Equal(DicomErrorCode.CorruptPixelStream, ex.Reason);
    }
}
