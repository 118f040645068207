using Google.Protobuf;
using MedTransfer.Training.Onnx;
using MedTransfer.Training.Tests.Runtime;
using Onnx;
using TorchSharp;
using static MedTransfer.Testing.TestGraphs;
using static TorchSharp.torch;

namespace MedTransfer.Training.Tests.Onnx;

[Collection(TorchCollection.Name)]
public sealed class OnnxGraphModuleTests
{
    private static float[] RandomInput(long n, int seed)
    {
        var r = new Random(seed);
        var v = new float[n];
        for (int i = 0; i < n; i++)
        {
            v[i] = (float)((r.NextDouble() * 2) - 1);
        }

        return v;
    }

    /// <summary>Max |Δ| between our module (eval mode) and ONNX Runtime on the same input.</summary>
    internal static double ParityError(ModelProto model, long[] inputShape, int seed = 7)
    {
        float[] input = RandomInput(inputShape.Aggregate(1L, (a, b) => a * b), seed);
        using var runner = new OnnxRuntimeRunner(model.ToByteArray(), threads: 1);
        float[] expected = runner.Run(runner.InputNames[0], input, inputShape).Values.First().Values;

        using OnnxGraphModule module = OnnxGraphModule.Import(model);
        module.eval();
        using var scope = NewDisposeScope();
        using var guard = no_grad();
        Tensor actual = module.forward(tensor(input, inputShape));
        float[] ours = actual.contiguous().data<float>().ToArray();
        Assert.Equal(expected.Length, ours.Length);
        double max = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            max = Math.Max(max, Math.Abs(ours[i] - expected[i]));
        }

