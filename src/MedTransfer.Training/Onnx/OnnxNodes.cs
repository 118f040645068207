using Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MedTransfer.Training.Onnx;

/// <summary>
/// One imported ONNX node. Nodes that own parameters or buffers (Conv, BatchNormalization, Gemm,
/// MatMul, Dropout for its training flag) are registered as sub-modules of the graph module, so
/// <c>train()</c>/<c>eval()</c>, <c>parameters()</c> and <c>state_dict()</c> see them.
/// </summary>
internal abstract class OnnxNode : nn.Module
{
    protected OnnxNode(string name, NodeProto proto)
        : base(name)
    {
        Proto = proto;
    }

    /// <summary>The ONNX node this module was built from.</summary>
    public NodeProto Proto { get; }

    /// <summary>True when the node owns parameters or buffers (it is then a registered sub-module).</summary>
    public virtual bool HasState => false;

    /// <summary>Runs the node on its inputs (absent optional inputs are null).</summary>
    public abstract Tensor[] Run(Tensor?[] inputs);

    /// <summary>Writes the node's current parameter and buffer values back into ONNX initializers.</summary>
    public virtual void ExportInitializers(IDictionary<string, TensorProto> initializers)
    {
    }

    /// <summary>
    /// A registered parameter, looked up by name on every use: <c>to(device/dtype)</c> replaces the
    /// parameter objects in the registry, so holding them in fields would go stale.
    /// </summary>
    protected Parameter P(string name)
    {
        foreach ((string n, Parameter p) in named_parameters(recurse: false))
        {
            if (n == name)
            {
                return p;
            }
        }

        throw new InvalidOperationException($"Parameter '{name}' is not registered.");
    }

    /// <summary>A registered buffer, looked up by name (see <see cref="P"/>).</summary>
    protected Tensor B(string name)
    {
        foreach ((string n, Tensor b) in named_buffers(recurse: false))
        {
            if (n == name)
            {
                return b;
            }
        }

        throw new InvalidOperationException($"Buffer '{name}' is not registered.");
    }

    protected static Tensor Required(Tensor?[] inputs, int index, NodeProto node) =>
        index < inputs.Length && inputs[index] is { } t
            ? t
            : throw new OnnxImportException(OnnxImportError.MalformedGraph, $"Node '{OnnxAttributes.Describe(node)}' ({node.OpType}) is missing input {index}.", node.OpType, OnnxAttributes.Describe(node));

    protected static Tensor Param(float[] values, long[] shape, bool trainable) =>
        trainable ? new Parameter(tensor(values, shape), requires_grad: true) : tensor(values, shape);

    protected static TensorProto ToProto(string name, Tensor t, long[]? dims = null)
    {
        using Tensor cpu = t.detach().to(ScalarType.Float32, CPU).contiguous();
        float[] data = cpu.data<float>().ToArray();
        return OnnxTensors.FromFloats(name, data, dims ?? t.shape);
    }
}

/// <summary>Spatial window attributes shared by Conv, MaxPool and AveragePool (2-D only).</summary>
internal sealed record Window2d(long[] Kernel, long[] Strides, long[] Dilations, long[] Pads, string AutoPad, bool CeilMode)
{
    public static Window2d Read(NodeProto node, long[]? kernelFromWeights)
    {
        long[] kernel = OnnxAttributes.Ints(node, "kernel_shape") ?? kernelFromWeights
            ?? throw new OnnxImportException(OnnxImportError.MalformedGraph, $"Node '{OnnxAttributes.Describe(node)}' ({node.OpType}) has no kernel_shape.", node.OpType, OnnxAttributes.Describe(node));
        if (kernel.Length != 2)
        {
            throw new OnnxImportException(OnnxImportError.UnsupportedAttribute, $"Node '{OnnxAttributes.Describe(node)}' ({node.OpType}) has a {kernel.Length}-D kernel; only 2-D is supported.", node.OpType, OnnxAttributes.Describe(node));
        }

        long[] strides = OnnxAttributes.Ints(node, "strides") ?? [1, 1];
        long[] dilations = OnnxAttributes.Ints(node, "dilations") ?? [1, 1];
        long[] pads = OnnxAttributes.Ints(node, "pads") ?? [0, 0, 0, 0];
        string autoPad = OnnxAttributes.String(node, "auto_pad", "NOTSET");
        if (strides.Length != 2 || dilations.Length != 2 || pads.Length != 4 || pads.Any(p => p < 0) || strides.Any(s => s < 1) || dilations.Any(d => d < 1))
        {
            throw new OnnxImportException(OnnxImportError.UnsupportedAttribute, $"Node '{OnnxAttributes.Describe(node)}' ({node.OpType}) has strides/dilations/pads that are not 2-D and non-negative.", node.OpType, OnnxAttributes.Describe(node));
        }

        if (autoPad is not ("NOTSET" or "VALID" or "SAME_UPPER" or "SAME_LOWER"))
        {
            throw new OnnxImportException(OnnxImportError.UnsupportedAttribute, $"Node '{OnnxAttributes.Describe(node)}' ({node.OpType}) has auto_pad '{autoPad}'.", node.OpType, OnnxAttributes.Describe(node));
        }

        if (autoPad == "VALID")
        {
            pads = [0, 0, 0, 0];
        }

        return new Window2d(kernel, strides, dilations, pads, autoPad, OnnxAttributes.Int(node, "ceil_mode", 0) != 0);
    }

