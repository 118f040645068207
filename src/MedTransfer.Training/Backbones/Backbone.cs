using MedTransfer.Training.Onnx;
using TorchSharp.Utils;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MedTransfer.Training.Backbones;

/// <summary>Names of the backbones a configuration can ask for.</summary>
public static class BackboneNames
{
    /// <summary>The ImageNet ResNet-18 (CNTK export, blocks [2,2,2,3], 512-d features).</summary>
    public const string ResNet18ImageNet = "resnet18-imagenet";

    /// <summary>The same graph with Kaiming-initialized weights: the from-scratch baseline.</summary>
    public const string ResNet18Scratch = "resnet18-scratch";

    /// <summary>All names.</summary>
    public static IReadOnlyList<string> All { get; } = [ResNet18ImageNet, ResNet18Scratch];

    /// <summary>True when <paramref name="backbone"/> names a user's ONNX file (a path ending in .onnx) rather than a built-in backbone.</summary>
    public static bool IsOnnxFile(string backbone) => backbone is not null && backbone.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// The ImageNet preprocessing of <c>ResNetPreprocess.onnx</c>, reproduced exactly: input in [0, 1]
/// (the normalization recipe's output, RGB or replicated grey) is scaled to 0–255, reordered to BGR,
/// and the 1×3×224×224 ImageNet mean image is subtracted. For another input size the mean image is
/// resampled once (area averaging when shrinking, bilinear when enlarging); at 224² it is used as is.
/// A single-channel input is replicated to three channels.
/// </summary>
public sealed class MeanImagePreprocess : nn.Module<Tensor, Tensor>
{

    /// <summary>Creates the module from the mean image (1×3×H×W, BGR order, 0–255 scale).</summary>
    public MeanImagePreprocess(Tensor meanImage, int size)
        : base("preprocess")
    {
        ArgumentNullException.ThrowIfNull(meanImage);
        if (meanImage.dim() != 4 || meanImage.shape[1] != 3)
        {
            throw new ArgumentException("The mean image must be 1×3×H×W.", nameof(meanImage));
        }

        Tensor mean;
        using (no_grad())
        {
            mean = meanImage.shape[2] == size && meanImage.shape[3] == size
                ? meanImage.clone()
                : size < meanImage.shape[2]
                    ? F.adaptive_avg_pool2d(meanImage, [size, size])
                    : F.interpolate(meanImage, [size, size], mode: InterpolationMode.Bilinear, align_corners: false);
        }

        Size = size;
        register_buffer("mean_image", mean);
    }

    /// <summary>Input side length this module was built for.</summary>
    public int Size { get; }

    /// <summary>The (resampled) mean image, 1×3×S×S, BGR.</summary>
    public Tensor MeanImage => Buffer("mean_image");

    // Looked up per call: to(device) replaces registered buffers.
    private Tensor Buffer(string name) => named_buffers(recurse: false).First(b => b.name == name).buffer;

    /// <inheritdoc/>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        Tensor x = input.shape[1] == 1 ? input.expand(-1, 3, -1, -1) : input;
        Tensor result = x.mul(255f).flip(1).sub(Buffer("mean_image"));
        return result.MoveToOuterDisposeScope();
    }
}

/// <summary>How <see cref="Backbone.Import"/> builds a backbone from a user's ONNX file.</summary>
public sealed record BackboneImportOptions
{
    /// <summary>Input side length the backbone is built for; null: the graph's declared size, else 224.</summary>
    public int? ImageSize { get; init; }

    /// <summary>The node (or value) whose output holds the features; null: found by <see cref="OnnxFeatureNode.Find"/>.</summary>
    public string? FeatureNode { get; init; }

    /// <summary>The input the graph expects; null: the model's metadata (<see cref="InputConvention.FromMetadata"/>), else
    /// torchvision's ImageNet convention for 3 channels and plain [0, 1] for 1.</summary>
    public InputConvention? Input { get; init; }

