using Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MedTransfer.Training.Onnx;

/// <summary>Element-wise operators of one input (activations and arithmetic functions), with their ONNX defaults.</summary>
internal static class UnaryOps
{
    public static readonly IReadOnlyList<string> Names =
    [
        "Relu", "LeakyRelu", "Elu", "Selu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Softplus", "Erf", "Sqrt", "Exp",
        "Log", "Neg", "Abs", "Reciprocal", "Floor", "Ceil", "Identity", "Clip", "Softmax", "LogSoftmax", "Cast", "Not",
    ];

    public static Func<Tensor?[], Tensor[]> Create(NodeContext context)
    {
        NodeProto node = context.Proto;
        Tensor X(Tensor?[] a) => a.Length > 0 && a[0] is { } t ? t : throw context.Error(OnnxImportError.MalformedGraph, "is missing input 0.");
        Func<Tensor, Tensor> f = node.OpType switch
        {
            "Relu" => x => x.relu(),
            "LeakyRelu" => LeakyRelu(OnnxAttributes.Float(node, "alpha", 0.01f)),
            "Elu" => Elu(OnnxAttributes.Float(node, "alpha", 1f)),
            "Selu" => Selu(OnnxAttributes.Float(node, "alpha", 1.67326319217681884765625f), OnnxAttributes.Float(node, "gamma", 1.05070102214813232421875f)),
            "Sigmoid" => x => x.sigmoid(),
            "HardSigmoid" => HardSigmoid(OnnxAttributes.Float(node, "alpha", 0.2f), OnnxAttributes.Float(node, "beta", 0.5f)),

            // HardSwish(x) = x · HardSigmoid(x) with α = 1/6, β = ½ (the operator's definition).
            "HardSwish" => x => { using Tensor s = HardSigmoid(1f / 6f, 0.5f)(x); return x.mul(s); },
            "Tanh" => x => x.tanh(),
            "Softplus" => x => F.softplus(x),
            "Erf" => x => x.erf(),
            "Sqrt" => x => x.sqrt(),
            "Exp" => x => x.exp(),
            "Log" => x => x.log(),
            "Neg" => x => x.neg(),
            "Abs" => x => x.abs(),
            "Reciprocal" => x => x.reciprocal(),
            "Floor" => x => x.floor(),
            "Ceil" => x => x.ceil(),
            "Identity" => x => x.alias(),
            "Not" => x => x.logical_not(),
            "Clip" => Clip(context),
            "Softmax" or "LogSoftmax" => Softmax(context),
            "Cast" => Cast(context),
            _ => throw context.Error(OnnxImportError.UnsupportedOperator, "is not an element-wise operator of one input."),
        };
        return a => [f(X(a))];
    }

    private static Func<Tensor, Tensor> LeakyRelu(float alpha) => x => F.leaky_relu(x, alpha);

    private static Func<Tensor, Tensor> Elu(float alpha) => x => F.elu(x, alpha);

    private static Func<Tensor, Tensor> Selu(float alpha, float gamma) => x =>
    {
        using Tensor e = F.elu(x, alpha);
        return e.mul(gamma);
    };

    private static Func<Tensor, Tensor> HardSigmoid(float alpha, float beta) => x =>
    {
        using Tensor scaled = x.mul(alpha);
        using Tensor shifted = scaled.add(beta);
        return shifted.clamp(0.0, 1.0);
    };

    // ReLU6 and friends: bounds are attributes before opset 11 and optional constant inputs from it on.
    private static Func<Tensor, Tensor> Clip(NodeContext context)
    {
        double? min = context.Opset < 11 ? OnnxAttributes.Find(context.Proto, "min") is { } a ? a.F : null : context.Scalar(1);
        double? max = context.Opset < 11 ? OnnxAttributes.Find(context.Proto, "max") is { } b ? b.F : null : context.Scalar(2);
        return (min, max) switch
        {
            (double lo, double hi) => x => x.clamp(lo, hi),
            (double lo, null) => x => x.clamp_min(lo),
            (null, double hi) => x => x.clamp_max(hi),
            _ => x => x.alias(),
        };
    }

    // Before opset 13 Softmax flattens the input to 2-D at the axis (default 1); from 13 on it works along one axis (default −1).
    private static Func<Tensor, Tensor> Softmax(NodeContext context)
    {
        bool log = context.Proto.OpType == "LogSoftmax";
        bool legacy = context.Opset < 13;
        long axis = OnnxAttributes.Int(context.Proto, "axis", legacy ? 1 : -1);
        return x =>
        {
            long ax = axis < 0 ? x.dim() + axis : axis;
            if (!legacy || ax == x.dim() - 1)
            {
                return log ? x.log_softmax(ax) : x.softmax(ax);
            }

            long outer = x.shape.Take((int)ax).Aggregate(1L, (p, d) => p * d);
            using Tensor flat = x.reshape(outer, -1);
            using Tensor s = log ? flat.log_softmax(1) : flat.softmax(1);
            return s.reshape(x.shape);
        };
    }

