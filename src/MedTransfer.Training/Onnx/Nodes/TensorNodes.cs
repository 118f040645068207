using Onnx;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MedTransfer.Training.Onnx;

/// <summary>
/// ONNX Reshape. A target computed from the input's own shape (Shape → Gather → Unsqueeze → Concat) is folded at
/// import with the batch size as a marker that is filled in at run time; a constant target whose first entry is the
/// model's fixed export batch (1) where the input's first dimension is the batch is read as "keep the batch", since
/// exporters fold <c>x.view(x.size(0), -1)</c> into <c>[1, -1]</c> for a fixed-batch model.
/// </summary>
internal sealed class ReshapeNode : OnnxNode
{
    private readonly long[] _target;
    private readonly bool _allowZero;

    public ReshapeNode(NodeContext context)
        : base(context)
    {
        _allowZero = OnnxAttributes.Int(context.Proto, "allowzero", 0) != 0;
        _target = OnnxAttributes.Ints(context.Proto, "shape") ?? context.Ints(1, allowBatch: true);
        for (int i = 1; i < _target.Length; i++)
        {
            if (_target[i] == SymbolicDims.Batch)
            {
                throw context.Error(OnnxImportError.UnsupportedAttribute, "puts the batch size elsewhere than the first dimension.");
            }
        }

        if (_target.Length > 0 && _target[0] == SymbolicDims.Batch && _allowZero)
        {
            throw context.Error(OnnxImportError.UnsupportedAttribute, "uses allowzero=1 with a batch-dependent shape.");
        }

        if (!context.Folding && context.Probe(0) is { } x && context.DeclaredBatch is long batch && _target.Length > 0 && _target[0] == batch && batch != x.shape[0])
        {
            long perSample = x.numel() / x.shape[0];
            long rest = _target.Skip(1).Where(d => d > 0).Aggregate(1L, (a, b) => a * b);
            if (_target.Skip(1).Contains(-1) ? perSample % rest == 0 : rest == perSample)
            {
                _target[0] = SymbolicDims.Batch;
            }
        }
    }

    public override Tensor[] Run(Tensor?[] inputs)
    {
        Tensor x = Required(inputs, 0);
        long[] target = [.. _target];
        for (int i = 0; i < target.Length; i++)
        {
            if (target[i] == SymbolicDims.Batch || (target[i] == 0 && !_allowZero))
            {
                target[i] = x.shape[i];
            }
        }

        return [x.reshape(target)];
    }

    public override void ExportInitializers(IDictionary<string, TensorProto> initializers)
    {
        // The batch marker is written as 0 ("copy the input's dimension"), which keeps the batch dynamic.
        if (Proto.Input.Count > 1 && Proto.Input[1].Length > 0)
        {
            initializers[Proto.Input[1]] = OnnxTensors.FromInt64s(Proto.Input[1], [.. _target.Select(d => d == SymbolicDims.Batch ? 0 : d)]);
        }
    }
}

/// <summary>Shape and indexing operators without parameters: each returns the function a <see cref="FunctionNode"/> runs.</summary>
internal static class TensorOps
{
    public static readonly IReadOnlyList<string> Names =
    [
        "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Concat", "Split", "Slice", "Gather", "Pad", "Expand", "Tile",
        "ConstantOfShape", "Range", "GlobalAveragePool", "GlobalMaxPool",
        "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSumExp",
    ];

    /// <summary>The inputs of each operator that carry data (the others are attribute-like constants read at import).</summary>
    public static IEnumerable<int> DataInputs(NodeProto node) => node.OpType switch
    {
        "Concat" or "Sum" => Enumerable.Range(0, node.Input.Count),
        _ => [0],
    };

