using System.Text.Json;
using MedTransfer.Testing;

namespace MedTransfer.Cli.Tests;

[Collection("Torch")]
public sealed class RunCommandTests
{
    /// <summary>The default protocol at a reduced size: 64 px, one seed, 40 iterations, DANN against source-only.</summary>
    private static string SmallProtocol()
    {
        string text = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "protocols", "cxr-site-shift.yaml"))
            .Replace("seeds: [1, 2, 3]", "seeds: [7]", StringComparison.Ordinal)
            .Replace("size: 128", "size: 64", StringComparison.Ordinal)
            .Replace("iterations: 300", "iterations: 40", StringComparison.Ordinal)
            .Replace("methods: [dann, coral]", "methods: [dann]", StringComparison.Ordinal)
            .Replace("baselines: [source-only, target-only]", "baselines: [source-only]", StringComparison.Ordinal)
            .Replace("bootstrap: 1000", "bootstrap: 200", StringComparison.Ordinal);
        string dir = TestPaths.NewTempDirectory();
        string path = Path.Combine(dir, "small.yaml");
        File.WriteAllText(path, text.Replace("../sample-data", Path.Combine(TestPaths.RepoRoot, "sample-data"), StringComparison.Ordinal));
        return path;
    }

    [Fact]
    public void Run_SmallProtocolTwice_WritesTheRunFolderWithIdenticalNumbers()
    {
        string protocol = SmallProtocol();
        string first = Path.Combine(TestPaths.NewTempDirectory(), "run");
        string second = Path.Combine(TestPaths.NewTempDirectory(), "run");
        (int code, string output, string error) = CliRunner.Run("run", protocol, "--out", first, "--device", "cpu", "--json");
        Assert.True(code == 0, error + output);
        foreach (string file in new[] { "report.html", "results.json", "predictions.csv", "manifest.csv", "protocol.resolved.yaml", "run.log", "model/model.onnx" })
        {
            Assert.True(File.Exists(Path.Combine(first, file)), file);
        }

        using (JsonDocument doc = JsonDocument.Parse(output))
        {
            Assert.Equal("dann", doc.RootElement.GetProperty("SelectedMethod").GetString());
            Assert.Equal(2, doc.RootElement.GetProperty("summary").GetArrayLength());
        }

        // No identifiers from the DICOM files reach the outputs (RELIABILITY D1).
        string predictions = File.ReadAllText(Path.Combine(first, "predictions.csv"));
        Assert.DoesNotContain("SYN-", predictions, StringComparison.Ordinal);
        Assert.DoesNotContain("2.25.", predictions, StringComparison.Ordinal);

        (code, _, error) = CliRunner.Run("run", protocol, "--out", second, "--device", "cpu", "--json");
        Assert.True(code == 0, error);
        Assert.Equal(File.ReadAllBytes(Path.Combine(first, "predictions.csv")), File.ReadAllBytes(Path.Combine(second, "predictions.csv")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(first, "model", "model.onnx")), File.ReadAllBytes(Path.Combine(second, "model", "model.onnx")));
        Assert.Equal(Numbers(first), Numbers(second));
    }

    [Fact]
    public void Run_UnsupportedStrategy_IsAUsageErrorNamingTheField()
    {
        string protocol = SmallProtocol();
        File.WriteAllText(protocol, File.ReadAllText(protocol).Replace("strategy: feature-extraction", "strategy: gradual-unfreezing", StringComparison.Ordinal));
        (int code, _, string error) = CliRunner.Run("run", protocol, "--out", Path.Combine(TestPaths.NewTempDirectory(), "run"));
        Assert.Equal(2, code);
        Assert.Contains("model.strategy", error, StringComparison.Ordinal);
    }

    [Fact]
    public void RunIgnores_NamesEverySettingRunDoesNotApply()
    {
        string path = SmallProtocol();
        Assert.Empty(Commands.RunCommand.RunIgnores(Pipeline.Protocols.ProtocolLoader.Load(path)));
        File.WriteAllText(path, File.ReadAllText(path)
            .Replace("class_weighting: none", "class_weighting: balanced", StringComparison.Ordinal)
            .Replace("schedule: dann", "schedule: cosine", StringComparison.Ordinal)
            .Replace("label_smoothing: 0.0", "label_smoothing: 0.1", StringComparison.Ordinal));
        string[] notes = [.. Commands.RunCommand.RunIgnores(Pipeline.Protocols.ProtocolLoader.Load(path))];
        Assert.Equal(["training.schedule 'cosine'"], notes.Select(n => n[..n.IndexOf(" is", StringComparison.Ordinal)]));
    }

    /// <summary>results.json without wall-clock fields.</summary>
    private static string Numbers(string runFolder)
    {
        string json = File.ReadAllText(Path.Combine(runFolder, "results.json"));
        var node = System.Text.Json.Nodes.JsonNode.Parse(json)!;
        Strip(node);
        return node.ToJsonString();
    }

    private static void Strip(System.Text.Json.Nodes.JsonNode? node)
    {
        if (node is System.Text.Json.Nodes.JsonObject o)
        {
            foreach (string key in o.Select(p => p.Key).ToList())
            {
                if (key.Contains("second", StringComparison.OrdinalIgnoreCase) || key.Contains("path", StringComparison.OrdinalIgnoreCase) || key.Contains("generated", StringComparison.OrdinalIgnoreCase))
                {
                    o.Remove(key);
                }
                else
                {
                    Strip(o[key]);
                }
            }
        }
        else if (node is System.Text.Json.Nodes.JsonArray a)
        {
            foreach (var item in a)
            {
                Strip(item);
            }
        }
    }
}