    // Floating-point casts keep the module's floating type (a module moved to float64 stays float64); integer casts give int64.
    private static Func<Tensor, Tensor> Cast(NodeContext context)
    {
        int to = (int)OnnxAttributes.Int(context.Proto, "to", OnnxTensors.Float);
        if (OnnxTensors.IsFloating(to))
        {
            return x => x.is_floating_point() ? x.alias() : x.to(ScalarType.Float32);
        }

        if (to == OnnxTensors.Bool)
        {
            return x => x.to(ScalarType.Bool);
        }

        if (OnnxTensors.IsInteger(to))
        {
            return x => x.is_floating_point() ? x.trunc().to(ScalarType.Int64) : x.to(ScalarType.Int64);
        }

        throw context.Error(OnnxImportError.UnsupportedAttribute, $"casts to ONNX type {to}, which is not supported.");
    }
}

/// <summary>
/// A two-input element-wise operator (Add, Sub, Mul, Div, Pow, Max, Min, comparisons) with NumPy broadcasting. A
/// constant operand of one value is kept as a number; a larger constant operand of Mul or Add that belongs to this
/// node alone is a trainable parameter — these are the scales and shifts of exported Linear layers (MatMul + Add),
/// of LayerNorm written out as primitive operators, and of layer scales — and any other constant is a buffer.
/// </summary>
internal sealed class BinaryNode : OnnxNode
{
    public static readonly IReadOnlyList<string> Names = ["Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "And", "Or", "Where", "PRelu"];

    private readonly string _op;
    private readonly Operand[] _operands;

    public BinaryNode(NodeContext context)
        : base(context)
    {
        NodeProto node = context.Proto;
        _op = node.OpType;
        if (node.Input.Count < (_op is "Sum" or "Mean" or "Max" or "Min" ? 1 : _op == "Where" ? 3 : 2))
        {
            throw context.Error(OnnxImportError.MalformedGraph, "has too few inputs.");
        }

        _operands = new Operand[node.Input.Count];
        for (int i = 0; i < node.Input.Count; i++)
        {
            _operands[i] = Hold(context, i);
        }
    }

    public override bool HasState => _operands.Any(o => o.Holder is not null);

    public override Tensor[] Run(Tensor?[] inputs)
    {
        object Value(int i) => _operands[i] switch
        {
            { Scalar: double s } => s,
            { Holder: string h, Trainable: true } => P(h),
            { Holder: string h } => B(h),
            _ => Required(inputs, i),
        };

        if (_op == "Where")
        {
            Tensor cond = AsTensor(Value(0), null);
            Tensor whenTrue = AsTensor(Value(1), cond);
            Tensor whenFalse = AsTensor(Value(2), cond);
            using Tensor c = cond.to(ScalarType.Bool);
            return [torch.where(c, whenTrue, whenFalse)];
        }

        object acc = Value(0);
        if (_operands.Length == 1)
        {
            return [AsTensor(acc, null).alias()];
        }

        Tensor? result = null;
        for (int i = 1; i < _operands.Length; i++)
        {
            Tensor next = Apply(_op is "Sum" or "Mean" ? "Add" : _op, acc, Value(i));
            result?.Dispose();
            result = next;
            acc = next;
        }

        if (_op == "Mean")
        {
            using Tensor sum = result!;
            return [sum.div(_operands.Length)];
        }

        return [result!];
    }

    public override void ExportInitializers(IDictionary<string, TensorProto> initializers)
    {
        for (int i = 0; i < _operands.Length; i++)
        {
            if (_operands[i] is { Holder: string h, Trainable: true } o)
            {
                initializers[Proto.Input[i]] = ToProto(Proto.Input[i], P(h), o.Dims);
            }
        }
    }

    public override void ResetParameters()
    {
        // The trainable operands are scales (Mul, PRelu slopes) and shifts (Add).
        foreach (Operand o in _operands)
        {
            if (o is { Holder: string h, Trainable: true })
            {
                P(h).fill_(_op == "Add" ? 0.0 : _op == "PRelu" ? 0.25 : 1.0);
            }
        }
    }

    private Operand Hold(NodeContext context, int i)
    {
        Tensor? c = context.Constant(i);
        if (c is null)
        {
            return new Operand(null, null, false, null);
        }

        int otherRank = Enumerable.Range(0, context.Proto.Input.Count).Where(j => j != i).Select(j => context.Probe(j)?.dim() ?? 0L).DefaultIfEmpty(0L).Max() is long r ? (int)r : 0;
        bool floating = c.is_floating_point();
        if (c.numel() == 1 && c.dim() <= otherRank && floating && _op is not "Where")
        {
            return new Operand(c.to(ScalarType.Float64).item<double>(), null, false, null);
        }

        string holder = $"operand{i}";
        bool trainable = floating && c.numel() > 1 && _op is "Mul" or "Add" or "PRelu" && context.Trainable(i);
        if (trainable)
        {
            register_parameter(holder, new Parameter(c.clone()));
            return new Operand(null, holder, true, c.shape);
        }

        register_buffer(holder, c.clone());
        return new Operand(null, holder, false, c.shape);
    }

    private static Tensor AsTensor(object v, Tensor? like) => v switch
    {
        Tensor t => t,
        double d => like is null ? tensor(d) : tensor(d, dtype: like.dtype, device: like.device),
        _ => throw new InvalidOperationException(),
    };

    private static Tensor Apply(string op, object a, object b)
    {
        if (a is double && b is double)
        {
            throw new InvalidOperationException("Two numbers: the node should have been folded.");
        }

        // A number on the left of a non-commutative operator becomes a 0-D tensor of the other operand's type.
        if (a is double da && op is not ("Add" or "Mul" or "Max" or "Min" or "Equal"))
        {
            Tensor tb = (Tensor)b;
            using Tensor ta = tensor(da, dtype: tb.dtype, device: tb.device);
            return Apply(op, ta, tb);
        }

        if (a is double)
        {
            (a, b) = (b, a);
        }

        Tensor x = (Tensor)a;
        return b switch
        {
            double s => op switch
            {
                "Add" => x.add(s),
                "Sub" => x.sub(s),
                "Mul" => x.mul(s),
                "Div" => x.div(s),
                "Pow" => x.pow(s),
                "Max" => x.clamp_min(s),
                "Min" => x.clamp_max(s),
                "PRelu" => F.leaky_relu(x, s),
                _ => Compare(op, x, tensor(s, dtype: x.dtype, device: x.device)),
            },
            Tensor y => op switch
            {
                "Add" => x.add(y),
                "Sub" => x.sub(y),
                "Mul" => x.mul(y),
                "Div" when !x.is_floating_point() && !y.is_floating_point() => x.div(y, RoundingMode.trunc),
                "Div" => x.div(y),
                "Pow" => x.pow(y),
                "Max" => x.maximum(y),
                "Min" => x.minimum(y),
                "PRelu" => PRelu(x, y),
                _ => Compare(op, x, y),
            },
            _ => throw new InvalidOperationException(),
        };
    }

    // PRelu's slope broadcasts like any other operand (ONNX), not per channel only (torch's prelu).
    private static Tensor PRelu(Tensor x, Tensor slope)
    {
        using Tensor negative = x.mul(slope);
        using Tensor positive = x.gt(0);
        return torch.where(positive, x, negative);
    }

    private static Tensor Compare(string op, Tensor x, Tensor y) => op switch
    {
        "Equal" => x.eq(y),
        "Greater" => x.gt(y),
        "Less" => x.lt(y),
        "GreaterOrEqual" => x.ge(y),
        "LessOrEqual" => x.le(y),
        "And" => x.logical_and(y),
        "Or" => x.logical_or(y),
        _ => throw new InvalidOperationException($"'{op}' is not an element-wise operator."),
    };

    private sealed record Operand(double? Scalar, string? Holder, bool Trainable, long[]? Dims);
}

/// <summary>ONNX Dropout: identity in evaluation mode, inverted dropout in training mode.</summary>
internal sealed class DropoutNode : OnnxNode
{
    private readonly double _ratio;

    public DropoutNode(NodeContext context)
        : base(context)
    {
        _ratio = context.Opset < 12 ? OnnxAttributes.Float(context.Proto, "ratio", 0.5f) : context.Scalar(1) ?? 0.5;
        if (context.Proto.Output.Count > 1 && !string.IsNullOrEmpty(context.Proto.Output[1]))
        {
            throw context.Error(OnnxImportError.UnsupportedAttribute, "asks for its mask output, which is not supported.");
        }
    }

    public override bool HasState => true;

    public override Tensor[] Run(Tensor?[] inputs) => [F.dropout(Required(inputs, 0), _ratio, training)];
}
