using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MedTransfer.Evaluation.Numerics;

/// <summary>
/// A feature matrix stored column by column in one array: each column's values are contiguous, and both the row
/// count and the column count are padded with zeros to a multiple of four. The diagnostics' heavy work is sums over
/// samples (Gram matrices XᵀWX, Xᵀr, Xw); with this layout those read memory in order, four doubles per vector
/// instruction, with no edge cases, where the jagged <c>double[][]</c> input would not.
/// The zero padding changes no sum.
/// </summary>
internal sealed class FeatureColumns
{
    private FeatureColumns(int rows, int columns)
    {
        Rows = rows;
        Columns = columns;
        Stride = RoundUp(rows);
        PaddedColumns = RoundUp(columns);
        Data = new double[PaddedColumns * Stride];
    }

    /// <summary>Samples (the unpadded row count).</summary>
    public int Rows { get; }

    /// <summary>Features (the unpadded column count).</summary>
    public int Columns { get; }

    /// <summary>Length of one stored column: <see cref="Rows"/> rounded up to a multiple of 4.</summary>
    public int Stride { get; }

    /// <summary><see cref="Columns"/> rounded up to a multiple of 4 (the extra columns are zero).</summary>
    public int PaddedColumns { get; }

    /// <summary>Column j occupies <c>Data[j·Stride .. j·Stride + Stride)</c>.</summary>
    public double[] Data { get; }

    /// <summary>
    /// Copies <paramref name="rows"/> (or only those listed in <paramref name="subset"/>, in that order), each
    /// value transformed to (x − shift[j]) / scale[j] when those are given; with <paramref name="intercept"/> a column of
    /// ones comes first (the logistic model's bias).
    /// </summary>
    public static FeatureColumns From(double[][] rows, IReadOnlyList<int>? subset = null, double[]? shift = null, double[]? scale = null, bool intercept = false)
    {
        int n = subset?.Count ?? rows.Length;
        int d = rows.Length == 0 ? 0 : rows[0].Length;
        int offset = intercept ? 1 : 0;
        var x = new FeatureColumns(n, d + offset);
        double[] data = x.Data;
        int stride = x.Stride;
        if (intercept)
        {
            data.AsSpan(0, n).Fill(1);
        }

        for (int i = 0; i < n; i++)
        {
            double[] row = rows[subset?[i] ?? i];
            if (row.Length != d)
            {
                throw new ArgumentException("All feature rows must have the same length.", nameof(rows));
            }

            // Writing down a column for every row is a strided store; it happens once per matrix, while the kernels
            // read each column many times.
            for (int j = 0; j < d; j++)
            {
                double v = row[j];
                if (shift is not null)
                {
                    v -= shift[j];
                }

                if (scale is not null)
                {
                    v /= scale[j];
                }

                data[((j + offset) * stride) + i] = v;
            }
        }

        return x;
    }

    /// <summary>Column j (its <see cref="Rows"/> values, without padding).</summary>
    public ReadOnlySpan<double> Column(int j) => Data.AsSpan(j * Stride, Rows);

    /// <summary>z = X·w over the real columns; <paramref name="z"/> has length <see cref="Stride"/> and its padding stays zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Multiply(ReadOnlySpan<double> w, Span<double> z)
    {
        z.Clear();
        ref double zr = ref z[0];
        for (int j = 0; j < Columns; j++)
        {
            var wj = Vector256.Create(w[j]);
            ref double column = ref Data[j * Stride];
            for (int i = 0; i < Stride; i += 4)
            {
                Vector256.FusedMultiplyAdd(wj, Vector256.LoadUnsafe(ref column, (nuint)i), Vector256.LoadUnsafe(ref zr, (nuint)i)).StoreUnsafe(ref zr, (nuint)i);
            }
        }
    }

    /// <summary>g = Xᵀ·r; <paramref name="r"/> has length <see cref="Stride"/> with zero padding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void TransposeMultiply(ReadOnlySpan<double> r, Span<double> g)
    {
        ref double rr = ref Unsafe.AsRef(in r[0]);
        for (int j = 0; j < Columns; j++)
        {
            ref double column = ref Data[j * Stride];
            Vector256<double> sum = Vector256<double>.Zero;
            for (int i = 0; i < Stride; i += 4)
            {
                sum = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref column, (nuint)i), Vector256.LoadUnsafe(ref rr, (nuint)i), sum);
            }

            g[j] = Vector256.Sum(sum);
        }
    }

    private static int RoundUp(int n) => Math.Max(4, (n + 3) & ~3);
}
