using System.Security.Cryptography;
using System.Text.Json;
using Google.Protobuf;
using MedTransfer.Testing;

namespace MedTransfer.Cli.Tests;

/// <summary>
/// A protocol with a user's ONNX backbone (a code-built MobileNet/DenseNet-style graph with depthwise convolutions, an
/// SE gate, dense concatenations and a classifier to drop) runs end to end on the sample data, trains from one of
/// the graph's own stages, and the report names the file's SHA-256 and the provenance text.
/// </summary>
[Collection("Torch")]
public sealed class RunOnnxBackboneTests
{
    [Fact]
    public void Run_WithAnOnnxBackbone_TrainsFromItsStage3_AndTheReportIdentifiesTheFile()
    {
        string dir = TestPaths.NewTempDirectory();
        string onnx = Path.Combine(dir, "mobile-dense.onnx");
        File.WriteAllBytes(onnx, TestGraphs.MobileDenseNet().ToByteArray());
        string sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(onnx)));
        string protocol = RunCommandTests.SmallProtocol(t =>
        {
            t = TestText.Replace(t, "size: 64", "size: 32");
            t = TestText.Replace(t, "  backbone: resnet18-imagenet\n", $"  backbone: {onnx}\n  provenance: code-built test graph, random weights\n  candidates: [{onnx}@stage3, resnet18-imagenet@head]\n  validate_top: 2\n");
            return TestText.Replace(t, "  strategy: feature-extraction\n  # trainable_from: stage4 ", "  strategy: full\n  trainable_from: stage3 ");
        });
        string run = Path.Combine(dir, "run");

        (int code, string output, string error) = CliRunner.Run("run", protocol, "--out", run, "--device", "cpu", "--key-file", RunCommandTests.KeyFile(), "--json");

        Assert.True(code == 0, error + output);
        Assert.True(File.Exists(Path.Combine(run, "model", "model.onnx")));
        string report = File.ReadAllText(Path.Combine(run, "report.html"));
        Assert.Contains(sha, report, StringComparison.Ordinal);
        Assert.Contains("code-built test graph, random weights", report, StringComparison.Ordinal);
        using JsonDocument results = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "results.json")));
        JsonElement r = results.RootElement.GetProperty("run");
        Assert.Equal(2, r.GetProperty("runs").GetArrayLength());

        // results.json records what identifies the backbone: its hash, the feature node found, and the stages cut.
        JsonElement backbone = r.GetProperty("backbone");
        Assert.Equal(sha, backbone.GetProperty("sha256").GetString());
        Assert.Equal("mobile-dense.onnx", backbone.GetProperty("name").GetString());
        Assert.False(string.IsNullOrEmpty(backbone.GetProperty("featureNode").GetString()));
        // model.candidates are ranked in the run too, before training, and shown in the report.
        Assert.Equal(2, r.GetProperty("ranking").GetProperty("rows").GetArrayLength());
        Assert.Contains("Backbone candidates ranked before training", report, StringComparison.Ordinal);

        // validate_top: both candidates were trained as the source-only baseline; predicted and obtained ranks are 1 and 2.
        JsonElement[] validation = [.. r.GetProperty("validation").EnumerateArray()];
        Assert.Equal(2, validation.Length);
        Assert.Equal([1, 2], validation.Select(v => v.GetProperty("predictedRank").GetInt32()).Order().ToArray());
        Assert.All(validation, v => Assert.InRange(v.GetProperty("targetAuroc").GetDouble(), 0, 1));
        Assert.Contains("Obtained rank", report, StringComparison.Ordinal);
        Assert.Equal(["stem", "stage1", "stage2", "stage3"], backbone.GetProperty("stages").EnumerateArray().Select(s => s.GetProperty("name").GetString()!).ToArray());
    }
}
