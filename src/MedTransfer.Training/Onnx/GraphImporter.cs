using System.Globalization;
using Onnx;
using static TorchSharp.torch;

namespace MedTransfer.Training.Onnx;

/// <summary>
/// Builds an <see cref="OnnxGraphModule"/> from a graph: keeps the nodes the output needs, turns Constant nodes and
/// initializers into constants, folds every node whose inputs are all constant (shape arithmetic, weight copies),
/// builds the rest as modules while a probe batch runs through them (so every value has a shape and errors name the
/// node at import), then derives the stages from the resolution changes.
/// </summary>
internal sealed class GraphImporter
{
    public static readonly IReadOnlyList<string> Supported =
    [
        .. new[] { "Conv", "BatchNormalization", "LayerNormalization", "MaxPool", "AveragePool", "Gemm", "MatMul", "Dropout", "Constant", "Shape", "Size", "Reshape" }
            .Concat(UnaryOps.Names).Concat(BinaryNode.Names).Concat(TensorOps.Names).Distinct().Order(StringComparer.Ordinal),
    ];

    private static readonly HashSet<string> s_supported = [.. Supported];

    // Operators whose folded result is meaningless when an input carries the batch marker.
    private static readonly HashSet<string> s_arithmetic =
    [
        "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "Neg", "Abs", "Range", "ReduceProd", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceMean", "Cast", "Equal", "Greater", "Less",
    ];

    /// <summary>Batch of the probe pass at import (not 1, so that the batch dimension can be told from a constant 1).</summary>
    private const int ProbeBatch = 2;