    public static Func<Tensor?[], Tensor[]> Create(NodeContext c)
    {
        NodeProto node = c.Proto;
        Tensor X(Tensor?[] a, int i = 0) => i < a.Length && a[i] is { } t ? t : throw c.Error(OnnxImportError.MalformedGraph, $"is missing input {i}.");
        switch (node.OpType)
        {
            case "Flatten":
            {
                long axis = OnnxAttributes.Int(node, "axis", 1);
                return a =>
                {
                    Tensor x = X(a);
                    long ax = axis < 0 ? x.dim() + axis : axis;
                    long outer = x.shape.Take((int)ax).Aggregate(1L, (p, d) => p * d);
                    return [x.reshape(outer, -1)];
                };
            }

            case "Transpose":
            {
                long[]? perm = OnnxAttributes.Ints(node, "perm");
                return a =>
                {
                    Tensor x = X(a);
                    return [x.permute(perm ?? [.. Enumerable.Range(0, (int)x.dim()).Reverse().Select(i => (long)i)])];
                };
            }

            case "Squeeze":
            {
                long[]? axes = c.Axes(1);
                return a =>
                {
                    Tensor x = X(a);
                    long[] dims = axes is null
                        ? [.. Enumerable.Range(0, (int)x.dim()).Where(i => x.shape[i] == 1).Select(i => (long)i)]
                        : [.. axes.Select(d => d < 0 ? d + x.dim() : d)];
                    Tensor r = x.alias();
                    foreach (long d in dims.OrderDescending())
                    {
                        using Tensor prev = r;
                        r = prev.squeeze(d);
                    }

                    return [r];
                };
            }

            case "Unsqueeze":
            {
                long[] axes = c.Axes(1) ?? throw c.Error(OnnxImportError.MalformedGraph, "has no axes.");
                return a =>
                {
                    Tensor x = X(a);
                    long rank = x.dim() + axes.Length;
                    Tensor r = x.alias();
                    foreach (long d in axes.Select(d => d < 0 ? d + rank : d).Order())
                    {
                        using Tensor prev = r;
                        r = prev.unsqueeze(d);
                    }

                    return [r];
                };
            }

            case "Concat":
            {
                long axis = OnnxAttributes.Find(node, "axis") is { } ax ? ax.I : throw c.Error(OnnxImportError.MalformedGraph, "has no axis.");
                return a =>
                {
                    Tensor[] parts = [.. Enumerable.Range(0, node.Input.Count).Where(i => node.Input[i].Length > 0).Select(i => X(a, i))];
                    return [parts.Length == 1 ? parts[0].alias() : cat(parts, axis < 0 ? parts[0].dim() + axis : axis)];
                };
            }

            case "Split":
            {
                long axis = OnnxAttributes.Int(node, "axis", 0);
                long[]? sizes = OnnxAttributes.Ints(node, "split") ?? (c.Present(1) ? c.Ints(1) : null);
                int parts = node.Output.Count;
                return a =>
                {
                    Tensor x = X(a);
                    long dim = axis < 0 ? x.dim() + axis : axis;
                    long each = (x.shape[dim] + parts - 1) / parts;
                    long[] s = sizes ?? [.. Enumerable.Range(0, parts).Select(i => Math.Min(each, x.shape[dim] - (i * each)))];
                    return x.split(s, dim);
                };
            }

            case "Slice":
                return Slice(c);

            case "Gather":
            {
                long axis = OnnxAttributes.Int(node, "axis", 0);
                long[] indices = c.Ints(1);
                long[] indexShape = c.ConstantValue(1)!.shape;
                return a =>
                {
                    Tensor x = X(a);
                    long ax = axis < 0 ? x.dim() + axis : axis;
                    long size = x.shape[ax];
                    using Tensor index = tensor(indices.Select(i => i < 0 ? i + size : i).ToArray(), device: x.device);
                    using Tensor picked = x.index_select(ax, index);
                    long[] shape = [.. x.shape.Take((int)ax), .. indexShape, .. x.shape.Skip((int)ax + 1)];
                    return [picked.reshape(shape)];
                };
            }

            case "Pad":
                return Pad(c);

            case "Expand":
            {
                long[] shape = c.Ints(1);
                return a =>
                {
                    Tensor x = X(a);
                    int rank = (int)Math.Max(x.dim(), shape.Length);
                    var target = new long[rank];
                    for (int i = 0; i < rank; i++)
                    {
                        long xd = i - (rank - x.dim()) >= 0 ? x.shape[i - (rank - x.dim())] : 1;
                        long sd = i - (rank - shape.Length) >= 0 ? shape[i - (rank - shape.Length)] : 1;
                        target[i] = xd == 1 ? sd : xd;
                    }

                    return [x.expand(target).contiguous()];
                };
            }

            case "Tile":
            {
                long[] repeats = c.Ints(1);
                return a => [X(a).repeat(repeats)];
            }

            case "ConstantOfShape":
            {
                long[] shape = c.Ints(0);
                Tensor? value = OnnxAttributes.Find(node, "value") is { T: { } t } ? OnnxTensors.ToTensor(t) : null;
                return _ =>
                {
                    if (value is null)
                    {
                        return [zeros(shape)];
                    }

                    using Tensor flat = value.reshape(1);
                    return [flat.expand(shape).contiguous()];
                };
            }

            case "Range":
                return a =>
                {
                    Tensor start = X(a, 0), limit = X(a, 1), delta = X(a, 2);
                    if (start.is_floating_point())
                    {
                        return [arange(start.item<float>(), limit.item<float>(), delta.item<float>())];
                    }

                    return [arange(start.item<long>(), limit.item<long>(), delta.item<long>(), dtype: ScalarType.Int64)];
                };

            case "GlobalAveragePool":
                return a =>
                {
                    Tensor x = X(a);
                    return [x.mean([.. Enumerable.Range(2, (int)x.dim() - 2).Select(i => (long)i)], keepdim: true)];
                };

            case "GlobalMaxPool":
                return a =>
                {
                    Tensor x = X(a);
                    return [x.amax([.. Enumerable.Range(2, (int)x.dim() - 2).Select(i => (long)i)], keepdim: true)];
                };

            default:
                if (node.OpType.StartsWith("Reduce", StringComparison.Ordinal))
                {
                    return Reduce(c);
                }

                throw c.Error(OnnxImportError.UnsupportedOperator, "is not a shape operator.");
        }
    }