    /// <summary>ONNX pads (begin-H, begin-W, end-H, end-W) for an input of the given size.</summary>
    public long[] PadsFor(long height, long width)
    {
        if (AutoPad is not ("SAME_UPPER" or "SAME_LOWER"))
        {
            return Pads;
        }

        long[] result = new long[4];
        long[] size = [height, width];
        for (int i = 0; i < 2; i++)
        {
            long output = (size[i] + Strides[i] - 1) / Strides[i];
            long total = Math.Max(0, ((output - 1) * Strides[i]) + ((Kernel[i] - 1) * Dilations[i]) + 1 - size[i]);
            long small = total / 2;
            long large = total - small;
            result[i] = AutoPad == "SAME_UPPER" ? small : large;
            result[i + 2] = AutoPad == "SAME_UPPER" ? large : small;
        }

        return result;
    }

    /// <summary>Output size along one axis (ONNX formula), or null when the input size is unknown.</summary>
    public long? OutputSize(long? input, int axis)
    {
        if (input is not long n)
        {
            return null;
        }

        long[] pads = PadsFor(n, n);
        long span = n + pads[axis] + pads[axis + 2] - (((Kernel[axis] - 1) * Dilations[axis]) + 1);
        if (span < 0)
        {
            return null;
        }

        return (CeilMode ? (span + Strides[axis] - 1) / Strides[axis] : span / Strides[axis]) + 1;
    }

    public static bool Symmetric(long[] pads) => pads[0] == pads[2] && pads[1] == pads[3];

    /// <summary>
    /// Symmetric pads (begin, begin) that read exactly the same windows as the asymmetric ONNX pads for
    /// this input size, or null. With pads (b, e), e ≤ b, the windows start at −b either way; when the
    /// output count is the same the extra end padding is never reached. CNTK's stride-2 layers
    /// (pads [1,1,0,0] on even sizes) qualify, which saves an explicit padding copy in forward and backward.
    /// </summary>
    public long[]? EquivalentSymmetricPads(long[] pads, long height, long width)
    {
        long[] size = [height, width];
        for (int axis = 0; axis < 2; axis++)
        {
            long b = pads[axis], e = pads[axis + 2];
            if (e > b)
            {
                return null;
            }

            long span = ((Kernel[axis] - 1) * Dilations[axis]) + 1;
            long asymmetric = size[axis] + b + e - span;
            long symmetric = size[axis] + (2 * b) - span;
            if (CeilMode || asymmetric < 0 || asymmetric / Strides[axis] != symmetric / Strides[axis])
            {
                return null;
            }
        }

        return [pads[0], pads[1]];
    }

    /// <summary>torch pad order: last dimension first (W begin, W end, H begin, H end).</summary>
    public static long[] TorchPad(long[] pads) => [pads[1], pads[3], pads[0], pads[2]];
}

/// <summary>ONNX Conv (2-D, groups, dilations, explicit or asymmetric pads, SAME auto-pad).</summary>
internal sealed class ConvNode : OnnxNode
{
    private readonly Window2d _window;
    private readonly long _groups;
    private readonly bool _hasBias;
    private readonly string _weightName;
    private readonly string? _biasName;

