using MedTransfer.Training.Adaptation;
using MedTransfer.Training.Runtime;
using MedTransfer.Training.Tests.Runtime;
using static TorchSharp.torch;

namespace MedTransfer.Training.Tests.Adaptation;

/// <summary>Each loss against a plain double-loop evaluation of its docs/METHODS.md definition.</summary>
[Collection(TorchCollection.Name)]
public sealed class AdaptationLossesTests
{
    private const double Tol = 1e-5;

    public AdaptationLossesTests() => TorchRuntime.EnsureAvailable();

    [Fact]
    public void Entropy_RandomProbabilities_MatchesDefinitionWithEpsilon()
    {
        using var scope = NewDisposeScope();
        double[][] logits = Reference.Matrix(5, 4, 1, 3);
        double[][] p = [.. logits.Select(r => Reference.Softmax(r))];

        float[] h = AdaptationLosses.Entropy(Reference.ToTensor(p)).data<float>().ToArray();

        for (int i = 0; i < p.Length; i++)
        {
            Assert.Equal(Reference.Entropy(p[i]), h[i], Tol);
        }
    }

    [Fact]
    public void EntropyWeights_SumToBatchSize_ProportionalToOnePlusExpMinusEntropy_NoGrad()
    {
        using var scope = NewDisposeScope();
        double[][] logits = Reference.Matrix(6, 3, 2, 4);
        double[][] p = [.. logits.Select(r => Reference.Softmax(r))];
        Tensor probs = Reference.ToTensor(p, requiresGrad: true);

        Tensor w = AdaptationLosses.EntropyWeights(probs);

        Assert.False(w.requires_grad);
        double[] expected = Reference.EntropyWeights(p);
        float[] actual = w.data<float>().ToArray();
        Assert.Equal(6.0, actual.Sum(), 1e-4);
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(expected[i], actual[i], Tol);
        }
    }

    [Fact]
    public void EntropyMinimization_Logits_IsMeanEntropyOfSoftmax()
    {
        using var scope = NewDisposeScope();
        double[][] logits = Reference.Matrix(7, 5, 3, 2);

        double actual = AdaptationLosses.EntropyMinimization(Reference.ToTensor(logits)).item<float>();

        Assert.Equal(logits.Average(r => Reference.Entropy(Reference.Softmax(r))), actual, Tol);
    }

    [Fact]
    public void DomainAdversarial_WithAndWithoutWeights_MatchesHandBce()
    {
        using var scope = NewDisposeScope();
        double[] ds = [0.3, -1.2, 2.0];
        double[] dt = [-0.5, 0.7];
        double[] ws = [0.5, 1.5, 1.0];
        double[] wt = [1.2, 0.8];
        static double Bce1(double z) => Math.Log(1 + Math.Exp(-z));
        static double Bce0(double z) => Math.Log(1 + Math.Exp(z));
        Tensor s = tensor(ds.Select(v => (float)v).ToArray()).reshape(3, 1);
        Tensor t = tensor(dt.Select(v => (float)v).ToArray()).reshape(2, 1);

        double plain = AdaptationLosses.DomainAdversarial(s, t).item<float>();
        double weighted = AdaptationLosses.DomainAdversarial(s, t, tensor(ws.Select(v => (float)v).ToArray()), tensor(wt.Select(v => (float)v).ToArray())).item<float>();

        Assert.Equal(0.5 * (ds.Average(Bce1) + dt.Average(Bce0)), plain, Tol);
        double expectedWeighted = 0.5 * ((ds.Select((z, i) => ws[i] * Bce1(z)).Sum() / 3) + (dt.Select((z, i) => wt[i] * Bce0(z)).Sum() / 2));
        Assert.Equal(expectedWeighted, weighted, Tol);
        // Source > 0 right: 2 of 3; target < 0 right: 1 of 2.
        Assert.Equal(3 / 5.0, AdaptationLosses.DomainAccuracy(s, t), 1e-12);
    }

    [Fact]
    public void MultilinearMap_IsPerSampleOuterProduct_ClassMajor()
    {
        using var scope = NewDisposeScope();
        double[][] f = Reference.Matrix(3, 4, 4);
        double[][] p = [.. Reference.Matrix(3, 2, 5).Select(r => Reference.Softmax(r))];

        Tensor h = AdaptationLosses.MultilinearMap(Reference.ToTensor(f), Reference.ToTensor(p));

        Assert.Equal(new long[] { 3, 8 }, h.shape);
        float[] flat = h.data<float>().ToArray();
        for (int i = 0; i < 3; i++)
        {
            for (int c = 0; c < 2; c++)
            {
                for (int k = 0; k < 4; k++)
                {
                    Assert.Equal(p[i][c] * f[i][k], flat[(i * 8) + (c * 4) + k], Tol);
                }
            }
        }
    }

    [Fact]
    public void MkMmd_UnequalBatches_MatchesBiasedMultiKernelDefinition()
    {
        using var scope = NewDisposeScope();
        double[][] s = Reference.Matrix(5, 3, 6);
        double[][] t = Reference.Matrix(4, 3, 7, 1.0, 0.8);
        double[] alphas = [.. AdaptationLosses.DefaultKernelAlphas];

        double actual = AdaptationLosses.MkMmd(Reference.ToTensor(s), Reference.ToTensor(t)).item<float>();

        double expected = Reference.Mmd(Reference.KernelSum([.. s, .. t], alphas), 5, 4);
        Assert.Equal(expected, actual, 1e-4);
        Assert.True(expected > 0.01, "the shifted target must give a clearly positive MMD");
    }

    [Fact]
    public void MkMmd_SameBatch_IsZero()
    {
        using var scope = NewDisposeScope();
        Tensor s = Reference.ToTensor(Reference.Matrix(6, 3, 8));

        Assert.Equal(0.0, AdaptationLosses.MkMmd(s, s).item<float>(), 1e-5);
    }

    [Fact]
    public void Jmmd_FeatureAndSoftmaxLayers_IsMmdOfElementwiseKernelProduct()
    {
        using var scope = NewDisposeScope();
        double[][] fs = Reference.Matrix(4, 3, 9);
        double[][] ft = Reference.Matrix(4, 3, 10, 1.0, 0.5);
        double[][] ps = [.. Reference.Matrix(4, 2, 11, 2).Select(r => Reference.Softmax(r))];
        double[][] pt = [.. Reference.Matrix(4, 2, 12, 2).Select(r => Reference.Softmax(r))];
        double[] alphas = [0.5, 1, 2];

        double actual = AdaptationLosses.Jmmd(
            [(Reference.ToTensor(fs), Reference.ToTensor(ft)), (Reference.ToTensor(ps), Reference.ToTensor(pt))],
            [new GaussianKernelSpec(alphas), new GaussianKernelSpec(alphas, 0.92)]).item<float>();

        double[,] k1 = Reference.KernelSum([.. fs, .. ft], alphas);
        double[,] k2 = Reference.KernelSum([.. ps, .. pt], alphas, 0.92);
        var k = new double[8, 8];
        for (int i = 0; i < 8; i++)
        {
            for (int j = 0; j < 8; j++)
            {
                k[i, j] = k1[i, j] * k2[i, j];
            }
        }

        Assert.Equal(Reference.Mmd(k, 4, 4), actual, 1e-4);
    }

    [Fact]
    public void Coral_PaperForm_IsFrobeniusOfCovarianceDifferenceOver4DSquared()
    {
        using var scope = NewDisposeScope();
        double[][] s = Reference.Matrix(6, 3, 13);
        double[][] t = Reference.Matrix(5, 3, 14, 2.0);

        double actual = AdaptationLosses.Coral(Reference.ToTensor(s), Reference.ToTensor(t)).item<float>();

        double[,] cs = Reference.Covariance(s);
        double[,] ct = Reference.Covariance(t);
        double fro = 0;
        for (int a = 0; a < 3; a++)
        {
            for (int b = 0; b < 3; b++)
            {
                fro += (cs[a, b] - ct[a, b]) * (cs[a, b] - ct[a, b]);
            }
        }

        Assert.Equal(fro / (4.0 * 9), actual, 1e-5);
        Assert.Equal(0.0, AdaptationLosses.Coral(Reference.ToTensor(s), Reference.ToTensor(s)).item<float>(), 1e-7);
    }

    [Fact]
    public void Mcc_TemperatureAndEntropyWeights_MatchesDefinition()
    {
        using var scope = NewDisposeScope();
        double[][] logits = Reference.Matrix(6, 3, 15, 4);
        const double T = 2.5;

        double actual = AdaptationLosses.Mcc(Reference.ToTensor(logits), T).item<float>();

        double[][] y = [.. logits.Select(r => Reference.Softmax(r, T))];
        double[] w = Reference.EntropyWeights(y);
        var c = new double[3, 3];
        for (int i = 0; i < 6; i++)
        {
            for (int a = 0; a < 3; a++)
            {
                for (int b = 0; b < 3; b++)
                {
                    c[a, b] += y[i][a] * w[i] * y[i][b];
                }
            }
        }

        double off = 0;
        for (int a = 0; a < 3; a++)
        {
            double row = c[a, 0] + c[a, 1] + c[a, 2];
            for (int b = 0; b < 3; b++)
            {
                off += a == b ? 0 : c[a, b] / row;
            }
        }

        Assert.Equal(off / 3, actual, 1e-5);
    }

    [Fact]
    public void Mcc_ConfidentDistinctPredictions_LowerThanUniform()
    {
        using var scope = NewDisposeScope();
        Tensor confident = tensor(new float[] { 20, 0, 0, 20, 20, 0, 0, 20 }, [4, 2]);
        Tensor uniform = zeros(4, 2);

        double low = AdaptationLosses.Mcc(confident, 1.0).item<float>();
        double high = AdaptationLosses.Mcc(uniform, 1.0).item<float>();

        Assert.True(low < 1e-3, $"confident: {low}");
        Assert.Equal(0.5, high, 1e-5); // every row of C̃ is (½, ½): off-diagonal sum 1 over C = 2 classes
    }

    [Fact]
    public void Losses_WrongShapes_ThrowTypedError()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<AdaptationException>(() => AdaptationLosses.Coral(zeros(4, 3), zeros(4, 2)));
        Assert.Equal(AdaptationErrorCode.ShapeMismatch, ex.Code);
        Assert.Throws<AdaptationException>(() => AdaptationLosses.MkMmd(zeros(4, 3), zeros(4, 2)));
        Assert.Throws<AdaptationException>(() => AdaptationLosses.Mcc(zeros(4), 2.5));
        Assert.Throws<AdaptationException>(() => AdaptationLosses.Mcc(zeros(4, 2), 0));
        Assert.Throws<AdaptationException>(() => AdaptationLosses.MultilinearMap(zeros(4, 3), zeros(3, 2)));
    }

    [Fact]
    public void RandomizedMap_SameSeed_SameOutput_ScaledBySqrtDim()
    {
        using var scope = NewDisposeScope();
        using var a = new RandomizedMultilinearMap(3, 2, 16, seed: 5);
        using var b = new RandomizedMultilinearMap(3, 2, 16, seed: 5);
        Tensor f = Reference.ToTensor(Reference.Matrix(4, 3, 16));
        Tensor p = Reference.ToTensor([.. Reference.Matrix(4, 2, 17).Select(r => Reference.Softmax(r))]);

        Tensor ha = a.Forward(f, p);

        Assert.Equal(new long[] { 4, 16 }, ha.shape);
        Assert.True(ha.eq(b.Forward(f, p)).all().item<bool>());
    }
}
