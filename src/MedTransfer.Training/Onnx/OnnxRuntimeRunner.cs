using Microsoft.ML.OnnxRuntime;

namespace MedTransfer.Training.Onnx;

/// <summary>
/// Runs an ONNX model with ONNX Runtime on the CPU: the reference for import/export parity and a
/// fast inference path that needs no libtorch.
/// </summary>
public sealed class OnnxRuntimeRunner : IDisposable
{
    private readonly InferenceSession _session;

    /// <summary>Loads a model from bytes.</summary>
    /// <param name="model">The serialized ONNX model.</param>
    /// <param name="threads">Intra-op threads (0 = ONNX Runtime's default).</param>
    public OnnxRuntimeRunner(byte[] model, int threads = 0)
    {
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        _session = new InferenceSession(model, options);
    }

    /// <summary>Names of the model's inputs.</summary>
    public IReadOnlyList<string> InputNames => _session.InputNames;

    /// <summary>Names of the model's outputs.</summary>
    public IReadOnlyList<string> OutputNames => _session.OutputNames;

    /// <summary>The model's custom metadata (ONNX metadata_props).</summary>
    public IReadOnlyDictionary<string, string> Metadata => _session.ModelMetadata.CustomMetadataMap;

    /// <summary>Runs the model on one float input and returns the named outputs (all when null).</summary>
    public IReadOnlyDictionary<string, (float[] Values, long[] Shape)> Run(string inputName, float[] input, long[] shape, IReadOnlyList<string>? outputs = null)
    {
        IReadOnlyList<string> names = outputs ?? _session.OutputNames;
        using OrtValue value = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> results = _session.Run(runOptions, [inputName], [value], names);
        var map = new Dictionary<string, (float[], long[])>(StringComparer.Ordinal);
        for (int i = 0; i < names.Count; i++)
        {
            OrtValue r = results[i];
            map[names[i]] = (r.GetTensorDataAsSpan<float>().ToArray(), r.GetTensorTypeAndShape().Shape);
        }

        return map;
    }

    /// <summary>
    /// Runs the model on one float input and hands <paramref name="output"/>'s values to <paramref name="read"/> in
    /// ONNX Runtime's own buffer (valid only during the call), which saves a copy of large activations.
    /// </summary>
    internal T Run<T>(string inputName, float[] input, long[] shape, string output, OutputReader<T> read)
    {
        using OrtValue value = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> results = _session.Run(runOptions, [inputName], [value], [output]);
        return read(results[0].GetTensorDataAsSpan<float>(), results[0].GetTensorTypeAndShape().Shape);
    }

    /// <summary>Reads an output in ONNX Runtime's buffer (<see cref="Run{T}"/>).</summary>
    internal delegate T OutputReader<out T>(ReadOnlySpan<float> values, long[] shape);

    /// <inheritdoc/>
    public void Dispose() => _session.Dispose();
}
