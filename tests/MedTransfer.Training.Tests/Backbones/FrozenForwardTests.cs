using Xunit.Abstractions;
using MedTransfer.Training.Backbones;
using MedTransfer.Training.Tests.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace MedTransfer.Training.Tests.Backbones;

/// <summary>
/// The ONNX Runtime feature engine against TorchSharp's <see cref="Backbone.ForwardTo"/>. Parity is the largest
/// absolute difference divided by the largest absolute activation (at least 1): the ImageNet ResNet-18 sees inputs on
/// a 0–255 scale, so its activations reach the hundreds and float32 rounding alone exceeds 1e-4 in absolute terms.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class FrozenForwardTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    [Theory]
    [InlineData("stem", 1)]
    [InlineData("stage1", 1)]
    [InlineData("stage2", 1)]
    [InlineData("stage3", 1)]
    [InlineData("stage4", 1)]
    [InlineData("head", 1)]
    [InlineData("stage3", 3)]
    [InlineData("head", 3)]
    [InlineData("stage4", 1, 32)]
    [InlineData("head", 1, 32)]
    [InlineData("stage4", 1, 128)]
    public void ResNet18_OnnxRuntime_MatchesTorchSharp(string trainableFrom, int channels, int size = 64)
    {
        using Backbone backbone = Backbone.Create(BackboneNames.ResNet18ImageNet, size);
        MoveBatchNormStatistics(backbone, channels, size);
        BackboneCut cut = backbone.CutBefore(trainableFrom)!;
        using Tensor input = Images(4, channels, size, seed: 3);
        AssertParity(backbone, cut, input);
    }

    [Theory]
    [InlineData("stem")]
    [InlineData("stage1")]
    [InlineData("stage2")]
    [InlineData("stage3")]
    [InlineData("head")]
    public void ImportedMobileDenseNet_OnnxRuntime_MatchesTorchSharp(string trainableFrom)
    {
        using Backbone backbone = ImportedBackbones.MobileDenseNet();
        MoveBatchNormStatistics(backbone, 1, 32);
        BackboneCut cut = backbone.CutBefore(trainableFrom) ?? throw new InvalidOperationException($"no cut before {trainableFrom}");
        using Tensor input = Images(5, 1, 32, seed: 4);
        AssertParity(backbone, cut, input);
    }

    [Fact]
    public void OnnxRuntime_SameInputTwice_SameBits_AndBatchOf1AgreesWithBatchOf32()
    {
        using Backbone backbone = Backbone.Create(BackboneNames.ResNet18ImageNet, 64);
        backbone.eval();
        BackboneCut cut = backbone.CutBefore("stage4")!;
        using FrozenForward engine = FrozenForward.Create(backbone, cut, FeatureEngine.OnnxRuntime);
        using Tensor input = Images(32, 1, 64, seed: 5);
        using Tensor first = engine.Forward(input);
        using Tensor second = engine.Forward(input);
        Assert.Equal(first.data<float>().ToArray(), second.data<float>().ToArray());

        double scale = Math.Max(1, first.abs().max().item<float>());
        foreach (int i in new[] { 0, 17, 31 })
        {
            using Tensor one = engine.Forward(input.narrow(0, i, 1));
            using Tensor row = first.narrow(0, i, 1);
            Assert.Equal(row.shape, one.shape);
            double diff = (one - row).abs().max().item<float>() / scale;
            output.WriteLine($"sample {i}: batch of 1 vs 32, max |Δ| / scale {diff:E2}");
            Assert.True(diff <= Tolerance, $"sample {i}: batch of 1 vs batch of 32, max |Δ| / scale {diff:E2}");
        }
    }

    [Fact]
    public void OnnxRuntime_UsesTheWeightsAtCreation_NotThoseAtImport()
    {
        using Backbone backbone = Backbone.Create(BackboneNames.ResNet18ImageNet, 64);
        BackboneCut cut = backbone.CutBefore("head")!;
        using Tensor input = Images(2, 1, 64, seed: 6);
        using FrozenForward before = FrozenForward.Create(backbone, cut, FeatureEngine.OnnxRuntime);
        using Tensor old = before.Forward(input);
        using (no_grad())
        {
            backbone.parameters().First().mul_(0.5);
        }

        using FrozenForward after = FrozenForward.Create(backbone, cut, FeatureEngine.OnnxRuntime);
        using Tensor changed = after.Forward(input);
        using Tensor again = before.Forward(input);
        Assert.False(old.allclose(changed), "a changed weight must change the new engine's features");
        Assert.Equal(old.data<float>().ToArray(), again.data<float>().ToArray());
    }

    [Fact]
    public void TorchEngine_IsForwardTo_InEvaluationMode_AndRestoresTrainingMode()
    {
        using Backbone backbone = ImportedBackbones.MobileDenseNet();
        MoveBatchNormStatistics(backbone, 1, 32);
        backbone.train();
        BackboneCut cut = backbone.CutBefore("stage2")!;
        using Tensor input = Images(3, 1, 32, seed: 7);
        using FrozenForward engine = FrozenForward.Create(backbone, cut, FeatureEngine.Torch);
        using Tensor got = engine.Forward(input);
        Assert.True(backbone.training);
        Assert.False(got.requires_grad);
        backbone.eval();
        using (no_grad())
        {
            using Tensor expected = backbone.ForwardTo(cut, input);
            Assert.Equal(expected.contiguous().data<float>().ToArray(), got.contiguous().data<float>().ToArray());
        }
    }

    [Fact]
    public void OnnxRuntime_RefusesCuda_AnInputOfTheWrongSize_AndAPreprocessingItCannotWrite()
    {
        using Backbone backbone = ImportedBackbones.MobileDenseNet();
        BackboneCut cut = backbone.CutBefore("head")!;
        FeatureEngineException cuda = Assert.Throws<FeatureEngineException>(() => FrozenForward.Create(backbone, cut, FeatureEngine.OnnxRuntime, new Device(DeviceType.CUDA, 0)));
        Assert.Contains("CPU only", cuda.Message, StringComparison.Ordinal);
        Assert.Equal(FeatureEngine.OnnxRuntime, cuda.Engine);

        using (FrozenForward engine = FrozenForward.Create(backbone, cut, FeatureEngine.OnnxRuntime))
        using (Tensor wrong = zeros(2, 1, 48, 48))
        {
            Assert.Throws<ArgumentException>(() => engine.Forward(wrong));
        }

        using Backbone custom = Backbone.FromGraph("custom", "custom", MedTransfer.Training.Onnx.OnnxGraphModule.Import(TestGraphs.MobileDenseNet(), new MedTransfer.Training.Onnx.OnnxImportOptions { InputSize = 32 }), new Grey3(), 32);
        FeatureEngineException refused = Assert.Throws<FeatureEngineException>(() => FrozenForward.Create(custom, custom.CutBefore("head")!, FeatureEngine.OnnxRuntime));
        Assert.Contains(nameof(Grey3), refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Preferred_IsOnnxRuntimeOnTheCpu_AndTorchWithAReasonOtherwise()
    {
        using Backbone backbone = ImportedBackbones.MobileDenseNet();
        BackboneCut cut = backbone.CutBefore("stage2")!;
        using (FrozenForward cpu = FrozenForward.CreatePreferred(backbone, cut))
        {
            Assert.Equal(FeatureEngine.OnnxRuntime, cpu.Engine);
            Assert.Null(cpu.FallbackReason);
        }

        using FrozenForward cuda = FrozenForward.CreatePreferred(backbone, cut, new Device(DeviceType.CUDA, 0));
        Assert.Equal(FeatureEngine.Torch, cuda.Engine);
        Assert.Contains("CPU only", cuda.FallbackReason, StringComparison.Ordinal);
    }

    private void AssertParity(Backbone backbone, BackboneCut cut, Tensor input)
    {
        backbone.eval();
        using FrozenForward ort = FrozenForward.Create(backbone, cut, FeatureEngine.OnnxRuntime);
        using FrozenForward torchEngine = FrozenForward.Create(backbone, cut, FeatureEngine.Torch);
        using Tensor expected = torchEngine.Forward(input);
        using Tensor got = ort.Forward(input);
        Assert.Equal(expected.shape, got.shape);
        Assert.Equal(ScalarType.Float32, got.dtype);
        Assert.True(got.is_contiguous());
        double scale = Math.Max(1, expected.abs().max().item<float>());
        double diff = (got - expected).abs().max().item<float>();
        output.WriteLine($"{backbone.Name} {cut.TrainableFrom} [{string.Join("x", got.shape)}]: max |Δ| {diff:E2}, scale {scale:G4}, relative {diff / scale:E2}");
        Assert.True(diff / scale <= Tolerance, $"{cut.TrainableFrom}: max |Δ| {diff:E2}, scale {scale:G4}, relative {diff / scale:E2}");
    }

    // Training-mode batches move the BatchNorm statistics away from the imported ones, so an engine that read the
    // weights at import instead of the current ones would fail the parity check.
    private static void MoveBatchNormStatistics(Backbone backbone, int channels, int size)
    {
        backbone.train();
        using var scope = NewDisposeScope();
        using var guard = no_grad();
        random.manual_seed(11);
        backbone.forward(rand(8, channels, size, size));
        backbone.eval();
    }

    private static Tensor Images(int n, int channels, int size, int seed)
    {
        random.manual_seed(seed);
        return rand(n, channels, size, size);
    }

    private sealed class Grey3() : nn.Module<Tensor, Tensor>("grey3")
    {
        public override Tensor forward(Tensor input) => input.expand(-1, 3, -1, -1);
    }
}
