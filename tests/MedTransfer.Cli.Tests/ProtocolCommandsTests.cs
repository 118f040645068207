using System.Text.Json.Nodes;
using MedTransfer.Pipeline.Protocols;
using MedTransfer.Pipeline.Sweeps;
using MedTransfer.Testing;

namespace MedTransfer.Cli.Tests;

/// <summary>`medtransfer protocol validate|show|plan|merge` on the shipped protocols and broken copies.</summary>
public sealed class ProtocolCommandsTests : IDisposable
{
    private static readonly string s_cxr = Path.Combine(TestPaths.RepoRoot, "protocols", "cxr-site-shift.yaml");

    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-cli-protocol");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Validate_ShippedProtocol_SucceedsAndPrintsTheHash()
    {
        string hash = ProtocolLoader.Load(s_cxr).ComputeHash();

        (int code, string output, string error) = CliRunner.Run("protocol", "validate", s_cxr);

        Assert.Equal(0, code);
        Assert.Empty(error);
        Assert.Contains(hash, output, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BrokenCopy_PrintsOneErrorPerProblemWithLineAndField()
    {
        string broken = Path.Combine(_dir, "broken.yaml");
        string sampleData = Path.Combine(TestPaths.RepoRoot, "sample-data").Replace('\\', '/');
        string text = TestText.Replace(File.ReadAllText(s_cxr), "../sample-data", sampleData);
        text = TestText.Replace(text, "  lr: 0.001", "  lr: fast");
        File.WriteAllText(broken, TestText.Replace(text, "selection: im", "selektion: im"));
        string[] lines = File.ReadAllLines(broken);
        int lrLine = Array.FindIndex(lines, l => l.StartsWith("  lr: fast", StringComparison.Ordinal)) + 1;

        (int code, _, string error) = CliRunner.Run("protocol", "validate", broken);
        (int jsonCode, string json, _) = CliRunner.Run("protocol", "validate", broken, "--json");

        Assert.Equal(1, code);
        string[] errors = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, errors.Length);
        Assert.StartsWith($"error: broken.yaml:{lrLine}:7: training.lr: expected a finite number", errors[0], StringComparison.Ordinal);
        Assert.Contains("selektion: unknown key 'selektion' (did you mean 'selection'?)", errors[1], StringComparison.Ordinal);
        Assert.Equal(1, jsonCode);
        JsonNode tree = JsonNode.Parse(json)!;
        Assert.False((bool)tree["valid"]!);
        Assert.Equal(lrLine, (int)tree["errors"]![0]!["line"]!);
        Assert.Equal("training.lr", (string)tree["errors"]![0]!["field"]!);
    }

    [Fact]
    public void Validate_Template_PassesOnlyWithoutFileChecks()
    {
        string template = Path.Combine(TestPaths.RepoRoot, "protocols", "template-dicom-folder.yaml");

        Assert.Equal(1, CliRunner.Run("protocol", "validate", template).Code);
        Assert.Equal(0, CliRunner.Run("protocol", "validate", template, "--no-file-checks").Code);
    }

    [Fact]
    public void Show_PrintsResolvedYamlWithDefaultsAndTheHash()
    {
        ExperimentProtocol protocol = ProtocolLoader.Load(s_cxr);

        (int code, string output, _) = CliRunner.Run("protocol", "show", s_cxr);
        (int jsonCode, string json, _) = CliRunner.Run("protocol", "show", s_cxr, "--json");

        Assert.Equal(0, code);
        Assert.StartsWith($"# protocol hash (sha256 of the canonical JSON): {protocol.ComputeHash()}\n", output, StringComparison.Ordinal);
        Assert.Contains("  l2sp_alpha: 0.01\n", output, StringComparison.Ordinal); // a default the file does not spell out
        Assert.Equal(0, jsonCode);
        Assert.Equal(protocol.ComputeHash(), (string)JsonNode.Parse(json)!["hash"]!);
    }

    [Fact]
    public void PlanAndMerge_ThreeShards_CoverThePlanAndMergeIdempotently()
    {
        SweepPlan plan = SweepPlan.Expand(ProtocolLoader.Load(s_cxr));
        var folders = new List<string>();
        var planned = new List<string>();
        for (int i = 1; i <= 3; i++)
        {
            (int code, string json, _) = CliRunner.Run("protocol", "plan", s_cxr, "--shard", $"{i}/3", "--json");
            Assert.Equal(0, code);
            string folder = Path.Combine(_dir, $"shard-{i}");
            folders.Add(folder);
            Directory.CreateDirectory(folder);
            foreach (JsonNode? item in JsonNode.Parse(json)!["items"]!.AsArray())
            {
                string id = (string)item!["id"]!;
                planned.Add(id);
                SweepResults.WriteItem(folder, plan, plan.Items.Single(x => x.Id == id), new Dictionary<string, double> { ["auroc"] = 0.5 + (planned.Count / 100.0) });
            }
        }

        string merged = Path.Combine(_dir, "merged.json");
        (int mergeCode, _, string mergeError) = CliRunner.Run(["protocol", "merge", s_cxr, .. folders, "--out", merged]);
        string first = File.ReadAllText(merged);
        (int againCode, _, _) = CliRunner.Run(["protocol", "merge", s_cxr, .. folders.AsEnumerable().Reverse(), "--out", merged]);

        Assert.Equal(plan.Items.Select(i => i.Id).Order(StringComparer.Ordinal), planned.Order(StringComparer.Ordinal));
        Assert.Equal(0, mergeCode);
        Assert.Empty(mergeError);
        Assert.Equal(0, againCode);
        Assert.Equal(first, File.ReadAllText(merged));
        Assert.True((bool)JsonNode.Parse(first)!["complete"]!);
    }

    [Fact]
    public void Merge_MissingShard_ExitsWithFailureAndListsTheMissingItems()
    {
        SweepPlan plan = SweepPlan.Expand(ProtocolLoader.Load(s_cxr));
        string folder = Path.Combine(_dir, "only");
        SweepResults.WriteItem(folder, plan, plan.Items[0], new Dictionary<string, double> { ["auroc"] = 0.7 });

        (int code, string output, string _) = CliRunner.Run("protocol", "merge", s_cxr, folder, "--out", Path.Combine(_dir, "m.json"), "--json");

        Assert.Equal(1, code);
        JsonNode tree = JsonNode.Parse(output)!;
        Assert.False((bool)tree["complete"]!);
        Assert.Equal(plan.Items.Count - 1, tree["missing"]!.AsArray().Count);
    }

    [Fact]
    public void Plan_BadShard_IsAUsageError()
    {
        (int code, _, string error) = CliRunner.Run("protocol", "plan", s_cxr, "--shard", "0/3");

        Assert.Equal(2, code);
        Assert.Contains("not a shard", error, StringComparison.Ordinal);
    }
}
