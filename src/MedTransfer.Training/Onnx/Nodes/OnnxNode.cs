using Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedTransfer.Training.Onnx;

/// <summary>
/// One imported ONNX node. Nodes that own parameters or buffers (Conv, normalizations, Gemm, MatMul, affine
/// element-wise constants, Dropout for its training flag) are registered as sub-modules of the graph module, so
/// <c>train()</c>/<c>eval()</c>, <c>parameters()</c> and <c>state_dict()</c> see them. Constant inputs (weights,
/// shapes, axes, scalars) are taken at import; <see cref="Run"/> receives only the values computed at run time
/// (null at the index of a constant or absent input).
/// </summary>
internal abstract class OnnxNode : nn.Module
{
    protected OnnxNode(NodeContext context)
        : base(context.Proto.OpType)
    {
        Proto = context.Proto;
        Where = context.Where;
    }

    /// <summary>The ONNX node this module was built from, as the export writes it.</summary>
    public NodeProto Proto { get; }

    /// <summary>The node's name (or first output) for messages.</summary>
    protected string Where { get; }

    /// <summary>True when the node owns parameters or buffers (it is then a registered sub-module).</summary>
    public virtual bool HasState => false;

    /// <summary>True when the node changes the spatial resolution by its stride (Conv and the pools).</summary>
    public virtual long Stride => 1;

    /// <summary>Runs the node on its run-time inputs (null where the input is a constant or absent).</summary>
    public abstract Tensor[] Run(Tensor?[] inputs);

    /// <summary>Writes the node's constant inputs (current parameter and buffer values) as ONNX initializers.</summary>
    public virtual void ExportInitializers(IDictionary<string, TensorProto> initializers)
    {
    }

    /// <summary>Re-initializes the node's parameters as for training from scratch (torch's global generator).</summary>
    public virtual void ResetParameters()
    {
        foreach ((string name, Parameter p) in named_parameters())
        {
            if (name == "weight" && p.dim() >= 2)
            {
                nn.init.kaiming_uniform_(p, a: Math.Sqrt(5));
            }
            else if (name == "weight")
            {
                p.fill_(1.0);
            }
            else
            {
                p.zero_();
            }
        }
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

    protected Tensor Required(Tensor?[] inputs, int index) =>
        index < inputs.Length && inputs[index] is { } t
            ? t
            : throw new OnnxImportException(OnnxImportError.MalformedGraph, $"Node '{Where}' ({Proto.OpType}) is missing input {index}.", Proto.OpType, Where);

    protected static TensorProto ToProto(string name, Tensor t, IReadOnlyList<long>? dims = null) => OnnxTensors.FromTensor(name, t, dims);
}

/// <summary>
/// What a node is built from: its ONNX node, the model's opset, the constant inputs (CPU tensors, float32 or
/// int64, by input index), the probe values of its run-time inputs (a small forward pass at import gives every
/// value its shape), and whether it is built only to fold constants.
/// </summary>
internal sealed class NodeContext
{
    public NodeContext(NodeProto proto, int opset, Tensor?[] constants, Tensor?[] probes, bool folding, Func<int, bool> trainable, long? declaredBatch)
    {
        Proto = proto;
        Opset = opset;
        Constants = constants;
        Probes = probes;
        Folding = folding;
        _trainable = trainable;
        DeclaredBatch = declaredBatch;
    }

    private readonly Func<int, bool> _trainable;

    public NodeProto Proto { get; }

    public int Opset { get; }

    public Tensor?[] Constants { get; }

    public Tensor?[] Probes { get; }

    /// <summary>True while constant-folding: every input is then passed to <see cref="OnnxNode.Run"/> as a tensor.</summary>
    public bool Folding { get; }

    /// <summary>The graph input's batch size when the model declares it as a fixed number (exporters write 1).</summary>
    public long? DeclaredBatch { get; }

    public string Where => OnnxAttributes.Describe(Proto);

    public bool Present(int index) => index < Proto.Input.Count && Proto.Input[index].Length > 0;

    /// <summary>True when input <paramref name="index"/> is a constant that may become a trainable parameter of this node.</summary>
    public bool Trainable(int index) => !Folding && Constant(index) is not null && _trainable(index);

    public Tensor? Constant(int index) => Folding || index >= Constants.Length ? null : Constants[index];

