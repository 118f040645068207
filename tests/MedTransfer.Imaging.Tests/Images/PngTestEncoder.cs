using System.Buffers.Binary;
using System.IO.Compression;

namespace MedTransfer.Imaging.Tests.Images;

/// <summary>
/// A tiny PNG writer for tests: 8/16-bit samples of colour types 0, 2, 4, 6, optional Adam7, and a per-row choice of
/// filter type (so the decoder's five unfilters are all exercised). Chunks carry correct CRCs.
/// </summary>
internal static class PngTestEncoder
{
    private static readonly (int X0, int Y0, int Dx, int Dy)[] s_adam7 =
        [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];

    // samples: interleaved, row-major, channels per pixel by colour type; filterForRow: filter type (0–4) per encoded row (0 when null).
    public static byte[] Encode(int width, int height, int colourType, int bitDepth, ushort[] samples, bool interlaced = false, Func<int, byte>? filterForRow = null)
    {
        int channels = colourType switch { 0 => 1, 2 => 3, 4 => 2, 6 => 4, _ => throw new ArgumentOutOfRangeException(nameof(colourType)) };
        int bpp = channels * bitDepth / 8;
        using var raw = new MemoryStream();
        int rowCounter = 0;
        IEnumerable<(int X0, int Y0, int Dx, int Dy)> passes = interlaced ? s_adam7 : [(0, 0, 1, 1)];
        foreach ((int x0, int y0, int dx, int dy) in passes)
        {
            int pw = (width - x0 + dx - 1) / dx;
            int ph = (height - y0 + dy - 1) / dy;
            if (pw <= 0 || ph <= 0)
            {
                continue;
            }

            var previous = new byte[pw * bpp];
            for (int y = 0; y < ph; y++)
            {
                var current = new byte[pw * bpp];
                for (int x = 0; x < pw; x++)
                {
                    int pixel = (((y0 + (y * dy)) * width) + x0 + (x * dx)) * channels;
                    for (int c = 0; c < channels; c++)
                    {
                        ushort v = samples[pixel + c];
                        if (bitDepth == 16)
                        {
                            BinaryPrimitives.WriteUInt16BigEndian(current.AsSpan((x * bpp) + (c * 2)), v);
                        }
                        else
                        {
                            current[(x * bpp) + c] = (byte)v;
                        }
                    }
                }

                byte filter = filterForRow?.Invoke(rowCounter++) ?? 0;
                raw.WriteByte(filter);
                raw.Write(Filter(filter, current, previous, bpp));
                previous = current;
            }
        }

        using var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            z.Write(raw.ToArray());
        }

        var header = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), (uint)height);
        header[8] = (byte)bitDepth;
        header[9] = (byte)colourType;
        header[12] = (byte)(interlaced ? 1 : 0);
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        WriteChunk(png, "IHDR", header);
        WriteChunk(png, "IDAT", compressed.ToArray());
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    public static void WriteChunk(Stream output, string type, byte[] data)
    {
        var buffer = new byte[12 + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(buffer, (uint)data.Length);
        for (int i = 0; i < 4; i++)
        {
            buffer[4 + i] = (byte)type[i];
        }

        data.CopyTo(buffer, 8);
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(8 + data.Length), Crc32(buffer.AsSpan(4, 4 + data.Length)));
        output.Write(buffer);
    }

    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFFu;
        foreach (byte b in data)
        {
            c ^= b;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }
        }

        return c ^ 0xFFFFFFFFu;
    }

    private static byte[] Filter(byte type, byte[] row, byte[] prior, int bpp)
    {
        var output = new byte[row.Length];
        for (int i = 0; i < row.Length; i++)
        {
            int a = i >= bpp ? row[i - bpp] : 0;
            int b = prior[i];
            int c = i >= bpp ? prior[i - bpp] : 0;
            int predictor = type switch
            {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) >> 1,
                _ => Paeth(a, b, c),
            };
            output[i] = (byte)(row[i] - predictor);
        }

        return output;
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a);
        int pb = Math.Abs(p - b);
        int pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
