using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace MedTransfer.Training.Onnx;

/// <summary>
/// A group of consecutive layers at one feature-map resolution, derived from the graph. A stage is named by its
/// output stride (input pixels per feature-map pixel), the same way for every architecture: "stem" up to stride 2,
/// "stage1" at 4, "stage2" at 8, "stage3" at 16, "stage4" at 32 (a ResNet's layer1…layer4, a DenseNet's dense blocks
/// 1…4, a ConvNeXt's stages 1…4); "head" for layers after the spatial map is flattened. Used for freezing, gradual
/// unfreezing and discriminative learning rates.
/// </summary>
/// <param name="Name">"stem", "stage1", "stage2", …; "head".</param>
/// <param name="OutputStride">Input pixels per feature-map pixel in this stage (0 for "head").</param>
/// <param name="ParameterNames">Names (as in <c>named_parameters()</c>) of the stage's parameters.</param>
/// <param name="FirstNode">The ONNX name of the stage's first node (where a cut before the stage falls).</param>
/// <param name="LastNode">The ONNX name of the stage's last node.</param>
/// <param name="ParameterCount">Number of scalar parameters in the stage.</param>
public sealed record GraphStage(string Name, int OutputStride, IReadOnlyList<string> ParameterNames, string FirstNode = "", string LastNode = "", long ParameterCount = 0);

/// <summary>
/// A TorchSharp module built from an ONNX graph: weights of Conv, BatchNormalization, LayerNormalization, Gemm,
/// MatMul and the scales and shifts of element-wise layers become trainable parameters (BatchNorm mean/variance
/// buffers), shape computations are folded at import, and the remaining nodes run in the graph's (topological)
/// order. <see cref="OnnxImportOptions.FeatureNode"/> cuts the graph at a node (the pooled features, dropping the
/// classifier). Any operator outside <see cref="SupportedOperators"/> is an <see cref="OnnxImportException"/> naming it
/// and its node. Single 4-D (N×C×H×W) input.
/// </summary>
public sealed class OnnxGraphModule : nn.Module<Tensor, Tensor>
{
    private readonly List<Step> _steps = [];

    // Stage name of each step, parallel to _steps (every node, with or without parameters).
    private readonly List<string> _stepStages = [];
    private readonly List<GraphStage> _stages = [];

    // Constant inputs of the steps, as the export writes them when the node holds no newer value.
    private readonly Dictionary<string, TensorProto> _exportConstants = new(StringComparer.Ordinal);

    // Per value: the last step that reads it (values are released after it when no gradient is recorded).
    private readonly Dictionary<string, int> _lastUse = new(StringComparer.Ordinal);

    internal OnnxGraphModule(ModelProto model)
        : base("onnx_graph")
    {
        Model = model;
    }

    /// <summary>The operators the importer implements (default ONNX domain, opsets 7–17).</summary>
    public static IReadOnlyList<string> SupportedOperators => GraphImporter.Supported;

    /// <summary>The imported model (its initializers hold the values at import time).</summary>
    public ModelProto Model { get; }

    /// <summary>Name of the graph input.</summary>
    public string InputName { get; internal set; } = string.Empty;

    /// <summary>Name of the value the module outputs: the graph output, or the feature node's output.</summary>
    public string OutputName { get; internal set; } = string.Empty;

    /// <summary>The ONNX node that computes <see cref="OutputName"/> (its name, or its output when unnamed).</summary>
    public string OutputNode { get; internal set; } = string.Empty;

    /// <summary>Input channels the graph expects (its declared second dimension).</summary>
    public int InputChannels { get; internal set; }

    /// <summary>The input side length the import was built and probed for.</summary>
    public int InputSize { get; internal set; }

    /// <summary>The graph input's declared shape (−1 where a dimension is symbolic).</summary>
    public IReadOnlyList<long> DeclaredInputShape { get; internal set; } = [];

    /// <summary>The model's default-domain opset.</summary>
    public int Opset { get; internal set; }

    /// <summary>Stages in input-to-output order (those with parameters).</summary>
    public IReadOnlyList<GraphStage> Stages => _stages;

    /// <summary>Values per sample of the output (e.g. 512 for ResNet-18's pooled features).</summary>
    public long OutputChannels { get; internal set; }

    /// <summary>Number of scalar parameters.</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <summary>Imported nodes in execution order (for export and introspection).</summary>
    internal IEnumerable<OnnxNode> Nodes => _steps.Select(s => s.Node);

    internal List<Step> Steps => _steps;

    internal List<string> StepStages => _stepStages;

    internal List<GraphStage> StageList => _stages;