    /// <summary>The constant's value even when folding (attribute-like inputs: shapes, axes, pads, bounds).</summary>
    public Tensor? ConstantValue(int index) => index < Constants.Length ? Constants[index] : null;

    /// <summary>The probe tensor (or constant) at the input, for shapes and ranks.</summary>
    public Tensor? Probe(int index) => index < Probes.Length ? Probes[index] ?? ConstantValue(index) : ConstantValue(index);

    public OnnxImportException Error(OnnxImportError reason, string what) =>
        new(reason, $"{Proto.OpType} '{Where}': {what}", Proto.OpType, Where);

    /// <summary>
    /// An attribute-like integer input (axes, pads, shape, split sizes) that must be constant. Only Reshape may see the
    /// batch marker (<paramref name="allowBatch"/>); anywhere else a value computed from the batch size is refused.
    /// </summary>
    public long[] Ints(int index, bool allowBatch = false)
    {
        Tensor t = ConstantValue(index) ?? throw Error(OnnxImportError.UnsupportedAttribute, $"input {index} ('{Proto.Input[index]}') must be a constant the importer can compute (it depends on run-time values).");
        using Tensor l = t.to(ScalarType.Int64).contiguous();
        long[] values = l.data<long>().ToArray();
        if (values.Any(v => SymbolicDims.IsUnknown(v) || (!allowBatch && v == SymbolicDims.Batch)))
        {
            throw Error(OnnxImportError.UnsupportedAttribute, $"input {index} ('{Proto.Input[index]}') is computed from the batch size in a way the importer cannot follow.");
        }

        return values;
    }

    /// <summary>Axes from the attribute (older opsets) or the constant input (newer opsets); null when neither is given.</summary>
    public long[]? Axes(int inputIndex, string attribute = "axes") =>
        OnnxAttributes.Ints(Proto, attribute) ?? (Present(inputIndex) ? Ints(inputIndex) : null);

    /// <summary>A scalar float input that must be constant (Clip bounds, Dropout ratio, Pad value).</summary>
    public double? Scalar(int index)
    {
        if (!Present(index))
        {
            return null;
        }

        Tensor t = ConstantValue(index) ?? throw Error(OnnxImportError.UnsupportedAttribute, $"input {index} ('{Proto.Input[index]}') must be a constant.");
        return t.numel() == 1 ? t.to(ScalarType.Float64).item<double>() : throw Error(OnnxImportError.MalformedGraph, $"input {index} must hold one value.");
    }
}

/// <summary>
/// Shape values computed at import may depend on the batch size, which varies at run time: the batch dimension is
/// carried as a marker value through the constant-folded shape arithmetic (Shape → Gather → Unsqueeze → Concat →
/// Reshape), and any other arithmetic on it gives an unknown value that a node refuses with a typed error.
/// </summary>
internal static class SymbolicDims
{
    /// <summary>Stands for the batch size in a folded shape.</summary>
    public const long Batch = -7_777_777_777L;

    /// <summary>A folded value that depends on the batch size through arithmetic.</summary>
    public const long Unknown = -8_888_888_888L;

    public static bool IsUnknown(long v) => v == Unknown;

    public static bool IsSymbolic(long v) => v is Batch or Unknown;
}

/// <summary>
/// Parameter-free nodes defined by a function of their inputs. Constant data inputs (e.g. a constant tensor
/// concatenated to a feature map) are held as buffers and passed to the function in their place.
/// </summary>
internal sealed class FunctionNode : OnnxNode
{
    private readonly Func<Tensor?[], Tensor[]> _run;
    private readonly int[] _held;

    public FunctionNode(NodeContext context, Func<Tensor?[], Tensor[]> run, IEnumerable<int>? dataInputs = null)
        : base(context)
    {
        _run = run;
        _held = [.. (dataInputs ?? []).Where(i => context.Constant(i) is not null)];
        foreach (int i in _held)
        {
            register_buffer($"const{i}", context.Constant(i)!.clone());
        }
    }

    public override bool HasState => _held.Length > 0;

    public override Tensor[] Run(Tensor?[] inputs)
    {
        if (_held.Length == 0)
        {
            return _run(inputs);
        }

        var all = new Tensor?[Math.Max(inputs.Length, _held.Max() + 1)];
        inputs.CopyTo(all, 0);
        foreach (int i in _held)
        {
            all[i] = B($"const{i}");
        }

        return _run(all);
    }
}
