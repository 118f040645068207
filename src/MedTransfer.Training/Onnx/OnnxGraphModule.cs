using Google.Protobuf;
using Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedTransfer.Training.Onnx;

/// <summary>Options for <see cref="OnnxGraphModule.Import(ModelProto, OnnxImportOptions?)"/>.</summary>
public sealed record OnnxImportOptions
{
    /// <summary>
    /// Run an AveragePool whose window covers the whole feature map at the graph's declared input
    /// size (CNTK's ResNet ends with a 7×7 pool for 224² inputs) as a global average, so that the
    /// backbone accepts other input sizes. The result at the declared size is unchanged.
    /// </summary>
    public bool GlobalizeFinalAveragePool { get; init; } = true;

    /// <summary>PyTorch-convention momentum of BatchNorm running statistics during training.</summary>
    public double BatchNormMomentum { get; init; } = 0.1;
}

/// <summary>
/// A group of consecutive layers at one feature-map resolution, derived from the graph: a new stage
/// starts wherever a stride-2 (or larger) Conv or pool halves the resolution. Used for freezing,
/// gradual unfreezing and discriminative learning rates.
/// </summary>
/// <param name="Name">"stem", "stage1", "stage2", …; "head" for layers after the spatial map is flattened.</param>
/// <param name="OutputStride">Input pixels per feature-map pixel in this stage (0 for "head").</param>
/// <param name="ParameterNames">Names (as in <c>named_parameters()</c>) of the stage's parameters.</param>
public sealed record GraphStage(string Name, int OutputStride, IReadOnlyList<string> ParameterNames);

