using Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MedTransfer.Training.Onnx;

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

/// <summary>ONNX Conv (2-D, groups incl. depthwise, dilations, explicit or asymmetric pads, SAME auto-pad).</summary>
internal sealed class ConvNode : OnnxNode
{
    private readonly Window2d _window;
    private readonly long _groups;
    private readonly bool _hasBias;
    private readonly string _weightName;
    private readonly string? _biasName;

    public ConvNode(NodeContext context)
        : base(context)
    {
        NodeProto node = context.Proto;
        Tensor weight = context.Constant(1)
            ?? throw context.Error(OnnxImportError.UnsupportedAttribute, "the weights come from another node; only constant (initializer) weights are supported.");
        if (weight.dim() != 4)
        {
            throw context.Error(OnnxImportError.UnsupportedAttribute, $"{weight.dim()}-D weights; only 2-D convolutions (4-D weights) are supported.");
        }

        _window = Window2d.Read(node, [weight.shape[2], weight.shape[3]]);
        _groups = OnnxAttributes.Int(node, "group", 1);
        _weightName = node.Input[1];
        register_parameter("weight", new Parameter(weight.clone()));
        if (context.Constant(2) is { } bias)
        {
            _hasBias = true;
            _biasName = node.Input[2];
            register_parameter("bias", new Parameter(bias.reshape(weight.shape[0]).clone()));
        }
        else if (context.Present(2))
        {
            throw context.Error(OnnxImportError.UnsupportedAttribute, "the bias comes from another node; only a constant bias is supported.");
        }
    }

    public override bool HasState => true;

    public override long Stride => Math.Max(_window.Strides[0], _window.Strides[1]);

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
        Tensor x = Required(inputs, 0);
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

    public override void ResetParameters()
    {
        nn.init.kaiming_normal_(P("weight"), mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
        if (_hasBias)
        {
            P("bias").zero_();
        }
    }
}

/// <summary>ONNX MaxPool (2-D; asymmetric pads are applied explicitly with −∞).</summary>
internal sealed class MaxPoolNode : OnnxNode
{
    private readonly Window2d _window;

    public MaxPoolNode(NodeContext context)
        : base(context)
    {
        _window = Window2d.Read(context.Proto, null);
        if (context.Proto.Output.Count > 1 && !string.IsNullOrEmpty(context.Proto.Output[1]))
        {
            throw context.Error(OnnxImportError.UnsupportedAttribute, "asks for the Indices output, which is not supported.");
        }

        if (OnnxAttributes.Int(context.Proto, "storage_order", 0) != 0)
        {
            throw context.Error(OnnxImportError.UnsupportedAttribute, "storage_order=1 is not supported.");
        }
    }

    public override long Stride => Math.Max(_window.Strides[0], _window.Strides[1]);

    public Window2d Window => _window;

    public override Tensor[] Run(Tensor?[] inputs)
    {
        Tensor x = Required(inputs, 0);
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

    public AveragePoolNode(NodeContext context, bool global)
        : base(context)
    {
        _window = Window2d.Read(context.Proto, null);
        _countIncludePad = OnnxAttributes.Int(context.Proto, "count_include_pad", 0) != 0;
        IsGlobal = global;
    }

    public bool IsGlobal { get; }

    public override long Stride => IsGlobal ? 1 : Math.Max(_window.Strides[0], _window.Strides[1]);

    public Window2d Window => _window;

    public override Tensor[] Run(Tensor?[] inputs)
    {
        Tensor x = Required(inputs, 0);
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