        return max;
    }

    [Fact]
    public void Conv_AsymmetricPadsGroupsDilations_MatchesOnnxRuntime()
    {
        var g = new TestGraphs();
        g.Input("x", 2, 4, 11, 13).Output("y");
        g.Node("Conv", ["x", g.Weights(6, 2, 3, 3), g.Weights(6)], ["c1"], Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 2, 0, 1), Int("group", 2));
        g.Node("Conv", ["c1", g.Weights(4, 6, 3, 3)], ["y"], Ints("dilations", 2, 1), Ints("pads", 2, 1, 2, 1));
        Assert.True(ParityError(g.Build(), [2, 4, 11, 13]) <= 1e-5);
    }

    [Theory]
    [InlineData(12)] // even: the end padding is never read, the symmetric shortcut applies
    [InlineData(13)] // odd: it is read, the explicit padding path runs
    public void StrideTwoWithCntkPads_MatchesOnnxRuntime_OnEvenAndOddSizes(int size)
    {
        var g = new TestGraphs();
        g.Input("x", 2, 3, size, size).Output("y");
        g.Node("Conv", ["x", g.Weights(4, 3, 3, 3)], ["c"], Ints("strides", 2, 2), Ints("pads", 1, 1, 0, 0));
        g.Node("MaxPool", ["c"], ["y"], Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 0, 0));
        Assert.True(ParityError(g.Build(), [2, 3, size, size]) <= 1e-5);
    }

    [Fact]
    public void Conv_SameUpperAutoPad_MatchesOnnxRuntime()
    {
        var g = new TestGraphs();
        g.Input("x", 1, 3, 10, 9).Output("y");
        g.Node("Conv", ["x", g.Weights(5, 3, 4, 4)], ["y"], Ints("strides", 2, 2), String("auto_pad", "SAME_UPPER"));
        Assert.True(ParityError(g.Build(), [1, 3, 10, 9]) <= 1e-5);
    }

    [Fact]
    public void BatchNormReluPools_WithAsymmetricPads_MatchOnnxRuntime()
    {
        var g = new TestGraphs();
        g.Input("x", 2, 3, 12, 12).Output("y");
        g.Node("BatchNormalization", ["x", g.Weights(3), g.Weights(3), g.Weights(3), g.Positive(3)], ["b"], Float("epsilon", 1e-5f));
        g.Node("Relu", ["b"], ["r"]);
        g.Node("MaxPool", ["r"], ["m"], Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 0, 0));
        g.Node("AveragePool", ["m"], ["a"], Ints("kernel_shape", 3, 3), Ints("strides", 1, 1), Ints("pads", 1, 0, 1, 2), Int("count_include_pad", 0));
        g.Node("AveragePool", ["a"], ["a2"], Ints("kernel_shape", 2, 2), Ints("strides", 1, 1), Ints("pads", 0, 1, 1, 0), Int("count_include_pad", 1));
        g.Node("GlobalAveragePool", ["a2"], ["y"]);
        Assert.True(ParityError(g.Build(), [2, 3, 12, 12]) <= 1e-5);
    }

    [Fact]
    public void ShapeAndDenseOps_MatchOnnxRuntime()
    {
        var g = new TestGraphs();
        g.Input("x", 3, 4, 2, 2).Output("y");
        g.Node("Split", ["x"], ["s1", "s2"], Int("axis", 1), Ints("split", 1, 3));
        g.Node("Concat", ["s2", "s1"], ["c"], Int("axis", 1));
        g.Node("Sub", ["c", g.Weights(1, 4, 2, 2)], ["d"]);
        g.Node("Mul", ["d", g.Weights(4, 1, 1)], ["e"]);
        g.Node("Add", ["e", "x"], ["f"]);
        g.Node("Flatten", ["f"], ["fl"], Int("axis", 1));
        g.Node("Gemm", ["fl", g.Weights(5, 16), g.Weights(5)], ["gm"], Int("transB", 1), Float("alpha", 0.5f), Float("beta", 2f));
        g.Node("Gemm", ["gm", g.Weights(5, 6), g.Weights(6)], ["gm2"]);
        g.Node("Reshape", ["gm2", g.Int64s(0, 2, 3)], ["rs"]);
        g.Node("MatMul", ["rs", g.Weights(3, 4)], ["mm"]);
        g.Node("Flatten", ["mm"], ["y"], Int("axis", 1));
        Assert.True(ParityError(g.Build(), [3, 4, 2, 2]) <= 1e-5);
    }

    [Fact]
    public void Import_UnsupportedOperator_ThrowsNamingIt()
    {
        var g = new TestGraphs();
        g.Input("x", 1, 1, 4, 4).Output("y");
        g.Node("Relu", ["x"], ["r"]);
        g.Node("LpNormalization", ["r"], ["y"]);
        var ex = Assert.Throws<OnnxImportException>(() => OnnxGraphModule.Import(g.Build()));
        Assert.Equal(OnnxImportError.UnsupportedOperator, ex.Reason);
        Assert.Equal("LpNormalization", ex.Operator);
        Assert.Contains("LpNormalization", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_ValueNobodyProduces_IsMalformed()
    {
        var g = new TestGraphs();
        g.Input("x", 1, 1, 4, 4).Output("y");
        g.Node("Add", ["x", "ghost"], ["y"]);
        var ex = Assert.Throws<OnnxImportException>(() => OnnxGraphModule.Import(g.Build()));
        Assert.Equal(OnnxImportError.MalformedGraph, ex.Reason);
    }

    [Fact]
    public void ReadModel_GarbageAndMissingFiles_AreTypedErrors()
    {
        string dir = MedTransfer.Testing.TestPaths.NewTempDirectory();
        string garbage = Path.Combine(dir, "garbage.onnx");
        File.WriteAllBytes(garbage, [0xFF, 0xFF, 0xFF, 0x01, 0x02]);
        Assert.Equal(OnnxImportError.Unreadable, Assert.Throws<OnnxImportException>(() => OnnxGraphModule.ReadModel(garbage)).Reason);
        Assert.Equal(OnnxImportError.ModelNotFound, Assert.Throws<OnnxImportException>(() => OnnxGraphModule.ReadModel(Path.Combine(dir, "none.onnx"))).Reason);
    }

    [Fact]
    public void Stages_FollowStrideTwoPoints_WithReadableNames()
    {
        var g = new TestGraphs();
        g.Input("x", 1, 3, 16, 16).Output("y");
        g.Node("Conv", ["x", g.Weights(4, 3, 3, 3)], ["a"], Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1));
        g.Node("Conv", ["a", g.Weights(8, 4, 3, 3)], ["b"], Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1));
        g.Node("BatchNormalization", ["b", g.Weights(8), g.Weights(8), g.Weights(8), g.Positive(8)], ["c"]);
        g.Node("Conv", ["c", g.Weights(8, 8, 1, 1)], ["d"], Ints("strides", 2, 2));
        g.Node("GlobalAveragePool", ["d"], ["e"]);
        g.Node("Flatten", ["e"], ["f"]);
        g.Node("Gemm", ["f", g.Weights(2, 8)], ["y"], Int("transB", 1));
        using OnnxGraphModule m = OnnxGraphModule.Import(g.Build());
        // Named by output stride (2 → stem, 4 → stage1, 8 → stage2), the same for every architecture.
        Assert.Equal(["stem", "stage1", "stage2", "head"], m.Stages.Select(s => s.Name));
        Assert.Equal([2, 4, 8, 0], m.Stages.Select(s => s.OutputStride));
        Assert.Equal(["stem_conv1.weight"], m.Stages[0].ParameterNames);
        Assert.Equal(["stage1_conv1.weight", "stage1_bn1.weight", "stage1_bn1.bias"], m.Stages[1].ParameterNames);
        Assert.Equal(["head_fc1.weight"], m.Stages[3].ParameterNames);
        Assert.Equal(m.parameters().Count(), m.Stages.Sum(s => s.ParameterNames.Count));
        Assert.Contains("stage1_bn1.running_mean", m.state_dict().Keys);
    }

    [Fact]
    public void Gradients_OfImportedGraph_MatchFiniteDifferences()
    {
        var g = new TestGraphs(3);
        g.Input("x", 2, 2, 6, 6).Output("y");
        g.Node("Conv", ["x", g.Weights(3, 2, 3, 3), g.Weights(3)], ["a"], Ints("strides", 2, 2), Ints("pads", 1, 1, 0, 0));
        g.Node("BatchNormalization", ["a", g.Weights(3), g.Weights(3), g.Weights(3), g.Positive(3)], ["b"]);
        g.Node("MaxPool", ["b"], ["c"], Ints("kernel_shape", 2, 2), Ints("pads", 0, 0, 1, 1));
        g.Node("GlobalAveragePool", ["c"], ["d"]);
        g.Node("Flatten", ["d"], ["e"]);
        g.Node("Gemm", ["e", g.Weights(2, 3), g.Weights(2)], ["y"], Int("transB", 1));
        using OnnxGraphModule m = OnnxGraphModule.Import(g.Build());
        foreach (BatchNormNode bn in m.BatchNorms)
        {
            bn.Momentum = 0; // keep running statistics fixed while probing
        }

        AssertGradientsMatchFiniteDifferences(m, [2, 2, 6, 6]);
    }

    /// <summary>Autograd gradients of Σ y² in float64 against central differences, for the first values of every parameter.</summary>
    internal static void AssertGradientsMatchFiniteDifferences(OnnxGraphModule m, long[] shape)
    {
        m.to(ScalarType.Float64);
        m.train();
        var r = new Random(5);
        using Tensor x = tensor(Enumerable.Range(0, (int)shape.Aggregate(1L, (a, b) => a * b)).Select(_ => r.NextDouble() - 0.5).ToArray(), shape);
        double Loss()
        {
            using var scope = NewDisposeScope();
            return m.forward(x).pow(2).sum().item<double>();
        }

        using (var scope = NewDisposeScope())
        {
            m.zero_grad();
            m.forward(x).pow(2).sum().backward();
        }

        foreach ((string name, TorchSharp.Modules.Parameter p) in m.named_parameters())
        {
            using Tensor grad = p.grad!.clone();
            using Tensor flat = p.detach().view(-1);
            for (long i = 0; i < Math.Min(flat.shape[0], 4); i++)
            {
                double original = flat[i].item<double>();
                const double h = 1e-6;
                using (no_grad())
                {
                    flat[i] = original + h;
                }

                double up = Loss();
                using (no_grad())
                {
                    flat[i] = original - h;
                }

                double down = Loss();
                using (no_grad())
                {
                    flat[i] = original;
                }

                double numeric = (up - down) / (2 * h);
                double analytic = grad.view(-1)[i].item<double>();
                Assert.True(Math.Abs(numeric - analytic) <= 1e-5 * Math.Max(1, Math.Abs(numeric)), $"{name}[{i}]: numeric {numeric}, autograd {analytic}");
            }
        }
    }

    [Fact]
    public void ToTrainedModel_WritesCurrentWeights_AndOnnxRuntimeAgrees()
    {
        var g = new TestGraphs();
        g.Input("x", 1, 2, 5, 5).Output("y");
        g.Node("Conv", ["x", g.Weights(3, 2, 3, 3)], ["a"], Ints("pads", 1, 1, 1, 1));
        g.Node("BatchNormalization", ["a", g.Weights(3), g.Weights(3), g.Weights(3), g.Positive(3)], ["y"]);
        using OnnxGraphModule m = OnnxGraphModule.Import(g.Build());
        using (no_grad())
        {
            foreach (TorchSharp.Modules.Parameter p in m.parameters())
            {
                p.mul_(1.5);
            }
        }

        m.train();
        using (var scope = NewDisposeScope())
        {
            m.forward(randn(4, 2, 5, 5)); // moves running statistics
        }

        ModelProto trained = m.ToTrainedModel();
        using OnnxGraphModule again = OnnxGraphModule.Import(trained);
        foreach ((string key, Tensor value) in m.state_dict())
        {
            Assert.True(value.allclose(again.state_dict()[key]), key);
        }

        Assert.True(ParityError(trained, [1, 2, 5, 5]) <= 1e-5);
    }
}
