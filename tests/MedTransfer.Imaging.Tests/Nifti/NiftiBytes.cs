using System.Buffers.Binary;
using System.IO.Compression;

namespace MedTransfer.Imaging.Tests.Nifti;

/// <summary>Crafts NIfTI-1 files field by field (either byte order) for reader and security tests.</summary>
internal sealed class NiftiBytes
{
    public short[] Dim { get; set; } = [3, 2, 2, 2, 1, 1, 1, 1];

    public short DataType { get; set; } = 2;

    public short BitPix { get; set; } = 8;

    public float VoxOffset { get; set; } = 352;

    public float Slope { get; set; }

    public float Intercept { get; set; }

    public float[] PixDim { get; set; } = [1, 1, 1, 1, 0, 0, 0, 0];

    public short QformCode { get; set; }

    public short SformCode { get; set; }

    public float[] Quatern { get; set; } = [0, 0, 0, 0, 0, 0];

    public float[] Srow { get; set; } = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0];

    public string Magic { get; set; } = "n+1";

    public bool BigEndian { get; set; }

    public byte[] Data { get; set; } = [1, 2, 3, 4, 5, 6, 7, 8];

    public byte[] Build()
    {
        var bytes = new byte[Math.Max(352, (int)Math.Min(VoxOffset, 4096)) + Data.Length];
        Span<byte> s = bytes;
        Int32(s, 0, 348);
        for (int i = 0; i < 8; i++)
        {
            Int16(s, 40 + (2 * i), Dim[i]);
            Single(s, 76 + (4 * i), PixDim[i]);
        }

        Int16(s, 70, DataType);
        Int16(s, 72, BitPix);
        Single(s, 108, VoxOffset);
        Single(s, 112, Slope);
        Single(s, 116, Intercept);
        s[123] = 2;
        Int16(s, 252, QformCode);
        Int16(s, 254, SformCode);
        for (int i = 0; i < 6; i++)
        {
            Single(s, 256 + (4 * i), Quatern[i]);
        }

        for (int i = 0; i < 12; i++)
        {
            Single(s, 280 + (4 * i), Srow[i]);
        }

        System.Text.Encoding.ASCII.GetBytes(Magic).CopyTo(s[344..]);
        Data.CopyTo(s[(bytes.Length - Data.Length)..]);
        return bytes;
    }

    public static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(bytes);
        }

        return output.ToArray();
    }

    private void Int16(Span<byte> s, int at, short v)
    {
        if (BigEndian)
        {
            BinaryPrimitives.WriteInt16BigEndian(s[at..], v);
        }
        else
        {
            BinaryPrimitives.WriteInt16LittleEndian(s[at..], v);
        }
    }

    private void Int32(Span<byte> s, int at, int v)
    {
        if (BigEndian)
        {
            BinaryPrimitives.WriteInt32BigEndian(s[at..], v);
        }
        else
        {
            BinaryPrimitives.WriteInt32LittleEndian(s[at..], v);
        }
    }

    private void Single(Span<byte> s, int at, float v)
    {
        if (BigEndian)
        {
            BinaryPrimitives.WriteSingleBigEndian(s[at..], v);
        }
        else
        {
            BinaryPrimitives.WriteSingleLittleEndian(s[at..], v);
        }
    }
}
