using MedTransfer.Synthetic.Randomness;

namespace MedTransfer.Synthetic.Tests.Randomness;

/// <summary>The portable transcendental functions agree with the platform's to near double precision.</summary>
public sealed class DeterministicMathTests
{
    [Fact]
    public void Functions_MatchTheRuntime()
    {
        var r = new SeededRandom(5);
        for (int i = 0; i < 20_000; i++)
        {
            double x = r.NextDouble(-50.0, 50.0);
            double positive = DeterministicMath.Exp(r.NextDouble(-700.0, 700.0));
            Assert.Equal(Math.Exp(x), DeterministicMath.Exp(x), Math.Exp(x) * 1e-13);
            Assert.Equal(Math.Log(positive), DeterministicMath.Log(positive), 1e-12 * Math.Max(1.0, Math.Abs(Math.Log(positive))));
            Assert.Equal(Math.Sin(x), DeterministicMath.Sin(x), 1e-13);
            Assert.Equal(Math.Cos(x), DeterministicMath.Cos(x), 1e-13);
            double b = r.NextDouble(0.001, 1.0);
            double e = r.NextDouble(0.2, 3.0);
            Assert.Equal(Math.Pow(b, e), DeterministicMath.Pow(b, e), 1e-13);
        }
    }

    [Fact]
    public void Normal_HasUnitMoments()
    {
        var r = new SeededRandom(11);
        double sum = 0;
        double squares = 0;
        const int n = 100_000;
        for (int i = 0; i < n; i++)
        {
            double v = r.Normal();
            sum += v;
            squares += v * v;
        }

        Assert.InRange(sum / n, -0.02, 0.02);
        Assert.InRange(squares / n, 0.97, 1.03);
    }
}
