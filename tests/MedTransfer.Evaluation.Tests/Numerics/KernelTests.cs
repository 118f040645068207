using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Random;
using MedTransfer.Evaluation.Numerics;

namespace MedTransfer.Evaluation.Tests.Numerics;

public sealed class KernelTests
{
    [Theory]
    [InlineData(7, 5)]
    [InlineData(130, 33)]
    [InlineData(1, 1)]
    public void Gram_Weighted_EqualsTheSumOfWeightedOuterProducts(int n, int d)
    {
        double[][] rows = Random(n, d, seed: n + d);
        FeatureColumns x = FeatureColumns.From(rows);
        var weights = new double[x.Stride];
        for (int i = 0; i < n; i++)
        {
            weights[i] = 0.5 + (i % 3);
        }

        double[] g = Gram.Compute(x, weights);
        double[] plain = Gram.Compute(x);

        for (int a = 0; a < d; a++)
        {
            for (int b = 0; b < d; b++)
            {
                double expected = Enumerable.Range(0, n).Sum(i => weights[i] * rows[i][a] * rows[i][b]);
                double unweighted = Enumerable.Range(0, n).Sum(i => rows[i][a] * rows[i][b]);
                Assert.Equal(expected, g[(a * d) + b], 1e-12 * Math.Max(1, Math.Abs(expected)));
                Assert.Equal(unweighted, plain[(a * d) + b], 1e-12 * Math.Max(1, Math.Abs(unweighted)));
            }
        }
    }

    [Fact]
    public void Gram_SameInput_SameBitsOnEveryCall()
    {
        // The blocks are shared out to threads; each entry must still be summed in one fixed order.
        FeatureColumns x = FeatureColumns.From(Random(700, 61, seed: 3));

        double[] first = Gram.Compute(x);
        for (int run = 0; run < 5; run++)
        {
            Assert.Equal(first, Gram.Compute(x));
        }
    }

    [Fact]
    public void FeatureColumns_ShiftScaleIntercept_AndMatrixVectorProducts()
    {
        double[][] rows = [[1, 2], [3, 4], [5, 6]];
        FeatureColumns x = FeatureColumns.From(rows, subset: [2, 0], shift: [1, 2], scale: [2, 4], intercept: true);

        Assert.Equal((2, 3), (x.Rows, x.Columns));
        Assert.Equal([1.0, 1.0], x.Column(0).ToArray());
        Assert.Equal([2.0, 0.0], x.Column(1).ToArray());
        Assert.Equal([1.0, 0.0], x.Column(2).ToArray());

        var z = new double[x.Stride];
        x.Multiply([10, 1, 2], z);
        Assert.Equal([14.0, 10.0], z[..2]);
        Assert.All(z[2..], v => Assert.Equal(0.0, v));

        var g = new double[3];
        var r = new double[x.Stride];
        r[0] = 1;
        r[1] = -2;
        x.TransposeMultiply(r, g);
        Assert.Equal([-1.0, 2.0, 1.0], g);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    [InlineData(45)]
    public void Cholesky_SolvesAndLogDeterminant_MatchTheLibrary(int d)
    {
        double[][] rows = Random(d + 10, d, seed: d);
        Matrix<double> m = Matrix<double>.Build.DenseOfRowArrays(rows);
        Matrix<double> a = m.TransposeThisAndMultiply(m) + Matrix<double>.Build.DenseIdentity(d);
        double[] b = [.. Enumerable.Range(0, d).Select(i => Math.Sin(i + 1))];

        var factor = CholeskyFactor.Factor([.. a.ToColumnMajorArray()], d);
        double[] x = factor.Solve(b);

        Vector<double> expected = a.Solve(Vector<double>.Build.Dense(b));
        for (int i = 0; i < d; i++)
        {
            Assert.Equal(expected[i], x[i], 1e-10);
        }

        Assert.Equal(a.Cholesky().DeterminantLn, factor.LogDeterminant(), 1e-9);
    }

    [Fact]
    public void Cholesky_NotPositiveDefinite_Throws()
    {
        Assert.Throws<ArgumentException>(() => CholeskyFactor.Factor([1, 2, 2, 1], 2));
    }

    private static double[][] Random(int n, int d, int seed)
    {
        var rng = new Xoshiro256StarStar(seed, threadSafe: false);
        return [.. Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, d).Select(_ => rng.NextDouble() - 0.3).ToArray())];
    }
}
