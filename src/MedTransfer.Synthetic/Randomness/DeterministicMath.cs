namespace MedTransfer.Synthetic.Randomness;

/// <summary>
/// Exp, Log, Sin, Cos and Pow built only from IEEE-754 +, −, ×, ÷ and <see cref="Math.Sqrt"/> (all correctly
/// rounded), so generated pixels are bit-identical on every machine and runtime: <see cref="Math.Exp(double)"/>
/// and friends call the platform's C library, whose last-bit results differ between glibc, the Windows CRT
/// and macOS. Accuracy is about 1e-15 relative, far more than an image needs; determinism is the point.
/// </summary>
internal static class DeterministicMath
{
    private const double Ln2Hi = 6.93147180369123816490e-01;
    private const double Ln2Lo = 1.90821492927058770002e-10;
    private const double InvLn2 = 1.44269504088896338700e+00;
    private const double HalfPiHi = 1.57079632673412561417e+00;
    private const double HalfPiLo = 6.07710050650619224932e-11;
    private const double InvHalfPi = 6.36619772367581382433e-01;

    /// <summary>e^x.</summary>
    public static double Exp(double x)
    {
        if (double.IsNaN(x))
        {
            return x;
        }

        if (x > 709.0)
        {
            return double.PositiveInfinity;
        }

        if (x < -745.0)
        {
            return 0.0;
        }

        double k = Math.Round(x * InvLn2);
        double r = (x - (k * Ln2Hi)) - (k * Ln2Lo);

        // Taylor series of e^r for |r| <= 0.35: 18 terms reach below 1e-17.
        double term = 1.0;
        double sum = 1.0;
        for (int n = 1; n <= 18; n++)
        {
            term = term * r / n;
            sum += term;
        }

        return Math.ScaleB(sum, (int)k);
    }

    /// <summary>Natural logarithm; x must be positive and finite.</summary>
    public static double Log(double x)
    {
        if (!(x > 0.0) || double.IsInfinity(x))
        {
            return x == 0.0 ? double.NegativeInfinity : double.NaN;
        }

        // x = m · 2^e with m in [sqrt(1/2), sqrt(2)), exactly, from the bits.
        int e = Math.ILogB(x);
        double m = Math.ScaleB(x, -e);
        if (m > 1.4142135623730951)
        {
            m *= 0.5;
            e++;
        }

        // log m = 2 atanh(s), s = (m − 1)/(m + 1), |s| <= 0.1716.
        double s = (m - 1.0) / (m + 1.0);
        double s2 = s * s;
        double power = s;
        double sum = 0.0;
        for (int n = 1; n <= 31; n += 2)
        {
            sum += power / n;
            power *= s2;
        }

        return (2.0 * sum) + (e * Ln2Lo) + (e * Ln2Hi);
    }

    /// <summary>x^y for x &gt; 0 (and 0^y = 0 for y &gt; 0).</summary>
    public static double Pow(double x, double y)
    {
        if (x == 0.0)
        {
            return y > 0 ? 0.0 : double.PositiveInfinity;
        }

        return Exp(y * Log(x));
    }

    /// <summary>sin x, for |x| up to about 1e6.</summary>
    public static double Sin(double x)
    {
        (int quadrant, double r) = Reduce(x);
        return quadrant switch
        {
            0 => SinKernel(r),
            1 => CosKernel(r),
            2 => -SinKernel(r),
            _ => -CosKernel(r),
        };
    }

    /// <summary>cos x, for |x| up to about 1e6.</summary>
    public static double Cos(double x)
    {
        (int quadrant, double r) = Reduce(x);
        return quadrant switch
        {
            0 => CosKernel(r),
            1 => -SinKernel(r),
            2 => -CosKernel(r),
            _ => SinKernel(r),
        };
    }

    private static (int Quadrant, double Remainder) Reduce(double x)
    {
        double k = Math.Round(x * InvHalfPi);
        double r = (x - (k * HalfPiHi)) - (k * HalfPiLo);
        int quadrant = (int)(((long)k % 4 + 4) % 4);
        return (quadrant, r);
    }

    private static double SinKernel(double r)
    {
        double r2 = r * r;
        double term = r;
        double sum = r;
        for (int n = 1; n <= 11; n++)
        {
            term = -term * r2 / ((2 * n) * ((2 * n) + 1));
            sum += term;
        }

        return sum;
    }

    private static double CosKernel(double r)
    {
        double r2 = r * r;
        double term = 1.0;
        double sum = 1.0;
        for (int n = 1; n <= 11; n++)
        {
            term = -term * r2 / (((2 * n) - 1) * (2 * n));
            sum += term;
        }

        return sum;
    }
}
