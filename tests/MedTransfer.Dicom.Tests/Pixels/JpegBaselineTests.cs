using System.Buffers;
using JpegLibrary;
using MedTransfer.Dicom.Pixels;
using Xunit;

namespace MedTransfer.Dicom.Tests.Pixels;

/// <summary>Baseline JPEG (…4.50) streams produced in the test with JpegLibrary's encoder, then decoded through PixelDecoder.</summary>
public sealed class JpegBaselineTests
{
    internal static byte[] Encode(byte[] samples, int width, int height, int components)
    {
        var encoder = new JpegEncoder();
        encoder.SetQuantizationTable(JpegStandardQuantizationTable.ScaleByQuality(JpegStandardQuantizationTable.GetLuminanceTable(JpegElementPrecision.Precision8Bit, 0), 100));
        encoder.SetQuantizationTable(JpegStandardQuantizationTable.ScaleByQuality(JpegStandardQuantizationTable.GetChrominanceTable(JpegElementPrecision.Precision8Bit, 1), 100));
        encoder.SetHuffmanTable(true, 0, JpegStandardHuffmanEncodingTable.GetLuminanceDCTable());
        encoder.SetHuffmanTable(false, 0, JpegStandardHuffmanEncodingTable.GetLuminanceACTable());
        encoder.SetHuffmanTable(true, 1, JpegStandardHuffmanEncodingTable.GetChrominanceDCTable());
        encoder.SetHuffmanTable(false, 1, JpegStandardHuffmanEncodingTable.GetChrominanceACTable());
        encoder.AddComponent(0, 0, 0, 0, 1, 1);
        for (byte c = 1; c < components; c++)
        {
            encoder.AddComponent(c, 1, 1, 1, 1, 1);
        }

        encoder.SetInputReader(new InterleavedReader(samples, width, height, components));
        var output = new ArrayBufferWriter<byte>();
        encoder.SetOutput(output);
        encoder.Encode();
        return output.WrittenSpan.ToArray();
    }

