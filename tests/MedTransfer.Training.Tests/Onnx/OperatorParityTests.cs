using Google.Protobuf;
using MedTransfer.Training.Onnx;
using MedTransfer.Training.Tests.Runtime;
using Onnx;
using static MedTransfer.Training.Tests.Onnx.OnnxGraphModuleTests;
using static MedTransfer.Testing.TestGraphs;
using static TorchSharp.torch;

namespace MedTransfer.Training.Tests.Onnx;

/// <summary>
/// Each operator and block type of the common CNN exports, built in code, against ONNX Runtime on the same input
/// (values of order 1, so 1e-5 is a float32 tolerance).
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class OperatorParityTests
{
    private const double Tolerance = 1e-5;

    [Theory]
    [InlineData(10)] // Clip bounds as attributes
    [InlineData(11)] // Clip bounds as inputs
    public void DepthwiseConvAndRelu6_MatchOnnxRuntime(int opset)
    {
        var g = new TestGraphs();
        g.Input("x", 2, 6, 9, 9).Output("y");
        g.Node("Conv", ["x", g.Weights(6, 1, 3, 3), g.Weights(6)], ["d"], Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1), Int("group", 6));
        if (opset < 11)
        {
            g.Node("Clip", ["d"], ["y"], Float("min", 0f), Float("max", 0.3f));
        }
        else
        {
            g.Node("Clip", ["d", g.ConstantNode(0f), g.ConstantNode(0.3f)], ["y"]);
        }

        Assert.True(ParityError(g.Build(opset), [2, 6, 9, 9]) <= Tolerance);
    }

    [Fact]
    public void SqueezeExcitationWithSwishAndHardSwish_MatchOnnxRuntime()
    {
        var g = new TestGraphs(2);
        g.Input("x", 2, 8, 6, 6).Output("y");
        g.Node("Sigmoid", ["x"], ["s"]).Node("Mul", ["x", "s"], ["swish"])
            .Node("GlobalAveragePool", ["swish"], ["p"])
            .Node("Conv", ["p", g.Weights(2, 8, 1, 1), g.Weights(2)], ["r1"])
            .Node("Relu", ["r1"], ["r2"])
            .Node("Conv", ["r2", g.Weights(8, 2, 1, 1), g.Weights(8)], ["r3"])
            .Node("HardSigmoid", ["r3"], ["gate"], Float("alpha", 1f / 6f))
            .Node("Mul", ["swish", "gate"], ["m"])
            .Node("HardSwish", ["m"], ["y"]);
        Assert.True(ParityError(g.Build(14), [2, 8, 6, 6]) <= Tolerance);
    }

    [Fact]
    public void LayerNormSpelledOut_GeluByErf_AndLinearOnChannelsLast_MatchOnnxRuntime()
    {
        // A ConvNeXt block as exported below opset 17: permute to NHWC, LayerNorm from primitives, Linear, GELU, layer scale.
        var g = new TestGraphs(3);
        g.Input("x", 2, 4, 5, 5).Output("y");
        g.Node("Transpose", ["x"], ["t"], Ints("perm", 0, 2, 3, 1))
            .Node("ReduceMean", ["t"], ["mu"], Ints("axes", -1))
            .Node("Sub", ["t", "mu"], ["c"])
            .Node("Pow", ["c", g.ConstantNode(2f)], ["sq"])
            .Node("ReduceMean", ["sq"], ["var"], Ints("axes", -1))
            .Node("Add", ["var", g.ConstantNode(1e-6f)], ["ve"])
            .Node("Sqrt", ["ve"], ["sd"])
            .Node("Div", ["c", "sd"], ["n"])
            .Node("Mul", ["n", g.Positive(4)], ["n2"])
            .Node("Add", ["n2", g.Weights(4)], ["ln"])
            .Node("MatMul", ["ln", g.Weights(4, 8)], ["fc1"])
            .Node("Add", ["fc1", g.Weights(8)], ["fc1b"])
            .Node("Div", ["fc1b", g.ConstantNode(1.4142135f)], ["gd"])
            .Node("Erf", ["gd"], ["ge"])
            .Node("Add", ["ge", g.ConstantNode(1f)], ["g1"])
            .Node("Mul", ["fc1b", "g1"], ["g2"])
            .Node("Mul", ["g2", g.ConstantNode(0.5f)], ["gelu"])
            .Node("MatMul", ["gelu", g.Weights(8, 4)], ["fc2"])
            .Node("Mul", ["fc2", g.Weights(4)], ["scaled"])
            .Node("Transpose", ["scaled"], ["back"], Ints("perm", 0, 3, 1, 2))
            .Node("Add", ["back", "x"], ["y"]);
        Assert.True(ParityError(g.Build(13), [2, 4, 5, 5]) <= Tolerance);
    }

    [Fact]
    public void LayerNormalizationOp17_MatchesOnnxRuntime()
    {
        var g = new TestGraphs(4);
        g.Input("x", 2, 4, 3, 3).Output("y");
        g.Node("Transpose", ["x"], ["t"], Ints("perm", 0, 2, 3, 1))
            .Node("LayerNormalization", ["t", g.Positive(4), g.Weights(4)], ["n"], Int("axis", -1), Float("epsilon", 1e-6f))
            .Node("Transpose", ["n"], ["y"], Ints("perm", 0, 3, 1, 2));
        Assert.True(ParityError(g.Build(17), [2, 4, 3, 3]) <= Tolerance);
    }

    [Theory]
    [InlineData("ReduceMean", 1, 11)]
    [InlineData("ReduceMean", 0, 11)]
    [InlineData("ReduceMax", 1, 11)]
    [InlineData("ReduceMin", 0, 11)]
    [InlineData("ReduceL2", 1, 11)]
    [InlineData("ReduceSumSquare", 0, 11)]
    [InlineData("ReduceSum", 1, 11)] // axes as an attribute
    [InlineData("ReduceSum", 0, 13)] // axes as an input
    public void Reductions_WithAndWithoutKeepdims_MatchOnnxRuntime(string op, int keepdims, int opset)
    {
        var g = new TestGraphs(5);
        g.Input("x", 2, 3, 4, 5).Output("y");
        if (op == "ReduceSum" && opset >= 13)
        {
            g.Node(op, ["x", g.Int64s(2, -1)], ["y"], Int("keepdims", keepdims));
        }
        else
        {
            g.Node(op, ["x"], ["y"], Ints("axes", 2, -1), Int("keepdims", keepdims));
        }

        Assert.True(ParityError(g.Build(opset), [2, 3, 4, 5]) <= Tolerance);
    }

    [Fact]
    public void FlattenByShapeGatherUnsqueezeConcatReshape_FoldsAndKeepsTheBatchDynamic()
    {
        // x.view(x.size(0), -1) as exported with a dynamic batch (opset 13: Unsqueeze takes its axes as an input).
        var g = new TestGraphs(6);
        g.Input("x", 1, 4, 3, 3).DynamicBatch().Output("y");
        g.Node("Conv", ["x", g.Weights(5, 4, 1, 1)], ["c"])
            .Node("Shape", ["c"], ["s"])
            .Node("Gather", ["s", g.Int64Scalar(0)], ["n"], Int("axis", 0))
            .Node("Unsqueeze", ["n", g.Int64s(0)], ["n1"])
            .Node("Concat", ["n1", g.Int64s(-1)], ["shape"], Int("axis", 0))
            .Node("Reshape", ["c", "shape"], ["y"]);
        ModelProto model = g.Build(13);
        Assert.True(ParityError(model, [3, 4, 3, 3]) <= Tolerance);
        using OnnxGraphModule m = OnnxGraphModule.Import(model);
        Assert.Equal(2, m.StepCount); // Conv and Reshape: the shape arithmetic was folded away
        using var scope = NewDisposeScope();
        Assert.Equal([7L, 45L], m.forward(rand(7, 4, 3, 3)).shape);
    }

    [Fact]
    public void ReshapeFoldedForAFixedBatchOfOne_RunsOnAnyBatch_AndMatchesOnnxRuntimeImageByImage()
    {
        // Exporters fold view(N, -1) into [1, -1] when the model's batch is fixed at 1.
        var g = new TestGraphs(7);
        g.Input("x", 1, 2, 3, 3).Output("y");
        g.Node("Conv", ["x", g.Weights(3, 2, 1, 1)], ["c"]).Node("Reshape", ["c", g.Int64s(1, -1)], ["y"]);
        ModelProto model = g.Build();
        var r = new Random(1);
        float[] input = [.. Enumerable.Range(0, 4 * 18).Select(_ => (float)r.NextDouble())];
        using var runner = new OnnxRuntimeRunner(model.ToByteArray(), threads: 1);
        float[] expected = [.. Enumerable.Range(0, 4).SelectMany(n => runner.Run("x", input.AsSpan(n * 18, 18).ToArray(), [1, 2, 3, 3]).Values.First().Values)];
        using OnnxGraphModule m = OnnxGraphModule.Import(model);
        using var scope = NewDisposeScope();
        using var guard = no_grad();
        Tensor y = m.forward(tensor(input, [4, 2, 3, 3]));
        Assert.Equal([4L, 27L], y.shape);
        Assert.True(expected.Zip(y.data<float>().ToArray()).Max(p => Math.Abs(p.First - p.Second)) <= Tolerance);

        // The export keeps the batch dynamic: ONNX Runtime runs the trained copy on 4 images at once.
        using var trained = new OnnxRuntimeRunner(m.ToTrainedModel().ToByteArray(), threads: 1);
        float[] batched = trained.Run("x", input, [4, 2, 3, 3]).Values.First().Values;
        Assert.True(expected.Zip(batched).Max(p => Math.Abs(p.First - p.Second)) <= Tolerance);
    }

    [Theory]
    [InlineData("constant", 11)]
    [InlineData("reflect", 11)]
    [InlineData("edge", 11)]
    [InlineData("constant", 2)] // pads as an attribute
    public void Pad_MatchesOnnxRuntime(string mode, int opset)
    {
        var g = new TestGraphs(8);
        g.Input("x", 1, 2, 4, 5).Output("y");
        if (opset < 11)
        {
            g.Node("Pad", ["x"], ["y"], Ints("pads", 0, 0, 1, 2, 0, 0, 2, 1), String("mode", mode), Float("value", 0.5f));
        }
        else
        {
            g.Node("Pad", ["x", g.Int64s(0, 0, 1, 2, 0, 0, 2, 1), g.Constant("v", [0.5f])], ["y"], String("mode", mode));
        }

        Assert.True(ParityError(g.Build(opset), [1, 2, 4, 5]) <= Tolerance);
    }

    [Theory]
    [InlineData(11)] // legacy: softmax over the flattened trailing dimensions
    [InlineData(13)] // along one axis
    public void SoftmaxAndLogSoftmax_FollowTheirOpsetSemantics(int opset)
    {
        var g = new TestGraphs(9);
        g.Input("x", 2, 3, 2, 2).Output("y");
        g.Node("Softmax", ["x"], ["s"], Int("axis", 1)).Node("LogSoftmax", ["s"], ["y"], Int("axis", -1));
        Assert.True(ParityError(g.Build(opset), [2, 3, 2, 2]) <= Tolerance);
    }

    [Fact]
    public void SliceSplitSqueezeUnsqueezeGatherAndActivations_MatchOnnxRuntime()
    {
        var g = new TestGraphs(10);
        g.Input("x", 2, 6, 4, 4).Output("y");
        g.Node("Slice", ["x", g.Int64s(1, 0), g.Int64s(long.MaxValue, 3), g.Int64s(1, 3), g.Int64s(1, 1)], ["sl"])
            .Node("Split", ["sl", g.Int64s(2, 3)], ["a", "b"], Int("axis", 1))
            .Node("GlobalMaxPool", ["a"], ["gm"])
            .Node("Squeeze", ["gm", g.Int64s(3)], ["sq"])
            .Node("Unsqueeze", ["sq", g.Int64s(-1)], ["us"])
            .Node("LeakyRelu", ["b"], ["lr"], Float("alpha", 0.1f))
            .Node("Tanh", ["lr"], ["th"])
            .Node("Gather", ["th", g.Int64s(2, 0)], ["ga"], Int("axis", 1))
            .Node("Max", ["ga", "us"], ["mx"])
            .Node("Dropout", ["mx"], ["dr"])
            .Node("Identity", ["dr"], ["y"]);
        Assert.True(ParityError(g.Build(13), [2, 6, 4, 4]) <= Tolerance);
    }

    [Fact]
    public void MobileNetAndDenseNetBlocks_MatchOnnxRuntime_AndEveryStageCanBeCutBefore()
    {
        ModelProto model = MobileDenseNet();
        Assert.True(ParityError(model, [3, 3, 32, 32]) <= Tolerance);
        using OnnxGraphModule m = OnnxGraphModule.Import(model);
        Assert.Equal(["stem", "stage1", "stage2", "stage3", "head"], m.Stages.Select(s => s.Name));
        foreach (GraphStage stage in m.Stages.Where(s => s.Name != "head"))
        {
            int cut = m.CutIndex(stage.Name);
            Assert.True(cut >= 0 && m.CanCut(cut), $"{stage.Name}: no single-tensor cut before it");
        }
    }

    [Fact]
    public void FeatureNode_IsTheClassifiersInput_AndCuttingThereDropsTheClassifier()
    {
        ModelProto model = MobileDenseNet();
        FeatureNodeChoice choice = OnnxFeatureNode.Find(model);
        Assert.Equal("h4", choice.Value);
        Assert.StartsWith("Gemm_", choice.Classifier, StringComparison.Ordinal);
        using OnnxGraphModule m = OnnxGraphModule.Import(model, new OnnxImportOptions { FeatureNode = choice.Value });
        Assert.Equal(16, m.OutputChannels);
        Assert.DoesNotContain(m.Stages, s => s.Name == "head"); // the Gemm was the only layer after Flatten
        Assert.Equal("h4", m.OutputName);

        var ex = Assert.Throws<OnnxImportException>(() => OnnxGraphModule.Import(model, new OnnxImportOptions { FeatureNode = "nowhere" }));
        Assert.Equal(OnnxImportError.FeatureNodeNotFound, ex.Reason);
        Assert.Contains("h4", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Gradients_OfImportedBlocks_MatchFiniteDifferences()
    {
        // Depthwise conv, SE gate, spelled-out LayerNorm, GELU and an affine scale: autograd through every new node kind.
        var g = new TestGraphs(11);
        g.Input("x", 2, 3, 5, 5).Output("y");
        g.Node("Conv", ["x", g.Weights(3, 1, 3, 3), g.Weights(3)], ["d"], Ints("pads", 1, 1, 1, 1), Int("group", 3))
            .Node("GlobalAveragePool", ["d"], ["p"])
            .Node("HardSigmoid", ["p"], ["gate"], Float("alpha", 0.5f))
            .Node("Mul", ["d", "gate"], ["m"])
            .Node("Transpose", ["m"], ["t"], Ints("perm", 0, 2, 3, 1))
            .Node("ReduceMean", ["t"], ["mu"], Ints("axes", -1))
            .Node("Sub", ["t", "mu"], ["c"])
            .Node("Pow", ["c", g.ConstantNode(2f)], ["sq"])
            .Node("ReduceMean", ["sq"], ["var"], Ints("axes", -1))
            .Node("Add", ["var", g.ConstantNode(1e-3f)], ["ve"])
            .Node("Sqrt", ["ve"], ["sd"])
            .Node("Div", ["c", "sd"], ["n"])
            .Node("Mul", ["n", g.Positive(3)], ["n2"])
            .Node("Div", ["n2", g.ConstantNode(1.4142135f)], ["gd"])
            .Node("Erf", ["gd"], ["ge"])
            .Node("Mul", ["n2", "ge"], ["y"]);
        using OnnxGraphModule m = OnnxGraphModule.Import(g.Build(13));
        Assert.Equal(3, m.parameters().Count()); // conv weight, conv bias, LayerNorm scale
        AssertGradientsMatchFiniteDifferences(m, [2, 3, 5, 5]);
    }
}
