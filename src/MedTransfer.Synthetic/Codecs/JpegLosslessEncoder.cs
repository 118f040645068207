using System.Globalization;
using MedTransfer.Dicom.Pixels;

namespace MedTransfer.Synthetic.Codecs;

/// <summary>
/// Lossless JPEG (ITU-T T.81 process 14, Annex H) for one greyscale component with selection value 1
/// (first-order prediction from the left neighbour): the DICOM transfer syntax 1.2.840.10008.1.2.4.70.
/// The stream is SOI, SOF3, DHT (one table, optimal for the frame, built by T.81 Annex K.2), SOS (Ss = 1 predictor,
/// Se = 0, Ah = Al = 0), the Huffman-coded differences with 0xFF byte stuffing, EOI, padded with one zero byte
/// to an even length for the DICOM fragment.
/// </summary>
internal static class JpegLosslessEncoder
{
    private const int Categories = 17;

    /// <summary>Encodes one frame in the decoded layout (little-endian 16-bit or 8-bit samples, unsigned).</summary>
    /// <exception cref="ArgumentException">Not one sample per pixel, signed, precision outside 2..16, or the length is wrong.</exception>
    public static byte[] EncodeFrame(PixelModule module, ReadOnlySpan<byte> decodedFrame)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (module.SamplesPerPixel != 1 || module.IsSigned || module.BitsStored < 2 || module.BitsStored > 16 || module.BitsAllocated is not (8 or 16))
        {
            throw new ArgumentException("Lossless JPEG here needs one unsigned component of 2 to 16 bits in 8 or 16 bits allocated.", nameof(module));
        }

        if (decodedFrame.Length != module.DecodedFrameLength)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The frame has {decodedFrame.Length} bytes; the module needs {module.DecodedFrameLength}."), nameof(decodedFrame));
        }

        int rows = module.Rows;
        int columns = module.Columns;
        int precision = module.BitsStored;
        int mask = (1 << precision) - 1;
        int[] samples = new int[rows * columns];
        for (int i = 0; i < samples.Length; i++)
        {
            samples[i] = module.BitsAllocated == 8 ? decodedFrame[i] & mask : (decodedFrame[2 * i] | (decodedFrame[(2 * i) + 1] << 8)) & mask;
        }

        int[] differences = Differences(samples, rows, columns, precision);
        var frequencies = new long[Categories];
        foreach (int d in differences)
        {
            frequencies[Category(d)]++;
        }

        (byte[] counts, byte[] symbols) = HuffmanTable.Build(frequencies);
        (int[] codes, int[] lengths) = HuffmanTable.Codes(counts, symbols);

        using var output = new MemoryStream();
        WriteMarker(output, 0xD8);
        WriteSegment(output, 0xC3, [(byte)precision, (byte)(rows >> 8), (byte)rows, (byte)(columns >> 8), (byte)columns, 1, 1, 0x11, 0]);
        var dht = new byte[1 + 16 + symbols.Length];
        dht[0] = 0x00;
        counts.CopyTo(dht, 1);
        symbols.CopyTo(dht, 17);
        WriteSegment(output, 0xC4, dht);
        WriteSegment(output, 0xDA, [1, 1, 0x00, 1, 0, 0]);
        var bits = new BitWriter(output);
        foreach (int d in differences)
        {
            int category = Category(d);
            bits.Write(codes[category], lengths[category]);
            if (category is > 0 and < 16)
            {
                // T.81 F.1.2.1.1 / H.1.2.2: negative differences send the low bits of d − 1.
                int extra = d < 0 ? d - 1 : d;
                bits.Write(extra & ((1 << category) - 1), category);
            }
        }

        bits.Flush();
        WriteMarker(output, 0xD9);
        if ((output.Length & 1) != 0)
        {
            output.WriteByte(0);
        }

        return output.ToArray();
    }

    /// <summary>
    /// Prediction differences (T.81 H.1.2.1): the first sample is predicted by 2^(P−1), the rest of the first line by
    /// the left neighbour, the first sample of other lines by the sample above, every other sample by the left
    /// neighbour (selection value 1); differences are taken modulo 2^16 and read as −32767..32768.
    /// </summary>
    internal static int[] Differences(int[] samples, int rows, int columns, int precision)
    {
        var differences = new int[samples.Length];
        for (int y = 0; y < rows; y++)
        {
            for (int x = 0; x < columns; x++)
            {
                int at = (y * columns) + x;
                int prediction = x > 0 ? samples[at - 1] : y > 0 ? samples[at - columns] : 1 << (precision - 1);
                int d = (samples[at] - prediction) & 0xFFFF;
                differences[at] = d > 32768 ? d - 65536 : d;
            }
        }

        return differences;
    }

    /// <summary>SSSS: the number of bits of |d| (0 for 0, 16 for 32768; T.81 Table H.2).</summary>
    internal static int Category(int difference)
    {
        int magnitude = Math.Abs(difference);
        int category = 0;
        while (magnitude > 0)
        {
            category++;
            magnitude >>= 1;
        }

        return category;
    }

    private static void WriteMarker(Stream output, byte marker)
    {
        output.WriteByte(0xFF);
        output.WriteByte(marker);
    }

    private static void WriteSegment(Stream output, byte marker, ReadOnlySpan<byte> body)
    {
        WriteMarker(output, marker);
        int length = body.Length + 2;
        output.WriteByte((byte)(length >> 8));
        output.WriteByte((byte)length);
        output.Write(body);
    }

    /// <summary>Huffman bits, most significant first, with a 0x00 stuffed after every 0xFF (T.81 F.1.2.3); flush pads with 1s.</summary>
    private sealed class BitWriter(Stream output)
    {
        private readonly Stream _output = output;
        private int _buffer;
        private int _count;

        public void Write(int value, int length)
        {
            for (int i = length - 1; i >= 0; i--)
            {
                _buffer = (_buffer << 1) | ((value >> i) & 1);
                _count++;
                if (_count == 8)
                {
                    Emit();
                }
            }
        }

        public void Flush()
        {
            while (_count != 0)
            {
                _buffer = (_buffer << 1) | 1;
                _count++;
                if (_count == 8)
                {
                    Emit();
                }
            }
        }

        private void Emit()
        {
            byte b = (byte)_buffer;
            _output.WriteByte(b);
            if (b == 0xFF)
            {
                _output.WriteByte(0x00);
            }

            _buffer = 0;
            _count = 0;
        }
    }
}
