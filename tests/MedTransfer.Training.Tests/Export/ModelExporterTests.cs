using System.Text.Json;
using Google.Protobuf;
using MedTransfer.Training.Configuration;
using MedTransfer.Training.Export;
using MedTransfer.Training.Models;
using MedTransfer.Training.Onnx;
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
}
