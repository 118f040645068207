using System.Text.Json.Nodes;
using Google.Protobuf;
using Onnx;

namespace MedTransfer.Testing;

/// <summary>
/// Tiny diagnosis models that follow the model contract of batch diagnosis, built as ONNX protobuf (OnnxSharp):
/// input <c>image</c> [N, C, S, S]; <c>features</c> = the mean of each channel over a 4 × 4 grid of cells
/// (AveragePool with kernel and stride S/4, flattened: D = 16·C, feature index c·16 + row·4 + column);
/// <c>logits</c> = features · W + b with W[:, 0] = 0 and W[:, 1] = <see cref="Weight"/>(j), b = (0, <see cref="Bias"/>).
/// So the positive-class probability is σ(Σ_j Weight(j)·f_j + Bias), which tests can compute by hand.
/// </summary>
public static class TestOnnxModels
{
    /// <summary>The bias of the positive logit.</summary>
    public const float Bias = -0.25f;

    /// <summary>The weight of feature <paramref name="j"/> in the positive logit.</summary>
    public static float Weight(int j) => ((j * 7) % 5 - 2) * 0.5f;

    /// <summary>Builds the model bytes.</summary>
    /// <param name="channels">C.</param>
    /// <param name="size">S (a multiple of 4).</param>
    /// <param name="recipeJson">The recipe as XrayRecipe.ToJson() writes it (must say C and S).</param>
    /// <param name="shiftMonitorJson">ShiftMonitor.ToJson(), or null.</param>
    /// <param name="metadataOverride">When set, the whole <c>medtransfer.model</c> value (for broken-metadata tests).</param>
    public static byte[] Build(int channels, int size, string recipeJson, string? shiftMonitorJson = null, string? metadataOverride = null)
    {
        int d = channels * 16;
        var model = new ModelProto { IrVersion = 8, ProducerName = "medtransfer-tests" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 13 });
        var graph = new GraphProto { Name = "tiny" };
        graph.Input.Add(Tensor("image", new Dim("N"), new Dim(channels), new Dim(size), new Dim(size)));
        graph.Output.Add(Tensor("logits", new Dim("N"), new Dim(2)));
        graph.Output.Add(Tensor("features", new Dim("N"), new Dim(d)));
        var pool = new NodeProto { OpType = "AveragePool", Name = "pool" };
        pool.Input.Add("image");
        pool.Output.Add("pooled");
        pool.Attribute.Add(Ints("kernel_shape", size / 4, size / 4));
        pool.Attribute.Add(Ints("strides", size / 4, size / 4));
        var flatten = new NodeProto { OpType = "Flatten", Name = "flatten" };
        flatten.Input.Add("pooled");
        flatten.Output.Add("features");
        flatten.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        var matmul = new NodeProto { OpType = "MatMul", Name = "head" };
        matmul.Input.Add("features");
        matmul.Input.Add("W");
        matmul.Output.Add("product");
        var add = new NodeProto { OpType = "Add", Name = "bias" };
        add.Input.Add("product");
        add.Input.Add("B");
        add.Output.Add("logits");
        graph.Node.Add(pool);
        graph.Node.Add(flatten);
        graph.Node.Add(matmul);
        graph.Node.Add(add);
        var w = new float[d * 2];
        for (int j = 0; j < d; j++)
        {
            w[(j * 2) + 1] = Weight(j);
        }

