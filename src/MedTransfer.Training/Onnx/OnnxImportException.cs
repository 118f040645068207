namespace MedTransfer.Training.Onnx;

/// <summary>Why an ONNX graph could not be imported.</summary>
public enum OnnxImportError
{
    /// <summary>The file is not a readable ONNX protobuf (truncated, not ONNX, unreadable).</summary>
    Unreadable,

    /// <summary>The graph uses an operator the importer does not implement; the message names it.</summary>
    UnsupportedOperator,

    /// <summary>An operator uses an attribute value the importer does not implement (e.g. 3-D kernels).</summary>
    UnsupportedAttribute,

    /// <summary>The graph is inconsistent: a node reads a value nothing produces, shapes do not fit.</summary>
    MalformedGraph,

    /// <summary>An initializer has a data type or layout the importer cannot read.</summary>
    UnsupportedTensor,

    /// <summary>The model file was not found where it was looked for.</summary>
    ModelNotFound,

    /// <summary>The feature node named in the import options is not a node or value of the graph.</summary>
    FeatureNodeNotFound,
}

/// <summary>
/// An ONNX graph could not be imported into TorchSharp. <see cref="Reason"/> says which kind of
/// problem it is, <see cref="NodeName"/> and <see cref="Operator"/> where in the graph.
/// </summary>
public sealed class OnnxImportException : Exception
{
    /// <summary>Creates the exception.</summary>
    public OnnxImportException(OnnxImportError reason, string message, string? operatorType = null, string? nodeName = null, Exception? inner = null)
        : base(message, inner)
    {
        Reason = reason;
        Operator = operatorType;
        NodeName = nodeName;
    }

    /// <summary>The kind of problem.</summary>
    public OnnxImportError Reason { get; }

    /// <summary>The ONNX operator type involved, if any.</summary>
    public string? Operator { get; }

    /// <summary>The ONNX node involved (its name or its first output), if any.</summary>
    public string? NodeName { get; }
}