    public ConvNode(string name, NodeProto node, TensorProto weight, TensorProto? bias)
        : base(name, node)
    {
        long[] shape = OnnxTensors.Shape(weight);
        if (shape.Length != 4)
        {
            throw new OnnxImportException(OnnxImportError.UnsupportedAttribute, $"Conv '{OnnxAttributes.Describe(node)}' has {shape.Length}-D weights; only 2-D convolutions (4-D weights) are supported.", node.OpType, OnnxAttributes.Describe(node));
        }

        _window = Window2d.Read(node, [shape[2], shape[3]]);
        _groups = OnnxAttributes.Int(node, "group", 1);
        _weightName = weight.Name;
        register_parameter("weight", new Parameter(tensor(OnnxTensors.ReadFloats(weight), shape)));
        if (bias is not null)
        {
            _hasBias = true;
            _biasName = bias.Name;
            register_parameter("bias", new Parameter(tensor(OnnxTensors.ReadFloats(bias), [shape[0]])));
        }
    }

    public override bool HasState => true;

    public Window2d Window => _window;

    public Parameter Weight => P("weight");

    /// <summary>Replaces the weight by a channels-last copy (same values, NHWC strides).</summary>
    public void ToChannelsLast()
    {
        Parameter w = P("weight");
        if (w.stride(1) == 1)
        {
            return; // already channels-last
        }

        using Tensor nhwc = w.detach().permute(0, 2, 3, 1).contiguous();
        using Tensor view = nhwc.permute(0, 3, 1, 2);
        w.set_(view);
    }

    public override Tensor[] Run(Tensor?[] inputs)
    {
        Tensor x = Required(inputs, 0, Proto);
        Parameter weight = P("weight");
        Parameter? bias = _hasBias ? P("bias") : null;
        long[] pads = _window.PadsFor(x.shape[2], x.shape[3]);
        if (Window2d.Symmetric(pads))
        {
            return [F.conv2d(x, weight, bias, _window.Strides, [pads[0], pads[1]], _window.Dilations, _groups)];
        }

        if (_window.EquivalentSymmetricPads(pads, x.shape[2], x.shape[3]) is { } same)
        {
            return [F.conv2d(x, weight, bias, _window.Strides, same, _window.Dilations, _groups)];
        }

        using Tensor padded = F.pad(x, Window2d.TorchPad(pads));
        return [F.conv2d(padded, weight, bias, _window.Strides, [0, 0], _window.Dilations, _groups)];
    }

