using System.Security.Cryptography;
using MedTransfer.Pipeline.Protocols;
using MedTransfer.Pipeline.Runs;
using MedTransfer.Testing;
using MedTransfer.Training.Backbones;
using MedTransfer.Training.Configuration;

namespace MedTransfer.Pipeline.Tests.Protocols;

/// <summary>
/// <c>model.backbone: PATH.onnx</c> and its fields: the path resolves against the protocol, the file's SHA-256 is part
/// of the protocol (and can be pinned), the feature node and input convention reach the trainer's configuration, the
/// provenance text reaches the model card, and fields that only make sense for an ONNX file are refused otherwise.
/// </summary>
public sealed class OnnxBackboneProtocolTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-onnx-protocol");

    public OnnxBackboneProtocolTests()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "images"));
        Directory.CreateDirectory(Path.Combine(_dir, "weights"));
        File.WriteAllText(Path.Combine(_dir, "labels.csv"), "id,label,site\n");
        File.WriteAllBytes(Path.Combine(_dir, "weights", "net.onnx"), [1, 2, 3, 4]);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void OnnxBackbone_ReachesTheTrainer_WithItsFeatureNodeAndInput_AndTheCardNamesItsHashAndProvenance()
    {
        ExperimentProtocol p = Parse("model: {backbone: weights/net.onnx, feature_node: pooled, input: {channels: 1, range: [0, 255], mean: [0.5], std: [0.25]}, provenance: 'In-house DenseNet, CC-BY-4.0'}\n");

        string path = Path.Combine(_dir, "weights", "net.onnx");
        string sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
        Assert.Equal(path, p.Model.BackbonePath);
        Assert.Equal(sha, p.Model.BackboneSha256);
        FineTuneConfig config = TrainerSettings.For(p, "source-only", 1, 100);
        Assert.Equal(path, config.Backbone);
        Assert.Equal("pooled", config.FeatureNode);
        Assert.Equal(new InputConvention(1, 0, 255, [0.5], [0.25]).Describe(), config.Input!.Describe());

        // The configuration survives its JSON form (checkpoints carry it).
        Assert.Equal(config.ToJson(), FineTuneConfig.FromJson(config.ToJson()).ToJson());
        string card = ProtocolCard.ToModelCard(p).Model;
        Assert.Contains(sha, card, StringComparison.Ordinal);
        Assert.Contains("feature node pooled", card, StringComparison.Ordinal);
        Assert.Contains("In-house DenseNet, CC-BY-4.0", card, StringComparison.Ordinal);

        // Other weights in the same file name make another protocol, so a run folder never resumes with them.
        string before = p.ComputeHash();
        File.WriteAllBytes(path, [9, 9, 9]);
        Assert.NotEqual(before, Parse("model: {backbone: weights/net.onnx, feature_node: pooled, input: {channels: 1, range: [0, 255], mean: [0.5], std: [0.25]}, provenance: 'In-house DenseNet, CC-BY-4.0'}\n").ComputeHash());
    }

    [Fact]
    public void ResolvedProtocol_PinsTheFile_AndLoadsBackToTheSameHash()
    {
        ExperimentProtocol p = Parse("model: {backbone: weights/net.onnx}\n");
        string resolved = Path.Combine(_dir, "resolved.yaml");
        File.WriteAllText(resolved, ProtocolSerializer.ToYaml(p));

        Assert.Equal(p.ComputeHash(), ProtocolLoader.Load(resolved).ComputeHash());
        File.WriteAllBytes(Path.Combine(_dir, "weights", "net.onnx"), [5]);
        var ex = Assert.Throws<ProtocolException>(() => ProtocolLoader.Load(resolved));
        Assert.Contains(ex.Errors, e => e.Field == "model.backbone_sha256" && e.Message.Contains("changed", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("model: {backbone: weights/absent.onnx}", "model.backbone", "not found")]
    [InlineData("model: {backbone: weights/net.onnx, backbone_sha256: 00ff}", "model.backbone_sha256", "not the pinned 00ff")]
    [InlineData("model: {feature_node: pooled}", "model.feature_node", "only to an ONNX backbone")]
    [InlineData("model: {input: {channels: 1}}", "model.input", "only to an ONNX backbone")]
    [InlineData("model: {backbone: weights/net.onnx, input: {channels: 3, mean: [0.1, 0.2]}}", "model.input", "mean needs 1 or 3 values")]
    [InlineData("model: {backbone: weights/net.onnx}\nbaselines: [source-only, scratch]", "baselines", "scratch")]
    [InlineData("model: {candidates: [resnet18-imagenet@head], validate_top: 2}", "model.validate_top", "lists 1")]
    [InlineData("model: {candidates: [resnet18-imagenet@stage9]}", "model.candidates[0]", "not a cut")]
    public void Misused_IsAnErrorAtTheField(string yaml, string field, string message)
    {
        var ex = Assert.Throws<ProtocolException>(() => Parse(yaml + "\n"));

        ProtocolError error = Assert.Single(ex.Errors);
        Assert.Equal(field, error.Field);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    private ExperimentProtocol Parse(string yaml) => ProtocolLoader.Parse(Minimal() + yaml, _dir, "test.yaml");

    private static string Minimal() => """
        name: test-protocol
        data:
          modality: xray
          source: images
          labels: labels.csv
          source_sites: [A]
          target_sites: [B]

        """.Replace("\r\n", "\n", StringComparison.Ordinal);
}