    private readonly OnnxGraphModule _m;
    private readonly ModelProto _model;
    private readonly GraphProto _g;
    private readonly OnnxImportOptions _options;
    private readonly Dictionary<string, TensorProto> _inits = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Tensor> _constants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Tensor> _probes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _strides = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long? H, long? W)> _declaredMaps = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _stepUses = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _remainingUses = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _exportedNames = new(StringComparer.Ordinal);
    private readonly List<long> _stepRanks = [];
    private int _opset;
    private long? _declaredBatch;
    private bool _probeAtDeclaredSize;

    public GraphImporter(OnnxGraphModule module, ModelProto model, OnnxImportOptions options)
    {
        _m = module;
        _model = model;
        _g = model.Graph;
        _options = options;
    }

    /// <summary>Names of the values that are constant at import: initializers, Constant outputs and everything computed from them or from shapes alone.</summary>
    public static HashSet<string> ConstantValues(GraphProto graph)
    {
        var constant = new HashSet<string>(graph.Initializer.Select(t => t.Name), StringComparer.Ordinal);
        foreach (NodeProto node in graph.Node)
        {
            bool folds = node.OpType is "Constant" or "Shape" or "Size" || node.Input.Where(i => i.Length > 0).All(constant.Contains);
            if (folds && IsDefaultDomain(node))
            {
                constant.UnionWith(node.Output.Where(o => o.Length > 0));
            }
        }

        return constant;
    }

    public void Build()
    {
        foreach (TensorProto t in _g.Initializer)
        {
            _inits[t.Name] = t;
        }

        _opset = _model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => (int)o.Version).DefaultIfEmpty(1).Max();
        var realInputs = _g.Input.Where(i => !_inits.ContainsKey(i.Name)).ToList();
        if (realInputs.Count != 1)
        {
            throw new OnnxImportException(OnnxImportError.UnsupportedAttribute, $"The graph has {realInputs.Count} inputs; exactly one (the image) is supported.");
        }

        _m.InputName = realInputs[0].Name;
        _m.Opset = _opset;
        string target = ResolveTarget();
        _m.OutputName = target;
        List<NodeProto> kept = Prune(target);
        try
        {
            Tensor probe = ProbeInput(realInputs[0]);
            _probes[_m.InputName] = probe;
            _strides[_m.InputName] = 1;
            CountUses(kept);
            var nodeNames = new List<string>();
            foreach (NodeProto node in kept)
            {
                if (Visit(node))
                {
                    nodeNames.Add(OnnxAttributes.Describe(node));
                }
            }

            Tensor output = _probes.GetValueOrDefault(target)
                ?? throw new OnnxImportException(OnnxImportError.MalformedGraph, $"The output '{target}' is a constant or is not computed from the input.");
            _m.OutputChannels = output.numel() / ProbeBatch;
            _m.OutputNode = kept.LastOrDefault(n => n.Output.Contains(target)) is { } producer ? OnnxAttributes.Describe(producer) : target;
            AssignStages(nodeNames);
        }
        finally
        {
            foreach (Tensor t in _constants.Values.Concat(_probes.Values))
            {
                t.Dispose();
            }
        }
    }

    private static bool IsDefaultDomain(NodeProto node) => string.IsNullOrEmpty(node.Domain) || node.Domain == "ai.onnx";

    private string ResolveTarget()
    {
        string? wanted = _options.FeatureNode;
        if (wanted is null)
        {
            return _g.Output.Count == 1
                ? _g.Output[0].Name
                : throw new OnnxImportException(OnnxImportError.UnsupportedAttribute, $"The graph has {_g.Output.Count} outputs; name the feature node to use one of them.");
        }

        if (_g.Node.FirstOrDefault(n => n.Name == wanted) is { } byName)
        {
            return byName.Output[0];
        }

        if (_g.Node.Any(n => n.Output.Contains(wanted)))
        {
            return wanted;
        }

        string hint = OnnxFeatureNode.TryFind(_model) is { } found ? $" The automatic choice is node '{found.Node}' (value '{found.Value}')." : string.Empty;
        throw new OnnxImportException(OnnxImportError.FeatureNodeNotFound, $"The graph has no node or value named '{wanted}'.{hint}", nodeName: wanted);
    }

    private List<NodeProto> Prune(string target)
    {
        var needed = new HashSet<string>(StringComparer.Ordinal) { target };
        var keep = new List<NodeProto>();
        for (int i = _g.Node.Count - 1; i >= 0; i--)
        {
            NodeProto node = _g.Node[i];
            if (node.Output.Any(needed.Contains))
            {
                keep.Add(node);
                needed.UnionWith(node.Input.Where(n => n.Length > 0));
            }
        }

        keep.Reverse();
        return keep;
    }

    private Tensor ProbeInput(ValueInfoProto input)
    {
        long[] declared = [.. (input.Type?.TensorType?.Shape?.Dim ?? []).Select(d => d.DimValue > 0 ? d.DimValue : -1)];
        _m.DeclaredInputShape = declared;
        _declaredBatch = declared.Length > 0 && declared[0] > 0 ? declared[0] : null;
        long[] shape;
        if (declared.Length == 4)
        {
            long channels = declared[1] > 0 ? declared[1] : 3;
            long h = _options.InputSize ?? (declared[2] > 0 ? declared[2] : 224);
            long w = _options.InputSize ?? (declared[3] > 0 ? declared[3] : h);
            _probeAtDeclaredSize = declared[2] == h && declared[3] == w;
            shape = [ProbeBatch, channels, h, w];
            _m.InputChannels = (int)channels;
            _m.InputSize = (int)h;
            if (declared[2] > 0 && declared[3] > 0)
            {
                _declaredMaps[input.Name] = (declared[2], declared[3]);
            }
        }
        else if (declared.Length >= 2 && declared.Skip(1).All(d => d > 0))
        {
            shape = [ProbeBatch, .. declared.Skip(1)];
            _m.InputChannels = (int)declared[1];
        }
        else
        {
            throw new OnnxImportException(OnnxImportError.UnsupportedAttribute, $"The graph input '{input.Name}' has shape [{string.Join(", ", declared)}]; an N×C×H×W image input is supported.");
        }

        long count = shape.Aggregate(1L, (a, b) => a * b);
        var random = new Random(1);
        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)random.NextDouble();
        }

        return tensor(values, shape);
    }

    private void CountUses(List<NodeProto> kept)
    {
        HashSet<string> constant = ConstantValues(new GraphProto { Initializer = { _g.Initializer }, Node = { kept } });
        foreach (NodeProto node in kept)
        {
            bool folds = node.OpType is "Constant" or "Shape" or "Size" || node.Input.Where(i => i.Length > 0).All(constant.Contains);
            foreach (string input in node.Input.Where(i => i.Length > 0))
            {
                _remainingUses[input] = _remainingUses.GetValueOrDefault(input) + 1;
                if (!folds)
                {
                    _stepUses[input] = _stepUses.GetValueOrDefault(input) + 1;
                }
            }
        }
    }

    // Returns true when the node became a step (false: folded into a constant).
    private bool Visit(NodeProto node)
    {
        string where = OnnxAttributes.Describe(node);
        if (!IsDefaultDomain(node))
        {
            throw new OnnxImportException(OnnxImportError.UnsupportedOperator, $"Operator '{node.Domain}.{node.OpType}' (node '{where}') is not supported: only the default ONNX domain is.", node.OpType, where);
        }

        if (!s_supported.Contains(node.OpType))
        {
            throw new OnnxImportException(OnnxImportError.UnsupportedOperator, $"ONNX operator '{node.OpType}' (node '{where}') is not supported by the importer. Supported: {string.Join(", ", Supported)}.", node.OpType, where);
        }

        if (node.OpType == "Constant")
        {
            _constants[node.Output[0]] = ConstantAttribute(node);
            return false;
        }

        int n = node.Input.Count;
        var constants = new Tensor?[n];
        var probes = new Tensor?[n];
        for (int i = 0; i < n; i++)
        {
            string input = node.Input[i];
            if (input.Length == 0)
            {
                continue;
            }

            if (_probes.TryGetValue(input, out Tensor? p))
            {
                probes[i] = p;
            }
            else
            {
                constants[i] = Constant(input)
                    ?? throw new OnnxImportException(OnnxImportError.MalformedGraph, $"Node '{where}' ({node.OpType}) reads '{input}', which no earlier node, input or initializer provides (the graph must be topologically sorted).", node.OpType, where);
            }
        }

        if (node.OpType is "Shape" or "Size")
        {
            Tensor of = probes[0] ?? constants[0]!;
            long[] dims = [.. of.shape];
            if (probes[0] is not null && dims[0] == ProbeBatch)
            {
                dims[0] = SymbolicDims.Batch;
            }

            if (node.OpType == "Size")
            {
                _constants[node.Output[0]] = tensor(dims.Any(SymbolicDims.IsSymbolic) ? SymbolicDims.Unknown : dims.Aggregate(1L, (a, b) => a * b));
            }
            else
            {
                long start = OnnxAttributes.Int(node, "start", 0), end = OnnxAttributes.Int(node, "end", dims.Length);
                start = Math.Clamp(start < 0 ? start + dims.Length : start, 0, dims.Length);
                end = Math.Clamp(end < 0 ? end + dims.Length : end, 0, dims.Length);
                _constants[node.Output[0]] = tensor(dims[(int)start..(int)Math.Max(start, end)]);
            }

            Release(node);
            return false;
        }

        bool allConstant = probes.All(p => p is null);
        if (allConstant)
        {
            Fold(node, constants);
            return false;
        }

        AddStep(node, constants, probes);
        Release(node);
        return true;
    }

    private void Fold(NodeProto node, Tensor?[] constants)
    {
        var context = new NodeContext(node, _opset, constants, constants, folding: true, _ => false, _declaredBatch);
        using OnnxNode folded = Create(context, global: false);
        folded.eval();
        Tensor[] results;
        using (no_grad())
        {
            results = Guarded(node, () => folded.Run(constants));
        }

        bool symbolic = s_arithmetic.Contains(node.OpType) && constants.Any(c => c is not null && !c.is_floating_point() && HasSymbol(c));
        for (int i = 0; i < node.Output.Count && i < results.Length; i++)
        {
            if (node.Output[i].Length == 0)
            {
                continue;
            }

            Tensor r = results[i];
            if (symbolic)
            {
                Tensor unknown = full(r.shape, SymbolicDims.Unknown, dtype: ScalarType.Int64);
                r.Dispose();
                r = unknown;
            }

            _constants[node.Output[i]] = r;
        }
    }

    private static bool HasSymbol(Tensor t)
    {
        using Tensor l = t.to(ScalarType.Int64).contiguous();
        return l.data<long>().ToArray().Any(SymbolicDims.IsSymbolic);
    }

    private void AddStep(NodeProto original, Tensor?[] constants, Tensor?[] probes)
    {
        NodeProto proto = original.Clone();
        for (int i = 0; i < proto.Input.Count; i++)
        {
            // A constant read by several steps gets a name per step, so that each can train (and export) its own copy.
            if (constants[i] is null)
            {
                continue;
            }

            string name = proto.Input[i];
            int seen = _exportedNames.GetValueOrDefault(name);
            _exportedNames[name] = seen + 1;
            if (seen > 0)
            {
                proto.Input[i] = string.Create(CultureInfo.InvariantCulture, $"{name}__{seen + 1}");
            }
        }

        var context = new NodeContext(proto, _opset, constants, probes, folding: false, i => _stepUses.GetValueOrDefault(original.Input[i]) == 1, _declaredBatch);
        bool global = proto.OpType == "AveragePool" && _options.GlobalizeFinalAveragePool && CoversWholeMap(proto, probes[0]!);
        OnnxNode node = Create(context, global);
        node.eval();
        Tensor?[] args = [.. probes];
        Tensor[] results;
        using (no_grad())
        {
            results = Guarded(original, () => node.Run(args));
        }

        _stepRanks.Add(results.Length > 0 ? results[0].dim() : 0);
        long stride = probes.Select((p, i) => p is null ? 0 : _strides.GetValueOrDefault(original.Input[i], 1)).Max();
        for (int i = 0; i < proto.Output.Count && i < results.Length; i++)
        {
            if (proto.Output[i].Length > 0)
            {
                _probes[proto.Output[i]] = results[i];
                _strides[proto.Output[i]] = Math.Max(1, stride) * node.Stride;
                TrackDeclaredMap(proto, node, original.Input[0], proto.Output[i]);
            }
            else
            {
                results[i].Dispose();
            }
        }

        for (int i = 0; i < proto.Input.Count; i++)
        {
            if (constants[i] is not null)
            {
                string exportName = proto.Input[i];
                _m.ExportConstants[exportName] = exportName == original.Input[i] && _inits.TryGetValue(exportName, out TensorProto? init)
                    ? init
                    : OnnxTensors.FromTensor(exportName, constants[i]!);
            }
        }

        string[] runtime = [.. proto.Input.Select((name, i) => probes[i] is null ? string.Empty : name)];
        _m.Steps.Add(new OnnxGraphModule.Step(node, runtime, [.. proto.Output]));
    }

    private OnnxNode Create(NodeContext context, bool global)
    {
        string op = context.Proto.OpType;
        return op switch
        {
            "Conv" => new ConvNode(context),
            "BatchNormalization" => new BatchNormNode(context, _options.BatchNormMomentum),
            "LayerNormalization" => new LayerNormNode(context),
            "MaxPool" => new MaxPoolNode(context),
            "AveragePool" => new AveragePoolNode(context, global),
            "Gemm" => new GemmNode(context),
            "MatMul" => new MatMulNode(context),
            "Dropout" => new DropoutNode(context),
            "Reshape" => new ReshapeNode(context),
            _ when BinaryNode.Names.Contains(op) => new BinaryNode(context),
            _ when UnaryOps.Names.Contains(op) => new FunctionNode(context, UnaryOps.Create(context)),
            _ => new FunctionNode(context, TensorOps.Create(context), TensorOps.DataInputs(context.Proto)),
        };
    }

    private static Tensor[] Guarded(NodeProto node, Func<Tensor[]> run)
    {
        try
        {
            return run();
        }
        catch (Exception ex) when (ex is not OnnxImportException and (System.Runtime.InteropServices.ExternalException or ArgumentException or InvalidOperationException or IndexOutOfRangeException))
        {
            string where = OnnxAttributes.Describe(node);
            throw new OnnxImportException(OnnxImportError.MalformedGraph, $"{node.OpType} '{where}' fails on the import probe: {ex.Message.Split('\n')[0]}", node.OpType, where, ex);
        }
    }

    // A pool whose window is the whole map at the declared input size is a global average (see the import option).
    private bool CoversWholeMap(NodeProto node, Tensor input)
    {
        Window2d window = Window2d.Read(node, null);
        (long? h, long? w) = _probeAtDeclaredSize ? (input.shape[2], input.shape[3]) : _declaredMaps.GetValueOrDefault(node.Input[0]);
        return h is long hh && w is long ww && window.Kernel[0] == hh && window.Kernel[1] == ww && window.Pads.All(p => p == 0) && window.AutoPad is "NOTSET" or "VALID";
    }

    private void TrackDeclaredMap(NodeProto node, OnnxNode built, string input, string output)
    {
        if (_probeAtDeclaredSize || !_declaredMaps.TryGetValue(input, out var map))
        {
            return;
        }

        _declaredMaps[output] = built switch
        {
            ConvNode c => (c.Window.OutputSize(map.H, 0), c.Window.OutputSize(map.W, 1)),
            MaxPoolNode p => (p.Window.OutputSize(map.H, 0), p.Window.OutputSize(map.W, 1)),
            AveragePoolNode { IsGlobal: false } p => (p.Window.OutputSize(map.H, 0), p.Window.OutputSize(map.W, 1)),
            _ when node.OpType is "GlobalAveragePool" or "GlobalMaxPool" || built is AveragePoolNode => (1, 1),
            _ => map,
        };
    }

    private Tensor? Constant(string name)
    {
        if (_constants.TryGetValue(name, out Tensor? c))
        {
            return c;
        }

        if (_inits.TryGetValue(name, out TensorProto? init))
        {
            Tensor t = OnnxTensors.ToTensor(init);
            _constants[name] = t;
            return t;
        }

        return null;
    }

    // Probe values are released after their last reader: a DenseNet's probe would otherwise hold every feature map.
    private void Release(NodeProto node)
    {
        foreach (string input in node.Input.Where(i => i.Length > 0))
        {
            int left = _remainingUses[input] - 1;
            _remainingUses[input] = left;
            if (left == 0 && input != _m.InputName && input != _m.OutputName && _probes.Remove(input, out Tensor? p))
            {
                p.Dispose();
            }
        }
    }

    private static Tensor ConstantAttribute(NodeProto node)
    {
        AttributeProto a = node.Attribute.FirstOrDefault()
            ?? throw new OnnxImportException(OnnxImportError.MalformedGraph, $"Constant '{OnnxAttributes.Describe(node)}' has no value.", node.OpType, OnnxAttributes.Describe(node));
        return a.Name switch
        {
            "value" => OnnxTensors.ToTensor(a.T),
            "value_float" => tensor(a.F),
            "value_floats" => tensor(a.Floats.ToArray()),
            "value_int" => tensor(a.I),
            "value_ints" => tensor(a.Ints.ToArray()),
            _ => throw new OnnxImportException(OnnxImportError.UnsupportedAttribute, $"Constant '{OnnxAttributes.Describe(node)}' holds a '{a.Name}', which is not supported.", node.OpType, OnnxAttributes.Describe(node)),
        };
    }

    /// <summary>
    /// Names each step's stage from the resolution of its output (<see cref="GraphStage"/>): the stride reached so far
    /// (so a stage never resumes after a later one began), "head" for the trailing steps that work on flat vectors;
    /// then moves each stage's start back to the nearest boundary one value crosses, so the graph can be cut there
    /// (a bottleneck ResNet downsamples in its second convolution, with the block input still needed by the shortcut).
    /// </summary>
    private void AssignStages(List<string> nodeNames)
    {
        List<OnnxGraphModule.Step> steps = _m.Steps;
        int count = steps.Count;
        var names = new string[count];
        int head = count;
        while (head > 0 && _stepRanks[head - 1] <= 2)
        {
            head--;
        }

        var stageStride = new Dictionary<string, long>(StringComparer.Ordinal);
        long reached = 1;
        for (int k = 0; k < count; k++)
        {
            if (k >= head)
            {
                names[k] = "head";
                continue;
            }

            reached = Math.Max(reached, _strides.GetValueOrDefault(steps[k].Outputs[0], 1));
            names[k] = StageName(reached);
            stageStride[names[k]] = Math.Max(stageStride.GetValueOrDefault(names[k]), reached);
        }

        int previous = 0;
        for (int b = 1; b < count; b++)
        {
            if (names[b] == names[b - 1])
            {
                continue;
            }

            if (names[b] != "head" && _m.CrossingValues(b).Count != 1)
            {
                for (int c = b - 1; c > previous; c--)
                {
                    if (_m.CrossingValues(c).Count == 1)
                    {
                        for (int j = c; j < b; j++)
                        {
                            names[j] = names[b];
                        }

                        break;
                    }
                }
            }

            previous = b;
        }

        var counters = new Dictionary<string, int>(StringComparer.Ordinal);
        var stageParams = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var stageSpan = new Dictionary<string, (string First, string Last)>(StringComparer.Ordinal);
        var order = new List<string>();
        for (int k = 0; k < count; k++)
        {
            string stage = names[k];
            OnnxNode node = steps[k].Node;
            _m.StepStages.Add(stage);
            stageSpan[stage] = stageSpan.TryGetValue(stage, out var span) ? (span.First, nodeNames[k]) : (nodeNames[k], nodeNames[k]);
            if (!node.HasState)
            {
                continue;
            }

            string key = stage + "_" + Kind(node.Proto.OpType);
            counters[key] = counters.GetValueOrDefault(key) + 1;
            string name = string.Create(CultureInfo.InvariantCulture, $"{key}{counters[key]}");
            _m.register_module(name, node);
            if (!stageParams.TryGetValue(stage, out List<string>? list))
            {
                list = [];
                stageParams[stage] = list;
                order.Add(stage);
            }

            list.AddRange(node.named_parameters().Select(p => name + "." + p.name));
        }

        var all = _m.named_parameters().ToDictionary(p => p.name, p => p.parameter.numel(), StringComparer.Ordinal);
        foreach (string stage in order)
        {
            List<string> parameters = stageParams[stage];
            if (parameters.Count == 0)
            {
                continue;
            }

            int stride = stage == "head" ? 0 : (int)stageStride.GetValueOrDefault(stage, 1);
            _m.StageList.Add(new GraphStage(stage, stride, parameters, stageSpan[stage].First, stageSpan[stage].Last, parameters.Sum(p => all[p])));
        }
    }

    private static string StageName(long stride) =>
        stride <= 2 ? "stem" : string.Create(CultureInfo.InvariantCulture, $"stage{(int)Math.Floor(Math.Log2(stride)) - 1}");

    private static string Kind(string op) => op switch
    {
        "Conv" => "conv",
        "BatchNormalization" => "bn",
        "LayerNormalization" => "ln",
        "MaxPool" => "maxpool",
        "AveragePool" => "avgpool",
        "GlobalAveragePool" => "gap",
        "Gemm" => "fc",
        _ => op.ToLowerInvariant(),
    };
}