    public override void ExportInitializers(IDictionary<string, TensorProto> initializers)
    {
        initializers[_weightName] = ToProto(_weightName, P("weight"));
        if (_hasBias && _biasName is not null)
        {
            initializers[_biasName] = ToProto(_biasName, P("bias"));
        }
    }
}

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

    public BatchNormNode(string name, NodeProto node, TensorProto[] initializers, double momentum)
        : base(name, node)
    {
        if (OnnxAttributes.Int(node, "spatial", 1) != 1)
        {
            throw new OnnxImportException(OnnxImportError.UnsupportedAttribute, $"BatchNormalization '{OnnxAttributes.Describe(node)}' has spatial=0 (per-activation statistics), which is not supported.", node.OpType, OnnxAttributes.Describe(node));
        }

        long channels = OnnxTensors.Shape(initializers[0]).Aggregate(1L, (a, b) => a * b);
        foreach (TensorProto t in initializers)
        {
            if (OnnxTensors.Shape(t).Aggregate(1L, (a, b) => a * b) != channels)
            {
                throw new OnnxImportException(OnnxImportError.MalformedGraph, $"BatchNormalization '{OnnxAttributes.Describe(node)}' has parameters of different lengths.", node.OpType, OnnxAttributes.Describe(node));
            }
        }

        _names = [.. initializers.Select(t => t.Name)];
        _epsilon = OnnxAttributes.Float(node, "epsilon", 1e-5f);
        Momentum = momentum;
        register_parameter("weight", new Parameter(tensor(OnnxTensors.ReadFloats(initializers[0]), [channels])));
        register_parameter("bias", new Parameter(tensor(OnnxTensors.ReadFloats(initializers[1]), [channels])));
        register_buffer("running_mean", tensor(OnnxTensors.ReadFloats(initializers[2]), [channels]));
        register_buffer("running_var", tensor(OnnxTensors.ReadFloats(initializers[3]), [channels]));
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

    public override Tensor[] Run(Tensor?[] inputs)
    {
        Tensor x = Required(inputs, 0, Proto);
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

/// <summary>ONNX MaxPool (2-D; asymmetric pads are applied explicitly with −∞).</summary>
internal sealed class MaxPoolNode : OnnxNode
{
    private readonly Window2d _window;

    public MaxPoolNode(string name, NodeProto node)
        : base(name, node)
    {
        _window = Window2d.Read(node, null);
        if (node.Output.Count > 1 && !string.IsNullOrEmpty(node.Output[1]))
        {
            throw new OnnxImportException(OnnxImportError.UnsupportedAttribute, $"MaxPool '{OnnxAttributes.Describe(node)}' asks for the Indices output, which is not supported.", node.OpType, OnnxAttributes.Describe(node));
        }
    }

    public Window2d Window => _window;

    public override Tensor[] Run(Tensor?[] inputs)
    {
        Tensor x = Required(inputs, 0, Proto);
        long[] pads = _window.PadsFor(x.shape[2], x.shape[3]);
        long[]? symmetric = Window2d.Symmetric(pads) ? [pads[0], pads[1]] : _window.EquivalentSymmetricPads(pads, x.shape[2], x.shape[3]);
        bool torchCanPad = symmetric is not null && symmetric[0] * 2 <= _window.Kernel[0] && symmetric[1] * 2 <= _window.Kernel[1];
        if (torchCanPad)
        {
            return [F.max_pool2d(x, _window.Kernel, _window.Strides, symmetric!, _window.Dilations, _window.CeilMode)];
        }

        using Tensor padded = F.pad(x, Window2d.TorchPad(pads), PaddingModes.Constant, double.NegativeInfinity);
        return [F.max_pool2d(padded, _window.Kernel, _window.Strides, [0, 0], _window.Dilations, _window.CeilMode)];
    }
}

/// <summary>
/// ONNX AveragePool (2-D). With <c>count_include_pad=0</c> and padding, the divisor counts only real
/// input pixels. When the import option asks for it, a pool whose window covers the whole feature map
/// at the graph's declared input size runs as a global average, so other input sizes work.
/// </summary>
internal sealed class AveragePoolNode : OnnxNode
{
    private readonly Window2d _window;
    private readonly bool _countIncludePad;

    public AveragePoolNode(string name, NodeProto node, bool global)
        : base(name, node)
    {
        _window = Window2d.Read(node, null);
        _countIncludePad = OnnxAttributes.Int(node, "count_include_pad", 0) != 0;
        IsGlobal = global;
    }

    public bool IsGlobal { get; }

    public Window2d Window => _window;

    public override Tensor[] Run(Tensor?[] inputs)
    {
        Tensor x = Required(inputs, 0, Proto);
        if (IsGlobal)
        {
            return [x.mean([2, 3], keepdim: true)];
        }

        long[] pads = _window.PadsFor(x.shape[2], x.shape[3]);
        if (pads.All(p => p == 0))
        {
            return [F.avg_pool2d(x, _window.Kernel, _window.Strides, [0, 0], _window.CeilMode, true)];
        }

        using Tensor padded = F.pad(x, Window2d.TorchPad(pads));
        Tensor sum = F.avg_pool2d(padded, _window.Kernel, _window.Strides, [0, 0], _window.CeilMode, true);
        if (_countIncludePad)
        {
            return [sum];
        }

        using Tensor mask = torch.ones(1, 1, x.shape[2], x.shape[3], dtype: x.dtype, device: x.device);
        using Tensor paddedOnes = F.pad(mask, Window2d.TorchPad(pads));
        using Tensor fraction = F.avg_pool2d(paddedOnes, _window.Kernel, _window.Strides, [0, 0], _window.CeilMode, true);
        using (sum)
        {
            return [sum.div(fraction)];
        }
    }
}

/// <summary>ONNX Gemm: Y = α·A'·B' + β·C. A constant B becomes a trainable weight, a constant C its bias.</summary>
internal sealed class GemmNode : OnnxNode
{
    private readonly float _alpha;
    private readonly float _beta;
    private readonly bool _transA;
    private readonly bool _transB;
    private readonly bool _hasWeight;
    private readonly bool _hasBias;
    private readonly long[]? _biasShape;
    private readonly string? _weightName;
    private readonly string? _biasName;

    public GemmNode(string name, NodeProto node, TensorProto? weight, TensorProto? bias)
        : base(name, node)
    {
        _alpha = OnnxAttributes.Float(node, "alpha", 1f);
        _beta = OnnxAttributes.Float(node, "beta", 1f);
        _transA = OnnxAttributes.Int(node, "transA", 0) != 0;
        _transB = OnnxAttributes.Int(node, "transB", 0) != 0;
        if (weight is not null)
        {
            long[] shape = OnnxTensors.Shape(weight);
            if (shape.Length != 2)
            {
                throw new OnnxImportException(OnnxImportError.MalformedGraph, $"Gemm '{OnnxAttributes.Describe(node)}' has a {shape.Length}-D B.", node.OpType, OnnxAttributes.Describe(node));
            }

            using Tensor b = tensor(OnnxTensors.ReadFloats(weight), shape);

            // Stored as torch's Linear weight, [out, in].
            _hasWeight = true;
            _weightName = weight.Name;
            register_parameter("weight", new Parameter(_transB ? b.clone() : b.t().contiguous()));
        }

        if (bias is not null)
        {
            _biasShape = OnnxTensors.Shape(bias);
            _hasBias = true;
            _biasName = bias.Name;
            register_parameter("bias", new Parameter(tensor(OnnxTensors.ReadFloats(bias), _biasShape)));
        }
    }

    public override bool HasState => _hasWeight || _hasBias;

    public override Tensor[] Run(Tensor?[] inputs)
    {
        Tensor a = Required(inputs, 0, Proto);
        using Tensor aa = _transA ? a.t() : a.alias();
        Tensor product;
        if (_hasWeight)
        {
            product = F.linear(aa, P("weight"));
        }
        else
        {
            Tensor b = Required(inputs, 1, Proto);
            using Tensor bb = _transB ? b.t() : b.alias();
            product = aa.matmul(bb);
        }

        if (_alpha != 1f)
        {
            using Tensor p = product;
            product = p.mul(_alpha);
        }

        Tensor? c = _hasBias ? P("bias") : (inputs.Length > 2 ? inputs[2] : null);
        if (c is null)
        {
            return [product];
        }

        using (product)
        {
            return [_beta == 1f ? product.add(c) : product.add(c, _beta)];
        }
    }

    public override void ExportInitializers(IDictionary<string, TensorProto> initializers)
    {
        if (_hasWeight && _weightName is not null)
        {
            using Tensor w = _transB ? P("weight").detach().clone() : P("weight").detach().t().contiguous();
            initializers[_weightName] = ToProto(_weightName, w);
        }

        if (_hasBias && _biasName is not null)
        {
            initializers[_biasName] = ToProto(_biasName, P("bias"), _biasShape);
        }
    }
}

/// <summary>ONNX MatMul; a constant right-hand side becomes a trainable weight.</summary>
internal sealed class MatMulNode : OnnxNode
{
    private readonly bool _hasWeight;
    private readonly string? _weightName;

    public MatMulNode(string name, NodeProto node, TensorProto? weight)
        : base(name, node)
    {
        if (weight is not null)
        {
            _hasWeight = true;
            _weightName = weight.Name;
            register_parameter("weight", new Parameter(tensor(OnnxTensors.ReadFloats(weight), OnnxTensors.Shape(weight))));
        }
    }

    public override bool HasState => _hasWeight;

    public override Tensor[] Run(Tensor?[] inputs) =>
        [Required(inputs, 0, Proto).matmul(_hasWeight ? P("weight") : Required(inputs, 1, Proto))];

    public override void ExportInitializers(IDictionary<string, TensorProto> initializers)
    {
        if (_hasWeight && _weightName is not null)
        {
            initializers[_weightName] = ToProto(_weightName, P("weight"));
        }
    }
}

/// <summary>ONNX Dropout: identity in evaluation mode, inverted dropout in training mode.</summary>
internal sealed class DropoutNode : OnnxNode
{
    private readonly double _ratio;

    public DropoutNode(string name, NodeProto node, double ratio)
        : base(name, node)
    {
        _ratio = ratio;
        if (node.Output.Count > 1 && !string.IsNullOrEmpty(node.Output[1]))
        {
            throw new OnnxImportException(OnnxImportError.UnsupportedAttribute, $"Dropout '{OnnxAttributes.Describe(node)}' asks for its mask output, which is not supported.", node.OpType, OnnxAttributes.Describe(node));
        }
    }

    public override bool HasState => true;

    public override Tensor[] Run(Tensor?[] inputs) => [F.dropout(Required(inputs, 0, Proto), _ratio, training)];
}

/// <summary>Parameter-free element-wise and shape operators.</summary>
internal sealed class FunctionNode : OnnxNode
{
    private readonly Func<Tensor?[], Tensor[]> _run;

    public FunctionNode(string name, NodeProto node, Func<Tensor?[], Tensor[]> run)
        : base(name, node)
    {
        _run = run;
    }

    public override Tensor[] Run(Tensor?[] inputs) => _run(inputs);
}