    private static byte[] Smooth(int width, int height, int components)
    {
        byte[] data = new byte[width * height * components];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                for (int c = 0; c < components; c++)
                {
                    data[(((y * width) + x) * components) + c] = (byte)(40 + x + (2 * y) + (30 * c));
                }
            }
        }

        return data;
    }

    [Fact]
    public void Decode_GreyscaleBaseline_CloseToInput()
    {
        byte[] input = Smooth(37, 21, 1);
        byte[] jpeg = Encode(input, 37, 21, 1);
        PixelModule m = Modules.Mono(21, 37, 8, 8);
        byte[] decoded = PixelDecoder.DecodeFrame(m, PixelDecoder.JpegBaseline, jpeg);
        Assert.All(input.Zip(decoded), p => Assert.InRange(Math.Abs(p.First - p.Second), 0, 3));
    }

    /// <summary>
    /// A 32x16 4:2:2 baseline JPEG (887 bytes) made once with libjpeg-turbo 2.1.5:
    /// <c>cjpeg -sample 2x1 -quality 100</c> of the synthetic gradient <see cref="Gradient"/>. JpegLibrary's own
    /// encoder cannot serve here: with chroma subsampling it writes wrong chroma DC values (libjpeg-turbo's djpeg
    /// decodes its output to the same wrong colours as our decoder does).
    /// </summary>
    private const string Ybr422Jpeg =
        "ffd8ffe000104a46494600010100000100010000ffdb0043000101010101010101010101010101010101010101010101010101010101010101010101"
        + "0101010101010101010101010101010101010101010101010101010101ffdb0043010101010101010101010101010101010101010101010101010101"
        + "0101010101010101010101010101010101010101010101010101010101010101010101010101ffc00011080010002003012100021101031101ffc400"
        + "1f0000010501010101010100000000000000000102030405060708090a0bffc400b5100002010303020403050504040000017d010203000411051221"
        + "31410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a53545556"
        + "5758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6"
        + "c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffc4001f0100030101010101010101010000000000000102030405"
        + "060708090a0bffc400b51100020102040403040705040400010277000102031104052131061241510761711322328108144291a1b1c109233352f015"
        + "6272d10a162434e125f11718191a262728292a35363738393a434445464748494a535455565758595a636465666768696a737475767778797a828384"
        + "85868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4e5e6e7e8e9ea"
        + "f2f3f4f5f6f7f8f9faffda000c03010002110311003f00f5cbff000f7dec47eb918ffeb7f9ef5c4ea1e1efbdfbbc8fa723fcfa7e55fc4b96787ff0fe"
        + "e3b7d9ff000f97f5e77f7bfcecfa33e5ff00f22ff774fdd5bcedcb6f4ba388d43c3df7b2991d8e3fcff8d713a8787bef6539e7071fe7fc31d6befb2e"
        + "f0ff00487ee3aafb3fe1febf1baddffd0bfd19f2ff00f917fbbff3eada7f86de5e47e8bea1e1eebf27ae0e3f9ff8fe7deb89d43c3df7be4c1e79c706"
        + "bfa8b2cf0ffe1fdc76fb3fe1f2febcefef7f83ff00467cbffe45feeffcfab69fe1b79791c45ff87bef7eef079c8c707fcfe75c45ff0087bef623f5c8"
        + "c7ff005bfcf7afbecbb803e0fdc767f0ff0087fafc7fbc7fd0b7d19f2fff00917fbbff003ebe49b8f5ee9ff5dbffd9";

    private static (int R, int G, int B) Gradient(int x, int y) => ((40 + (x * 5) + (y * 3)) % 256, (200 - (x * 4)) % 256, (60 + (y * 8)) % 256);

    [Fact]
    public void Decode_YbrFull422Baseline_UpsampledThenConvertedToRgb()
    {
        PixelModule m = Modules.Rgb(16, 32, pi: "YBR_FULL_422");
        byte[] decoded = PixelDecoder.DecodeFrame(m, PixelDecoder.JpegBaseline, Convert.FromHexString(Ybr422Jpeg));
        string pi = PixelDecoder.DecodedPhotometricInterpretation(m, PixelDecoder.JpegBaseline);
        Assert.Equal("YBR_FULL", pi);
        float[] rgb = PhotometricConversion.ToRgbFloats(m, pi, decoded);

        // Lossy (quality 100 plus halved chroma): within 6 of 255 of the source. The upsampling filter itself is
        // compared with djpeg in JpegChromaUpsamplingTests.
        for (int y = 0; y < 16; y++)
        {
            for (int x = 0; x < 32; x++)
            {
                (int r, int g, int b) = Gradient(x, y);
                int p = 3 * ((y * 32) + x);
                Assert.InRange(Math.Abs((rgb[p] * 255) - r), 0, 6);
                Assert.InRange(Math.Abs((rgb[p + 1] * 255) - g), 0, 6);
                Assert.InRange(Math.Abs((rgb[p + 2] * 255) - b), 0, 6);
            }
        }
    }

    [Fact]
    public void Decode_ThreeComponentsNoSubsampling_CloseToInput()
    {
        byte[] input = Smooth(24, 16, 3);
        byte[] jpeg = Encode(input, 24, 16, 3);
        byte[] decoded = PixelDecoder.DecodeFrame(Modules.Rgb(16, 24, pi: "YBR_FULL"), PixelDecoder.JpegBaseline, jpeg);
        Assert.All(input.Zip(decoded), p => Assert.InRange(Math.Abs(p.First - p.Second), 0, 3));
    }

    [Fact]
    public void Decode_SizeDiffersFromModule_CorruptPixelStream()
    {
        byte[] jpeg = Encode(Smooth(16, 8, 1), 16, 8, 1);
        var ex = Assert.Throws<DicomFormatException>(() => PixelDecoder.DecodeFrame(Modules.Mono(8, 17, 8, 8), PixelDecoder.JpegBaseline, jpeg));
        Assert.Equal(DicomErrorCode.CorruptPixelStream, ex.Reason);
        ex = Assert.Throws<DicomFormatException>(() => PixelDecoder.DecodeFrame(Modules.Rgb(8, 16), PixelDecoder.JpegBaseline, jpeg));
        Assert.Equal(DicomErrorCode.CorruptPixelStream, ex.Reason);
    }

    private sealed class InterleavedReader : JpegBlockInputReader
    {
        private readonly byte[] _data;
        private readonly int _width;
        private readonly int _height;
        private readonly int _components;

        public InterleavedReader(byte[] data, int width, int height, int components)
        {
            _data = data;
            _width = width;
            _height = height;
            _components = components;
        }

        public override int Width => _width;

        public override int Height => _height;

        public override void ReadBlock(ref short blockRef, int componentIndex, int x, int y)
        {
            Span<short> block = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref blockRef, 64);
            for (int r = 0; r < 8; r++)
            {
                for (int c = 0; c < 8; c++)
                {
                    int px = Math.Min(x + c, _width - 1);
                    int py = Math.Min(y + r, _height - 1);
                    block[(r * 8) + c] = _data[(((py * _width) + px) * _components) + componentIndex];
                }
            }
        }
    }
}