    // Axes are an attribute up to opset 17 (ReduceSum: up to 12) and an optional input from then on.
    private static Func<Tensor?[], Tensor[]> Reduce(NodeContext c)
    {
        NodeProto node = c.Proto;
        long[]? axes = c.Axes(1);
        bool keep = OnnxAttributes.Int(node, "keepdims", 1) != 0;
        bool noop = OnnxAttributes.Int(node, "noop_with_empty_axes", 0) != 0;
        string op = node.OpType;
        return a =>
        {
            Tensor x = a[0] ?? throw c.Error(OnnxImportError.MalformedGraph, "is missing input 0.");
            if ((axes is null || axes.Length == 0) && noop)
            {
                return [x.alias()];
            }

            long[] dims = axes is null || axes.Length == 0
                ? [.. Enumerable.Range(0, (int)x.dim()).Select(i => (long)i)]
                : [.. axes.Select(d => d < 0 ? d + x.dim() : d).Order()];
            return [op switch
            {
                "ReduceMean" => x.mean(dims, keep),
                "ReduceSum" => x.sum(dims, keep),
                "ReduceMax" => x.amax(dims, keep),
                "ReduceMin" => x.amin(dims, keep),
                "ReduceProd" => OneDimAtATime(x, dims, keep, (t, d, k) => t.prod(d, k)),
                "ReduceL1" => Then(x.abs(), t => t.sum(dims, keep)),
                "ReduceL2" => Then(Then(x.square(), t => t.sum(dims, keep)), t => t.sqrt()),
                "ReduceSumSquare" => Then(x.square(), t => t.sum(dims, keep)),
                "ReduceLogSumExp" => OneDimAtATime(x, dims, keep, (t, d, k) => t.logsumexp(d, k)),
                _ => throw c.Error(OnnxImportError.UnsupportedOperator, "is not a supported reduction."),
            }];
        };
    }

    private static Tensor Then(Tensor t, Func<Tensor, Tensor> f)
    {
        using (t)
        {
            return f(t);
        }
    }

    private static Tensor OneDimAtATime(Tensor x, long[] dims, bool keep, Func<Tensor, long, bool, Tensor> reduce)
    {
        Tensor r = x.alias();
        foreach (long d in dims.OrderDescending())
        {
            using Tensor prev = r;
            r = reduce(prev, d, keep);
        }

        return r;
    }

