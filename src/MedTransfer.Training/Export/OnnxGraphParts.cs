using MedTransfer.Training.Backbones;
using MedTransfer.Training.Onnx;
using Onnx;
using static TorchSharp.torch;

namespace MedTransfer.Training.Export;

/// <summary>
/// Pieces of an ONNX graph built from a <see cref="Backbone"/>: its preprocessing as ONNX nodes and its imported
/// nodes with their current weights. The exporter and the ONNX Runtime feature engine build their graphs from these,
/// so both run exactly the same preprocessing and backbone.
/// </summary>
internal static class OnnxGraphParts
{
    /// <summary>The value the preprocessing nodes write (the backbone graph's input is renamed to it).</summary>
    public const string Preprocessed = "mt_preprocessed";

    /// <summary>
    /// Adds the nodes of <paramref name="preprocess"/> reading <paramref name="input"/> (N×<paramref name="channels"/>×S×S
    /// in [0, 1]) and writing <see cref="Preprocessed"/>; false (nothing added) for a preprocessing ONNX cannot express.
    /// </summary>
    public static bool TryAddPreprocessing(GraphProto g, nn.Module<Tensor, Tensor> preprocess, string input, int channels)
    {
        switch (preprocess)
        {
            case MeanImagePreprocess meanImage:
                AddMeanImagePreprocessing(g, meanImage, input, channels);
                return true;
            case ConventionPreprocess convention:
            {
                // The same 1×1 convolution the module runs: channel mapping, range and mean/std in one node.
                (Tensor w, Tensor b) = convention.Affine(channels);
                g.Initializer.Add(Floats("mt_input_weight", w));
                g.Initializer.Add(Floats("mt_input_bias", b));
                g.Node.Add(Node("Conv", [input, "mt_input_weight", "mt_input_bias"], [Preprocessed], Ints("kernel_shape", 1, 1)));
                return true;
            }

            default:
                return false;
        }
    }

    /// <summary>
    /// Adds the nodes and initializers of <paramref name="trained"/> (<see cref="OnnxGraphModule.ToTrainedModel()"/> or a
    /// prefix of it), reading <see cref="Preprocessed"/> instead of the graph input. A pool the import made global
    /// becomes GlobalAveragePool, so the graph does not depend on the size it was imported at.
    /// </summary>
    public static void AddBackbone(GraphProto g, OnnxGraphModule graph, ModelProto trained)
    {
        var globalPools = graph.Nodes.OfType<AveragePoolNode>().Where(p => p.IsGlobal).Select(p => p.Proto.Output[0]).ToHashSet(StringComparer.Ordinal);
        foreach (NodeProto node in trained.Graph.Node)
        {
            NodeProto copy = node.Clone();
            for (int i = 0; i < copy.Input.Count; i++)
            {
                if (copy.Input[i] == graph.InputName)
                {
                    copy.Input[i] = Preprocessed;
                }
            }

            if (copy.OpType == "AveragePool" && globalPools.Contains(copy.Output[0]))
            {
                copy = Node("GlobalAveragePool", [.. copy.Input], [.. copy.Output]);
            }

            g.Node.Add(copy);
        }

        g.Initializer.AddRange(trained.Graph.Initializer);
    }

    // ×255, grey→RGB, RGB→BGR, − mean image (resampled to S): ResNetPreprocess.onnx's steps.
    private static void AddMeanImagePreprocessing(GraphProto g, MeanImagePreprocess preprocess, string input, int channels)
    {
        g.Initializer.Add(OnnxTensors.FromFloats("mt_255", [255f], [1]));
        g.Node.Add(Node("Mul", [input, "mt_255"], ["mt_scaled"]));
        string rgb = "mt_scaled";
        if (channels == 1)
        {
            g.Node.Add(Node("Concat", ["mt_scaled", "mt_scaled", "mt_scaled"], ["mt_rgb"], Int("axis", 1)));
            rgb = "mt_rgb";
        }

        g.Node.Add(Node("Split", [rgb], ["mt_r", "mt_g", "mt_b"], Int("axis", 1), Ints("split", 1, 1, 1)));
        g.Node.Add(Node("Concat", ["mt_b", "mt_g", "mt_r"], ["mt_bgr"], Int("axis", 1)));
        g.Initializer.Add(Floats("mt_mean_image", preprocess.MeanImage));
        g.Node.Add(Node("Sub", ["mt_bgr", "mt_mean_image"], [Preprocessed]));
    }

    public static TensorProto Floats(string name, Tensor t)
    {
        using Tensor cpu = t.detach().to(ScalarType.Float32, CPU).contiguous();
        return OnnxTensors.FromFloats(name, cpu.data<float>().ToArray(), cpu.shape);
    }

    public static NodeProto Node(string op, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var n = new NodeProto { OpType = op, Name = "mt_" + op.ToLowerInvariant() + "_" + outputs[0] };
        n.Input.AddRange(inputs);
        n.Output.AddRange(outputs);
        n.Attribute.AddRange(attributes);
        return n;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    /// <summary>A float tensor value with the given dimensions (a string is a symbolic dimension).</summary>
    public static ValueInfoProto Value(string name, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (object d in dims)
        {
            shape.Dim.Add(d is string s ? new TensorShapeProto.Types.Dimension { DimParam = s } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture) });
        }

        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = OnnxTensors.Float, Shape = shape } } };
    }
}
