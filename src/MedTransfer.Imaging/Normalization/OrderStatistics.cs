namespace MedTransfer.Imaging.Normalization;

/// <summary>
/// Exact order statistics of the finite values of a span without sorting or copying it: a two-pass radix select on
/// the IEEE-754 bit pattern mapped to an order-preserving unsigned key (high 16 bits, then low 16 bits within the
/// selected bucket). O(n) time, 2 × 256 KiB of histograms; gives the same values as sorting, so percentiles built on
/// it match NumPy exactly.
/// </summary>
internal static class OrderStatistics
{
    private const int Buckets = 1 << 16;

    /// <summary>
    /// The first pass: a histogram of the high 16 key bits of the finite values, and their count. Pass it to
    /// <see cref="Select"/> with ranks computed from the count.
    /// </summary>
    internal static (long[] High, long Finite) Histogram(ReadOnlySpan<float> values)
    {
        long[] high = HighHistogram(values);
        long finite = 0;
        foreach (long c in high)
        {
            finite += c;
        }

        return (high, finite);
    }

    /// <summary>The values of ascending rank <paramref name="ranks"/> (0-based, each &lt; the finite count).</summary>
    internal static float[] Select(ReadOnlySpan<float> values, long[] high, ReadOnlySpan<long> ranks)
    {

        // Locate each rank's high bucket and its rank inside the bucket.
        var bucketOf = new int[ranks.Length];
        var rankIn = new long[ranks.Length];
        for (int r = 0; r < ranks.Length; r++)
        {
            (bucketOf[r], rankIn[r]) = Locate(high, ranks[r]);
        }

        // Second pass: low-16-bit histograms of the (at most a few) selected buckets, found by a byte lookup.
        int[] distinct = [.. bucketOf.Distinct()];
        var slot = new byte[Buckets];
        for (int d = 0; d < distinct.Length; d++)
        {
            slot[distinct[d]] = (byte)(d + 1);
        }

        var low = new long[distinct.Length][];
        for (int d = 0; d < distinct.Length; d++)
        {
            low[d] = new long[Buckets];
        }

        foreach (float v in values)
        {
            uint key = Key(v);
            int s = slot[key >> 16];
            if (s != 0 && float.IsFinite(v))
            {
                low[s - 1][key & 0xFFFF]++;
            }
        }

        var result = new float[ranks.Length];
        for (int r = 0; r < ranks.Length; r++)
        {
            long[] histogram = low[slot[bucketOf[r]] - 1];
            (int lowBits, _) = Locate(histogram, rankIn[r]);
            result[r] = FromKey(((uint)bucketOf[r] << 16) | (uint)lowBits);
        }

        return result;
    }

    // Four interleaved histograms break the store-to-load dependency when neighbouring pixels share a bucket.
    private static long[] HighHistogram(ReadOnlySpan<float> values)
    {
        var h0 = new int[Buckets];
        var h1 = new int[Buckets];
        var h2 = new int[Buckets];
        var h3 = new int[Buckets];
        var total = new long[Buckets];
        const int Chunk = 1 << 30; // int counters: flush before any can overflow
        for (int start = 0; start < values.Length; start += Chunk)
        {
            ReadOnlySpan<float> part = values.Slice(start, Math.Min(Chunk, values.Length - start));
            int i = 0;
            for (; i + 3 < part.Length; i += 4)
            {
                Count(h0, part[i]);
                Count(h1, part[i + 1]);
                Count(h2, part[i + 2]);
                Count(h3, part[i + 3]);
            }

            for (; i < part.Length; i++)
            {
                Count(h0, part[i]);
            }

            for (int b = 0; b < Buckets; b++)
            {
                total[b] += (long)h0[b] + h1[b] + h2[b] + h3[b];
            }

            Array.Clear(h0);
            Array.Clear(h1);
            Array.Clear(h2);
            Array.Clear(h3);
        }

        return total;
    }

    private static void Count(int[] histogram, float v)
    {
        if (float.IsFinite(v))
        {
            histogram[Key(v) >> 16]++;
        }
    }

    private static (int Bucket, long RankInBucket) Locate(long[] histogram, long rank)
    {
        int b = 0;
        while (rank >= histogram[b])
        {
            rank -= histogram[b];
            b++;
        }

        return (b, rank);
    }

    private static uint Key(float f)
    {
        uint bits = BitConverter.SingleToUInt32Bits(f);
        return (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
    }

    private static float FromKey(uint key) =>
        BitConverter.UInt32BitsToSingle((key & 0x80000000u) != 0 ? key & 0x7FFFFFFFu : ~key);
}
