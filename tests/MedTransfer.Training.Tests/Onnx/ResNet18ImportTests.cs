using MedTransfer.Training.Backbones;
using MedTransfer.Training.Onnx;
using MedTransfer.Training.Tests.Runtime;
using static TorchSharp.torch;

namespace MedTransfer.Training.Tests.Onnx;

[Collection(TorchCollection.Name)]
public sealed class ResNet18ImportTests
{
    [Fact]
    public void ImportedResNet18_HasTheDocumentedLayout()
    {
        using OnnxGraphModule graph = OnnxGraphModule.Load(PretrainedModels.ResNet18Path);
        Assert.Equal(["stem", "stage1", "stage2", "stage3", "stage4"], graph.Stages.Select(s => s.Name));
        Assert.Equal([2, 4, 8, 16, 32], graph.Stages.Select(s => s.OutputStride));
        Assert.Equal(512, graph.OutputChannels);
        long count = graph.parameters().Sum(p => p.numel());
        Assert.InRange(count, 15_000_000, 17_000_000); // ~15.9 M (docs/PLATFORM.md)
    }

    [Fact]
    public void Backbone_MatchesOnnxRuntime_OnPreprocessingAndFeatures()
    {
        var verification = ImportVerification.Run(batch: 2, seed: 11);
        Assert.True(verification.PreprocessMaxAbsDiff <= 1e-4, $"preprocess max |Δ| {verification.PreprocessMaxAbsDiff}");
        Assert.True(verification.FeatureMaxAbsDiff <= 1e-4, $"features max |Δ| {verification.FeatureMaxAbsDiff}");
        Assert.True(verification.FeatureScale > 0.1, "features should not be trivially small");
    }

    [Fact]
    public void Backbone_OtherInputSize_GivesFeatures()
    {
        using Backbone b = Backbone.Create(BackboneNames.ResNet18ImageNet, imageSize: 96);
        b.eval();
        using var scope = NewDisposeScope();
        using var guard = no_grad();
        Tensor f = b.forward(rand(2, 3, 96, 96));
        Assert.Equal([2L, 512L], f.shape);
        Assert.True(f.isfinite().all().item<bool>());
    }

    [Fact]
    public void ScratchVariant_IsSeededAndDiffersFromImageNet()
    {
        using Backbone a = Backbone.Create(BackboneNames.ResNet18Scratch, 64, seed: 3);
        using Backbone b = Backbone.Create(BackboneNames.ResNet18Scratch, 64, seed: 3);
        using Backbone c = Backbone.Create(BackboneNames.ResNet18ImageNet, 64);
        string key = a.Graph.Stages[0].ParameterNames[0];
        Tensor wa = a.Graph.state_dict()[key];
        Assert.True(wa.eq(b.Graph.state_dict()[key]).all().item<bool>());
        Assert.False(wa.allclose(c.Graph.state_dict()[key]));
    }

    [Fact]
    public void UnknownBackbone_IsAClearError()
    {
        var ex = Assert.Throws<ArgumentException>(() => Backbone.Create("resnet1000"));
        Assert.Contains(BackboneNames.ResNet18ImageNet, ex.Message, StringComparison.Ordinal);
    }
}
