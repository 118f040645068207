using Google.Protobuf;
using MedTransfer.Training.Backbones;
using MedTransfer.Training.Export;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace MedTransfer.Training.Onnx;

/// <summary>
/// <see cref="FeatureEngine.OnnxRuntime"/>: the backbone's preprocessing and its graph up to the cut as one ONNX model
/// (the nodes the exporter writes, with the weights and BatchNorm statistics at creation), run by an ONNX Runtime CPU
/// session with full graph optimization. ONNX Runtime folds BatchNorm into the convolutions and fuses the activations,
/// which is where it gains on a frozen forward pass. One session per input channel count (1 or 3), built on first use,
/// because the preprocessing nodes differ.
/// </summary>
internal sealed class OnnxFrozenForward : FrozenForward
{
    private const string InputName = "image";
    private const string OutputName = "mt_activations";

    private readonly Backbone _backbone;
    private readonly int _threads;
    private readonly OnnxRuntimeRunner?[] _sessions = new OnnxRuntimeRunner?[4];
    private float[] _inputBuffer = [];

    private OnnxFrozenForward(Backbone backbone, BackboneCut cut, int threads)
        : base(cut, FeatureEngine.OnnxRuntime)
    {
        _backbone = backbone;
        _threads = threads;
        Snapshot = backbone.Graph.ToTrainedModel(cut.Index);
    }

    /// <summary>The graph's nodes before the cut with the weights at creation (shared by the sessions).</summary>
    private ModelProto Snapshot { get; }

    /// <inheritdoc/>
    public override string Name => $"onnxruntime {typeof(InferenceSession).Assembly.GetName().Version?.ToString(3)} ({_threads} threads)";

    /// <summary>Intra-op threads of the sessions.</summary>
    internal int Threads => _threads;

    public static OnnxFrozenForward Create(Backbone backbone, BackboneCut cut, Device device)
    {
        if (device.type != DeviceType.CPU)
        {
            throw new FeatureEngineException(FeatureEngine.OnnxRuntime, $"The ONNX Runtime feature engine runs on the CPU only; {device} was asked for.");
        }

        if (backbone.parameters().Concat(backbone.buffers()).FirstOrDefault(p => p.device_type != DeviceType.CPU) is { } elsewhere)
        {
            throw new FeatureEngineException(FeatureEngine.OnnxRuntime, $"The ONNX Runtime feature engine reads the backbone's weights on the CPU; this backbone is on {elsewhere.device}.");
        }

        if (backbone.Preprocess is not (MeanImagePreprocess or ConventionPreprocess))
        {
            throw new FeatureEngineException(FeatureEngine.OnnxRuntime, $"The ONNX Runtime feature engine writes the mean-image or the input-convention preprocessing; this backbone has {backbone.Preprocess.GetType().Name}.");
        }

        if (cut.Index < 0 || cut.Index > backbone.Graph.StepCount || !backbone.Graph.CanCut(cut.Index))
        {
            throw new FeatureEngineException(FeatureEngine.OnnxRuntime, $"The cut before '{cut.TrainableFrom}' (step {cut.Index}) is not a single-value boundary of this backbone's graph.");
        }

        // Torch's thread count, so both engines are compared (and share the machine) on the same terms.
        int threads = get_num_threads() is int t and > 0 ? t : Environment.ProcessorCount;
        var engine = new OnnxFrozenForward(backbone, cut, threads);
        try
        {
            // Open the session of the usual grey input now, so an unexpressible graph fails here rather than mid-run.
            engine.Session(1);
            return engine;
        }
        catch
        {
            engine.Dispose();
            throw;
        }
    }

    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        int size = _backbone.ImageSize;
        if (input.dim() != 4 || input.shape[1] is not (1 or 3) || input.shape[2] != size || input.shape[3] != size)
        {
            throw new ArgumentException($"Expected images N×1×{size}×{size} or N×3×{size}×{size}, got [{string.Join("×", input.shape)}].", nameof(input));
        }

        if (input.device_type != DeviceType.CPU)
        {
            throw new ArgumentException($"The ONNX Runtime feature engine reads CPU tensors; the input is on {input.device}.", nameof(input));
        }

        int channels = (int)input.shape[1];
        long[] shape = input.shape;
        int count = checked((int)input.NumberOfElements);
        if (_inputBuffer.Length != count)
        {
            _inputBuffer = new float[count];
        }

        using (Tensor dense = input.detach().to(ScalarType.Float32).contiguous())
        {
            dense.data<float>().CopyTo(_inputBuffer);
        }

        OnnxRuntimeRunner session = Session(channels);
        return session.Run(InputName, _inputBuffer, shape, OutputName, static (values, outputShape) =>
        {
            Tensor result = empty(outputShape, ScalarType.Float32);
            result.data<float>().CopyFrom(values);
            return result;
        });
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            for (int i = 0; i < _sessions.Length; i++)
            {
                _sessions[i]?.Dispose();
                _sessions[i] = null;
            }
        }

        base.Dispose(disposing);
    }

    private OnnxRuntimeRunner Session(int channels)
    {
        if (_sessions[channels] is { } open)
        {
            return open;
        }

        byte[] bytes = BuildModel(channels).ToByteArray();
        try
        {
            return _sessions[channels] = new OnnxRuntimeRunner(bytes, _threads);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new FeatureEngineException(FeatureEngine.OnnxRuntime, $"ONNX Runtime could not load the backbone's graph up to '{Cut.TrainableFrom}': {ex.Message}", ex);
        }
    }

    /// <summary>Preprocessing, the graph's nodes before the cut, and a Flatten when the cut is after the whole backbone.</summary>
    internal ModelProto BuildModel(int channels)
    {
        int size = _backbone.ImageSize;
        var g = new GraphProto { Name = "medtransfer_frozen_" + Cut.TrainableFrom };
        g.Input.Add(OnnxGraphParts.Value(InputName, ["N", channels, size, size]));
        if (!OnnxGraphParts.TryAddPreprocessing(g, _backbone.Preprocess, InputName, channels))
        {
            throw new FeatureEngineException(FeatureEngine.OnnxRuntime, "This backbone's preprocessing cannot be written as ONNX nodes.");
        }

        string last = OnnxGraphParts.Preprocessed;
        if (Cut.Index > 0)
        {
            OnnxGraphParts.AddBackbone(g, _backbone.Graph, Snapshot);
            last = _backbone.Graph.BoundaryValue(Cut.Index);
        }

        g.Node.Add(Cut.AtEnd
            ? OnnxGraphParts.Node("Flatten", [last], [OutputName], OnnxGraphParts.Int("axis", 1))
            : OnnxGraphParts.Node("Identity", [last], [OutputName]));
        g.Output.Add(new ValueInfoProto { Name = OutputName, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = OnnxTensors.Float } } });
        var model = new ModelProto { IrVersion = Snapshot.IrVersion, ProducerName = "MedTransfer", Graph = g };
        model.OpsetImport.AddRange(Snapshot.OpsetImport.Select(o => o.Clone()));
        return model;
    }
}
