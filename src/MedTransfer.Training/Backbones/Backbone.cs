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

/// <summary>
/// A feature extractor: <see cref="MeanImagePreprocess"/> then the imported ONNX graph, flattened to
/// N×D features. Input N×3×S×S (or N×1×S×S) in [0, 1].
/// </summary>
public sealed class Backbone : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "preprocess")]
    private readonly MeanImagePreprocess _preprocess;

    [ComponentName(Name = "graph")]
    private readonly OnnxGraphModule _graph;

    private Backbone(string name, MeanImagePreprocess preprocess, OnnxGraphModule graph, int imageSize)
        : base("backbone")
    {
        Name = name;
        _preprocess = preprocess;
        _graph = graph;
        ImageSize = imageSize;
        RegisterComponents();
    }

    /// <summary>The backbone's configuration name (<see cref="BackboneNames"/>).</summary>
    public string Name { get; }

    /// <summary>Input side length.</summary>
    public int ImageSize { get; }

    /// <summary>Length of the feature vector (512 for ResNet-18).</summary>
    public int FeatureDimension => (int)_graph.OutputChannels;

    /// <summary>The imported graph.</summary>
    public OnnxGraphModule Graph => _graph;

    /// <summary>The preprocessing.</summary>
    public MeanImagePreprocess Preprocess => _preprocess;

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
        var backbone = new Backbone(name, new MeanImagePreprocess(mean, imageSize), graph, imageSize);
        if (name == BackboneNames.ResNet18Scratch)
        {
            random.manual_seed(seed);
            graph.ResetToScratch();
        }

        return backbone;
    }

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
    /// Features (N×D, on <paramref name="device"/>) of every image of <paramref name="set"/>, in
    /// evaluation mode without gradients, in batches: what a frozen backbone contributes, computed once.
    /// </summary>
    /// <param name="set">The images.</param>
    /// <param name="device">Where the backbone runs and the result stays.</param>
    /// <param name="channelsLast">Feed the batches in channels-last memory format.</param>
    /// <param name="progress">Images done and total, after each batch.</param>
    /// <param name="batchSize">Images per batch.</param>
    public Tensor ExtractFeatures(Data.ImageSet set, Device? device = null, bool channelsLast = false, IProgress<(int Done, int Total)>? progress = null, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(set);
        eval();
        var parts = new List<Tensor>();
        try
        {
            using var guard = no_grad();
            for (int start = 0; start < set.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                int[] idx = [.. Enumerable.Range(start, Math.Min(batchSize, set.Count - start))];
                Tensor images = set.Images(idx, device);
                parts.Add(forward(channelsLast ? FineTuning.MemoryFormat.ChannelsLast(images) : images).MoveToOuterDisposeScope());
                progress?.Report((start + idx.Length, set.Count));
            }

            Tensor all = cat(parts, 0);
            all.DetachFromDisposeScope();
            return all;
        }
        finally
        {
            foreach (Tensor p in parts)
            {
                p.Dispose();
            }
        }
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        Tensor features = _graph.forward(_preprocess.forward(input)).flatten(1);
        return features.MoveToOuterDisposeScope();
    }
}