        graph.Initializer.Add(Floats("W", [d, 2], w));
        graph.Initializer.Add(Floats("B", [2], [0f, Bias]));
        model.Graph = graph;
        string metadata = metadataOverride ?? new JsonObject
        {
            ["format"] = "medtransfer-model/1",
            ["classes"] = new JsonArray("normal", "abnormal"),
            ["positiveClass"] = 1,
            ["modality"] = "xray",
            ["recipe"] = JsonNode.Parse(recipeJson),
            ["shiftMonitor"] = shiftMonitorJson is null ? null : JsonNode.Parse(shiftMonitorJson),
            ["trainedOn"] = new JsonObject { ["protocolHash"] = "test", ["seed"] = 1, ["codeVersion"] = "test" },
        }.ToJsonString();
        model.MetadataProps.Add(new StringStringEntryProto { Key = "medtransfer.model", Value = metadata });
        return model.ToByteArray();
    }

    /// <summary>
    /// A contract model around a real ImageNet backbone (e.g. the ResNet-18 ONNX of Microsoft.ML.DnnImageFeaturizer.ResNet18,
    /// [1, 3, 224, 224] on a 0–255 scale → [1, 512, 1, 1]) for throughput measurements: <c>image</c> × 255 feeds the
    /// backbone with a dynamic batch, its first output flattened is <c>features</c>, and a fixed linear head gives
    /// <c>logits</c>. The weights of the head are arbitrary: this measures speed, not accuracy.
    /// </summary>
    public static byte[] WrapBackbone(byte[] backboneOnnx, int size, string recipeJson)
    {
        ModelProto model = ModelProto.Parser.ParseFrom(backboneOnnx);
        GraphProto graph = model.Graph;
        var initializers = graph.Initializer.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        ValueInfoProto input = graph.Input.First(i => !initializers.Contains(i.Name));
        string backboneInput = input.Name;
        string backboneOutput = graph.Output[0].Name;
        TensorShapeProto outShape = graph.Output[0].Type.TensorType.Shape;
        long d = outShape.Dim.Skip(1).Aggregate(1L, (a, x) => a * Math.Max(1, x.DimValue));
        graph.Input.Remove(input);
        graph.Input.Insert(0, Tensor("image", new Dim("N"), new Dim(3), new Dim(size), new Dim(size)));
        graph.ValueInfo.Clear();
        var scale = new NodeProto { OpType = "Mul", Name = "to_255" };
        scale.Input.Add("image");
        scale.Input.Add("scale_255");
        scale.Output.Add(backboneInput);
        graph.Node.Insert(0, scale);
        graph.Initializer.Add(Floats("scale_255", [], [255f]));
        var flatten = new NodeProto { OpType = "Flatten", Name = "flatten_features" };
        flatten.Input.Add(backboneOutput);
        flatten.Output.Add("features");
        flatten.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        var matmul = new NodeProto { OpType = "MatMul", Name = "head" };
        matmul.Input.Add("features");
        matmul.Input.Add("W_head");
        matmul.Output.Add("product");
        var add = new NodeProto { OpType = "Add", Name = "head_bias" };
        add.Input.Add("product");
        add.Input.Add("B_head");
        add.Output.Add("logits");
        graph.Node.Add(flatten);
        graph.Node.Add(matmul);
        graph.Node.Add(add);
        var w = new float[d * 2];
        for (int j = 0; j < d; j++)
        {
            w[(j * 2) + 1] = Weight(j) * 0.01f;
        }

        graph.Initializer.Add(Floats("W_head", [d, 2], w));
        graph.Initializer.Add(Floats("B_head", [2], [0f, 0f]));
        graph.Output.Clear();
        graph.Output.Add(Tensor("logits", new Dim("N"), new Dim(2)));
        graph.Output.Add(Tensor("features", new Dim("N"), new Dim(d)));
        model.MetadataProps.Add(new StringStringEntryProto
        {
            Key = "medtransfer.model",
            Value = new JsonObject
            {
                ["format"] = "medtransfer-model/1",
                ["classes"] = new JsonArray("normal", "abnormal"),
                ["positiveClass"] = 1,
                ["modality"] = "xray",
                ["recipe"] = JsonNode.Parse(recipeJson),
                ["shiftMonitor"] = null,
            }.ToJsonString(),
        });
        return model.ToByteArray();
    }

    private readonly record struct Dim(string? Param, long Value)
    {
        public Dim(string param)
            : this(param, 0)
        {
        }

        public Dim(long value)
            : this(null, value)
        {
        }
    }

    private static ValueInfoProto Tensor(string name, params Dim[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (Dim dim in dims)
        {
            shape.Dim.Add(dim.Param is null ? new TensorShapeProto.Types.Dimension { DimValue = dim.Value } : new TensorShapeProto.Types.Dimension { DimParam = dim.Param });
        }

        var type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } };
        return new ValueInfoProto { Name = name, Type = type };
    }

    private static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.Add(values);
        return attribute;
    }

    private static TensorProto Floats(string name, long[] dims, float[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.Add(dims);
        tensor.FloatData.Add(values);
        return tensor;
    }
}
