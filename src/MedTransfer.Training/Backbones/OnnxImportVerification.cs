using Google.Protobuf;
using MedTransfer.Training.Onnx;
using Onnx;
using static TorchSharp.torch;

namespace MedTransfer.Training.Backbones;

/// <summary>
/// Result of checking a user's ONNX backbone against ONNX Runtime: the same seeded images, preprocessed by the
/// backbone's input convention, through ONNX Runtime (the original file, asked for the feature value) and through
/// the import (<see cref="Backbone.Import"/>).
/// </summary>
/// <param name="Model">The file checked.</param>
/// <param name="Batch">Images compared.</param>
/// <param name="ImageSize">Side length.</param>
/// <param name="Seed">Seed of the test images (uniform in [0, 1]).</param>
/// <param name="FeatureNode">The node whose output is compared.</param>
/// <param name="FeatureValue">Its ONNX value.</param>
/// <param name="FeatureNodeReason">How it was chosen.</param>
/// <param name="FeatureDimension">Features per image.</param>
/// <param name="FeatureMaxAbsDiff">Max |Δ| of the features.</param>
/// <param name="FeatureScale">Largest |feature| ONNX Runtime computes.</param>
/// <param name="Tolerance">1e-4 × max(1, <paramref name="FeatureScale"/>).</param>
/// <param name="Stages">The stages found (name, output stride, parameters, first node).</param>
/// <param name="ParameterCount">Scalar parameters of the imported backbone (classifier dropped).</param>
/// <param name="Input">The input convention used, and where it came from.</param>
/// <param name="Opset">The model's opset.</param>
/// <param name="ImportSeconds">Time to read and import the file.</param>
/// <param name="FileBytes">Size of the file.</param>
public sealed record OnnxImportVerification(
    string Model,
    int Batch,
    int ImageSize,
    int Seed,
    string FeatureNode,
    string FeatureValue,
    string FeatureNodeReason,
    long FeatureDimension,
    double FeatureMaxAbsDiff,
    double FeatureScale,
    double Tolerance,
    IReadOnlyList<GraphStage> Stages,
    long ParameterCount,
    string Input,
    int Opset,
    double ImportSeconds,
    long FileBytes)
{
    /// <summary>True when the features agree within <see cref="Tolerance"/>.</summary>
    public bool Passed => FeatureMaxAbsDiff <= Tolerance;

    /// <summary>Runs the check on the CPU.</summary>
    /// <exception cref="OnnxImportException">The file cannot be imported (the message names the operator and node).</exception>
    public static OnnxImportVerification Run(string path, BackboneImportOptions? options = null, int batch = 2, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(path);
        using Backbone backbone = Backbone.Import(path, options);
        ImportedBackbone info = backbone.Imported!;
        OnnxGraphModule graph = backbone.Graph;
        backbone.eval();
        int size = backbone.ImageSize;
        int channels = graph.InputChannels;
        var random = new Random(seed);
        float[] image = [.. Enumerable.Range(0, batch * channels * size * size).Select(_ => (float)random.NextDouble())];
        long[] shape = [batch, channels, size, size];

        float[] prepared;
        float[] ours;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            Tensor x = backbone.Preprocess.forward(tensor(image, shape));
            prepared = x.contiguous().data<float>().ToArray();
            ours = backbone.forward(tensor(image, shape)).contiguous().data<float>().ToArray();
        }

        float[] reference = RunReference(path, info.FeatureValue, prepared, shape, graph.DeclaredInputShape);
        if (reference.Length != ours.Length)
        {
            throw new OnnxImportException(OnnxImportError.MalformedGraph, $"ONNX Runtime gives {reference.Length} feature values where the import gives {ours.Length}.");
        }

        double max = 0, scale = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            max = Math.Max(max, Math.Abs(ours[i] - reference[i]));
            scale = Math.Max(scale, Math.Abs(reference[i]));
        }

        if (double.IsNaN(ours.Sum()))
        {
            max = double.PositiveInfinity;
        }

        return new OnnxImportVerification(path, batch, size, seed, info.FeatureNode, info.FeatureValue, info.FeatureNodeReason, graph.OutputChannels, max, scale,
            1e-4 * Math.Max(1, scale), graph.Stages, graph.ParameterCount, $"{info.Input.Describe()} ({info.InputSource})", info.Opset, info.ImportSeconds, new FileInfo(path).Length);
    }

    // The original file, with the feature value as its output; a model exported for a fixed batch runs image by image.
    private static float[] RunReference(string path, string feature, float[] prepared, long[] shape, IReadOnlyList<long> declared)
    {
        ModelProto model = OnnxGraphModule.ReadModel(path);
        model.Graph.Output.Clear();
        model.Graph.Output.Add(new ValueInfoProto { Name = feature, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1 } } });

        // Checked at another size than the declared one, the reference gets symbolic spatial dimensions too.
        if (model.Graph.Input.FirstOrDefault(i => !model.Graph.Initializer.Any(t => t.Name == i.Name))?.Type?.TensorType?.Shape is { Dim.Count: 4 } input
            && (input.Dim[2].DimValue != shape[2] || input.Dim[3].DimValue != shape[3]))
        {
            input.Dim[2] = new TensorShapeProto.Types.Dimension { DimParam = "H" };
            input.Dim[3] = new TensorShapeProto.Types.Dimension { DimParam = "W" };
        }

        try
        {
            return RunReference(model, prepared, shape, declared);
        }
        catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException ex)
        {
            throw new OnnxImportException(OnnxImportError.MalformedGraph, $"ONNX Runtime cannot run '{Path.GetFileName(path)}' at {shape[2]}×{shape[3]}: {ex.Message.Split('\n')[0]}", inner: ex);
        }
    }

    private static float[] RunReference(ModelProto model, float[] prepared, long[] shape, IReadOnlyList<long> declared)
    {
        using var runner = new OnnxRuntimeRunner(model.ToByteArray());
        bool fixedBatch = declared.Count > 0 && declared[0] > 0;
        if (!fixedBatch)
        {
            return runner.Run(runner.InputNames[0], prepared, shape).Values.First().Values;
        }

        int per = (int)(prepared.Length / shape[0]);
        var all = new List<float>();
        for (int n = 0; n < shape[0]; n++)
        {
            all.AddRange(runner.Run(runner.InputNames[0], prepared.AsSpan(n * per, per).ToArray(), [1, .. shape[1..]]).Values.First().Values);
        }

        return [.. all];
    }
}
