using System.Buffers.Binary;

namespace MedTransfer.Dicom.Pixels;

/// <summary>How a JPEG decoder brings subsampled components (chroma of 4:2:2 and 4:2:0 YCbCr) back to full size.</summary>
public enum ChromaUpsampling
{
    /// <summary>
    /// libjpeg's "fancy" upsampling, the default of libjpeg, libjpeg-turbo, GDCM, DCMTK and Pillow: for 2×1 (4:2:2)
    /// and 2×2 (4:2:0) subsampling each output sample is a ¾ / ¼ (triangle) blend of the two nearest input samples
    /// along each subsampled axis, the edges repeating the outermost sample; other factors are replicated.
    /// </summary>
    Fancy,

    /// <summary>Each subsampled value repeated over the pixels it covers (what libjpeg's <c>-nosmooth</c> gives).</summary>
    Replicate,
}

/// <summary>
/// libjpeg-compatible fancy upsampling, applied to a decoded frame whose subsampled components were first
/// replicated to full size (so each component's downsampled plane can be read back at its sample positions).
/// </summary>
/// <remarks>
/// The filter is the one libjpeg documents for its default upsampler (jdsample.c): chroma samples sit between the
/// luminance samples they cover, so the sample nearer an output pixel weighs 3 and the farther one 1. Integer
/// arithmetic with the same rounding biases makes the output equal libjpeg's for the same input planes:
/// 2×1: out(2i) = (3·d(i) + d(i−1) + 1) ≫ 2 and out(2i+1) = (3·d(i) + d(i+1) + 2) ≫ 2;
/// 2×2: column sums s(i) = 3·d(row, i) + d(nearest other row, i), then out(2i) = (3·s(i) + s(i−1) + 8) ≫ 4 and
/// out(2i+1) = (3·s(i) + s(i+1) + 7) ≫ 4. Indices outside the downsampled plane (⌈W / 2⌉ × ⌈H / v⌉) repeat the edge.
/// </remarks>
internal static class ChromaUpsampler
{
    /// <summary>Replaces every replicated 2×1 or 2×2 subsampled component of <paramref name="frame"/> by its fancy upsampling.</summary>
    /// <param name="frame">Interleaved samples, <paramref name="bytesPerSample"/> bytes each, little-endian.</param>
    /// <param name="width">Columns.</param>
    /// <param name="height">Rows.</param>
    /// <param name="bytesPerSample">1 or 2.</param>
    /// <param name="factors">Each component's sampling factors from the frame header.</param>
    public static void Fancy(Span<byte> frame, int width, int height, int bytesPerSample, IReadOnlyList<(int Horizontal, int Vertical)> factors)
    {
        int components = factors.Count;
        int maxH = factors.Max(f => f.Horizontal);
        int maxV = factors.Max(f => f.Vertical);
        for (int c = 0; c < components; c++)
        {
            (int h, int v) = factors[c];
            if (h < 1 || v < 1 || maxH % h != 0 || maxV % v != 0)
            {
                continue;
            }

            int hs = maxH / h;
            int vs = maxV / v;
            if (hs == 2 && vs is 1 or 2)
            {
                Upsample(frame, width, height, components, c, bytesPerSample, vs);
            }
        }
    }

    private static void Upsample(Span<byte> frame, int width, int height, int components, int component, int bytesPerSample, int vs)
    {
        int dw = (width + 1) / 2;
        int dh = (height + vs - 1) / vs;
        var plane = new int[dw * dh];
        for (int cy = 0; cy < dh; cy++)
        {
            for (int cx = 0; cx < dw; cx++)
            {
                plane[(cy * dw) + cx] = Read(frame, ((((cy * vs) * width) + (cx * 2)) * components) + component, bytesPerSample);
            }
        }

        var sums = new int[dw];
        for (int y = 0; y < height; y++)
        {
            int cy = y / vs;
            int shift;
            int biasNear;
            int biasFar;
            if (vs == 1)
            {
                for (int i = 0; i < dw; i++)
                {
                    sums[i] = plane[(cy * dw) + i];
                }

                (shift, biasNear, biasFar) = (2, 1, 2);
            }
            else
            {
                // The nearer other row: above for the upper output row of a pair, below for the lower one.
                int other = (y & 1) == 0 ? Math.Max(cy - 1, 0) : Math.Min(cy + 1, dh - 1);
                for (int i = 0; i < dw; i++)
                {
                    sums[i] = (3 * plane[(cy * dw) + i]) + plane[(other * dw) + i];
                }

                (shift, biasNear, biasFar) = (4, 8, 7);
            }

            for (int x = 0; x < width; x++)
            {
                int i = x >> 1;
                int value = (x & 1) == 0
                    ? ((3 * sums[i]) + sums[Math.Max(i - 1, 0)] + biasNear) >> shift
                    : ((3 * sums[i]) + sums[Math.Min(i + 1, dw - 1)] + biasFar) >> shift;
                Write(frame, (((y * width) + x) * components) + component, bytesPerSample, value);
            }
        }
    }

    private static int Read(ReadOnlySpan<byte> frame, int sample, int bytesPerSample) =>
        bytesPerSample == 1 ? frame[sample] : BinaryPrimitives.ReadUInt16LittleEndian(frame[(sample * 2)..]);

    private static void Write(Span<byte> frame, int sample, int bytesPerSample, int value)
    {
        if (bytesPerSample == 1)
        {
            frame[sample] = (byte)value;
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(frame[(sample * 2)..], (ushort)value);
        }
    }
}