    internal Dictionary<string, TensorProto> ExportConstants => _exportConstants;

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
            using FileStream stream = File.OpenRead(path);
            ModelProto model = ModelProto.Parser.ParseFrom(stream);
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
        try
        {
            new GraphImporter(module, model, options ?? new OnnxImportOptions()).Build();
        }
        catch
        {
            module.Dispose();
            throw;
        }

        module.ComputeLastUses();
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

        // Without autograd an intermediate value is released after its last reader, which bounds the memory of wide
        // graphs (a DenseNet's dense blocks) during feature extraction.
        bool release = !is_grad_enabled();
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
                if (outputs[i].Length > 0)
                {
                    values[outputs[i]] = results[i];
                }
            }

            if (release)
            {
                foreach (string name in inputs)
                {
                    if (name.Length > 0 && name != inputName && name != outputName && _lastUse.GetValueOrDefault(name, -1) == k
                        && values.Remove(name, out Tensor? done) && !results.Any(r => ReferenceEquals(r, done)))
                    {
                        done.Dispose();
                    }
                }
            }
        }

        return values[outputName];
    }

    private void ComputeLastUses()
    {
        for (int k = 0; k < _steps.Count; k++)
        {
            foreach (string name in _steps[k].Inputs)
            {
                if (name.Length > 0)
                {
                    _lastUse[name] = k;
                }
            }
        }
    }

    /// <summary>The value crossing the boundary before step <paramref name="cut"/> (the graph input at 0, the output at the end).</summary>
    internal string BoundaryValue(int cut)
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

    /// <summary>Values produced before step <paramref name="cut"/> (or the graph input) that a later step, or the output, reads.</summary>
    internal List<string> CrossingValues(int cut)
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
                if (input.Length > 0 && produced.Contains(input) && !crossing.Contains(input))
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
    /// The imported part of the model as a standalone ONNX model whose initializers hold the module's current
    /// parameters and BatchNorm statistics (what was trained): the nodes up to <see cref="OutputName"/> in execution
    /// order (shape computations folded into constants), input <see cref="InputName"/> with a symbolic batch, output
    /// <see cref="OutputName"/>.
    /// </summary>
    public ModelProto ToTrainedModel() => ToTrainedModel(_steps.Count);

    /// <summary>
    /// As <see cref="ToTrainedModel()"/>, but only steps [0, <paramref name="steps"/>): the output is the value
    /// crossing the boundary there (<see cref="BoundaryValue"/>), so a frozen prefix of the graph can run on its own.
    /// </summary>
    internal ModelProto ToTrainedModel(int steps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(steps, _steps.Count);
        string outputName = BoundaryValue(steps);
        List<OnnxNode> nodes = [.. _steps.Take(steps).Select(s => s.Node)];
        var initializers = new Dictionary<string, TensorProto>(_exportConstants, StringComparer.Ordinal);
        foreach (OnnxNode node in nodes)
        {
            node.ExportInitializers(initializers);
        }

        var graph = new GraphProto { Name = string.IsNullOrEmpty(Model.Graph.Name) ? "imported" : Model.Graph.Name };
        ValueInfoProto input = Model.Graph.Input.First(i => i.Name == InputName).Clone();
        if (input.Type?.TensorType?.Shape is { Dim.Count: > 0 } shape)
        {
            shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimParam = "N" };
        }

        graph.Input.Add(input);
        graph.Node.AddRange(nodes.Select(n => n.Proto.Clone()));
        var used = new HashSet<string>(nodes.SelectMany(n => n.Proto.Input), StringComparer.Ordinal);
        graph.Initializer.AddRange(initializers.Where(kv => used.Contains(kv.Key)).Select(kv => kv.Value));
        graph.Output.Add(new ValueInfoProto { Name = outputName, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = OnnxTensors.Float } } });
        var copy = new ModelProto
        {
            IrVersion = Model.IrVersion,
            ProducerName = Model.ProducerName,
            ProducerVersion = Model.ProducerVersion,
            Domain = Model.Domain,
            ModelVersion = Model.ModelVersion,
            DocString = Model.DocString,
            Graph = graph,
        };
        copy.OpsetImport.AddRange(Model.OpsetImport.Select(o => o.Clone()));
        copy.MetadataProps.AddRange(Model.MetadataProps.Select(m => m.Clone()));
        return copy;
    }

    /// <summary>Re-initializes all weights as for training from scratch (Kaiming-normal convolutions, fan-out, ReLU gain; normalizations 1/0 with fresh statistics), drawing from torch's global generator.</summary>
    public void ResetToScratch()
    {
        using var guard = no_grad();
        foreach (OnnxNode node in Nodes)
        {
            node.ResetParameters();
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

    /// <summary>One imported node with the names of its run-time inputs ("" where constant or absent) and outputs.</summary>
    internal sealed record Step(OnnxNode Node, string[] Inputs, string[] Outputs);
}
