using System.Text.Json;
using Google.Protobuf;
using MedTransfer.Training.Backbones;
using MedTransfer.Training.Configuration;
using MedTransfer.Training.Export;
using MedTransfer.Training.Models;
using MedTransfer.Training.Onnx;
using MedTransfer.Training.Tests.Backbones;
using MedTransfer.Training.Tests.Runtime;
using static TorchSharp.torch;

namespace MedTransfer.Training.Tests.Export;

[Collection(TorchCollection.Name)]
public sealed class ModelExporterTests
{
    private static readonly ExportMetadata s_meta = new(["normal", "abnormal"], 1, "xray", "{\"kind\":\"xray\"}", null, "abc", 3, "test");

    [Theory]
    [InlineData("linear", 3, 64)]
    [InlineData("bottleneck", 1, 48)]
    [InlineData("linear", 3, 224)]
    public void ExportedModel_MatchesTorchSharp_ThroughOnnxRuntime(string head, int channels, int size)
    {
        var config = new FineTuneConfig { ImageSize = size, Head = head, Seed = 9 };
        using TransferModel model = TransferModel.Create(config);

        // Move BatchNorm statistics away from the pretrained ones so a stale export would show.
        model.train();
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            model.forward(rand(4, channels, size, size));
        }

        model.eval();
        var random = new Random(4);
        float[] input = [.. Enumerable.Range(0, 3 * channels * size * size).Select(_ => (float)random.NextDouble())];
        float[] expectedLogits, expectedFeatures;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            (Tensor f, Tensor l) = model.ForwardWithFeatures(tensor(input, [3, channels, size, size]));
            expectedLogits = l.contiguous().data<float>().ToArray();
            expectedFeatures = f.contiguous().data<float>().ToArray();
        }

        byte[] bytes = ModelExporter.Build(model, s_meta, channels).ToByteArray();
        using var runner = new OnnxRuntimeRunner(bytes, threads: 1);
        var outputs = runner.Run("image", input, [3, channels, size, size]);
        Assert.Equal([3L, 2L], outputs["logits"].Shape);
        double maxLogit = expectedLogits.Zip(outputs["logits"].Values).Max(p => Math.Abs(p.First - p.Second));
        double maxFeature = expectedFeatures.Zip(outputs["features"].Values).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(maxLogit <= 1e-4, $"logits max |Δ| {maxLogit}");
        Assert.True(maxFeature <= 1e-4 * Math.Max(1, expectedFeatures.Max(Math.Abs)), $"features max |Δ| {maxFeature}");

        using JsonDocument meta = JsonDocument.Parse(runner.Metadata[ModelExporter.MetadataKey]);
        Assert.Equal(ModelExporter.Format, meta.RootElement.GetProperty("format").GetString());
        Assert.Equal("abnormal", meta.RootElement.GetProperty("classes")[1].GetString());
        Assert.Equal("xray", meta.RootElement.GetProperty("recipe").GetProperty("kind").GetString());
    }

    [Theory]
    [InlineData(3, 3, "bottleneck")] // ImageNet convention, RGB input
    [InlineData(1, 3, "linear")]     // grey recipe output into a 3-channel model
    [InlineData(3, 1, "linear")]     // RGB input into a 1-channel, TorchXRayVision-like model
    public void ExportedImportedBackbone_CarriesItsInputConvention_AndMatchesTorchSharp(int inputChannels, int modelChannels, string head)
    {
        InputConvention convention = modelChannels == 1 ? new InputConvention(1, -1024, 1024, [0], [1]) : InputConvention.ImageNet;
        var model1 = TestGraphs.MobileDenseNet();
        if (modelChannels == 1)
        {
            // The same network with a one-channel stem.
            model1.Graph.Input[0].Type.TensorType.Shape.Dim[1].DimValue = 1;
            global::Onnx.TensorProto stem = model1.Graph.Initializer.First(t => t.Name == model1.Graph.Node.First(n => n.OpType == "Conv").Input[1]);
            float[] w = [.. stem.FloatData];
            stem.FloatData.Clear();
            stem.FloatData.AddRange(w.Where((_, i) => (i / 9) % 3 == 0));
            stem.Dims[1] = 1;
        }

        using TransferModel model = TransferModel.Create(ImportedBackbones.MobileDenseNet(convention, model1), head, 8, 2, 5);
        model.train();
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            model.forward(rand(4, inputChannels, 32, 32));
        }

        model.eval();
        var random = new Random(6);
        float[] input = [.. Enumerable.Range(0, 3 * inputChannels * 32 * 32).Select(_ => (float)random.NextDouble())];
        float[] expected;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            expected = model.forward(tensor(input, [3, inputChannels, 32, 32])).contiguous().data<float>().ToArray();
        }

        byte[] bytes = ModelExporter.Build(model, s_meta, inputChannels).ToByteArray();
        using var runner = new OnnxRuntimeRunner(bytes, threads: 1);
        float[] logits = runner.Run("image", input, [3, inputChannels, 32, 32])["logits"].Values;
        double max = expected.Zip(logits).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(max <= 1e-4 * Math.Max(1, expected.Max(Math.Abs)), $"logits max |Δ| {max}");
        using JsonDocument backbone = JsonDocument.Parse(runner.Metadata[ModelExporter.BackboneMetadataKey]);
        Assert.Equal(modelChannels, backbone.RootElement.GetProperty("input").GetProperty("channels").GetInt32());
    }
}
