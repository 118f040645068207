using Onnx;

namespace MedTransfer.Training.Onnx;

/// <summary>
/// The node a backbone's features are taken from.
/// </summary>
/// <param name="Value">The ONNX value holding the features.</param>
/// <param name="Node">The node that computes it (its name, or its output when unnamed).</param>
/// <param name="Classifier">The classifier node that read it and is dropped, or null when the graph has none.</param>
/// <param name="Reason">How the choice was made, in a sentence.</param>
public sealed record FeatureNodeChoice(string Value, string Node, string? Classifier, string Reason);

/// <summary>
/// Finds the pooled features that feed a graph's final classifier: walking back from the graph output through the
/// parameter-free operators exporters put after a classifier (Softmax, Sigmoid, Flatten, Reshape, Identity, Dropout,
/// adding or multiplying a constant), the first Gemm, or MatMul with a constant right-hand side, is the classifier;
/// its input (before any Dropout or Identity) is the feature node. For a classifier built of several layers (VGG,
/// MobileNetV3) only the last layer is dropped, so the hidden layers stay as the "head" stage; name the pooled node
/// to drop them too. A graph with no such layer (a feature extractor already) keeps its output.
/// </summary>
public static class OnnxFeatureNode
{
    private static readonly HashSet<string> s_afterClassifier =
    [
        "Softmax", "LogSoftmax", "Sigmoid", "Identity", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Dropout", "Cast", "Add", "Sub", "Mul", "Div",
    ];

    /// <summary>The feature node of <paramref name="model"/> (see the class summary).</summary>
    /// <exception cref="OnnxImportException">The graph does not have exactly one output.</exception>
    public static FeatureNodeChoice Find(ModelProto model) =>
        TryFind(model) ?? throw new OnnxImportException(OnnxImportError.UnsupportedAttribute, $"The graph has {model.Graph.Output.Count} outputs; name the feature node.");

    internal static FeatureNodeChoice? TryFind(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        GraphProto g = model.Graph;
        if (g.Output.Count != 1)
        {
            return null;
        }

        HashSet<string> constant = GraphImporter.ConstantValues(g);
        var producer = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
        foreach (NodeProto n in g.Node)
        {
            foreach (string o in n.Output.Where(o => o.Length > 0))
            {
                producer[o] = n;
            }
        }

        string output = g.Output[0].Name;
        string NodeOf(string value) => producer.TryGetValue(value, out NodeProto? n) ? OnnxAttributes.Describe(n) : value;
        List<string> Runtime(NodeProto n) => [.. n.Input.Where(i => i.Length > 0 && !constant.Contains(i))];

        string v = output;
        while (producer.TryGetValue(v, out NodeProto? node))
        {
            List<string> runtime = Runtime(node);
            bool classifier = node.OpType == "Gemm" || (node.OpType == "MatMul" && node.Input.Count > 1 && constant.Contains(node.Input[1]));
            if (classifier && runtime.Count == 1)
            {
                string feature = runtime[0];
                while (producer.TryGetValue(feature, out NodeProto? before) && before.OpType is "Dropout" or "Identity" && Runtime(before).Count == 1)
                {
                    feature = Runtime(before)[0];
                }

                string name = OnnxAttributes.Describe(node);
                return new FeatureNodeChoice(feature, NodeOf(feature), name, $"the input of the final classifier layer '{name}' ({node.OpType})");
            }

            if (!s_afterClassifier.Contains(node.OpType) || runtime.Count != 1)
            {
                break;
            }

            v = runtime[0];
        }

        return new FeatureNodeChoice(output, NodeOf(output), null, "the graph output (no classifier layer found after the last feature map)");
    }
}
