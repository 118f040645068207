using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MedTransfer.Evaluation.Numerics;

/// <summary>
/// The Cholesky factor L (A = L·Lᵀ) of a symmetric positive-definite d × d matrix, stored by rows so that every
/// inner product of the factorisation and of the triangular solves runs over contiguous memory, four doubles at a
/// time. The logistic probes factor one Hessian per Newton step and TransRate one matrix per class; at d ≈ 500 this
/// takes a few milliseconds, where the general-purpose routine took about 15.
/// Sequential, so the same matrix always gives the same bits.
/// </summary>
internal sealed class CholeskyFactor
{
    private readonly double[] _l;
    private readonly int _d;
    private readonly int _stride;

    private CholeskyFactor(double[] l, int d, int stride)
    {
        _l = l;
        _d = d;
        _stride = stride;
    }

    /// <summary>Factors <paramref name="a"/> (d × d, symmetric; only the lower triangle is read).</summary>
    /// <exception cref="ArgumentException">The matrix is not positive definite.</exception>
    public static CholeskyFactor Factor(double[] a, int d)
    {
        // Rows padded to a multiple of 4 with zeros, so a dot product over the first j entries can read whole
        // vectors up to the next multiple of 4: the entries past j in row j are still zero when row j is in use.
        int stride = (d + 3) & ~3;
        var l = new double[d * stride];
        for (int j = 0; j < d; j++)
        {
            Span<double> rowJ = l.AsSpan(j * stride, stride);
            double diagonal = a[(j * d) + j] - Dot(rowJ, rowJ, j);
            if (!(diagonal > 0))
            {
                throw new ArgumentException("The matrix is not positive definite.", nameof(a));
            }

            double pivot = Math.Sqrt(diagonal);
            rowJ[j] = pivot;

            // Four rows at a time: four independent sums keep the multiply-add units busy while each waits on its
            // previous result, and row j is read once for all four.
            int i = j + 1;
            for (; i + 3 < d; i += 4)
            {
                Dot4(l, stride, i, rowJ, j, out double s0, out double s1, out double s2, out double s3);
                l[(i * stride) + j] = (a[(i * d) + j] - s0) / pivot;
                l[((i + 1) * stride) + j] = (a[((i + 1) * d) + j] - s1) / pivot;
                l[((i + 2) * stride) + j] = (a[((i + 2) * d) + j] - s2) / pivot;
                l[((i + 3) * stride) + j] = (a[((i + 3) * d) + j] - s3) / pivot;
            }

            for (; i < d; i++)
            {
                Span<double> rowI = l.AsSpan(i * stride, stride);
                rowI[j] = (a[(i * d) + j] - Dot(rowI, rowJ, j)) / pivot;
            }
        }

        return new CholeskyFactor(l, d, stride);
    }

    /// <summary>ln det A = 2 Σ ln Lⱼⱼ.</summary>
    public double LogDeterminant()
    {
        double sum = 0;
        for (int j = 0; j < _d; j++)
        {
            sum += Math.Log(_l[(j * _stride) + j]);
        }

        return 2 * sum;
    }

    /// <summary>Solves A·x = b.</summary>
    public double[] Solve(ReadOnlySpan<double> b)
    {
        // Forward: L·y = b, row by row (contiguous dot products).
        var x = new double[_stride];
        for (int i = 0; i < _d; i++)
        {
            ReadOnlySpan<double> row = _l.AsSpan(i * _stride, _stride);
            x[i] = (b[i] - Dot(row, x, i)) / row[i];
        }

        // Backward: Lᵀ·x = y. Row i of L is column i of Lᵀ: once xᵢ is known, take its share out of every earlier
        // entry, again along a contiguous row.
        for (int i = _d - 1; i >= 0; i--)
        {
            ReadOnlySpan<double> row = _l.AsSpan(i * _stride, _stride);
            double xi = x[i] / row[i];
            x[i] = xi;
            for (int k = 0; k < i; k++)
            {
                x[k] -= row[k] * xi;
            }
        }

        return x[.._d];
    }

    /// <summary>The dot products of rows i..i+3 of <paramref name="l"/> with <paramref name="b"/> over the first <paramref name="count"/> entries, as <see cref="Dot"/> sums them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot4(double[] l, int stride, int i, ReadOnlySpan<double> b, int count, out double s0, out double s1, out double s2, out double s3)
    {
        int end = (count + 3) & ~3;
        ReadOnlySpan<double> r0 = l.AsSpan(i * stride, stride);
        ReadOnlySpan<double> r1 = l.AsSpan((i + 1) * stride, stride);
        ReadOnlySpan<double> r2 = l.AsSpan((i + 2) * stride, stride);
        ReadOnlySpan<double> r3 = l.AsSpan((i + 3) * stride, stride);
        Vector256<double> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int k = 0; k < end; k += 4)
        {
            var bk = Vector256.Create(b.Slice(k, 4));
            c0 = Vector256.FusedMultiplyAdd(Vector256.Create(r0.Slice(k, 4)), bk, c0);
            c1 = Vector256.FusedMultiplyAdd(Vector256.Create(r1.Slice(k, 4)), bk, c1);
            c2 = Vector256.FusedMultiplyAdd(Vector256.Create(r2.Slice(k, 4)), bk, c2);
            c3 = Vector256.FusedMultiplyAdd(Vector256.Create(r3.Slice(k, 4)), bk, c3);
        }

        s0 = Vector256.Sum(c0);
        s1 = Vector256.Sum(c1);
        s2 = Vector256.Sum(c2);
        s3 = Vector256.Sum(c3);
    }

    /// <summary>Σ_{k &lt; count} a[k]·b[k] with four lanes, then the lanes in order (entries from count to the next multiple of 4 must be zero in one of the two).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b, int count)
    {
        int end = (count + 3) & ~3;
        Vector256<double> sum = Vector256<double>.Zero;
        for (int k = 0; k < end; k += 4)
        {
            sum = Vector256.FusedMultiplyAdd(Vector256.Create(a.Slice(k, 4)), Vector256.Create(b.Slice(k, 4)), sum);
        }

        return Vector256.Sum(sum);
    }
}
