using Google.Protobuf;
using Onnx;

namespace MedTransfer.Training.Tests.Onnx;

/// <summary>Builds small ONNX graphs in code for importer tests (opset 11).</summary>
internal sealed class TestGraphs
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

    public ModelProto Build()
    {
        var model = new ModelProto { IrVersion = 6, ProducerName = "medtransfer-tests", Graph = _graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 11 });
        return model;
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
