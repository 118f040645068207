using System.Buffers.Binary;
using System.Globalization;
using JpegLibrary;

namespace MedTransfer.Dicom.Pixels;

/// <summary>
/// JPEG baseline/extended (8/12-bit DCT) and lossless (process 14, any selection value) through the managed
/// JpegLibrary. The frame header is checked against the pixel module before decoding; every sample of the
/// destination must be produced by the codec or the call fails. DCT output is clamped to the sample precision.
/// Components are returned as coded: no colour transform is applied (YCbCr stays YBR_FULL). Subsampled DCT
/// components come back at full size by libjpeg's fancy upsampling (<see cref="ChromaUpsampling.Fancy"/>, what
/// libjpeg, GDCM, DCMTK and Pillow give) or, when asked, by JpegLibrary's replication.
/// </summary>
/// <remarks>
/// JpegLibrary 0.4.32 keeps lossless samples in 16-bit signed integers: for 16-bit precision, predictors 1–4 are
/// exact (modulo 2^16, as ITU-T T.81 H.1.2.1 specifies) while predictors 5–7 would give wrong samples, so such
/// streams are refused with <see cref="DicomErrorCode.UnsupportedTransferSyntax"/> rather than decoded wrongly.
/// DICOM's usual lossless syntax (…4.70, selection value 1) is exact.
/// </remarks>
internal static class JpegCodec
{
    public static void Decode(PixelModule m, ReadOnlySpan<byte> stream, int frameIndex, Span<byte> destination, PixelDecodeSettings settings)
    {
        stream = PixelDecoder.ThroughEndMarker(stream, frameIndex, settings.Mode, markerRequired: false, settings.Warnings);
        JpegFrameHeader.Check(m, stream, frameIndex);
        var decoder = new JpegDecoder();
        decoder.SetInput(stream.ToArray());
        try
        {
            decoder.Identify();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw PixelDecoder.Corrupt(frameIndex, "the JPEG header cannot be parsed", ex);
        }

        int precision = decoder.Precision;
        if (decoder.Width != m.Columns || decoder.Height != m.Rows || decoder.NumberOfComponents != m.SamplesPerPixel)
        {
            throw PixelDecoder.Corrupt(frameIndex, string.Create(CultureInfo.InvariantCulture, $"the JPEG frame is {decoder.Width}x{decoder.Height} with {decoder.NumberOfComponents} components; the pixel module says {m.Columns}x{m.Rows} with {m.SamplesPerPixel}"));
        }

        if (precision < 2 || precision > 16 || precision > m.BitsAllocated)
        {
            throw PixelDecoder.Corrupt(frameIndex, string.Create(CultureInfo.InvariantCulture, $"JPEG precision {precision} does not fit BitsAllocated {m.BitsAllocated}"));
        }

        bool lossless = decoder.StartOfFrame is JpegMarker.StartOfFrame3 or JpegMarker.StartOfFrame7 or JpegMarker.StartOfFrame11 or JpegMarker.StartOfFrame15;
        if (lossless && precision == 16 && MaxLosslessPredictor(stream) >= 5)
        {
            throw new DicomFormatException(DicomErrorCode.UnsupportedTransferSyntax, string.Create(CultureInfo.InvariantCulture, $"frame {frameIndex}: 16-bit lossless JPEG with predictor 5-7 is not decoded exactly by JpegLibrary 0.4.32"), tag: DicomTag.PixelData);
        }

        destination.Clear();
        byte[] output = new byte[destination.Length];
        var writer = new SampleWriter(output, m.Columns, m.Rows, m.SamplesPerPixel, m.BytesPerDecodedSample, precision, lossless);
        decoder.SetOutputWriter(writer);
        try
        {
            decoder.Decode();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw PixelDecoder.Corrupt(frameIndex, "the JPEG entropy-coded data cannot be decoded", ex);
        }

        long expected = checked(m.PixelsPerFrame * m.SamplesPerPixel);
        if (writer.SamplesWritten != expected)
        {
            throw PixelDecoder.Corrupt(frameIndex, string.Create(CultureInfo.InvariantCulture, $"the JPEG stream produced {writer.SamplesWritten} of {expected} samples"));
        }

        if (!lossless && settings.Upsampling == ChromaUpsampling.Fancy && m.SamplesPerPixel > 1)
        {
            ChromaUpsampler.Fancy(output, m.Columns, m.Rows, m.BytesPerDecodedSample, JpegFrameHeader.SamplingFactors(stream, frameIndex));
        }

        output.CopyTo(destination);
    }

    /// <summary>
    /// The largest predictor (Ss of a lossless SOS, ITU-T T.81 H.1.2.1) in the stream. Entropy-coded data never
    /// contains FF DA (an FF there is followed by 00 or a restart marker), so every FF DA is a scan header.
    /// </summary>
    private static int MaxLosslessPredictor(ReadOnlySpan<byte> stream)
    {
        int max = 0;
        for (int i = 0; i + 4 < stream.Length; i++)
        {
            if (stream[i] != 0xFF || stream[i + 1] != 0xDA)
            {
                continue;
            }

            int components = stream[i + 4];
            int ss = i + 5 + (2 * components);
            if (ss < stream.Length)
            {
                max = Math.Max(max, stream[ss]);
            }
        }

        return max;
    }

    private sealed class SampleWriter : JpegBlockOutputWriter
    {
        private readonly byte[] _output;
        private readonly int _width;
        private readonly int _height;
        private readonly int _components;
        private readonly int _bytesPerSample;
        private readonly int _maxValue;
        private readonly bool _lossless;

        public SampleWriter(byte[] output, int width, int height, int components, int bytesPerSample, int precision, bool lossless)
        {
            _output = output;
            _width = width;
            _height = height;
            _components = components;
            _bytesPerSample = bytesPerSample;
            _maxValue = (1 << precision) - 1;
            _lossless = lossless;
        }

        public long SamplesWritten { get; private set; }

        public override void WriteBlock(ref short blockRef, int componentIndex, int x, int y)
        {
            if ((uint)componentIndex >= (uint)_components || x < 0 || y < 0 || x >= _width || y >= _height)
            {
                return;
            }

            Span<short> block = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref blockRef, 64);
            int rows = Math.Min(8, _height - y);
            int columns = Math.Min(8, _width - x);
            for (int r = 0; r < rows; r++)
            {
                int pixel = ((y + r) * _width) + x;
                for (int c = 0; c < columns; c++, pixel++)
                {
                    int value = block[(r * 8) + c];
                    value = _lossless ? value & _maxValue : Math.Clamp(value, 0, _maxValue);
                    int position = ((pixel * _components) + componentIndex) * _bytesPerSample;
                    if (_bytesPerSample == 1)
                    {
                        _output[position] = (byte)value;
                    }
                    else
                    {
                        BinaryPrimitives.WriteUInt16LittleEndian(_output.AsSpan(position), (ushort)value);
                    }
                }
            }

            SamplesWritten += rows * columns;
        }
    }
}
