using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MedTransfer.Imaging.Resampling;

/// <summary>A rectangle of source pixels.</summary>
internal readonly record struct PixelRegion(int X, int Y, int Width, int Height);

/// <summary>
/// A clamp-and-scale applied to each source pixel as it is read (v ↦ (clamp(v, Low, High) − Low)·Scale; non-finite
/// values read as Low), so the percentile clip of a recipe costs no extra pass and no copy of the full-size image.
/// </summary>
internal readonly record struct IntensityMap(float Low, float High, float Scale, bool Active)
{
    internal static IntensityMap Identity => default;

    internal static IntensityMap ClipToUnit(double low, double high) =>
        high > low ? new IntensityMap((float)low, (float)high, (float)(1.0 / (high - low)), true) : new IntensityMap((float)low, (float)low, 0f, true);

    internal float Apply(float v) => !Active ? v : float.IsFinite(v) ? (Math.Clamp(v, Low, High) - Low) * Scale : 0f;

    /// <summary><see cref="Apply(float)"/> over a span, vectorised (NaN and ±∞ read as Low, i.e. 0).</summary>
    internal void Apply(ReadOnlySpan<float> source, Span<float> destination)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && source.Length >= Vector<float>.Count)
        {
            var low = new Vector<float>(Low);
            var high = new Vector<float>(High);
            var scale = new Vector<float>(Scale);
            ReadOnlySpan<Vector<float>> vs = MemoryMarshal.Cast<float, Vector<float>>(source);
            Span<Vector<float>> vd = MemoryMarshal.Cast<float, Vector<float>>(destination);
            for (int v = 0; v < vs.Length; v++)
            {
                Vector<float> x = vs[v];
                Vector<int> finite = Vector.Equals(x - x, Vector<float>.Zero);
                x = Vector.ConditionalSelect(finite, x, low);
                vd[v] = (Vector.Min(Vector.Max(x, low), high) - low) * scale;
            }

            i = vs.Length * Vector<float>.Count;
        }

        for (; i < source.Length; i++)
        {
            destination[i] = Apply(source[i]);
        }
    }
}

/// <summary>Supplies one source row, already mapped to the values the resize averages.</summary>
internal interface IRowSource
{
    /// <summary>Row <paramref name="y"/> from column <paramref name="x"/>, <c>scratch.Length</c> values; may return <paramref name="scratch"/> filled, or a view of the source.</summary>
    ReadOnlySpan<float> Row(int y, int x, float[] scratch);
}

/// <summary>Rows of a float image, passed through an <see cref="IntensityMap"/> when it is active.</summary>
internal readonly struct FloatRows(float[] source, int stride, IntensityMap map) : IRowSource
{
    public ReadOnlySpan<float> Row(int y, int x, float[] scratch)
    {
        ReadOnlySpan<float> row = source.AsSpan((y * stride) + x, scratch.Length);
        if (!map.Active)
        {
            return row;
        }

        map.Apply(row, scratch);
        return scratch;
    }
}

/// <summary>Rows of an indexed image: one lookup per pixel in a table that already holds the mapped value of each index.</summary>
internal readonly struct IndexedRows : IRowSource
{
    private readonly ushort[] _indices;
    private readonly int _stride;
    private readonly float[] _table;

    /// <summary>Rows of <paramref name="indices"/>; <paramref name="mappedValues"/> is copied into a full 65 536-entry table (zero past its end).</summary>
    internal IndexedRows(ushort[] indices, int stride, ReadOnlySpan<float> mappedValues)
    {
        _indices = indices;
        _stride = stride;
        _table = new float[ushort.MaxValue + 1];
        mappedValues.CopyTo(_table);
    }

    public ReadOnlySpan<float> Row(int y, int x, float[] scratch)
    {
        ReadOnlySpan<ushort> row = _indices.AsSpan((y * _stride) + x, scratch.Length);
        ref float table = ref MemoryMarshal.GetArrayDataReference(_table);
        for (int i = 0; i < row.Length; i++)
        {
            // The table has an entry for every ushort, so the unchecked read cannot leave it.
            scratch[i] = Unsafe.Add(ref table, row[i]);
        }

        return scratch;
    }
}

