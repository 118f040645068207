using System.Globalization;
using MedTransfer.Imaging.Cache;
using MedTransfer.Testing;

namespace MedTransfer.Imaging.Tests.Cache;

public sealed class PreprocessedCacheTests : IDisposable
{
    private const string Recipe = "xray-v1.0123abcd";
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-cache");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static CacheKey Key(int i, string recipe = Recipe) =>
        new(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i))), recipe);

    private static float[] Tensor(int seed, int length = 3 * 8 * 8)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() - 0.5) * 500))];
    }

    private static void AssertWithinHalfPrecision(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = Math.Max(Math.Abs(expected[i]) * PreprocessedCache.MaxRelativeError, Math.Pow(2, -25));
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, string.Create(CultureInfo.InvariantCulture, $"element {i}: {expected[i]} vs {actual[i]}"));
        }
    }

    [Fact]
    public void PutTryGet_RoundTripWithinFloat16Tolerance()
    {
        float[] tensor = [.. Tensor(1), 1e-6f, -3e-7f, 65504f, -65504f, 0f, 1f / 3];
        using var cache = new PreprocessedCache(_dir);

        cache.Put(Key(1), tensor, [tensor.Length]);
        Assert.True(cache.TryGet(Key(1), out float[]? fromMemory, out int[]? shape));
        cache.Flush();
        Assert.True(cache.TryGet(Key(1), out float[]? fromShard, out _));

        Assert.Equal([tensor.Length], shape);
        AssertWithinHalfPrecision(tensor, fromMemory);
        Assert.Equal(fromMemory, fromShard);
    }

    [Fact]
    public void SinglePrecision_GivesBackTheExactBits_FromMemoryAndFromAReopenedShard()
    {
        float[] tensor = [.. Tensor(4), 1e-30f, -1e-38f, 1e20f, float.Epsilon, 1f / 3];
        using (var cache = new PreprocessedCache(_dir, new PreprocessedCacheOptions { Precision = CachePrecision.Single }))
        {
            cache.Put(Key(1), tensor, [tensor.Length]);
            Assert.True(cache.TryGet(Key(1), out float[]? fromMemory, out _));
            Assert.Equal(tensor, fromMemory);
        }

        using var reopened = new PreprocessedCache(_dir, new PreprocessedCacheOptions { ReadOnly = true });
        Assert.True(reopened.TryGet(Key(1), out float[]? fromShard, out int[]? shape));
        Assert.Equal([tensor.Length], shape);
        Assert.Equal(tensor, fromShard);
    }

    [Fact]
    public void Precisions_MixInOneFolder_EachEntryKeepsItsOwn()
    {
        float[] a = Tensor(5);
        using (var half = new PreprocessedCache(_dir))
        {
            half.Put(Key(1), a, [a.Length]);
        }

        using (var single = new PreprocessedCache(_dir, new PreprocessedCacheOptions { Precision = CachePrecision.Single }))
        {
            single.Put(Key(2), a, [a.Length]);
        }

        using var reader = new PreprocessedCache(_dir, new PreprocessedCacheOptions { ReadOnly = true });
        Assert.True(reader.TryGet(Key(1), out float[]? rounded, out _));
        Assert.True(reader.TryGet(Key(2), out float[]? exact, out _));
        AssertWithinHalfPrecision(a, rounded);
        Assert.NotEqual(a, rounded);
        Assert.Equal(a, exact);
    }

    [Fact]
    public void SinglePrecision_RefusesNaNButTakesLargeValues()
    {
        using var cache = new PreprocessedCache(_dir, new PreprocessedCacheOptions { Precision = CachePrecision.Single });
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Put(Key(1), [1f, float.NaN], [2]));
        cache.Put(Key(2), [1e6f, -1e6f], [2]);
        Assert.True(cache.TryGet(Key(2), out float[]? back, out _));
        Assert.Equal([1e6f, -1e6f], back);
    }

    [Fact]
    public void Put_ObservedRelativeError_StaysBelowTheDocumentedBound()
    {
        var random = new Random(3);
        float[] tensor = [.. Enumerable.Range(0, 100_000).Select(_ => (float)(Math.Exp((random.NextDouble() * 20) - 9) * (random.Next(2) * 2 - 1)))];
        using var cache = new PreprocessedCache(_dir);

        cache.Put(Key(1), tensor, [tensor.Length]);
        cache.TryGet(Key(1), out float[]? back, out _);

        double worst = tensor.Zip(back!).Where(p => Math.Abs(p.First) >= 6.2e-5).Max(p => Math.Abs(p.First - p.Second) / Math.Abs(p.First));
        Assert.InRange(worst, 4.0e-4, PreprocessedCache.MaxRelativeError);
    }

    [Fact]
    public void Reopen_ServesFromTheMemoryMappedShard()
    {
        float[] a = Tensor(1);
        float[] b = Tensor(2, 10);
        using (var cache = new PreprocessedCache(_dir))
        {
            cache.Put(Key(1), a, [3, 8, 8]);
            cache.Put(Key(2), b, [2, 5]);
        }

        using var reopened = new PreprocessedCache(_dir, new PreprocessedCacheOptions { ReadOnly = true });

        Assert.True(reopened.TryGet(Key(1), out float[]? backA, out int[]? shapeA));
        Assert.True(reopened.TryGet(Key(2), out float[]? backB, out int[]? shapeB));
        AssertWithinHalfPrecision(a, backA);
        AssertWithinHalfPrecision(b, backB);
        Assert.Equal([3, 8, 8], shapeA);
        Assert.Equal([2, 5], shapeB);
        Assert.Equal(1, reopened.Stats.Shards);
        Assert.Equal(2, reopened.Stats.Entries);
        Assert.False(reopened.TryGet(Key(1, "other-recipe"), out _, out _));
    }

    [Fact]
    public void GetOrAdd_BuildsOnlyWhenTheKeyIsMissing()
    {
        int builds = 0;
        (float[], int[]) Build(CacheKey key)
        {
            builds++;
            return (Tensor(5), [3, 8, 8]);
        }

        using (var cache = new PreprocessedCache(_dir))
        {
            (float[] first, _) = cache.GetOrAdd(Key(1), Build);
            (float[] second, _) = cache.GetOrAdd(Key(1), Build);
            Assert.Equal(first, second);
            cache.GetOrAdd(Key(1, "recipe-2"), Build);
        }

        using var reopened = new PreprocessedCache(_dir);
        reopened.GetOrAdd(Key(1), Build);

        Assert.Equal(2, builds);
        Assert.Equal(1, reopened.Stats.Hits);
    }

    [Fact]
    public void Open_PartialTempShardFromACrash_IsIgnoredAndDeleted()
    {
        using (var cache = new PreprocessedCache(_dir))
        {
            cache.Put(Key(1), Tensor(1), [192]);
        }

        // A kill during the next shard write leaves only a temporary file, never named in the journal.
        string temp = Path.Combine(_dir, "shard-000002.tensors.0123456789abcdef.tmp");
        File.WriteAllBytes(temp, [.. File.ReadAllBytes(Path.Combine(_dir, "shard-000001.tensors")).Take(100)]);

        using var reopened = new PreprocessedCache(_dir);

        Assert.False(File.Exists(temp));
        Assert.True(reopened.TryGet(Key(1), out _, out _));
        Assert.Equal(1, reopened.Stats.Entries);
    }

    [Fact]
    public void Open_ShardRenamedButNeverJournaled_IsNotServed()
    {
        using (var cache = new PreprocessedCache(_dir))
        {
            cache.Put(Key(1), Tensor(1), [192]);
        }

        // Simulate a kill between the rename and the journal append: drop the journal line.
        File.WriteAllText(Path.Combine(_dir, PreprocessedCache.JournalName), string.Empty);

        using var reopened = new PreprocessedCache(_dir);

        Assert.False(reopened.TryGet(Key(1), out _, out _));
        Assert.False(File.Exists(Path.Combine(_dir, "shard-000001.tensors")));
        reopened.Put(Key(1), Tensor(1), [192]);
        reopened.Flush();
        Assert.True(reopened.TryGet(Key(1), out _, out _));
    }

    [Fact]
    public void Open_TornJournalLine_IsIgnoredAndLaterWritesSurvive()
    {
        using (var cache = new PreprocessedCache(_dir))
        {
            cache.Put(Key(1), Tensor(1), [192]);
        }

        File.AppendAllText(Path.Combine(_dir, PreprocessedCache.JournalName), "shard-000002.tensors 12");
        using (var cache = new PreprocessedCache(_dir))
        {
            Assert.True(cache.TryGet(Key(1), out _, out _));
            cache.Put(Key(2), Tensor(2), [192]);
        }

        using var reopened = new PreprocessedCache(_dir);

        Assert.True(reopened.TryGet(Key(1), out _, out _));
        Assert.True(reopened.TryGet(Key(2), out _, out _));
    }

    [Theory]
    [InlineData("temp-written", false)]
    [InlineData("renamed", false)]
    [InlineData("renamed", true)]
    public void Flush_KilledPartWay_NeverServesTheUncommittedShardAndKeepsEarlierOnes(string stage, bool tornJournalLine)
    {
        using (var cache = new PreprocessedCache(_dir))
        {
            cache.Put(Key(1), Tensor(1), [192]);
        }

        var crashing = new PreprocessedCache(_dir);
        crashing.Put(Key(2), Tensor(2), [192]);
        crashing.CrashHook = at =>
        {
            if (at == stage)
            {
                if (tornJournalLine)
                {
                    File.AppendAllText(Path.Combine(_dir, PreprocessedCache.JournalName), "shard-000002.tensors 9");
                }

                throw new SimulatedKillException();
            }
        };
        Assert.Throws<SimulatedKillException>(crashing.Flush);
        crashing.Abandon();

        using (var reopened = new PreprocessedCache(_dir))
        {
            Assert.True(reopened.TryGet(Key(1), out _, out _));
            Assert.False(reopened.TryGet(Key(2), out _, out _));
            Assert.Equal(["index.log", "shard-000001.tensors", "writer.lock"], Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            reopened.Put(Key(2), Tensor(2), [192]);
        }

        using var final = new PreprocessedCache(_dir);
        Assert.True(final.TryGet(Key(2), out float[]? back, out _));
        AssertWithinHalfPrecision(Tensor(2), back);
    }

    [Fact]
    public void TryGet_CorruptDataByte_IsDetectedNotServedAndRebuilt()
    {
        float[] original = Tensor(1);
        using (var cache = new PreprocessedCache(_dir))
        {
            cache.Put(Key(1), original, [192]);
        }

        string shard = Path.Combine(_dir, "shard-000001.tensors");
        byte[] bytes = File.ReadAllBytes(shard);
        bytes[^10] ^= 0x40;
        File.WriteAllBytes(shard, bytes);

        int builds = 0;
        using (var cache = new PreprocessedCache(_dir))
        {
            Assert.False(cache.TryGet(Key(1), out _, out _));
            Assert.Equal(1, cache.Stats.CorruptDetected);
            (float[] rebuilt, _) = cache.GetOrAdd(Key(1), _ =>
            {
                builds++;
                return (original, [192]);
            });
            AssertWithinHalfPrecision(original, rebuilt);
        }

        using var reopened = new PreprocessedCache(_dir);
        Assert.True(reopened.TryGet(Key(1), out float[]? served, out _));
        AssertWithinHalfPrecision(original, served);
        Assert.Equal(1, builds);
    }

    [Fact]
    public void Open_CorruptHeaderOrTruncatedShard_IsSkipped()
    {
        using (var cache = new PreprocessedCache(_dir))
        {
            cache.Put(Key(1), Tensor(1), [192]);
        }

        using (var cache = new PreprocessedCache(_dir))
        {
            cache.Put(Key(2), Tensor(2), [192]);
        }

        string first = Path.Combine(_dir, "shard-000001.tensors");
        byte[] bytes = File.ReadAllBytes(first);
        bytes[30] ^= 0x01;
        File.WriteAllBytes(first, bytes);
        string second = Path.Combine(_dir, "shard-000002.tensors");
        File.WriteAllBytes(second, File.ReadAllBytes(second)[..^64]);

        using var reopened = new PreprocessedCache(_dir);

        Assert.False(reopened.TryGet(Key(1), out _, out _));
        Assert.False(reopened.TryGet(Key(2), out _, out _));
        Assert.Equal(2, reopened.Stats.CorruptDetected);
    }

    [Fact]
    public void Put_SmallShardTarget_WritesSeveralShardsAllServedAfterReopen()
    {
        using (var cache = new PreprocessedCache(_dir, new PreprocessedCacheOptions { ShardTargetBytes = 1000 }))
        {
            for (int i = 0; i < 10; i++)
            {
                cache.Put(Key(i), Tensor(i), [192]);
            }
        }

        using var reopened = new PreprocessedCache(_dir);

        Assert.Equal(10, reopened.Stats.Entries);
        Assert.True(reopened.Stats.Shards >= 3);
        for (int i = 0; i < 10; i++)
        {
            Assert.True(reopened.TryGet(Key(i), out float[]? back, out _));
            AssertWithinHalfPrecision(Tensor(i), back);
        }
    }

    [Fact]
    public void TryGet_ConcurrentReaders_AllSeeTheSameTensors()
    {
        using (var cache = new PreprocessedCache(_dir, new PreprocessedCacheOptions { ShardTargetBytes = 4096 }))
        {
            for (int i = 0; i < 20; i++)
            {
                cache.Put(Key(i), Tensor(i), [192]);
            }
        }

        using var reader = new PreprocessedCache(_dir, new PreprocessedCacheOptions { ReadOnly = true });
        var expected = Enumerable.Range(0, 20).Select(i =>
        {
            reader.TryGet(Key(i), out float[]? t, out _);
            return t!;
        }).ToArray();
        int mismatches = 0;

        Parallel.For(0, 4000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, n =>
        {
            int i = n % 20;
            if (!reader.TryGet(Key(i), out float[]? t, out _) || !t.AsSpan().SequenceEqual(expected[i]))
            {
                Interlocked.Increment(ref mismatches);
            }
        });

        Assert.Equal(0, mismatches);
        Assert.Equal(4020, reader.Stats.Hits);
    }

    [Fact]
    public void Open_SecondWriter_IsRefusedButReadersAreWelcome()
    {
        using var writer = new PreprocessedCache(_dir);
        writer.Put(Key(1), Tensor(1), [192]);
        writer.Flush();

        Assert.Throws<IOException>(() => new PreprocessedCache(_dir));
        using var reader = new PreprocessedCache(_dir, new PreprocessedCacheOptions { ReadOnly = true });
        Assert.True(reader.TryGet(Key(1), out _, out _));
        Assert.Throws<InvalidOperationException>(() => reader.Put(Key(2), Tensor(2), [192]));
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(65536f)]
    public void Put_ValueBinary16CannotHold_Throws(float value)
    {
        using var cache = new PreprocessedCache(_dir);

        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Put(Key(1), [1f, value], [2]));
    }

    [Fact]
    public void Put_ShapeMismatch_Throws()
    {
        using var cache = new PreprocessedCache(_dir);

        Assert.Throws<ArgumentException>(() => cache.Put(Key(1), new float[12], [3, 5]));
        Assert.Throws<ArgumentException>(() => cache.Put(Key(1), new float[12], []));
        Assert.Throws<ArgumentException>(() => cache.Put(Key(1), new float[0], [0]));
    }

    [Theory]
    [InlineData("abc", "r")]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000", "")]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000", "a/b")]
    [InlineData("000000000000000000000000000000000000000000000000000000000000000g", "r")]
    public void CacheKey_Malformed_Throws(string sha, string recipe) => Assert.Throws<ArgumentException>(() => new CacheKey(sha, recipe));

    private sealed class SimulatedKillException : Exception
    {
    }
}
