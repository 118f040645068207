using MedTransfer.Training.Configuration;

namespace MedTransfer.Training.FineTuning;

/// <summary>
/// Which samples a step draws, as a pure function of (seed, stream, step): shuffled passes (a fresh shuffle per
/// pass, the remainder of a pass dropped) or class-balanced draws. Because nothing depends on earlier steps, a
/// resumed run draws exactly what an uninterrupted one would.
/// </summary>
internal static class SampleBatches
{
    /// <summary>The labelled batch of <paramref name="step"/>: balanced draws or shuffled passes, per the configuration.</summary>
    public static int[] Labelled(FineTuneConfig config, IReadOnlyList<int> labels, long step, long stream)
    {
        if (!config.BalancedSampling)
        {
            return Shuffled(config.Seed, stream, labels.Count, config.BatchSize, step);
        }

        var rng = new StableRandom(config.Seed, stream + 1, step);
        int[][] byClass = [.. Enumerable.Range(0, config.Classes).Select(c => Enumerable.Range(0, labels.Count).Where(i => labels[i] == c).ToArray()).Where(a => a.Length > 0)];
        var picked = new int[Math.Min(config.BatchSize, Math.Max(labels.Count, 2))];
        for (int i = 0; i < picked.Length; i++)
        {
            int[] pool = byClass[i % byClass.Length];
            picked[i] = pool[rng.Next(pool.Length)];
        }

        return picked;
    }

    /// <summary>Batch <paramref name="step"/> of shuffled passes over <paramref name="count"/> samples (the whole set when it is smaller than a batch).</summary>
    public static int[] Shuffled(long seed, long stream, int count, int batchSize, long step)
    {
        int batch = Math.Min(batchSize, count);
        int perPass = count / batch;
        long pass = step / perPass;
        int offset = (int)(step % perPass) * batch;
        int[] order = [.. Enumerable.Range(0, count)];
        new StableRandom(seed, stream, pass).Shuffle(order);
        return order.AsSpan(offset, batch).ToArray();
    }

    /// <summary>Class weights n / (C·n_c) of the labelled samples (0 for a class that is absent).</summary>
    public static double[] BalancedWeights(IReadOnlyList<int> labels, int classes)
    {
        var counts = new double[classes];
        foreach (int l in labels)
        {
            counts[l]++;
        }

        return [.. counts.Select(c => c == 0 ? 0 : labels.Count / (classes * c))];
    }
}
