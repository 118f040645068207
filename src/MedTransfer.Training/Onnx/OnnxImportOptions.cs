namespace MedTransfer.Training.Onnx;

/// <summary>Options for <see cref="OnnxGraphModule.Import(global::Onnx.ModelProto, OnnxImportOptions?)"/>.</summary>
public sealed record OnnxImportOptions
{
    /// <summary>
    /// Run an AveragePool whose window covers the whole feature map at the graph's declared input size (CNTK's ResNet
    /// ends with a 7×7 pool for 224² inputs) as a global average, so that the backbone accepts other input sizes. The
    /// result at the declared size is unchanged.
    /// </summary>
    public bool GlobalizeFinalAveragePool { get; init; } = true;

    /// <summary>PyTorch-convention momentum of BatchNorm running statistics during training.</summary>
    public double BatchNormMomentum { get; init; } = 0.1;

    /// <summary>
    /// The node (by node name, or by the name of the value it computes) whose output becomes the module's output: the
    /// graph is cut there and every node that only serves later outputs (e.g. the classifier) is dropped. Null: the
    /// graph's own output. <see cref="OnnxFeatureNode.Find"/> finds the pooled features that feed a classifier.
    /// </summary>
    public string? FeatureNode { get; init; }

    /// <summary>
    /// Side of the square input the import is built for (shapes the graph computes from its input are fixed at
    /// import for this size; a small probe pass at this size gives every value its shape). Null: the graph's declared
    /// input size, else 224.
    /// </summary>
    public int? InputSize { get; init; }
}
