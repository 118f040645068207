using System.Text.Json;
using MedTransfer.Testing;

namespace MedTransfer.Cli.Tests;

/// <summary>`medtransfer run` on the committed sample data: outputs, determinism, and the refusals that come before any training.</summary>
[Collection("Torch")]
public sealed class RunCommandTests
{
    /// <summary>A fixed pseudonym key, so that two run folders name the same images alike.</summary>
    internal static string KeyFile()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "test.key");
        File.WriteAllText(path, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
        return path;
    }

    /// <summary>The default protocol at a reduced size: 64 px, one seed, 40 iterations, a frozen backbone, DANN against source-only.</summary>
    internal static string SmallProtocol(Func<string, string>? edit = null)
    {
        string text = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "protocols", "cxr-site-shift.yaml"));
        text = TestText.Replace(text, "seeds: [1, 2, 3]", "seeds: [7]");
        text = TestText.Replace(text, "size: 128", "size: 64");
        text = TestText.Replace(text, "iterations: 150", "iterations: 40");
        text = TestText.Replace(text, "strategy: full", "strategy: feature-extraction");
        text = TestText.Replace(text, "  trainable_from: stage4 ", "  # trainable_from: stage4 ");
        text = TestText.Replace(text, "early_stopping: {signal: im, patience: 2, every: 25}", "early_stopping: {signal: im, patience: 2, every: 10}");
        text = TestText.Replace(text, "methods: [dann, coral]", "methods: [dann]");
        text = TestText.Replace(text, "baselines: [source-only, target-only]", "baselines: [source-only]");
        text = TestText.Replace(text, "bootstrap: 1000", "bootstrap: 200");
        text = TestText.Replace(text, "../sample-data", Path.Combine(TestPaths.RepoRoot, "sample-data"));
        text = edit?.Invoke(text) ?? text;
        string path = Path.Combine(TestPaths.NewTempDirectory(), "small.yaml");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Run_SmallProtocolTwice_WritesTheRunFolderWithIdenticalNumbers()
    {
        string protocol = SmallProtocol();
        string key = KeyFile();
        string first = Path.Combine(TestPaths.NewTempDirectory(), "run");
        string second = Path.Combine(TestPaths.NewTempDirectory(), "run");
        (int code, string output, string error) = CliRunner.Run("run", protocol, "--out", first, "--device", "cpu", "--json", "--key-file", key);
        Assert.True(code == 0, error + output);
        foreach (string file in new[] { "report.html", "results.json", "predictions.csv", "protocol.resolved.yaml", "run.log", "model/model.onnx", "run.json", "run.complete.json", "private/manifest.csv" })
        {
            Assert.True(File.Exists(Path.Combine(first, file)), file);
        }

        // The diagnostics say where they are, score by score and fold by fold (on a real-sized set they once ran for
        // minutes without a line).
        string log = File.ReadAllText(Path.Combine(first, "run.log"));
        Assert.Contains("diagnostics 0/", log, StringComparison.Ordinal);
        Assert.Contains("H-score on source-train", log, StringComparison.Ordinal);
        Assert.Contains("site probe fold 3/5", log, StringComparison.Ordinal);
        Assert.Contains("proxy A-distance", log, StringComparison.Ordinal);

        // The manifest holds identifiers, so it is in private/, never among the shareable outputs; no key was generated.
        Assert.False(File.Exists(Path.Combine(first, "manifest.csv")));
        Assert.False(File.Exists(Path.Combine(first, "private", "pseudonym.key")));
        Assert.DoesNotContain("note:", error, StringComparison.Ordinal);
        using (JsonDocument doc = JsonDocument.Parse(output))
        {
            // The model is picked across every (method, seed, checkpoint) by the protocol's rule, never target-only.
            string? selected = doc.RootElement.GetProperty("SelectedMethod").GetString();
            Assert.Contains(selected, new[] { "source-only", "dann" });
            Assert.Equal(selected, doc.RootElement.GetProperty("selected").GetProperty("Method").GetString());
            Assert.False(doc.RootElement.GetProperty("selected").GetProperty("IsOracle").GetBoolean());
            Assert.Equal(2, doc.RootElement.GetProperty("summary").GetArrayLength());

            // The verdict with power is the one pooled over seeds, with each seed's gap beside it.
            JsonElement pooled = Assert.Single(doc.RootElement.GetProperty("pooledGaps").EnumerateArray());
            Assert.Equal("dann", pooled.GetProperty("Method").GetString());
            Assert.Equal("source-only", pooled.GetProperty("baseline").GetString());
            Assert.Equal(1, pooled.GetProperty("perSeed").GetArrayLength());
        }

        // No identifiers from the DICOM files reach the shareable outputs.
        foreach (string file in new[] { "predictions.csv", "results.json", "run.log" })
        {
            string text = File.ReadAllText(Path.Combine(first, file));
            Assert.DoesNotContain("SYN-", text, StringComparison.Ordinal);
            Assert.DoesNotContain("2.25.", text, StringComparison.Ordinal);
        }

        // The frozen backbone ran on ONNX Runtime (CPU), and results.json says so.
        using (JsonDocument results = JsonDocument.Parse(File.ReadAllText(Path.Combine(first, "results.json"))))
        {
            Assert.StartsWith("onnxruntime ", results.RootElement.GetProperty("run").GetProperty("featureEngine").GetString(), StringComparison.Ordinal);
        }

        // The first run normalized every image and computed every frozen feature into its cache.
        Assert.True(Directory.Exists(Path.Combine(first, "private", "cache")));
        using (JsonDocument doc = JsonDocument.Parse(output))
        {
            JsonElement cache = doc.RootElement.GetProperty("cache");
            Assert.Equal(0, cache.GetProperty("ImagesRead").GetInt32());
            Assert.True(cache.GetProperty("ImagesNormalized").GetInt32() > 300);
            Assert.True(cache.GetProperty("ActivationsComputed").GetInt32() > 300);
        }

        // A second run into another folder, reading the first one's cache: nothing decoded, no feature computed, and
        // every output the same bytes as the cold run's.
        (code, output, error) = CliRunner.Run("run", protocol, "--out", second, "--device", "cpu", "--json", "--key-file", key, "--cache", Path.Combine(first, "private", "cache"));
        Assert.True(code == 0, error);
        using (JsonDocument doc = JsonDocument.Parse(output))
        {
            JsonElement cache = doc.RootElement.GetProperty("cache");
            Assert.Equal(0, cache.GetProperty("ImagesNormalized").GetInt32());
            Assert.Equal(0, cache.GetProperty("ActivationsComputed").GetInt32());
            Assert.True(cache.GetProperty("ActivationsRead").GetInt32() > 300);
        }

        Assert.False(Directory.Exists(Path.Combine(second, "private", "cache")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(first, "predictions.csv")), File.ReadAllBytes(Path.Combine(second, "predictions.csv")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(first, "model", "model.onnx")), File.ReadAllBytes(Path.Combine(second, "model", "model.onnx")));
        Assert.Equal(RunFolders.Numbers(first), RunFolders.Numbers(second));
    }

    [Fact]
    public void Run_WithACorruptedCache_DetectsEveryBadEntry_RebuildsThem_AndGivesTheSameNumbers()
    {
        string protocol = SmallProtocol(t => TestText.Replace(t, "size: 64", "size: 32"));
        string key = KeyFile();
        string first = Path.Combine(TestPaths.NewTempDirectory(), "run");
        (int code, _, string error) = CliRunner.Run("run", protocol, "--out", first, "--device", "cpu", "--json", "--key-file", key);
        Assert.True(code == 0, error);

        // Flip one byte in the data part of every shard (past the header): the entries there fail their checksums.
        string cache = Path.Combine(first, "private", "cache");
        string[] shards = Directory.GetFiles(cache, "shard-*");
        Assert.NotEmpty(shards);
        foreach (string shard in shards)
        {
            byte[] bytes = File.ReadAllBytes(shard);
            bytes[^8] ^= 0x40;
            File.WriteAllBytes(shard, bytes);
        }

        string second = Path.Combine(TestPaths.NewTempDirectory(), "run");
        (code, string output, error) = CliRunner.Run("run", protocol, "--out", second, "--device", "cpu", "--json", "--key-file", key, "--cache", cache);
        Assert.True(code == 0, error);
        using (JsonDocument doc = JsonDocument.Parse(output))
        {
            JsonElement use = doc.RootElement.GetProperty("cache");
            Assert.True(use.GetProperty("CorruptEntries").GetInt64() >= 1);
            Assert.True(use.GetProperty("ImagesNormalized").GetInt32() + use.GetProperty("ActivationsComputed").GetInt32() >= 1);
        }

        Assert.Equal(File.ReadAllBytes(Path.Combine(first, "predictions.csv")), File.ReadAllBytes(Path.Combine(second, "predictions.csv")));
        Assert.Equal(RunFolders.Numbers(first), RunFolders.Numbers(second));
    }

    [Fact]
    public void Run_CacheAndNoCache_AreAUsageError()
    {
        (int code, _, string error) = CliRunner.Run("run", SmallProtocol(), "--out", Path.Combine(TestPaths.NewTempDirectory(), "run"), "--cache", TestPaths.NewTempDirectory(), "--no-cache");
        Assert.Equal(2, code);
        Assert.Contains("--cache and --no-cache", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_ContradictorySettings_IsAUsageErrorAtTheFieldToChange()
    {
        string protocol = SmallProtocol(t => TestText.Replace(t, "  # trainable_from: stage4 ", "  trainable_from: stage3 "));
        (int code, _, string error) = CliRunner.Run("run", protocol, "--out", Path.Combine(TestPaths.NewTempDirectory(), "run"));
        Assert.Equal(2, code);
        Assert.Matches(@"small\.yaml:\d+:\d+: model\.trainable_from: feature-extraction freezes the whole backbone", error);
    }

    [Fact]
    public void Run_LabelsThatAreNotZeroOrOne_AreRefusedAtTheirLineAndColumn()
    {
        string dir = TestPaths.NewTempDirectory();
        string labels = Path.Combine(dir, "labels.csv");
        string[] lines = File.ReadAllLines(Path.Combine(TestPaths.RepoRoot, "sample-data", "manifest.csv"));
        int labelColumn = Array.IndexOf(lines[0].Split(','), "label");
        string[] fields = lines[5].Split(',');
        fields[labelColumn] = "yes";
        lines[5] = string.Join(',', fields);
        File.WriteAllLines(labels, lines);
        string protocol = SmallProtocol(t => TestText.Replace(t, Path.Combine(TestPaths.RepoRoot, "sample-data", "manifest.csv"), labels));

        (int code, _, string error) = CliRunner.Run("run", protocol, "--out", Path.Combine(dir, "run"), "--device", "cpu");

        Assert.Equal(2, code);
        Assert.Contains($"labels.csv:6:{labelColumn + 1}: label: 'yes' is not a label", error, StringComparison.Ordinal);
        Assert.DoesNotContain("SYN-", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_TargetSiteWithoutImages_IsRefusedAtTheFieldBeforeAnyFeature()
    {
        string protocol = SmallProtocol(t => TestText.Replace(t, "target_sites: [C]", "target_sites: [D]"));
        string run = Path.Combine(TestPaths.NewTempDirectory(), "run");

        (int code, _, string error) = CliRunner.Run("run", protocol, "--out", run, "--device", "cpu");

        Assert.Equal(2, code);
        Assert.Matches(@"small\.yaml:\d+:\d+: data\.target_sites: site 'D' has no labelled xray image", error);
        Assert.Contains("sites found: A, B, C", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(run, "run.complete.json")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(run, "checkpoints")));
    }

    [Fact]
    public void Run_IntoAFolderHoldingAnotherProtocolsRun_RefusesWithoutOverwrite()
    {
        string run = Path.Combine(TestPaths.NewTempDirectory(), "run");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "run.json"), "{\"format\": \"medtransfer-run/1\", \"protocolHash\": \"another\"}");
        File.WriteAllText(Path.Combine(run, "report.html"), "old report");
        File.WriteAllText(Path.Combine(run, "notes.txt"), "the user's own file");
        Directory.CreateDirectory(Path.Combine(run, "private", "cache"));
        File.WriteAllText(Path.Combine(run, "private", "manifest.csv"), "old manifest");
        File.WriteAllText(Path.Combine(run, "private", "cache", "index.log"), string.Empty);

        (int code, _, string error) = CliRunner.Run("run", SmallProtocol(t => TestText.Replace(t, "target_sites: [C]", "target_sites: [D]")), "--out", run, "--device", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("--overwrite", error, StringComparison.Ordinal);
        Assert.Equal("old report", File.ReadAllText(Path.Combine(run, "report.html")));

        // With --overwrite the old run's outputs go (the user's own file stays); this protocol then fails on its data.
        (code, _, error) = CliRunner.Run("run", SmallProtocol(t => TestText.Replace(t, "target_sites: [C]", "target_sites: [D]")), "--out", run, "--device", "cpu", "--overwrite");
        Assert.Equal(2, code);
        Assert.Contains("data.target_sites", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(run, "report.html")));
        Assert.True(File.Exists(Path.Combine(run, "notes.txt")));

        // The old manifest goes with the rest of private/, the feature cache stays (it serves no other recipe's tensors).
        Assert.False(File.Exists(Path.Combine(run, "private", "manifest.csv")));
        Assert.True(File.Exists(Path.Combine(run, "private", "cache", "index.log")));
    }
}

/// <summary>Helpers for comparing run folders.</summary>
internal static class RunFolders
{
    /// <summary>The weights a (method, seed) run kept: its chosen candidate's snapshot, at the step results.json names.</summary>
    public static string KeptCheckpoint(string runFolder, string method, int seed)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(runFolder, "results.json")));
        long step = doc.RootElement.GetProperty("run").GetProperty("runs").EnumerateArray()
            .Single(r => r.GetProperty("method").GetString() == method && r.GetProperty("seed").GetInt32() == seed)
            .GetProperty("selectedStep").GetInt64();
        return Path.Combine(runFolder, "checkpoints", $"{method}.seed-{seed}", "candidates", $"snapshot-{step:D8}.ckpt");
    }

    /// <summary>results.json without what may differ between equal runs: wall-clock fields, paths, what the cache served.</summary>
    public static string Numbers(string runFolder)
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
                if (key.Contains("second", StringComparison.OrdinalIgnoreCase) || key.Contains("path", StringComparison.OrdinalIgnoreCase) || key.Contains("generated", StringComparison.OrdinalIgnoreCase) || key == "cache")
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
