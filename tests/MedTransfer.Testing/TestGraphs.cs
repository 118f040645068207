using Google.Protobuf;
using Onnx;

namespace MedTransfer.Testing;

/// <summary>Builds small ONNX graphs in code for importer tests (opset 11 unless asked otherwise).</summary>
public sealed class TestGraphs
{
    private readonly GraphProto _graph = new() { Name = "test" };
    private readonly Random _random;
    private int _counter;

    public TestGraphs(int seed = 1)
    {
        _random = new Random(seed);
    }

    public TestGraphs Input(string name, params long[] shape)
    {
        _graph.Input.Add(ValueInfo(name, shape));
        return this;
    }

    /// <summary>Makes the input's batch dimension symbolic ("N"), as exports with a dynamic batch declare it.</summary>
    public TestGraphs DynamicBatch()
    {
        _graph.Input[0].Type.TensorType.Shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimParam = "N" };
        return this;
    }

    /// <summary>A scalar (or small) constant produced by a Constant node, as PyTorch exports write them.</summary>
    public string ConstantNode(params float[] values)
    {
        string name = $"k{++_counter}";
        var t = new TensorProto { DataType = 1 };
        if (values.Length > 1)
        {
            t.Dims.Add(values.Length);
        }

        t.FloatData.AddRange(values);
        var node = new NodeProto { OpType = "Constant", Name = $"Constant_{name}" };
        node.Output.Add(name);
        node.Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = t });
        _graph.Node.Add(node);
        return name;
    }

    public TestGraphs Output(string name)
    {
        _graph.Output.Add(new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1 } } });
        return this;
    }

    public string Weights(params long[] shape)
    {
        string name = $"w{++_counter}";
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var values = new float[n];
        for (int i = 0; i < n; i++)
        {
            values[i] = (float)((_random.NextDouble() * 2) - 1) * 0.5f;
        }

        return Constant(name, values, shape);
    }

    public string Positive(params long[] shape)
    {
        string name = $"p{++_counter}";
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var values = new float[n];
        for (int i = 0; i < n; i++)
        {
            values[i] = 0.5f + (float)_random.NextDouble();
        }

        return Constant(name, values, shape);
    }

    public string Constant(string name, float[] values, params long[] shape)
    {
        var t = new TensorProto { Name = name, DataType = 1 };
        t.Dims.AddRange(shape);
        t.FloatData.AddRange(values);
        _graph.Initializer.Add(t);
        return name;
    }

    public string Int64s(params long[] values)
    {
        string name = $"i{++_counter}";
        var t = new TensorProto { Name = name, DataType = 7 };
        t.Dims.Add(values.Length);
        t.Int64Data.AddRange(values);
        _graph.Initializer.Add(t);
        return name;
    }

    /// <summary>A rank-0 int64 initializer (a Gather index picking one dimension, as exporters write it).</summary>
    public string Int64Scalar(long value)
    {
        string name = $"i{++_counter}";
        var t = new TensorProto { Name = name, DataType = 7 };
        t.Int64Data.Add(value);
        _graph.Initializer.Add(t);
        return name;
    }

    public TestGraphs Node(string op, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = $"{op}_{_graph.Node.Count}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return this;
    }

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto String(string name, string value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public ModelProto Build(int opset = 11)
    {
        var model = new ModelProto { IrVersion = opset >= 15 ? 8 : 6, ProducerName = "medtransfer-tests", Graph = _graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = opset });
        return model;
    }

    /// <summary>
    /// A small MobileNet/DenseNet-style CNN for a 3×S×S input with a dynamic batch: a stride-2 stem (Conv, BN, ReLU6),
    /// an inverted residual with a squeeze-excitation gate and HardSwish (stride 4), a dense block of two BN-ReLU-Conv
    /// layers concatenated (stride 8), a DenseNet transition (BN, ReLU, 1×1 Conv, AveragePool) to stride 16, a
    /// global pool, Flatten and a 3-way Gemm classifier.
    /// </summary>
    public static ModelProto MobileDenseNet(int seed = 1, int opset = 14)
    {
        var g = new TestGraphs(seed);
        g.Input("x", 1, 3, 32, 32).DynamicBatch().Output("logits");
        string lo = g.ConstantNode(0f), hi = g.ConstantNode(6f);
        g.Node("Conv", ["x", g.Weights(8, 3, 3, 3), g.Weights(8)], ["s1"], Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1))
            .Node("BatchNormalization", ["s1", g.Positive(8), g.Weights(8), g.Weights(8), g.Positive(8)], ["s2"])
            .Node("Clip", ["s2", lo, hi], ["s3"]);

        // Inverted residual, stride 2: expand, depthwise (stride 2), SE gate, HardSwish, project.
        g.Node("Conv", ["s3", g.Weights(16, 8, 1, 1)], ["e1"])
            .Node("BatchNormalization", ["e1", g.Positive(16), g.Weights(16), g.Weights(16), g.Positive(16)], ["e2"])
            .Node("HardSwish", ["e2"], ["e3"])
            .Node("Conv", ["e3", g.Weights(16, 1, 3, 3)], ["d1"], Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1), Int("group", 16))
            .Node("GlobalAveragePool", ["d1"], ["q1"])
            .Node("Conv", ["q1", g.Weights(4, 16, 1, 1), g.Weights(4)], ["q2"])
            .Node("Relu", ["q2"], ["q3"])
            .Node("Conv", ["q3", g.Weights(16, 4, 1, 1), g.Weights(16)], ["q4"])
            .Node("HardSigmoid", ["q4"], ["q5"], Float("alpha", 1f / 6f))
            .Node("Mul", ["d1", "q5"], ["d2"])
            .Node("Conv", ["d2", g.Weights(12, 16, 1, 1)], ["p1"])
            .Node("BatchNormalization", ["p1", g.Positive(12), g.Weights(12), g.Weights(12), g.Positive(12)], ["b1"]);

        // A stride-2 step, then a dense block: each layer sees the concatenation of everything before it.
        g.Node("MaxPool", ["b1"], ["m1"], Ints("kernel_shape", 2, 2), Ints("strides", 2, 2))
            .Node("BatchNormalization", ["m1", g.Positive(12), g.Weights(12), g.Weights(12), g.Positive(12)], ["l1a"])
            .Node("Relu", ["l1a"], ["l1b"])
            .Node("Conv", ["l1b", g.Weights(6, 12, 3, 3)], ["l1c"], Ints("pads", 1, 1, 1, 1))
            .Node("Concat", ["m1", "l1c"], ["c1"], Int("axis", 1))
            .Node("BatchNormalization", ["c1", g.Positive(18), g.Weights(18), g.Weights(18), g.Positive(18)], ["l2a"])
            .Node("Relu", ["l2a"], ["l2b"])
            .Node("Conv", ["l2b", g.Weights(6, 18, 3, 3)], ["l2c"], Ints("pads", 1, 1, 1, 1))
            .Node("Concat", ["m1", "l1c", "l2c"], ["c2"], Int("axis", 1));

        // Transition: BN, ReLU, 1×1 Conv, a zero Pad (as torch exports it) and a stride-2 AveragePool.
        g.Node("BatchNormalization", ["c2", g.Positive(24), g.Weights(24), g.Weights(24), g.Positive(24)], ["t1"])
            .Node("Relu", ["t1"], ["t2"])
            .Node("Conv", ["t2", g.Weights(16, 24, 1, 1)], ["t3"])
            .Node("Pad", ["t3", g.Int64s(0, 0, 0, 0, 0, 0, 0, 0)], ["t4"])
            .Node("AveragePool", ["t4"], ["t5"], Ints("kernel_shape", 2, 2), Ints("strides", 2, 2))
            .Node("Conv", ["t5", g.Weights(16, 16, 3, 3)], ["h1"], Ints("pads", 1, 1, 1, 1))
            .Node("Relu", ["h1"], ["h2"])
            .Node("GlobalAveragePool", ["h2"], ["h3"])
            .Node("Flatten", ["h3"], ["h4"], Int("axis", 1))
            .Node("Gemm", ["h4", g.Weights(3, 16), g.Weights(3)], ["logits"], Int("transB", 1));
        return g.Build(opset);
    }

    private static ValueInfoProto ValueInfo(string name, long[] shape)
    {
        var tensorShape = new TensorShapeProto();
        foreach (long d in shape)
        {
            tensorShape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = tensorShape } } };
    }
}
