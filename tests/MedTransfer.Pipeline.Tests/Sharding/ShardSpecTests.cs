using MedTransfer.Pipeline.Sharding;

namespace MedTransfer.Pipeline.Tests.Sharding;

public sealed class ShardSpecTests
{
    [Theory]
    [InlineData("1/1", 1, 1)]
    [InlineData("3/8", 3, 8)]
    public void Parse_ValidText_GivesIndexAndCount(string text, int index, int count)
    {
        Assert.Equal(new ShardSpec(index, count), ShardSpec.Parse(text));
    }

    [Theory]
    [InlineData("0/3")]
    [InlineData("4/3")]
    [InlineData("1/0")]
    [InlineData("a/b")]
    [InlineData("2")]
    [InlineData("-1/3")]
    public void Parse_InvalidText_ThrowsFormatExceptionThatExplains(string text)
    {
        var ex = Assert.Throws<FormatException>(() => ShardSpec.Parse(text));

        Assert.Contains("i/n", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Owns_ThreeShards_PartitionEveryKeyExactlyOnce()
    {
        string[] keys = [.. Enumerable.Range(0, 3000).Select(i => $"study-{i}")];
        ShardSpec[] shards = [new(1, 3), new(2, 3), new(3, 3)];

        int[] owners = [.. keys.Select(k => shards.Count(s => s.Owns(k)))];
        int[] sizes = [.. shards.Select(s => keys.Count(s.Owns))];

        Assert.All(owners, n => Assert.Equal(1, n));
        Assert.All(sizes, n => Assert.InRange(n, 900, 1100));
    }

    [Fact]
    public void Owns_IsStableAcrossCalls()
    {
        var shard = new ShardSpec(2, 5);

        Assert.Equal(shard.Owns("1.2.840.99.1"), shard.Owns("1.2.840.99.1"));
        Assert.True(ShardSpec.All.Owns("anything"));
    }
}
