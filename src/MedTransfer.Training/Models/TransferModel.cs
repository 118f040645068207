using MedTransfer.Training.Backbones;
using MedTransfer.Training.Configuration;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace MedTransfer.Training.Models;

/// <summary>
/// Backbone features → optional bottleneck (Linear + BatchNorm1d + ReLU) = the adapted features.
/// This is the "feature extractor" that domain-adaptation losses look at.
/// </summary>
public sealed class FeatureExtractor : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "backbone")]
    private readonly Backbone _backbone;

    [ComponentName(Name = "bottleneck")]
    private readonly nn.Module<Tensor, Tensor>? _bottleneck;

    internal FeatureExtractor(Backbone backbone, int bottleneckWidth)
        : base("features")
    {
        _backbone = backbone;
        if (bottleneckWidth > 0)
        {
            _bottleneck = nn.Sequential(
                ("linear", nn.Linear(backbone.FeatureDimension, bottleneckWidth)),
                ("bn", nn.BatchNorm1d(bottleneckWidth)),
                ("relu", nn.ReLU()));
        }

        Dimension = bottleneckWidth > 0 ? bottleneckWidth : backbone.FeatureDimension;
        RegisterComponents();
    }

    /// <summary>The pretrained (or scratch) backbone.</summary>
    public Backbone Backbone => _backbone;

    /// <summary>The new bottleneck layers, or null for a linear head.</summary>
    public nn.Module<Tensor, Tensor>? Bottleneck => _bottleneck;

    /// <summary>Length of the output features.</summary>
    public int Dimension { get; }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input)
    {
        if (_bottleneck is null)
        {
            return _backbone.forward(input);
        }

        using Tensor f = _backbone.forward(input);
        return _bottleneck.forward(f);
    }

    /// <summary>The adapted features from the backbone's activations at <paramref name="cut"/> (<see cref="Backbone.ForwardTo"/>).</summary>
    public Tensor FromActivations(BackboneCut cut, Tensor activations)
    {
        if (_bottleneck is null)
        {
            return _backbone.ForwardFrom(cut, activations);
        }

        using Tensor f = _backbone.ForwardFrom(cut, activations);
        return _bottleneck.forward(f);
    }
}

/// <summary>
/// The model that is fine-tuned and exported: <see cref="FeatureExtractor"/> then a linear
/// classifier. <c>forward</c> returns logits (N×K); <see cref="ForwardWithFeatures"/> both.
/// </summary>
public sealed class TransferModel : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "features")]
    private readonly FeatureExtractor _features;

    [ComponentName(Name = "classifier")]
    private readonly Linear _classifier;

    private TransferModel(FeatureExtractor features, Linear classifier)
        : base("model")
    {
        _features = features;
        _classifier = classifier;
        RegisterComponents();
    }

    /// <summary>Images → adapted features.</summary>
    public FeatureExtractor Features => _features;

    /// <summary>Features → logits.</summary>
    public Linear Classifier => _classifier;

    /// <summary>Input side length.</summary>
    public int ImageSize => _features.Backbone.ImageSize;

    /// <summary>
    /// Builds the model: the backbone by name, and new layers initialized from <paramref name="config"/>'s
    /// seed (torch's global generator is seeded here).
    /// </summary>
    public static TransferModel Create(FineTuneConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Backbone backbone = BackboneNames.IsOnnxFile(config.Backbone)
            ? Backbone.Import(config.Backbone, new BackboneImportOptions { ImageSize = config.ImageSize, FeatureNode = config.FeatureNode, Input = config.Input })
            : Backbone.Create(config.Backbone, config.ImageSize, config.Seed);
        return Create(backbone, config.Head, config.BottleneckWidth, config.Classes, config.Seed);
    }

    /// <summary>Builds the model around any backbone: new layers (bottleneck when <paramref name="head"/> is "bottleneck", then a linear classifier) initialized from <paramref name="seed"/>.</summary>
    internal static TransferModel Create(Backbone backbone, string head, int bottleneckWidth, int classes, long seed)
    {
        random.manual_seed(seed);
        var features = new FeatureExtractor(backbone, head == "bottleneck" ? bottleneckWidth : 0);
        Linear classifier = nn.Linear(features.Dimension, classes);
        return new TransferModel(features, classifier);
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input)
    {
        using Tensor f = _features.forward(input);
        return _classifier.forward(f);
    }

    /// <summary>Features and logits in one pass.</summary>
    public (Tensor Features, Tensor Logits) ForwardWithFeatures(Tensor input)
    {
        Tensor f = _features.forward(input);
        return (f, _classifier.forward(f));
    }

    /// <summary>Logits from the backbone's activations at <paramref name="cut"/>.</summary>
    public Tensor LogitsFromActivations(BackboneCut cut, Tensor activations)
    {
        using Tensor f = _features.FromActivations(cut, activations);
        return _classifier.forward(f);
    }

    /// <summary>Parameters of the new layers (bottleneck and classifier), as named in <c>named_parameters()</c>.</summary>
    public IEnumerable<(string Name, Parameter Parameter)> HeadParameters() =>
        named_parameters().Where(p => !p.name.StartsWith("features.backbone.", StringComparison.Ordinal));

    /// <summary>Backbone parameters grouped by stage, in input-to-output order, as named in <c>named_parameters()</c>.</summary>
    public IReadOnlyList<(string Stage, IReadOnlyList<(string Name, Parameter Parameter)> Parameters)> BackboneStages()
    {
        var all = named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        return [.. _features.Backbone.Stages.Select(s => (s.Name, (IReadOnlyList<(string, Parameter)>)[.. s.ParameterNames.Select(n => ("features.backbone.graph." + n, all["features.backbone.graph." + n]))]))];
    }
}