/// <summary>
/// A TorchSharp module built from an ONNX graph: initializers of Conv, BatchNormalization, Gemm and
/// MatMul become trainable parameters (BatchNorm mean/variance become buffers), and the nodes run in
/// the graph's (topological) order. Supported operators: Conv (groups, dilations, asymmetric pads,
/// SAME auto-pad), BatchNormalization, Relu, Sigmoid, MaxPool, AveragePool, GlobalAveragePool, Add,
/// Sub, Mul, Div, Concat, Split, Flatten, Reshape, Gemm, MatMul, Identity, Dropout. Any other
/// operator is an <see cref="OnnxImportException"/> naming it. Single input, single output, 4-D
/// (N×C×H×W) input.
/// </summary>
public sealed class OnnxGraphModule : nn.Module<Tensor, Tensor>
{
    private readonly List<(OnnxNode Node, string[] Inputs, string[] Outputs)> _steps = [];
    // Stage name of each step, parallel to _steps (every node, with or without parameters).
    private readonly List<string> _stepStages = [];
    // ONNX value name → buffer name of float constants (looked up per call: to() replaces buffers).
    private readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);
    private readonly List<GraphStage> _stages = [];

    private OnnxGraphModule(ModelProto model)
        : base("onnx_graph")
    {
        Model = model;
    }

    /// <summary>The imported model (its initializers hold the values at import time).</summary>
    public ModelProto Model { get; }

    /// <summary>Name of the graph input.</summary>
    public string InputName { get; private set; } = string.Empty;

    /// <summary>Name of the graph output.</summary>
    public string OutputName { get; private set; } = string.Empty;

    /// <summary>Stages in input-to-output order.</summary>
    public IReadOnlyList<GraphStage> Stages => _stages;

    /// <summary>Number of output channels of the last layer that has weights (e.g. 512 for ResNet-18).</summary>
    public long OutputChannels { get; private set; }

    /// <summary>Imported nodes in execution order (for export and introspection).</summary>
    internal IEnumerable<OnnxNode> Nodes => _steps.Select(s => s.Node);

    /// <summary>Reads and imports an ONNX file.</summary>
    /// <exception cref="OnnxImportException">Missing or unreadable file, or an unsupported graph.</exception>
    public static OnnxGraphModule Load(string path, OnnxImportOptions? options = null) => Import(ReadModel(path), options);

    /// <summary>Reads an ONNX protobuf file.</summary>
    /// <exception cref="OnnxImportException">Missing or unreadable file.</exception>
    public static ModelProto ReadModel(string path)
    {
        if (!File.Exists(path))
        {
            throw new OnnxImportException(OnnxImportError.ModelNotFound, $"ONNX model not found: {path}");
        }

        try
        {
            ModelProto model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
            if (model.Graph is null || model.Graph.Node.Count == 0)
            {
                throw new OnnxImportException(OnnxImportError.Unreadable, $"'{Path.GetFileName(path)}' holds no ONNX graph.");
            }

            return model;
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new OnnxImportException(OnnxImportError.Unreadable, $"'{Path.GetFileName(path)}' is not a readable ONNX model ({ex.Message}).", inner: ex);
        }
    }

    /// <summary>Imports a parsed ONNX model.</summary>
    /// <exception cref="OnnxImportException">The graph uses an unsupported operator or is malformed.</exception>
    public static OnnxGraphModule Import(ModelProto model, OnnxImportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var module = new OnnxGraphModule(model);
        new Builder(module, model.Graph, options ?? new OnnxImportOptions()).Build();
        return module;
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input) => RunSteps(input, 0, _steps.Count);

    /// <summary>Number of steps (imported nodes) in execution order.</summary>
    internal int StepCount => _steps.Count;

    /// <summary>
    /// The index of the first step that belongs to <paramref name="stage"/> or a later stage, i.e. where a graph
    /// cut before that stage falls; <see cref="StepCount"/> when no step does. Returns −1 when the stages are not
    /// contiguous in execution order (a later step of an earlier stage), so no clean cut exists.
    /// </summary>
    internal int CutIndex(string stage)
    {
        int rank = StageRank(stage);
        int first = _stepStages.FindIndex(s => StageRank(s) >= rank);
        if (first < 0)
        {
            return _steps.Count;
        }

        return _stepStages.Skip(first).All(s => StageRank(s) >= rank) ? first : -1;
    }

    /// <summary>
    /// True when exactly one value crosses the boundary before step <paramref name="cut"/>: the graph can then run
    /// in two parts, the first part's output being that value.
    /// </summary>
    internal bool CanCut(int cut) => cut == 0 || cut == _steps.Count || CrossingValues(cut).Count == 1;

    /// <summary>
    /// Runs steps [<paramref name="from"/>, <paramref name="to"/>) on <paramref name="input"/>, the value crossing the
    /// boundary before <paramref name="from"/> (the graph input when 0), and returns the value crossing the boundary
    /// before <paramref name="to"/> (the graph output when <paramref name="to"/> is the step count).
    /// </summary>
    internal Tensor RunSteps(Tensor input, int from, int to)
    {
        string inputName = BoundaryValue(from);
        string outputName = BoundaryValue(to);
        var values = new Dictionary<string, Tensor>(StringComparer.Ordinal) { [inputName] = input };
        if (_constants.Count > 0)
        {
            var buffers = named_buffers(recurse: false).ToDictionary(b => b.name, b => b.buffer, StringComparer.Ordinal);
            foreach ((string value, string buffer) in _constants)
            {
                values[value] = buffers[buffer];
            }
        }

        for (int k = from; k < to; k++)
        {
            (OnnxNode node, string[] inputs, string[] outputs) = _steps[k];
            var args = new Tensor?[inputs.Length];
            for (int i = 0; i < inputs.Length; i++)
            {
                args[i] = inputs[i].Length == 0 ? null : values[inputs[i]];
            }

            Tensor[] results = node.Run(args);
            for (int i = 0; i < outputs.Length && i < results.Length; i++)
            {
                values[outputs[i]] = results[i];
            }
        }

        return values[outputName];
    }

    private string BoundaryValue(int cut)
    {
        if (cut == 0)
        {
            return InputName;
        }

        if (cut == _steps.Count)
        {
            return OutputName;
        }

        IReadOnlyList<string> crossing = CrossingValues(cut);
        return crossing.Count == 1
            ? crossing[0]
            : throw new InvalidOperationException($"{crossing.Count} values cross the graph boundary before step {cut}; a two-part run needs exactly one.");
    }

    // Values produced before step `cut` (or the graph input) that a step at or after `cut`, or the graph output, reads.
    private List<string> CrossingValues(int cut)
    {
        var produced = new HashSet<string>(StringComparer.Ordinal) { InputName };
        for (int k = 0; k < cut; k++)
        {
            produced.UnionWith(_steps[k].Outputs);
        }

        var crossing = new List<string>();
        for (int k = cut; k < _steps.Count; k++)
        {
            foreach (string input in _steps[k].Inputs)
            {
                if (input.Length > 0 && produced.Contains(input) && !_constants.ContainsKey(input) && !crossing.Contains(input))
                {
                    crossing.Add(input);
                }
            }
        }

        if (produced.Contains(OutputName) && !crossing.Contains(OutputName))
        {
            crossing.Add(OutputName);
        }

        return crossing;
    }

    /// <summary>Order of stage names: stem, stage1, stage2, …, then head.</summary>
    internal static int StageRank(string stage) => stage switch
    {
        "stem" => 0,
        "head" => int.MaxValue,
        _ when stage.StartsWith("stage", StringComparison.Ordinal) && int.TryParse(stage.AsSpan(5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int k) => k,
        _ => throw new ArgumentException($"'{stage}' is not a stage name (stem, stage1, stage2, …, head).", nameof(stage)),
    };

    /// <summary>
    /// A copy of the model whose initializers hold the module's current parameters and BatchNorm
    /// statistics (what was trained), for export.
    /// </summary>
    public ModelProto ToTrainedModel()
    {
        var updated = new Dictionary<string, TensorProto>(StringComparer.Ordinal);
        foreach (OnnxNode node in Nodes)
        {
            node.ExportInitializers(updated);
        }

        ModelProto copy = Model.Clone();
        for (int i = 0; i < copy.Graph.Initializer.Count; i++)
        {
            if (updated.TryGetValue(copy.Graph.Initializer[i].Name, out TensorProto? t))
            {
                copy.Graph.Initializer[i] = t;
            }
        }

        return copy;
    }

    /// <summary>Re-initializes all weights as for training from scratch (Kaiming-normal convolutions, fan-out, ReLU gain; BatchNorm 1/0 with fresh statistics), drawing from torch's global generator.</summary>
    public void ResetToScratch()
    {
        using var guard = no_grad();
        foreach (OnnxNode node in Nodes)
        {
            switch (node)
            {
                case ConvNode conv:
                    nn.init.kaiming_normal_(conv.Weight, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
                    foreach ((string name, Parameter p) in conv.named_parameters())
                    {
                        if (name == "bias")
                        {
                            p.zero_();
                        }
                    }

                    break;
                case BatchNormNode bn:
                    bn.Weight.fill_(1.0);
                    bn.Bias.zero_();
                    bn.ResetRunningStatistics();
                    break;
                default:
                    foreach ((string name, Parameter p) in node.named_parameters())
                    {
                        if (name == "weight")
                        {
                            nn.init.kaiming_uniform_(p, a: Math.Sqrt(5));
                        }
                        else
                        {
                            p.zero_();
                        }
                    }

                    break;
            }
        }
    }

    /// <summary>
    /// Stores 4-D convolution weights in channels-last order (NHWC strides; measured faster on
    /// CPU). Values and names are unchanged; call before creating an optimizer.
    /// </summary>
    public void ToChannelsLast()
    {
        using var guard = no_grad();
        foreach (ConvNode conv in Nodes.OfType<ConvNode>())
        {
            conv.ToChannelsLast();
        }
    }

    /// <summary>Sub-modules (nodes with state) whose name starts with the stage name, e.g. "stage3_".</summary>
    internal IEnumerable<nn.Module> StageModules(string stage) =>
        named_children().Where(c => c.name.StartsWith(stage + "_", StringComparison.Ordinal)).Select(c => c.module);

    /// <summary>The BatchNorm layers, for AdaBN and freezing.</summary>
    internal IEnumerable<BatchNormNode> BatchNorms => Nodes.OfType<BatchNormNode>();

    private sealed class Builder
    {
        private static readonly HashSet<string> s_supported =
        [
            "Conv", "BatchNormalization", "Relu", "Sigmoid", "MaxPool", "AveragePool", "GlobalAveragePool",
            "Add", "Sub", "Mul", "Div", "Concat", "Split", "Flatten", "Reshape", "Gemm", "MatMul", "Identity", "Dropout",
        ];

        private readonly OnnxGraphModule _m;
        private readonly GraphProto _g;
        private readonly OnnxImportOptions _options;
        private readonly Dictionary<string, TensorProto> _inits = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long[]> _int64Consts = new(StringComparer.Ordinal);

        // Per value: cumulative stride (0 once flattened), and the spatial size when known.
        private readonly Dictionary<string, (int Stride, long? H, long? W)> _info = new(StringComparer.Ordinal);

        public Builder(OnnxGraphModule module, GraphProto graph, OnnxImportOptions options)
        {
            _m = module;
            _g = graph;
            _options = options;
        }

        public void Build()
        {
            foreach (TensorProto t in _g.Initializer)
            {
                _inits[t.Name] = t;
            }

            var realInputs = _g.Input.Where(i => !_inits.ContainsKey(i.Name)).ToList();
            if (realInputs.Count != 1 || _g.Output.Count != 1)
            {
                throw new OnnxImportException(OnnxImportError.UnsupportedAttribute, $"The graph has {realInputs.Count} inputs and {_g.Output.Count} outputs; exactly one of each is supported.");
            }

            _m.InputName = realInputs[0].Name;
            _m.OutputName = _g.Output[0].Name;
            long[] declared = [.. (realInputs[0].Type?.TensorType?.Shape?.Dim ?? []).Select(d => d.DimValue > 0 ? d.DimValue : -1)];
            _info[_m.InputName] = (1, declared.Length == 4 && declared[2] > 0 ? declared[2] : null, declared.Length == 4 && declared[3] > 0 ? declared[3] : null);

            // First pass: check operators and availability, infer strides/sizes, choose stage names.
            var nodeStrides = new List<int>();
            foreach (NodeProto node in _g.Node)
            {
                if (!string.IsNullOrEmpty(node.Domain) && node.Domain != "ai.onnx")
                {
                    throw new OnnxImportException(OnnxImportError.UnsupportedOperator, $"Operator '{node.Domain}.{node.OpType}' (node '{OnnxAttributes.Describe(node)}') is not supported: only the default ONNX domain is.", node.OpType, OnnxAttributes.Describe(node));
                }

                if (!s_supported.Contains(node.OpType))
                {
                    throw new OnnxImportException(OnnxImportError.UnsupportedOperator, $"ONNX operator '{node.OpType}' (node '{OnnxAttributes.Describe(node)}') is not supported by the importer. Supported: {string.Join(", ", s_supported.Order(StringComparer.Ordinal))}.", node.OpType, OnnxAttributes.Describe(node));
                }

                foreach (string input in node.Input)
                {
                    if (input.Length > 0 && !_info.ContainsKey(input) && !_inits.ContainsKey(input))
                    {
                        throw new OnnxImportException(OnnxImportError.MalformedGraph, $"Node '{OnnxAttributes.Describe(node)}' ({node.OpType}) reads '{input}', which no earlier node, input or initializer provides (the graph must be topologically sorted).", node.OpType, OnnxAttributes.Describe(node));
                    }
                }

                (int stride, long? h, long? w) = Infer(node);
                foreach (string output in node.Output)
                {
                    _info[output] = (stride, h, w);
                }

                nodeStrides.Add(stride);
            }

            if (!_info.ContainsKey(_m.OutputName))
            {
                throw new OnnxImportException(OnnxImportError.MalformedGraph, $"No node produces the graph output '{_m.OutputName}'.");
            }

            int[] distinct = [.. nodeStrides.Where(s => s > 0).Distinct().Order()];
            string StageName(int stride) => stride == 0 ? "head" : Array.IndexOf(distinct, stride) is 0 ? "stem" : $"stage{Array.IndexOf(distinct, stride)}";

            // Second pass: build modules with readable names.
            var counters = new Dictionary<string, int>(StringComparer.Ordinal);
            var stageParams = new Dictionary<string, (int Stride, List<string> Names)>(StringComparer.Ordinal);
            var stageOrder = new List<string>();
            for (int i = 0; i < _g.Node.Count; i++)
            {
                NodeProto node = _g.Node[i];
                string stage = StageName(nodeStrides[i]);
                string kind = Kind(node.OpType);
                string key = stage + "_" + kind;
                counters[key] = counters.GetValueOrDefault(key) + 1;
                string name = $"{key}{counters[key]}";
                OnnxNode built = Create(name, node);
                if (built.HasState)
                {
                    _m.register_module(name, built);
                    if (!stageParams.TryGetValue(stage, out var entry))
                    {
                        entry = (nodeStrides[i], []);
                        stageParams[stage] = entry;
                        stageOrder.Add(stage);
                    }

                    entry.Names.AddRange(built.named_parameters().Select(p => name + "." + p.name));
                }

                // Initializers a node holds itself (weights) are not passed at run time.
                string[] inputs = [.. node.Input.Select(n => _inits.ContainsKey(n) && !_m._constants.ContainsKey(n) ? string.Empty : n)];
                _m._steps.Add((built, inputs, [.. node.Output]));
                _m._stepStages.Add(stage);
                if (built is ConvNode || built is GemmNode || built is MatMulNode)
                {
                    _m.OutputChannels = built.named_parameters().First().parameter.shape[0];
                    if (built is MatMulNode)
                    {
                        _m.OutputChannels = built.named_parameters().First().parameter.shape[^1];
                    }
                }
            }

            foreach (string stage in stageOrder)
            {
                _m._stages.Add(new GraphStage(stage, stageParams[stage].Stride, stageParams[stage].Names));
            }
        }

        private static string Kind(string op) => op switch
        {
            "Conv" => "conv",
            "BatchNormalization" => "bn",
            "MaxPool" => "maxpool",
            "AveragePool" => "avgpool",
            "GlobalAveragePool" => "gap",
            "Gemm" => "fc",
            _ => op.ToLowerInvariant(),
        };

        private (int Stride, long? H, long? W) Infer(NodeProto node)
        {
            (int stride, long? h, long? w) = node.Input.Count > 0 && _info.TryGetValue(node.Input[0], out var x) ? x : (1, null, null);
            switch (node.OpType)
            {
                case "Conv":
                case "MaxPool":
                case "AveragePool":
                {
                    long[]? kernel = node.OpType == "Conv" && node.Input.Count > 1 && _inits.TryGetValue(node.Input[1], out TensorProto? wt)
                        ? [wt.Dims[2], wt.Dims[3]]
                        : null;
                    if (node.OpType == "Conv" && kernel is null)
                    {
                        throw new OnnxImportException(OnnxImportError.UnsupportedAttribute, $"Conv '{OnnxAttributes.Describe(node)}' takes its weights from another node; only constant (initializer) weights are supported.", node.OpType, OnnxAttributes.Describe(node));
                    }

                    Window2d window = Window2d.Read(node, kernel);
                    return (stride == 0 ? 0 : stride * (int)Math.Max(window.Strides[0], window.Strides[1]), window.OutputSize(h, 0), window.OutputSize(w, 1));
                }

                case "GlobalAveragePool":
                    return (stride, 1, 1);
                case "Add":
                case "Sub":
                case "Mul":
                case "Div":
                case "Concat":
                    int max = stride;
                    foreach (string input in node.Input)
                    {
                        if (_info.TryGetValue(input, out var other))
                        {
                            max = Math.Max(max, other.Stride);
                        }
                    }

                    return (max, h, w);
                case "Flatten":
                case "Reshape":
                case "Gemm":
                case "MatMul":
                    return (0, null, null);
                default:
                    return (stride, h, w);
            }
        }

        private OnnxNode Create(string name, NodeProto node)
        {
            TensorProto? Init(int index) => index < node.Input.Count && _inits.TryGetValue(node.Input[index], out TensorProto? t) ? t : null;
            TensorProto InitRequired(int index) => Init(index)
                ?? throw new OnnxImportException(OnnxImportError.UnsupportedAttribute, $"{node.OpType} '{OnnxAttributes.Describe(node)}' input {index} must be a constant (initializer).", node.OpType, OnnxAttributes.Describe(node));

            switch (node.OpType)
            {
                case "Conv":
                    return new ConvNode(name, node, InitRequired(1), Init(2));
                case "BatchNormalization":
                    return new BatchNormNode(name, node, [InitRequired(1), InitRequired(2), InitRequired(3), InitRequired(4)], _options.BatchNormMomentum);
                case "MaxPool":
                    return new MaxPoolNode(name, node);
                case "AveragePool":
                    return new AveragePoolNode(name, node, _options.GlobalizeFinalAveragePool && CoversWholeMap(node));
                case "Gemm":
                    return new GemmNode(name, node, Init(1), Init(2));
                case "MatMul":
                    return new MatMulNode(name, node, Init(1));
                case "Dropout":
                    double ratio = Init(1) is { } r ? OnnxTensors.ReadFloats(r)[0] : OnnxAttributes.Float(node, "ratio", 0.5f);
                    return new DropoutNode(name, node, ratio);
                default:
                    RegisterConstants(node);
                    return new FunctionNode(name, node, Function(node));
            }
        }

        private bool CoversWholeMap(NodeProto node)
        {
            Window2d window = Window2d.Read(node, null);
            return _info.TryGetValue(node.Input[0], out var x) && x.H is long h && x.W is long w
                && window.Kernel[0] == h && window.Kernel[1] == w && window.Pads.All(p => p == 0) && window.AutoPad is "NOTSET" or "VALID";
        }

        private void RegisterConstants(NodeProto node)
        {
            foreach (string input in node.Input)
            {
                if (!_inits.TryGetValue(input, out TensorProto? t) || _m._constants.ContainsKey(input))
                {
                    continue;
                }

                if (t.DataType == OnnxTensors.Int64)
                {
                    _int64Consts[input] = OnnxTensors.ReadInt64s(t);
                    continue;
                }

                string bufferName = "const_" + (_m._constants.Count + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
                _m._constants[input] = bufferName;
                _m.register_buffer(bufferName, tensor(OnnxTensors.ReadFloats(t), OnnxTensors.Shape(t)));
            }
        }

        private long[] Int64Input(NodeProto node, int index) =>
            index < node.Input.Count && _int64Consts.TryGetValue(node.Input[index], out long[]? v)
                ? v
                : throw new OnnxImportException(OnnxImportError.UnsupportedAttribute, $"{node.OpType} '{OnnxAttributes.Describe(node)}' input {index} must be a constant int64 tensor.", node.OpType, OnnxAttributes.Describe(node));

        private Func<Tensor?[], Tensor[]> Function(NodeProto node)
        {
            string where = OnnxAttributes.Describe(node);
            Tensor Arg(Tensor?[] a, int i) => i < a.Length && a[i] is { } t
                ? t
                : throw new OnnxImportException(OnnxImportError.MalformedGraph, $"{node.OpType} '{where}' is missing input {i}.", node.OpType, where);
            if (OnnxAttributes.Find(node, "broadcast") is not null && OnnxAttributes.Find(node, "axis") is not null)
            {
                throw new OnnxImportException(OnnxImportError.UnsupportedAttribute, $"{node.OpType} '{where}' uses legacy axis broadcasting (opset < 7), which is not supported.", node.OpType, where);
            }

            switch (node.OpType)
            {
                case "Relu":
                    return a => [Arg(a, 0).relu()];
                case "Sigmoid":
                    return a => [Arg(a, 0).sigmoid()];
                case "GlobalAveragePool":
                    return a => [Arg(a, 0).mean([2, 3], keepdim: true)];
                case "Add":
                    return a => [Arg(a, 0).add(Arg(a, 1))];
                case "Sub":
                    return a => [Arg(a, 0).sub(Arg(a, 1))];
                case "Mul":
                    return a => [Arg(a, 0).mul(Arg(a, 1))];
                case "Div":
                    return a => [Arg(a, 0).div(Arg(a, 1))];
                case "Identity":
                    return a => [Arg(a, 0).alias()];
                case "Concat":
                {
                    long axis = OnnxAttributes.Find(node, "axis") is { } ax
                        ? ax.I
                        : throw new OnnxImportException(OnnxImportError.MalformedGraph, $"Concat '{where}' has no axis.", node.OpType, where);
                    return a => [cat([.. a.Select((_, i) => Arg(a, i))], axis)];
                }

                case "Split":
                {
                    long axis = OnnxAttributes.Int(node, "axis", 0);
                    long[]? sizes = OnnxAttributes.Ints(node, "split") ?? (node.Input.Count > 1 && node.Input[1].Length > 0 ? Int64Input(node, 1) : null);
                    int parts = node.Output.Count;
                    return a =>
                    {
                        Tensor x = Arg(a, 0);
                        long dim = axis < 0 ? x.dim() + axis : axis;
                        long[] s = sizes ?? [.. Enumerable.Repeat(x.shape[dim] / parts, parts)];
                        return x.split(s, dim);
                    };
                }

                case "Flatten":
                {
                    long axis = OnnxAttributes.Int(node, "axis", 1);
                    return a =>
                    {
                        Tensor x = Arg(a, 0);
                        long ax = axis < 0 ? x.dim() + axis : axis;
                        long outer = 1;
                        for (int i = 0; i < ax; i++)
                        {
                            outer *= x.shape[i];
                        }

                        return [x.reshape(outer, -1)];
                    };
                }

                case "Reshape":
                {
                    long[] shape = OnnxAttributes.Ints(node, "shape") ?? Int64Input(node, 1);
                    bool allowZero = OnnxAttributes.Int(node, "allowzero", 0) != 0;
                    return a =>
                    {
                        Tensor x = Arg(a, 0);
                        long[] target = [.. shape];
                        for (int i = 0; i < target.Length; i++)
                        {
                            if (target[i] == 0 && !allowZero)
                            {
                                target[i] = x.shape[i];
                            }
                        }

                        return [x.reshape(target)];
                    };
                }

                default:
                    throw new OnnxImportException(OnnxImportError.UnsupportedOperator, $"ONNX operator '{node.OpType}' (node '{where}') is not supported by the importer.", node.OpType, where);
            }
        }
    }
}
