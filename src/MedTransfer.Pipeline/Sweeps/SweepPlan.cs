using System.Globalization;
using MedTransfer.Pipeline.Protocols;
using MedTransfer.Pipeline.Sharding;

namespace MedTransfer.Pipeline.Sweeps;

/// <summary>How <see cref="SweepPlan.ForShard"/> assigns work items to shards.</summary>
public enum SweepSharding
{
    /// <summary>
    /// Items sorted by id; the k-th (0-based) goes to shard (k mod n) + 1. Shard sizes differ by at most one, which
    /// matters for sweeps of tens of items where a hash split leaves some shards empty. Depends only on the set of ids.
    /// </summary>
    Balanced,

    /// <summary><see cref="ShardSpec.Owns"/> (SHA-256 of the id): an item keeps its shard when others are added or removed.</summary>
    Hash,
}

/// <summary>
/// One unit of a sweep: one training regime (a method or a baseline) with one seed.
/// </summary>
/// <param name="Id">Stable id "PROTOCOL/METHOD/seed-N" (e.g. "cxr-site-shift/dann/seed-2"): the same protocol gives the same ids on any machine.</param>
/// <param name="Method">The method or baseline.</param>
/// <param name="IsBaseline">True for baselines (source-only, target-only, scratch).</param>
/// <param name="Seed">The run seed (data order, augmentation, initialisation).</param>
/// <param name="Settings">The method's hyperparameters (null for baselines).</param>
public sealed record WorkItem(string Id, TrainingMethod Method, bool IsBaseline, int Seed, MethodSpec? Settings)
{
    /// <summary>The method's YAML name.</summary>
    public string MethodName => ProtocolNames.Of(Method);

    /// <summary>The file a runner writes this item's result to: "METHOD.seed-N.result.json" (see <see cref="SweepResults"/>).</summary>
    public string ResultFileName => string.Create(CultureInfo.InvariantCulture, $"{MethodName}.seed-{Seed}{SweepResults.FileSuffix}");
}

/// <summary>
/// A protocol expanded into work items: baselines first, then the adaptation methods, each in protocol order, and
/// within each every seed in protocol order. Shard it with <see cref="ForShard"/>; combine the results with
/// <see cref="SweepResults.Merge"/>.
/// </summary>
public sealed record SweepPlan
{
    private SweepPlan(string protocolName, string protocolHash, IReadOnlyList<WorkItem> items)
    {
        ProtocolName = protocolName;
        ProtocolHash = protocolHash;
        Items = items;
    }

    /// <summary>The protocol's name.</summary>
    public string ProtocolName { get; }

    /// <summary>The protocol's hash (<see cref="ExperimentProtocol.ComputeHash"/>): results of another version do not merge.</summary>
    public string ProtocolHash { get; }

    /// <summary>Every work item, in plan order.</summary>
    public IReadOnlyList<WorkItem> Items { get; }

    /// <summary>Expands a protocol: (baselines + methods) × seeds.</summary>
    public static SweepPlan Expand(ExperimentProtocol protocol)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        var items = new List<WorkItem>();
        foreach (TrainingMethod baseline in protocol.Baselines)
        {
            items.AddRange(protocol.Seeds.Select(seed => new WorkItem(Id(protocol.Name, baseline, seed), baseline, true, seed, null)));
        }

        foreach (MethodSpec method in protocol.Adaptation.Methods)
        {
            items.AddRange(protocol.Seeds.Select(seed => new WorkItem(Id(protocol.Name, method.Method, seed), method.Method, false, seed, method)));
        }

        return new SweepPlan(protocol.Name, protocol.ComputeHash(), items);
    }

    /// <summary>The items one shard runs, in plan order. Every item is in exactly one shard of a given count.</summary>
    public IReadOnlyList<WorkItem> ForShard(ShardSpec shard, SweepSharding sharding = SweepSharding.Balanced)
    {
        ArgumentNullException.ThrowIfNull(shard);
        if (sharding == SweepSharding.Hash)
        {
            return [.. Items.Where(i => shard.Owns(i.Id))];
        }

        var owned = new HashSet<string>(
            Items.Select(i => i.Id).Order(StringComparer.Ordinal).Where((_, k) => k % shard.Count == shard.Index - 1),
            StringComparer.Ordinal);
        return [.. Items.Where(i => owned.Contains(i.Id))];
    }

    /// <summary>The stable id of a work item.</summary>
    public static string Id(string protocolName, TrainingMethod method, int seed) =>
        string.Create(CultureInfo.InvariantCulture, $"{protocolName}/{ProtocolNames.Of(method)}/seed-{seed}");
}
