using MedTransfer.Dicom;
using MedTransfer.Dicom.Pixels;
using MedTransfer.Synthetic.Codecs;
using MedTransfer.Synthetic.Randomness;

namespace MedTransfer.Synthetic.Tests.Codecs;

/// <summary>Our lossless JPEG (process 14, SV1) encoder round-trips through the DICOM layer's decoder exactly.</summary>
public sealed class JpegLosslessEncoderTests
{
    [Theory]
    [InlineData(2, 7, 5)]
    [InlineData(8, 33, 17)]
    [InlineData(10, 64, 64)]
    [InlineData(12, 40, 71)]
    [InlineData(15, 16, 16)]
    [InlineData(16, 50, 30)]
    public void RandomImage_RoundTripsExactly(int bits, int rows, int columns)
    {
        var r = new SeededRandom((ulong)((bits * 1000) + rows));
        ushort[] values = new ushort[rows * columns];
        for (int i = 0; i < values.Length; i++)
        {
            // Half smooth, half uniformly random: every difference category appears, including 0xFF bytes to stuff.
            values[i] = i % 2 == 0 ? (ushort)r.NextInt(1 << bits) : (ushort)(((i / columns) * 37) & ((1 << bits) - 1));
        }

        AssertRoundTrip(values, rows, columns, bits);
    }

    [Fact]
    public void OnePixelImage_RoundTrips() => AssertRoundTrip([1234], 1, 1, 12);

    [Fact]
    public void ConstantImage_RoundTrips() => AssertRoundTrip([.. Enumerable.Repeat((ushort)4095, 64 * 64)], 64, 64, 12);

    [Fact]
    public void SixteenBitJumpOf32768_UsesCategory16AndRoundTrips()
    {
        ushort[] values = new ushort[8 * 8];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (ushort)(i % 2 == 0 ? 0 : 32768);
        }

        Assert.Equal(16, JpegLosslessEncoder.Category(32768));
        AssertRoundTrip(values, 8, 8, 16);
    }

    [Fact]
    public void Stream_HasTheProcess14Markers()
    {
        var module = new PixelModule(4, 4, 1, 16, 12, 11, 0, 0, "MONOCHROME2", 1);
        byte[] stream = JpegLosslessEncoder.EncodeFrame(module, new byte[32]);

        Assert.Equal([0xFF, 0xD8, 0xFF, 0xC3], stream[..4]);
        Assert.Equal(12, stream[6]);
        Assert.Equal(0, stream.Length % 2);
        int sos = IndexOf(stream, 0xFF, 0xDA);
        Assert.True(sos > 0);
        Assert.Equal(1, stream[sos + 7]);
        Assert.Equal(0, stream[sos + 8]);
        Assert.Equal(0, stream[sos + 9]);
        Assert.True(IndexOf(stream, 0xFF, 0xD9) > sos);
    }

    [Fact]
    public void HuffmanTable_SkewedFrequencies_LimitsCodesTo16BitsAndNeverAllOnes()
    {
        // Fibonacci frequencies give the deepest unlimited Huffman tree.
        long[] frequencies = new long[17];
        long a = 1;
        long b = 1;
        for (int i = 0; i < frequencies.Length; i++)
        {
            frequencies[i] = a;
            (a, b) = (b, a + b);
        }

        (byte[] counts, byte[] symbols) = HuffmanTable.Build(frequencies);
        (int[] codes, int[] lengths) = HuffmanTable.Codes(counts, symbols);

        Assert.Equal(17, symbols.Length);
        Assert.Equal(17, counts.Sum(c => c));
        double kraft = 0;
        foreach (byte s in symbols)
        {
            Assert.InRange(lengths[s], 1, 16);
            Assert.NotEqual((1 << lengths[s]) - 1, codes[s]);
            kraft += Math.Pow(2, -lengths[s]);
        }

        Assert.True(kraft < 1.0);
    }

    private static void AssertRoundTrip(ushort[] values, int rows, int columns, int bits)
    {
        var module = new PixelModule(rows, columns, 1, 16, bits, bits - 1, 0, 0, "MONOCHROME2", 1);
        byte[] frame = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            frame[2 * i] = (byte)values[i];
            frame[(2 * i) + 1] = (byte)(values[i] >> 8);
        }

        byte[] stream = JpegLosslessEncoder.EncodeFrame(module, frame);
        var ds = new DicomDataset();
        ds.SetNumbers(Tag.SamplesPerPixel, DicomVR.US, 1);
        ds.Set(Tag.PhotometricInterpretation, DicomVR.CS, "MONOCHROME2");
        ds.SetNumbers(Tag.Rows, DicomVR.US, rows);
        ds.SetNumbers(Tag.Columns, DicomVR.US, columns);
        ds.SetNumbers(Tag.BitsAllocated, DicomVR.US, 16);
        ds.SetNumbers(Tag.BitsStored, DicomVR.US, bits);
        ds.SetNumbers(Tag.HighBit, DicomVR.US, bits - 1);
        ds.SetNumbers(Tag.PixelRepresentation, DicomVR.US, 0);
        ds.SetFragments(DicomTag.PixelData, DicomVR.OB, new DicomFragments([], [stream]));
        byte[] decoded = DicomImage.Create(ds, TransferSyntax.JpegLosslessFirstOrder.Uid).DecodeFrame(0);

        Assert.Equal(frame, decoded);
    }

    private static int IndexOf(byte[] data, byte a, byte b)
    {
        for (int i = 0; i + 1 < data.Length; i++)
        {
            if (data[i] == a && data[i + 1] == b)
            {
                return i;
            }
        }

        return -1;
    }
}
