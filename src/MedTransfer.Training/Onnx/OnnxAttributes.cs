using Onnx;

namespace MedTransfer.Training.Onnx;

/// <summary>Typed access to a node's attributes, with errors that name the node.</summary>
internal static class OnnxAttributes
{
    public static AttributeProto? Find(NodeProto node, string name)
    {
        foreach (AttributeProto a in node.Attribute)
        {
            if (a.Name == name)
            {
                return a;
            }
        }

        return null;
    }

    public static long Int(NodeProto node, string name, long fallback) => Find(node, name) is { } a ? a.I : fallback;

    public static float Float(NodeProto node, string name, float fallback) => Find(node, name) is { } a ? a.F : fallback;

    public static string String(NodeProto node, string name, string fallback) =>
        Find(node, name) is { } a && !a.S.IsEmpty ? a.S.ToStringUtf8() : fallback;

    public static long[]? Ints(NodeProto node, string name) => Find(node, name) is { } a ? [.. a.Ints] : null;

    public static string Describe(NodeProto node) =>
        string.IsNullOrEmpty(node.Name) ? (node.Output.Count > 0 ? node.Output[0] : "(unnamed)") : node.Name;
}