/// <summary>
/// The resize engine: per-axis weight tables (start, taps, normalised weights), a horizontal pass into a pooled
/// buffer of source-rows × output-columns, then a vertical pass written as row axpys (SIMD-friendly).
/// </summary>
internal static class SeparableResampler
{
    internal static void Resize(
        float[] source,
        int sourceStride,
        PixelRegion region,
        float[] destination,
        int destinationStride,
        int offsetX,
        int offsetY,
        int outWidth,
        int outHeight,
        ResizeMethod method,
        IntensityMap map) =>
        Resize(new FloatRows(source, sourceStride, map), region, destination, destinationStride, offsetX, offsetY, outWidth, outHeight, method);

    /// <summary>The resize over any row source (a float image with its clip, or table lookups of an indexed image).</summary>
    internal static void Resize<TRows>(
        TRows rows,
        PixelRegion region,
        float[] destination,
        int destinationStride,
        int offsetX,
        int offsetY,
        int outWidth,
        int outHeight,
        ResizeMethod method)
        where TRows : struct, IRowSource
    {
        AxisWeights wx = AxisWeights.Build(region.Width, outWidth, method);
        AxisWeights wy = AxisWeights.Build(region.Height, outHeight, method);
        long bufferLength = (long)region.Height * outWidth;
        if (bufferLength > Array.MaxLength)
        {
            throw new ArgumentException($"A {region.Width}x{region.Height} to {outWidth}x{outHeight} resize needs an intermediate buffer larger than the largest array.");
        }

        float[] buffer = ArrayPool<float>.Shared.Rent((int)bufferLength);
        try
        {
            float[] scratch = new float[region.Width];
            for (int y = 0; y < region.Height; y++)
            {
                ReadOnlySpan<float> row = rows.Row(region.Y + y, region.X, scratch);

                Span<float> outRow = buffer.AsSpan(y * outWidth, outWidth);
                for (int o = 0; o < outWidth; o++)
                {
                    int start = wx.Start[o];
                    ReadOnlySpan<float> w = wx.Weights.AsSpan(o * wx.Taps, wx.Count[o]);
                    outRow[o] = Dot(w, row.Slice(start, w.Length));
                }
            }

            Span<float> accumulator = outWidth <= 4096 ? stackalloc float[outWidth] : new float[outWidth];
            for (int o = 0; o < outHeight; o++)
            {
                accumulator.Clear();
                int start = wy.Start[o];
                ReadOnlySpan<float> w = wy.Weights.AsSpan(o * wy.Taps, wy.Count[o]);
                for (int k = 0; k < w.Length; k++)
                {
                    Axpy(w[k], buffer.AsSpan((start + k) * outWidth, outWidth), accumulator);
                }

                accumulator.CopyTo(destination.AsSpan(((offsetY + o) * destinationStride) + offsetX, outWidth));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Σ w[k]·s[k] with eight fixed partial sums (Vector256, no FMA) reduced in a fixed order, so the result is the same
    /// bits on every machine whatever its SIMD width (cached tensors must not depend on the host, or runs would not repeat).
    /// </summary>
    private static float Dot(ReadOnlySpan<float> w, ReadOnlySpan<float> s)
    {
        int k = 0;
        float sum = 0f;
        if (w.Length >= Vector256<float>.Count)
        {
            Vector256<float> acc = Vector256<float>.Zero;
            for (; k + Vector256<float>.Count <= w.Length; k += Vector256<float>.Count)
            {
                acc += Vector256.Create(w.Slice(k, Vector256<float>.Count)) * Vector256.Create(s.Slice(k, Vector256<float>.Count));
            }

            for (int lane = 0; lane < Vector256<float>.Count; lane++)
            {
                sum += acc.GetElement(lane);
            }
        }

        for (; k < w.Length; k++)
        {
            sum += w[k] * s[k];
        }

        return sum;
    }

    private static void Axpy(float a, ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var va = new Vector<float>(a);
            ReadOnlySpan<Vector<float>> vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            Span<Vector<float>> vy = MemoryMarshal.Cast<float, Vector<float>>(y);
            for (int v = 0; v < vx.Length; v++)
            {
                vy[v] += va * vx[v];
            }

            i = vx.Length * Vector<float>.Count;
        }

        for (; i < x.Length; i++)
        {
            y[i] += a * x[i];
        }
    }
}

/// <summary>
/// The 1-D filter of one axis: output o reads input [Start[o], Start[o] + Count[o]) with Weights[o·Taps + k].
/// Area: footprint [o·s, (o+1)·s) with s = n_in/n_out, weight = covered length / s. Lanczos-3: centre (o + ½)·s − ½,
/// kernel stretched by max(s, 1), taps clamped to the edge, weights normalised to 1.
/// </summary>
internal sealed class AxisWeights
{
    private AxisWeights(int[] start, int[] count, float[] weights, int taps)
    {
        Start = start;
        Count = count;
        Weights = weights;
        Taps = taps;
    }

    internal int[] Start { get; }

    internal int[] Count { get; }

    internal float[] Weights { get; }

    internal int Taps { get; }

    internal static AxisWeights Build(int inSize, int outSize, ResizeMethod method)
    {
        double scale = (double)inSize / outSize;
        return method == ResizeMethod.Area && scale > 1 ? BuildArea(inSize, outSize, scale) : BuildLanczos(inSize, outSize, scale);
    }

    private static AxisWeights BuildArea(int inSize, int outSize, double scale)
    {
        int taps = (int)Math.Ceiling(scale) + 1;
        var start = new int[outSize];
        var count = new int[outSize];
        var weights = new float[outSize * taps];
        for (int o = 0; o < outSize; o++)
        {
            // Exact rational footprint [o·in/out, (o+1)·in/out) computed from integers so tiles meet exactly.
            double lo = (double)o * inSize / outSize;
            double hi = (double)(o + 1) * inSize / outSize;
            int first = (int)Math.Floor(lo);
            int last = Math.Min(inSize - 1, (int)Math.Ceiling(hi) - 1);
            start[o] = first;
            count[o] = last - first + 1;
            double total = 0;
            for (int i = first; i <= last; i++)
            {
                double covered = Math.Min(hi, i + 1) - Math.Max(lo, i);
                weights[(o * taps) + i - first] = (float)covered;
                total += covered;
            }

            Normalise(weights.AsSpan(o * taps, count[o]), total);
        }

        return new AxisWeights(start, count, weights, taps);
    }

    private static AxisWeights BuildLanczos(int inSize, int outSize, double scale)
    {
        const double A = 3.0;
        double stretch = Math.Max(scale, 1.0);
        double radius = A * stretch;
        int taps = Math.Min(inSize, (int)Math.Ceiling(2 * radius) + 1);
        var start = new int[outSize];
        var count = new int[outSize];
        var weights = new float[outSize * taps];
        var raw = new double[taps];
        for (int o = 0; o < outSize; o++)
        {
            double centre = ((o + 0.5) * scale) - 0.5;
            int lo = (int)Math.Ceiling(centre - radius);
            int hi = (int)Math.Floor(centre + radius);
            int first = Math.Clamp(lo, 0, inSize - 1);
            int last = Math.Clamp(hi, 0, inSize - 1);
            while (last - first + 1 > taps)
            {
                // Rounding can add one tap at the extreme; its weight is 0 at |x| = 3 anyway.
                last--;
            }

            Array.Clear(raw);
            double total = 0;
            for (int i = lo; i <= hi; i++)
            {
                double w = Lanczos3((i - centre) / stretch);
                int clamped = Math.Clamp(i, first, last);
                raw[clamped - first] += w;
                total += w;
            }

            start[o] = first;
            count[o] = last - first + 1;
            for (int k = 0; k < count[o]; k++)
            {
                weights[(o * taps) + k] = (float)raw[k];
            }

            Normalise(weights.AsSpan(o * taps, count[o]), total);
        }

        return new AxisWeights(start, count, weights, taps);
    }

    private static void Normalise(Span<float> w, double total)
    {
        if (total == 0)
        {
            return;
        }

        float inv = (float)(1.0 / total);
        for (int k = 0; k < w.Length; k++)
        {
            w[k] *= inv;
        }
    }

    private static double Lanczos3(double x)
    {
        x = Math.Abs(x);
        if (x < 1e-12)
        {
            return 1.0;
        }

        if (x >= 3.0)
        {
            return 0.0;
        }

        double px = Math.PI * x;
        return 3.0 * Math.Sin(px) * Math.Sin(px / 3.0) / (px * px);
    }
}
