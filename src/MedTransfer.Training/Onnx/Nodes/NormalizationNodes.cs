using Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MedTransfer.Training.Onnx;

/// <summary>
/// ONNX BatchNormalization (spatial). Scale and bias become trainable parameters, mean and variance
/// running-statistics buffers. In training mode it normalizes with batch statistics and updates the
/// running ones with PyTorch's momentum convention (new = (1−m)·old + m·batch); the ONNX file's own
/// momentum attribute (CNTK's convention) is not used.
/// </summary>
internal sealed class BatchNormNode : OnnxNode
{
    private readonly double _epsilon;
    private readonly string[] _names;

    public BatchNormNode(NodeContext context, double momentum)
        : base(context)
    {
        NodeProto node = context.Proto;
        if (OnnxAttributes.Int(node, "spatial", 1) != 1)
        {
            throw context.Error(OnnxImportError.UnsupportedAttribute, "spatial=0 (per-activation statistics) is not supported.");
        }

        if (node.Output.Skip(1).Any(o => o.Length > 0) || OnnxAttributes.Int(node, "training_mode", 0) != 0)
        {
            throw context.Error(OnnxImportError.UnsupportedAttribute, "was exported in training mode (it outputs batch statistics); export the model in evaluation mode.");
        }

        var values = new Tensor[4];
        for (int i = 0; i < 4; i++)
        {
            values[i] = context.Constant(i + 1) ?? throw context.Error(OnnxImportError.UnsupportedAttribute, $"input {i + 1} must be a constant (initializer).");
        }

        long channels = values[0].numel();
        if (values.Any(v => v.numel() != channels))
        {
            throw context.Error(OnnxImportError.MalformedGraph, "has parameters of different lengths.");
        }

        _names = [.. node.Input.Skip(1).Take(4)];
        _epsilon = OnnxAttributes.Float(node, "epsilon", 1e-5f);
        Momentum = momentum;
        register_parameter("weight", new Parameter(values[0].reshape(channels).clone()));
        register_parameter("bias", new Parameter(values[1].reshape(channels).clone()));
        register_buffer("running_mean", values[2].reshape(channels).clone());
        register_buffer("running_var", values[3].reshape(channels).clone());
    }

    public override bool HasState => true;

    /// <summary>PyTorch-convention momentum for running statistics; null = cumulative average (AdaBN).</summary>
    public double? Momentum { get; set; }

    /// <summary>Number of batches seen since the last <see cref="ResetRunningStatistics"/> (cumulative mode).</summary>
    public long BatchesTracked { get; private set; }

    public Parameter Weight => P("weight");

    public Parameter Bias => P("bias");

    public Tensor RunningMean => B("running_mean");

    public Tensor RunningVar => B("running_var");

    public double Epsilon => _epsilon;

    public void ResetRunningStatistics()
    {
        using (no_grad())
        {
            RunningMean.zero_();
            RunningVar.fill_(1.0);
        }

        BatchesTracked = 0;
    }

    public override void ResetParameters()
    {
        Weight.fill_(1.0);
        Bias.zero_();
        ResetRunningStatistics();
    }

    public override Tensor[] Run(Tensor?[] inputs)
    {
        Tensor x = Required(inputs, 0);
        double momentum;
        if (training && Momentum is null)
        {
            BatchesTracked++;
            momentum = 1.0 / BatchesTracked;
        }
        else
        {
            momentum = Momentum ?? 0.1;
        }

        return [F.batch_norm(x, RunningMean, RunningVar, Weight, Bias, training, momentum, _epsilon)];
    }

    public override void ExportInitializers(IDictionary<string, TensorProto> initializers)
    {
        Tensor[] values = [Weight, Bias, RunningMean, RunningVar];
        for (int i = 0; i < 4; i++)
        {
            initializers[_names[i]] = ToProto(_names[i], values[i]);
        }
    }
}

/// <summary>
/// ONNX LayerNormalization (opset 17): normalizes over the dimensions from <c>axis</c> to the last, then scales and
/// shifts; the scale and bias become trainable parameters. (Older exports spell the same computation out as
/// ReduceMean, Sub, Pow, Sqrt, Div, Mul and Add nodes, which import one by one.)
/// </summary>
internal sealed class LayerNormNode : OnnxNode
{
    private readonly long _axis;
    private readonly double _epsilon;
    private readonly bool _hasBias;
    private readonly string _scaleName;
    private readonly string? _biasName;
    private readonly long[] _scaleDims;
    private readonly long[]? _biasDims;

    public LayerNormNode(NodeContext context)
        : base(context)
    {
        NodeProto node = context.Proto;
        if (node.Output.Skip(1).Any(o => o.Length > 0))
        {
            throw context.Error(OnnxImportError.UnsupportedAttribute, "asks for the Mean or InvStdDev outputs, which are not supported.");
        }

        _axis = OnnxAttributes.Int(node, "axis", -1);
        _epsilon = OnnxAttributes.Float(node, "epsilon", 1e-5f);
        Tensor scale = context.Constant(1) ?? throw context.Error(OnnxImportError.UnsupportedAttribute, "the scale must be a constant (initializer).");
        _scaleName = node.Input[1];
        _scaleDims = scale.shape;
        register_parameter("weight", new Parameter(scale.clone()));
        if (context.Constant(2) is { } bias)
        {
            _hasBias = true;
            _biasName = node.Input[2];
            _biasDims = bias.shape;
            register_parameter("bias", new Parameter(bias.clone()));
        }
        else if (context.Present(2))
        {
            throw context.Error(OnnxImportError.UnsupportedAttribute, "the bias must be a constant (initializer).");
        }
    }

    public override bool HasState => true;

    public override Tensor[] Run(Tensor?[] inputs)
    {
        Tensor x = Required(inputs, 0);
        long axis = _axis < 0 ? x.dim() + _axis : _axis;
        long[] normalized = x.shape[(int)axis..];
        using Tensor weight = P("weight").expand(normalized);
        using Tensor? bias = _hasBias ? P("bias").expand(normalized) : null;
        return [F.layer_norm(x, normalized, weight, bias, _epsilon)];
    }

    public override void ResetParameters()
    {
        P("weight").fill_(1.0);
        if (_hasBias)
        {
            P("bias").zero_();
        }
    }

    public override void ExportInitializers(IDictionary<string, TensorProto> initializers)
    {
        initializers[_scaleName] = ToProto(_scaleName, P("weight"), _scaleDims);
        if (_hasBias && _biasName is not null)
        {
            initializers[_biasName] = ToProto(_biasName, P("bias"), _biasDims);
        }
    }
}
