using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace MedTransfer.Pipeline.Sharding;

/// <summary>
/// One shard of a deterministic partition ("--shard i/n", 1-based i), for running batch diagnosis
/// or sweeps as Slurm job arrays or Kubernetes Indexed Jobs (how the work grows past one machine without a scheduler of our own).
/// A work item belongs to exactly one shard, chosen from a stable hash of its key (the first 8 bytes of SHA-256), so
/// the split does not depend on enumeration order, machine or run.
/// </summary>
/// <param name="Index">1-based shard index.</param>
/// <param name="Count">Number of shards.</param>
public sealed record ShardSpec(int Index, int Count)
{
    /// <summary>The whole workload as one shard.</summary>
    public static ShardSpec All { get; } = new(1, 1);

    /// <summary>Parses "i/n" with 1 ≤ i ≤ n.</summary>
    /// <exception cref="FormatException">The text is not of that form, with a message that says what is expected.</exception>
    public static ShardSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Split('/');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count)
            && count >= 1 && index >= 1 && index <= count)
        {
            return new ShardSpec(index, count);
        }

        throw new FormatException($"'{text}' is not a shard: expected i/n with 1 ≤ i ≤ n, e.g. 2/8.");
    }

    /// <summary>True when the work item with <paramref name="key"/> belongs to this shard.</summary>
    public bool Owns(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        ulong hash = BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes(key)), 0);
        return (int)(hash % (ulong)Count) == Index - 1;
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");
}
