using System.Text.Json.Nodes;
using FsCheck.Xunit;
using MedTransfer.Pipeline.Protocols;
using MedTransfer.Pipeline.Sharding;
using MedTransfer.Pipeline.Sweeps;
using MedTransfer.Testing;

namespace MedTransfer.Pipeline.Tests.Sweeps;

/// <summary>Sweep expansion, sharding and the idempotent merge of per-item results.</summary>
public sealed class SweepTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-sweeps");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Expand_BaselinesThenMethods_EachOverEverySeed_WithStableIds()
    {
        SweepPlan plan = SweepPlan.Expand(Protocol([1, 2, 3], "dann", "coral"));

        Assert.Equal(12, plan.Items.Count);
        Assert.Equal("p/source-only/seed-1", plan.Items[0].Id);
        Assert.Equal("p/target-only/seed-3", plan.Items[5].Id);
        Assert.Equal("p/coral/seed-3", plan.Items[11].Id);
        Assert.True(plan.Items[5].IsBaseline);
        Assert.False(plan.Items[6].IsBaseline);
        Assert.Equal("dann.seed-1.result.json", plan.Items[6].ResultFileName);
        Assert.Equal(plan.Items.Select(i => i.Id), SweepPlan.Expand(Protocol([1, 2, 3], "dann", "coral")).Items.Select(i => i.Id));
        Assert.Equal(64, plan.ProtocolHash.Length);
    }

    [Property(MaxTest = 60)]
    public bool ForShard_EveryItemInExactlyOneShard_BalancedWithinOne(byte seedCount, byte shardCount)
    {
        int seeds = 1 + (seedCount % 12);
        int n = 1 + (shardCount % 20);
        SweepPlan plan = SweepPlan.Expand(Protocol([.. Enumerable.Range(1, seeds)], "dann", "mcc", "adabn"));
        IReadOnlyList<WorkItem>[] balanced = [.. Enumerable.Range(1, n).Select(i => plan.ForShard(new ShardSpec(i, n)))];
        IReadOnlyList<WorkItem>[] hashed = [.. Enumerable.Range(1, n).Select(i => plan.ForShard(new ShardSpec(i, n), SweepSharding.Hash))];

        bool partitions = balanced.SelectMany(s => s).Select(i => i.Id).Order(StringComparer.Ordinal)
            .SequenceEqual(plan.Items.Select(i => i.Id).Order(StringComparer.Ordinal));
        bool hashPartitions = hashed.SelectMany(s => s).Select(i => i.Id).Order(StringComparer.Ordinal)
            .SequenceEqual(plan.Items.Select(i => i.Id).Order(StringComparer.Ordinal));
        bool even = balanced.Max(s => s.Count) - balanced.Min(s => s.Count) <= 1;
        return partitions && hashPartitions && even;
    }

    [Fact]
    public void ForShard_IsTheSameOnEveryCall_AndKeepsPlanOrder()
    {
        SweepPlan plan = SweepPlan.Expand(Protocol([1, 2, 3, 4, 5], "dann", "cdan", "mcc"));

        IReadOnlyList<WorkItem> first = plan.ForShard(ShardSpec.Parse("2/4"));

        Assert.Equal(first, plan.ForShard(ShardSpec.Parse("2/4")));
        Assert.Equal(first, plan.Items.Where(first.Contains));
        Assert.Equal(plan.Items, plan.ForShard(ShardSpec.All));
    }

    [Fact]
    public void Merge_ThreeShards_IsCompleteWithMeanAndSampleSdPerMethod()
    {
        SweepPlan plan = SweepPlan.Expand(Protocol([1, 2, 3], "dann"));
        string[] shards = WriteShards(plan, 3);

        SweepMergeResult merged = SweepResults.Merge(plan, shards);

        Assert.True(merged.IsComplete);
        Assert.Equal(9, merged.Merged);
        JsonNode doc = JsonNode.Parse(merged.Json!)!;
        JsonNode dann = doc["summary"]!.AsArray().Single(s => (string)s!["method"]! == "dann")!;
        double[] values = [.. plan.Items.Where(i => i.MethodName == "dann").Select(Auroc)];
        double mean = values.Average();
        double sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / 2);
        Assert.Equal(mean, (double)dann["metrics"]!["auroc"]!["mean"]!, 12);
        Assert.Equal(sd, (double)dann["metrics"]!["auroc"]!["sd"]!, 12);
        Assert.Equal(3, (int)dann["seeds"]!);
        Assert.Equal(plan.Items.Select(i => i.Id), doc["items"]!.AsArray().Select(i => (string)i!["id"]!));
    }

    [Fact]
    public void Merge_SameInputsInAnyFolderOrderOrAgain_GivesByteIdenticalOutput()
    {
        SweepPlan plan = SweepPlan.Expand(Protocol([1, 2], "dann", "coral"));
        string[] shards = WriteShards(plan, 3);

        string first = SweepResults.Merge(plan, shards).Json!;
        string reversed = SweepResults.Merge(plan, shards.Reverse()).Json!;
        string again = SweepResults.Merge(plan, shards).Json!;

        Assert.Equal(first, reversed);
        Assert.Equal(first, again);
        Assert.DoesNotContain(_dir, first, StringComparison.Ordinal);
    }

    [Fact]
    public void Merge_IdenticalCopyOfAnItem_IsReportedAsDuplicateAndMergedOnce()
    {
        SweepPlan plan = SweepPlan.Expand(Protocol([1, 2], "dann"));
        string[] shards = WriteShards(plan, 2);
        WorkItem item = plan.Items[0];
        string copy = Path.Combine(_dir, "rerun");
        Directory.CreateDirectory(copy);
        string original = shards.Select(s => Path.Combine(s, item.ResultFileName)).Single(File.Exists);
        File.Copy(original, Path.Combine(copy, item.ResultFileName));

        SweepMergeResult merged = SweepResults.Merge(plan, [.. shards, copy]);

        Assert.True(merged.IsComplete);
        Assert.Equal([item.Id], merged.Duplicates);
        Assert.Equal(plan.Items.Count, merged.Merged);
    }

    [Fact]
    public void Merge_ConflictingCopy_ForeignProtocolAndBadJson_AreProblemsAndNothingIsMerged()
    {
        SweepPlan plan = SweepPlan.Expand(Protocol([1, 2], "dann"));
        string[] shards = WriteShards(plan, 2);
        string extra = Path.Combine(_dir, "extra");
        SweepResults.WriteItem(extra, plan, plan.Items[0], new Dictionary<string, double> { ["auroc"] = 0.01 });
        SweepPlan other = SweepPlan.Expand(Protocol([1, 2], "mcc"));
        SweepResults.WriteItem(Path.Combine(extra, "other"), other, other.Items[1], new Dictionary<string, double> { ["auroc"] = 0.5 });
        File.WriteAllText(Path.Combine(extra, "broken.result.json"), "{ not json");

        SweepMergeResult merged = SweepResults.Merge(plan, [.. shards, extra]);

        Assert.Null(merged.Json);
        Assert.False(merged.IsComplete);
        Assert.Equal(3, merged.Problems.Count);
        Assert.Contains(merged.Problems, p => p.Problem.Contains("differ", StringComparison.Ordinal));
        Assert.Contains(merged.Problems, p => p.File == "other/" + other.Items[1].ResultFileName && p.Problem.Contains("another version", StringComparison.Ordinal));
        Assert.Contains(merged.Problems, p => p.File == "broken.result.json" && p.Problem.Contains("not valid JSON", StringComparison.Ordinal));
    }

    [Fact]
    public void Merge_MissingItems_AreListedInPlanOrderAndTheOutputSaysIncomplete()
    {
        SweepPlan plan = SweepPlan.Expand(Protocol([1, 2, 3], "dann"));
        string[] shards = WriteShards(plan, 3);
        Directory.Delete(shards[1], recursive: true);
        Directory.CreateDirectory(shards[1]);
        string[] expectedMissing = [.. plan.ForShard(new ShardSpec(2, 3)).Select(i => i.Id)];

        SweepMergeResult merged = SweepResults.Merge(plan, shards);

        Assert.False(merged.IsComplete);
        Assert.Equal(expectedMissing, merged.Missing);
        Assert.False((bool)JsonNode.Parse(merged.Json!)!["complete"]!);
    }

    [Fact]
    public void WriteItem_NonFiniteMetric_IsRefused()
    {
        SweepPlan plan = SweepPlan.Expand(Protocol([1], "dann"));

        Assert.Throws<ArgumentException>(() => SweepResults.WriteItem(_dir, plan, plan.Items[0], new Dictionary<string, double> { ["auroc"] = double.NaN }));
    }

    private static double Auroc(WorkItem item) => 0.6 + (0.01 * item.Seed * item.Seed) + (item.Method == TrainingMethod.Dann ? 0.05 : 0);

    private string[] WriteShards(SweepPlan plan, int count)
    {
        string[] folders = [.. Enumerable.Range(1, count).Select(i => Path.Combine(_dir, $"shard-{i}"))];
        for (int i = 1; i <= count; i++)
        {
            foreach (WorkItem item in plan.ForShard(new ShardSpec(i, count)))
            {
                SweepResults.WriteItem(folders[i - 1], plan, item, new Dictionary<string, double> { ["auroc"] = Auroc(item), ["ece"] = 0.1 }, new JsonObject { ["device"] = "cpu" });
            }

            Directory.CreateDirectory(folders[i - 1]);
        }

        return folders;
    }

    private static ExperimentProtocol Protocol(int[] seeds, params string[] methods)
    {
        string yaml = $"""
            name: p
            seeds: [{string.Join(", ", seeds)}]
            data:
              modality: xray
              source: images.csv
              source_sites: [A]
              target_sites: [B]
            adaptation:
              methods: [{string.Join(", ", methods)}]
            baselines: [source-only, target-only]
            """;
        return ProtocolLoader.Parse(yaml, Path.GetTempPath(), "p.yaml", new ProtocolLoadOptions { CheckFiles = false });
    }
}
