using MedTransfer.Evaluation.Diagnostics;
using static TorchSharp.torch;

namespace MedTransfer.Training.Tests.Adaptation;

/// <summary>
/// Generated two-domain data with a known shift: two Gaussian classes in <c>dim</c> dimensions separated along
/// axis 0 (means ∓<see cref="Separation"/>), unit noise; the target domain adds <c>shift</c> to axes 1…dim−1 and
/// scales them by <c>scale</c> (a covariate shift that leaves the class boundary on axis 0 intact).
/// </summary>
internal static class TwoDomainData
{
    public const double Separation = 1.5;

    public static (Tensor X, Tensor Y) Make(int n, int dim, int seed, double shift = 0, double scale = 1)
    {
        var rng = new Random(seed);
        float[] x = new float[n * dim];
        long[] y = new long[n];
        for (int i = 0; i < n; i++)
        {
            y[i] = i % 2;
            for (int k = 0; k < dim; k++)
            {
                double u1 = 1.0 - rng.NextDouble();
                double u2 = rng.NextDouble();
                double z = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
                double v = k == 0 ? z + (y[i] == 1 ? Separation : -Separation) : (z * scale) + shift;
                x[(i * dim) + k] = (float)v;
            }
        }

        return (tensor(x, [n, dim]), tensor(y));
    }

    /// <summary>A tiny MLP f: Linear → ReLU → Linear (→ BatchNorm1d) → ReLU, the last block shaped like tllib's bottleneck.</summary>
    public static nn.Module<Tensor, Tensor> FeatureExtractor(int dim, bool batchNorm = false, int width = 16, int features = 8)
        => batchNorm
            ? nn.Sequential(("fc1", nn.Linear(dim, width)), ("relu1", nn.ReLU()), ("fc2", nn.Linear(width, features)), ("bn", nn.BatchNorm1d(features)), ("relu2", nn.ReLU()))
            : nn.Sequential(("fc1", nn.Linear(dim, width)), ("relu1", nn.ReLU()), ("fc2", nn.Linear(width, features)), ("relu2", nn.ReLU()));

    public static double[][] Features(nn.Module<Tensor, Tensor> f, Tensor x)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        f.eval();
        Tensor z = f.forward(x);
        float[] flat = z.data<float>().ToArray();
        int d = (int)z.shape[1];
        return [.. Enumerable.Range(0, (int)z.shape[0]).Select(i => flat.Skip(i * d).Take(d).Select(v => (double)v).ToArray())];
    }

    public static double Accuracy(nn.Module<Tensor, Tensor> f, nn.Module<Tensor, Tensor> g, Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        f.eval();
        g.eval();
        return g.forward(f.forward(x)).argmax(1).eq(y).to_type(ScalarType.Float32).mean().item<float>();
    }

    public static double ProxyA(nn.Module<Tensor, Tensor> f, Tensor xs, Tensor xt)
        => DatasetBias.ProxyADistance(Features(f, xs), Features(f, xt), seed: 1).Distance;
}
