using static TorchSharp.torch;

namespace MedTransfer.Training.Tests.Adaptation;

/// <summary>Plain double-precision implementations of the docs/METHODS.md definitions, written from the formulas, and
/// seeded test matrices. Used as the expected values for the tensor implementations.</summary>
internal static class Reference
{
    public static double[][] Matrix(int rows, int cols, int seed, double scale = 1.0, double shift = 0.0)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, rows).Select(_ => Enumerable.Range(0, cols).Select(_ => (float)(((rng.NextDouble() * 2) - 1) * scale + shift)).Select(v => (double)v).ToArray())];
    }

    public static Tensor ToTensor(double[][] m, bool requiresGrad = false)
    {
        float[] flat = [.. m.SelectMany(r => r.Select(v => (float)v))];
        return tensor(flat, [m.Length, m[0].Length], requires_grad: requiresGrad);
    }

    public static double[] Softmax(double[] row, double temperature = 1.0)
    {
        double max = row.Max() / temperature;
        double[] e = [.. row.Select(v => Math.Exp((v / temperature) - max))];
        double s = e.Sum();
        return [.. e.Select(v => v / s)];
    }

    /// <summary>H(p) = −Σ p log(p + 1e−5) (docs/METHODS.md).</summary>
    public static double Entropy(double[] p) => -p.Sum(v => v * Math.Log(v + 1e-5));

    public static double[] EntropyWeights(double[][] p)
    {
        double[] w = [.. p.Select(r => 1 + Math.Exp(-Entropy(r)))];
        double s = w.Sum();
        return [.. w.Select(v => v * p.Length / s)];
    }

    public static double SquaredDistance(double[] a, double[] b) => a.Select((v, k) => (v - b[k]) * (v - b[k])).Sum();

    /// <summary>Σ_u exp(−d²/(2 α_u m)) with m the mean of d² over all pairs of the pooled rows, or a fixed σ.</summary>
    public static double[,] KernelSum(double[][] pooled, double[] alphas, double? sigma = null)
    {
        int n = pooled.Length;
        var d2 = new double[n, n];
        double mean = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                d2[i, j] = SquaredDistance(pooled[i], pooled[j]);
                mean += d2[i, j] / (n * (double)n);
            }
        }

        var k = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                k[i, j] = sigma is double s
                    ? Math.Exp(-d2[i, j] / (2 * s * s))
                    : alphas.Sum(a => Math.Exp(-d2[i, j] / (2 * a * mean)));
            }
        }

        return k;
    }

    /// <summary>mean K_ss + mean K_tt − 2 mean K_st for a pooled kernel matrix with ns source rows first.</summary>
    public static double Mmd(double[,] k, int ns, int nt)
    {
        double ss = 0, tt = 0, st = 0;
        for (int i = 0; i < ns + nt; i++)
        {
            for (int j = 0; j < ns + nt; j++)
            {
                if (i < ns && j < ns)
                {
                    ss += k[i, j];
                }
                else if (i >= ns && j >= ns)
                {
                    tt += k[i, j];
                }
                else if (i < ns && j >= ns)
                {
                    st += k[i, j];
                }
            }
        }

        return (ss / (ns * (double)ns)) + (tt / (nt * (double)nt)) - (2 * st / (ns * (double)nt));
    }

    public static double[,] Covariance(double[][] x)
    {
        int n = x.Length, d = x[0].Length;
        double[] mean = new double[d];
        foreach (double[] r in x)
        {
            for (int k = 0; k < d; k++)
            {
                mean[k] += r[k] / n;
            }
        }

        var c = new double[d, d];
        foreach (double[] r in x)
        {
            for (int a = 0; a < d; a++)
            {
                for (int b = 0; b < d; b++)
                {
                    c[a, b] += (r[a] - mean[a]) * (r[b] - mean[b]) / (n - 1);
                }
            }
        }

        return c;
    }

    public static double[] Column(float[] flat, int rows, int cols, int col) => [.. Enumerable.Range(0, rows).Select(i => (double)flat[(i * cols) + col])];
}