    /// <summary>PyTorch-convention momentum of BatchNorm running statistics during training.</summary>
    public double BatchNormMomentum { get; init; } = 0.1;
}

/// <summary>What a backbone imported from a user's ONNX file was built from (for reports and provenance).</summary>
/// <param name="Path">The file as given.</param>
/// <param name="Sha256">SHA-256 of the file's bytes (lower-case hex).</param>
/// <param name="FeatureNode">The node whose output is the features.</param>
/// <param name="FeatureValue">The ONNX value of the features.</param>
/// <param name="FeatureNodeReason">"named in the options", or how the automatic choice was made.</param>
/// <param name="Input">The input convention in force.</param>
/// <param name="InputSource">"options", "metadata" or "default".</param>
/// <param name="Opset">The model's default-domain opset.</param>
/// <param name="Producer">The model's producer name and version.</param>
/// <param name="ImportSeconds">Time to read and import the file.</param>
public sealed record ImportedBackbone(string Path, string Sha256, string FeatureNode, string FeatureValue, string FeatureNodeReason, InputConvention Input, string InputSource, int Opset, string Producer, double ImportSeconds);

/// <summary>
/// A feature extractor: input preprocessing (<see cref="MeanImagePreprocess"/> for the built-in ResNet-18,
/// <see cref="ConventionPreprocess"/> for an imported graph) then the ONNX graph, flattened to N×D features.
/// Input N×3×S×S (or N×1×S×S) in [0, 1].
/// </summary>
public sealed class Backbone : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "preprocess")]
    private readonly nn.Module<Tensor, Tensor> _preprocess;

    [ComponentName(Name = "graph")]
    private readonly OnnxGraphModule _graph;

    private Backbone(string name, string identity, nn.Module<Tensor, Tensor> preprocess, OnnxGraphModule graph, int imageSize)
        : base("backbone")
    {
        Name = name;
        Identity = identity;
        _preprocess = preprocess;
        _graph = graph;
        ImageSize = imageSize;
        RegisterComponents();
    }

    /// <summary>The backbone's configuration name (<see cref="BackboneNames"/>).</summary>
    public string Name { get; }

    /// <summary>
    /// What fixes the initial weights and the input size (e.g. "resnet18-imagenet@128", "resnet18-scratch/seed=3@128"):
    /// two freshly created backbones with the same identity compute the same activations, so activations of their
    /// frozen layers can be computed once and shared.
    /// </summary>
    public string Identity { get; }

    /// <summary>Input side length.</summary>
    public int ImageSize { get; }

    /// <summary>Length of the feature vector (512 for ResNet-18).</summary>
    public int FeatureDimension => (int)_graph.OutputChannels;

    /// <summary>The imported graph.</summary>
    public OnnxGraphModule Graph => _graph;

    /// <summary>What an imported backbone was built from; null for the built-in ones.</summary>
    public ImportedBackbone? Imported { get; private init; }

    /// <summary>The input preprocessing (for the ImageNet ResNet-18: <see cref="MeanImagePreprocess"/>).</summary>
    public nn.Module<Tensor, Tensor> Preprocess => _preprocess;

    /// <summary>Stages of the graph (parameter names are relative to the graph: prefix "graph.").</summary>
    public IReadOnlyList<GraphStage> Stages => _graph.Stages;

    /// <summary>Creates a backbone by name.</summary>
    /// <param name="name">One of <see cref="BackboneNames.All"/>.</param>
    /// <param name="imageSize">Input side length (224 reproduces the ImageNet setting; smaller is faster).</param>
    /// <param name="seed">Seed of the Kaiming initialization of the from-scratch variant.</param>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    /// <exception cref="OnnxImportException">The model files are missing or unreadable.</exception>
    public static Backbone Create(string name, int imageSize = 224, long seed = 0)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (imageSize < 32 || imageSize > 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(imageSize), imageSize, "The input size must be between 32 and 1024 pixels.");
        }

        if (!BackboneNames.All.Contains(name))
        {
            throw new ArgumentException($"Unknown backbone '{name}'. Known: {string.Join(", ", BackboneNames.All)}.", nameof(name));
        }

        OnnxGraphModule graph = OnnxGraphModule.Load(PretrainedModels.ResNet18Path);
        using Tensor mean = LoadMeanImage(PretrainedModels.ResNet18PreprocessPath);
        bool scratch = name == BackboneNames.ResNet18Scratch;
        string identity = scratch
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{name}/seed={seed}@{imageSize}")
            : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{name}@{imageSize}");
        var backbone = new Backbone(name, identity, new MeanImagePreprocess(mean, imageSize), graph, imageSize);
        if (scratch)
        {
            random.manual_seed(seed);
            graph.ResetToScratch();
        }

        return backbone;
    }

    /// <summary>
    /// Imports a user's ONNX CNN as a trainable backbone: the graph up to the feature node (the classifier dropped),
    /// behind a <see cref="ConventionPreprocess"/> for its input convention. Its stages are named by output stride
    /// (<see cref="GraphStage"/>), so <c>trainable_from</c>, discriminative rates and gradual unfreezing apply as to the
    /// built-in ResNet-18.
    /// </summary>
    /// <exception cref="OnnxImportException">Missing or unreadable file, unsupported operator (named with its node), unknown feature node.</exception>
    /// <exception cref="ArgumentException">The input convention is invalid, or does not fit the graph's input channels.</exception>
    public static Backbone Import(string path, BackboneImportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= new BackboneImportOptions();
        if (options.ImageSize is int size && (size < 32 || size > 1024))
        {
            throw new ArgumentOutOfRangeException(nameof(options), size, "The input size must be between 32 and 1024 pixels.");
        }

        var watch = System.Diagnostics.Stopwatch.StartNew();
        if (!File.Exists(path))
        {
            throw new OnnxImportException(OnnxImportError.ModelNotFound, $"ONNX model not found: {path}");
        }

        byte[] bytes = File.ReadAllBytes(path);
        global::Onnx.ModelProto model;
        try
        {
            model = global::Onnx.ModelProto.Parser.ParseFrom(bytes);
        }
        catch (Google.Protobuf.InvalidProtocolBufferException ex)
        {
            throw new OnnxImportException(OnnxImportError.Unreadable, $"'{System.IO.Path.GetFileName(path)}' is not a readable ONNX model ({ex.Message}).", inner: ex);
        }

        if (model.Graph is null || model.Graph.Node.Count == 0)
        {
            throw new OnnxImportException(OnnxImportError.Unreadable, $"'{System.IO.Path.GetFileName(path)}' holds no ONNX graph.");
        }

        FeatureNodeChoice feature = options.FeatureNode is { } named
            ? new FeatureNodeChoice(named, named, null, "named in the options")
            : OnnxFeatureNode.Find(model);
        OnnxGraphModule graph = OnnxGraphModule.Import(model, new OnnxImportOptions { FeatureNode = feature.Value, InputSize = options.ImageSize, BatchNormMomentum = options.BatchNormMomentum });
        try
        {
            var metadata = model.MetadataProps.GroupBy(m => m.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal);
            InputConvention? declared = InputConvention.FromMetadata(metadata, graph.InputChannels);
            (InputConvention input, string source) = options.Input is { } given ? (given, "options")
                : declared is not null ? (declared, "metadata")
                : (graph.InputChannels == 1 ? InputConvention.Plain(1) : InputConvention.ImageNet, "default");
            input.Validate();
            if (input.Channels != graph.InputChannels)
            {
                throw new ArgumentException($"input convention: {input.Channels} channels, but the graph's input '{graph.InputName}' has {graph.InputChannels}.");
            }

            string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
            string identity = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"onnx:{sha[..16]}|{graph.OutputName}|{input.Describe()}@{graph.InputSize}");
            string producer = $"{model.ProducerName} {model.ProducerVersion}".Trim();
            var info = new ImportedBackbone(path, sha, graph.OutputNode, graph.OutputName, feature.Reason, input, source, graph.Opset, producer, watch.Elapsed.TotalSeconds);
            return new Backbone(System.IO.Path.GetFileName(path), identity, new ConventionPreprocess(input), graph, graph.InputSize) { Imported = info };
        }
        catch
        {
            graph.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A backbone around any imported graph and input preprocessing (e.g. a small graph built in code for tests).
    /// <paramref name="identity"/> must change whenever the initial weights do.
    /// </summary>
    internal static Backbone FromGraph(string name, string identity, OnnxGraphModule graph, nn.Module<Tensor, Tensor> preprocess, int imageSize) =>
        new(name, identity, preprocess, graph, imageSize);

    /// <summary>Reads the mean image (the constant input of the Sub node) from <c>ResNetPreprocess.onnx</c>.</summary>
    public static Tensor LoadMeanImage(string preprocessPath)
    {
        global::Onnx.ModelProto model = OnnxGraphModule.ReadModel(preprocessPath);
        global::Onnx.NodeProto sub = model.Graph.Node.FirstOrDefault(n => n.OpType == "Sub")
            ?? throw new OnnxImportException(OnnxImportError.MalformedGraph, "The preprocessing graph has no Sub node (mean image).");
        global::Onnx.TensorProto init = model.Graph.Initializer.FirstOrDefault(t => t.Name == sub.Input[1])
            ?? throw new OnnxImportException(OnnxImportError.MalformedGraph, "The preprocessing graph's mean image is not an initializer.");
        return tensor(OnnxTensors.ReadFloats(init), OnnxTensors.Shape(init));
    }

    /// <summary>
    /// Where a network that trains from <paramref name="trainableFrom"/> on splits into a frozen part and a trained
    /// part: "stem", "stage1", … cut before that stage's first layer; "head" (only the new layers train) cuts after
    /// the whole backbone. Null when the graph has no clean single-tensor boundary there (the network then always
    /// runs in one piece).
    /// </summary>
    /// <exception cref="ArgumentException">Not a stage name.</exception>
    public BackboneCut? CutBefore(string trainableFrom)
    {
        ArgumentNullException.ThrowIfNull(trainableFrom);
        int index = trainableFrom == "head" ? _graph.StepCount : _graph.CutIndex(trainableFrom);
        return index >= 0 && _graph.CanCut(index) ? new BackboneCut(trainableFrom, index, index == _graph.StepCount) : null;
    }

    /// <summary>The activations at <paramref name="cut"/>: preprocessing, then the graph's layers before the cut.</summary>
    public Tensor ForwardTo(BackboneCut cut, Tensor input)
    {
        ArgumentNullException.ThrowIfNull(cut);
        using var scope = NewDisposeScope();
        Tensor x = _preprocess.forward(input);
        Tensor result = cut.Index == 0 ? x : _graph.RunSteps(x, 0, cut.Index);
        return (cut.AtEnd ? result.flatten(1) : result).MoveToOuterDisposeScope();
    }

    /// <summary>Backbone features (N×D) from the activations at <paramref name="cut"/> (<see cref="ForwardTo"/>'s output).</summary>
    public Tensor ForwardFrom(BackboneCut cut, Tensor activations)
    {
        ArgumentNullException.ThrowIfNull(cut);
        if (cut.AtEnd)
        {
            return activations.alias();
        }

        using var scope = NewDisposeScope();
        return _graph.RunSteps(activations, cut.Index, _graph.StepCount).flatten(1).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        Tensor features = _graph.forward(_preprocess.forward(input)).flatten(1);
        return features.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// A boundary in a backbone between layers that stay frozen and layers that train (<see cref="Backbone.CutBefore"/>).
/// </summary>
/// <param name="TrainableFrom">The first trainable stage ("stem", "stage1", …) or "head" (no backbone layer trains).</param>
/// <param name="Index">The graph step the trainable part starts at.</param>
/// <param name="AtEnd">True when the cut is after the whole backbone: its activations are the N×D features.</param>
public sealed record BackboneCut(string TrainableFrom, int Index, bool AtEnd);
