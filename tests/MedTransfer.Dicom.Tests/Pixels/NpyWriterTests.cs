using System.Text;
using MedTransfer.Dicom.Pixels;
using Xunit;

namespace MedTransfer.Dicom.Tests.Pixels;

public sealed class NpyWriterTests
{
    [Fact]
    public void Write_Uint16TwoByThree_BytesAsNumPyWrites()
    {
        // Expected bytes from the .npy v1.0 format: magic, version 1.0, header length 118 (0x76), the dict,
        // 21 - len("2") = 20 growth spaces, padding to a 64-byte boundary (10 + 118 = 128), '\n', then data.
        string dict = "{'descr': '<u2', 'fortran_order': False, 'shape': (2, 3), }";
        string header = dict + new string(' ', 128 - 10 - dict.Length - 1) + "\n";
        var expected = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 0x76, 0x00 };
        expected.AddRange(Encoding.ASCII.GetBytes(header));
        expected.AddRange(new byte[] { 0, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0 });

        using var stream = new MemoryStream();
        NpyWriter.Write<ushort>(stream, new ushort[] { 0, 1, 2, 3, 4, 5 }, [2, 3]);
        Assert.Equal(expected.ToArray(), stream.ToArray());
    }

    [Theory]
    [InlineData(new int[0], "()")]
    [InlineData(new[] { 7 }, "(7,)")]
    [InlineData(new[] { 1, 384, 384 }, "(1, 384, 384)")]
    public void Header_ShapesAndAlignment(int[] shape, string repr)
    {
        byte[] header = NpyWriter.Header("<f4", shape);
        Assert.Equal(0, header.Length % 64);
        Assert.Equal((byte)'\n', header[^1]);
        string text = Encoding.ASCII.GetString(header, 10, header.Length - 10);
        Assert.StartsWith("{'descr': '<f4', 'fortran_order': False, 'shape': " + repr + ", }", text, StringComparison.Ordinal);
        Assert.Equal(header.Length - 10, header[8] | (header[9] << 8));
    }

    [Fact]
    public void Descr_AllSupportedTypes()
    {
        Assert.Equal("|u1", NpyWriter.Descr<byte>());
        Assert.Equal("|i1", NpyWriter.Descr<sbyte>());
        Assert.Equal("<u2", NpyWriter.Descr<ushort>());
        Assert.Equal("<i2", NpyWriter.Descr<short>());
        Assert.Equal("<u4", NpyWriter.Descr<uint>());
        Assert.Equal("<i4", NpyWriter.Descr<int>());
        Assert.Equal("<f4", NpyWriter.Descr<float>());
        Assert.Equal("<f8", NpyWriter.Descr<double>());
        Assert.Throws<ArgumentException>(() => NpyWriter.Descr<long>());
    }

    [Fact]
    public void Write_ShapeMismatch_ArgumentException()
    {
        using var stream = new MemoryStream();
        Assert.Throws<ArgumentException>(() => NpyWriter.Write<float>(stream, new float[5], [2, 3]));
    }

    [Fact]
    public void Write_HeaderEndingExactlyOnBoundary_AddsAFull64SpaceBlockLikeNumPy()
    {
        // numpy pads with 64 - ((10 + hlen) % 64) spaces, which is 64 (not 0) when already aligned.
        for (int n = 1; n < 200; n++)
        {
            byte[] header = NpyWriter.Header("<f8", [n, n, n, n, n, n]);
            Assert.Equal(0, header.Length % 64);
        }
    }
}
