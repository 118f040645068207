using FsCheck.Xunit;
using MedTransfer.Evaluation.Metrics;

namespace MedTransfer.Evaluation.Tests.Metrics;

public sealed class AurocTests
{
    [Fact]
    public void Compute_PerfectSeparation_IsOne()
    {
        Assert.Equal(1.0, Auroc.Compute([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]));
    }

    [Fact]
    public void Compute_ReversedSeparation_IsZero()
    {
        Assert.Equal(0.0, Auroc.Compute([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]));
    }

    [Fact]
    public void Compute_HandCountedPairsWithTies_MatchesDefinition()
    {
        // Positives {0.4, 0.6, 0.6}, negatives {0.2, 0.6}: pairs (p > n) count 1, ties ½.
        // 0.4: >0.2 (1), <0.6 (0); 0.6: >0.2 (1), =0.6 (½); 0.6: same → (1 + 1.5 + 1.5) / 6 = 4/6.
        double auc = Auroc.Compute([0.4, 0.6, 0.6, 0.2, 0.6], [1, 1, 1, 0, 0]);

        Assert.Equal(4.0 / 6.0, auc, 12);
    }

    [Fact]
    public void Compute_AllScoresTied_IsOneHalf()
    {
        Assert.Equal(0.5, Auroc.Compute([0.3, 0.3, 0.3, 0.3], [0, 1, 0, 1]));
    }

    [Fact]
    public void Compute_SingleClass_ThrowsWithReason()
    {
        var ex = Assert.Throws<MetricUndefinedException>(() => Auroc.Compute([0.1, 0.2], [1, 1]));

        Assert.Contains("both classes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compute_LabelNotBinary_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => Auroc.Compute([0.1, 0.2], [0, 2]));
    }

    [Property(MaxTest = 200)]
    public bool Compute_EqualsBruteForcePairCount(int[] rawScores, bool[] rawLabels)
    {
        int n = Math.Min(rawScores.Length, rawLabels.Length);
        double[] scores = rawScores.Take(n).Select(v => (double)(v % 7)).ToArray();
        int[] labels = rawLabels.Take(n).Select(b => b ? 1 : 0).ToArray();
        if (!labels.Contains(0) || !labels.Contains(1))
        {
            return true;
        }

        double wins = 0;
        int pairs = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                if (labels[i] == 1 && labels[j] == 0)
                {
                    pairs++;
                    wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
                }
            }
        }

        return Math.Abs(Auroc.Compute(scores, labels) - (wins / pairs)) < 1e-12;
    }
}