    // Starts, ends, axes and steps are attributes before opset 10 and inputs from then on.
    private static Func<Tensor?[], Tensor[]> Slice(NodeContext c)
    {
        NodeProto node = c.Proto;
        long[] starts = OnnxAttributes.Ints(node, "starts") ?? c.Ints(1);
        long[] ends = OnnxAttributes.Ints(node, "ends") ?? c.Ints(2);
        long[]? axes = c.Opset < 10 ? OnnxAttributes.Ints(node, "axes") : c.Present(3) ? c.Ints(3) : null;
        long[]? steps = c.Present(4) ? c.Ints(4) : null;
        if (steps is not null && steps.Any(s => s <= 0))
        {
            throw c.Error(OnnxImportError.UnsupportedAttribute, "has a negative or zero step, which is not supported.");
        }

        return a =>
        {
            Tensor x = a[0] ?? throw c.Error(OnnxImportError.MalformedGraph, "is missing input 0.");
            Tensor r = x.alias();
            for (int i = 0; i < starts.Length; i++)
            {
                long axis = axes is null ? i : axes[i] < 0 ? axes[i] + x.dim() : axes[i];
                long size = x.shape[axis];
                long start = Math.Clamp(starts[i] < 0 ? starts[i] + size : starts[i], 0, size);
                long end = Math.Clamp(ends[i] < 0 ? ends[i] + size : ends[i], 0, size);
                long step = steps?[i] ?? 1;
                using Tensor prev = r;
                r = prev.slice(axis, start, Math.Max(start, end), step);
            }

            return [r];
        };
    }

    // Pads are [begin per axis..., end per axis...]: an attribute before opset 11 and an input from then on.
    private static Func<Tensor?[], Tensor[]> Pad(NodeContext c)
    {
        NodeProto node = c.Proto;
        long[] pads = c.Opset < 11 ? OnnxAttributes.Ints(node, "pads") ?? throw c.Error(OnnxImportError.MalformedGraph, "has no pads.") : c.Ints(1);
        double value = c.Opset < 11 ? OnnxAttributes.Float(node, "value", 0f) : c.Scalar(2) ?? 0;
        long[]? axes = c.Present(3) ? c.Ints(3) : null;
        string mode = OnnxAttributes.String(node, "mode", "constant");
        PaddingModes torchMode = mode switch
        {
            "constant" => PaddingModes.Constant,
            "reflect" => PaddingModes.Reflect,
            "edge" => PaddingModes.Replicate,
            _ => throw c.Error(OnnxImportError.UnsupportedAttribute, $"mode '{mode}' is not supported."),
        };
        return a =>
        {
            Tensor x = a[0] ?? throw c.Error(OnnxImportError.MalformedGraph, "is missing input 0.");
            int rank = (int)x.dim();
            long[] axisList = axes is null ? [.. Enumerable.Range(0, rank).Select(i => (long)i)] : [.. axes.Select(d => d < 0 ? d + rank : d)];
            var begin = new long[rank];
            var end = new long[rank];
            for (int i = 0; i < axisList.Length; i++)
            {
                begin[axisList[i]] = pads[i];
                end[axisList[i]] = pads[i + axisList.Length];
            }

            if (begin.All(p => p == 0) && end.All(p => p == 0))
            {
                return [x.alias()];
            }

            // torch orders pads from the last dimension backwards, and pads only the trailing ones outside constant mode.
            int first = Enumerable.Range(0, rank).First(i => begin[i] != 0 || end[i] != 0);
            var torchPads = new List<long>();
            for (int d = rank - 1; d >= first; d--)
            {
                torchPads.Add(begin[d]);
                torchPads.Add(end[d]);
            }

            if (torchMode != PaddingModes.Constant && (rank - first > 2 || rank < 3))
            {
                throw c.Error(OnnxImportError.UnsupportedAttribute, $"pads other than the last two dimensions in mode '{mode}'.");
            }

            // Only constant padding takes a fill value.
            return [torchMode == PaddingModes.Constant ? F.pad(x, [.. torchPads], torchMode, value) : F.pad(x, [.. torchPads], torchMode)];
        };
    }
}
