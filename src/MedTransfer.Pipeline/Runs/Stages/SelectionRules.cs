using System.Globalization;
using MedTransfer.Pipeline.Protocols;
using MedTransfer.Training.Adaptation;

namespace MedTransfer.Pipeline.Runs.Stages;

/// <summary>The candidate a rule picked among several.</summary>
/// <param name="Index">Its index in the list the rule saw.</param>
/// <param name="Score">The rule's score of it (NaN when no candidate had one and the last was kept).</param>
/// <param name="Rule">What picked it, in words.</param>
/// <param name="IsOracle">True when target labels picked it.</param>
internal sealed record Pick(int Index, double Score, string Rule, bool IsOracle);

/// <summary>
/// The selection rules as scores of <see cref="CandidateResult"/>s, and the pick of the best: each (method, seed) run
/// keeps its best candidate, and the best candidate over all runs (the target-only baseline aside: it trains on
/// target labels) is the reported model. Ties go to the earliest candidate (plan order, then step).
/// </summary>
internal static class SelectionRules
{
    /// <summary>Every rule, in the order the selection audit lists them.</summary>
    public static IReadOnlyList<SelectionRule> All { get; } =
        [SelectionRule.SourceVal, SelectionRule.Im, SelectionRule.Snd, SelectionRule.Entropy, SelectionRule.Bnm, SelectionRule.Dev, SelectionRule.Ensv, SelectionRule.Oracle];

    public static bool HigherIsBetter(SelectionRule rule) => rule is not (SelectionRule.Entropy or SelectionRule.Dev);

    /// <summary>Each candidate's score under <paramref name="rule"/> (NaN where it is undefined).</summary>
    public static double[] Scores(SelectionRule rule, IReadOnlyList<CandidateResult> candidates)
    {
        if (rule == SelectionRule.Ensv)
        {
            double[][][] probabilities = [.. candidates.Select(c => c.TargetTrainProbabilities.Select(p => new[] { 1 - p, p }).ToArray())];
            return CheckpointSelection.EnsembleAgreement(probabilities);
        }

        return [.. candidates.Select(c => (rule switch
        {
            SelectionRule.SourceVal => c.SourceValAuroc,
            SelectionRule.Im => c.Im,
            SelectionRule.Snd => c.Snd,
            SelectionRule.Entropy => c.Entropy,
            SelectionRule.Bnm => c.Bnm,
            SelectionRule.Dev => c.DevRisk,
            _ => c.TargetValAuroc,
        }) ?? double.NaN)];
    }

    /// <summary>The best candidate under <paramref name="rule"/>.</summary>
    public static Pick Best(SelectionRule rule, IReadOnlyList<CandidateResult> candidates, string among)
    {
        if (candidates.Count == 0)
        {
            throw new ArgumentException("Selection needs at least one candidate.", nameof(candidates));
        }

        double[] scores = Scores(rule, candidates);
        bool higher = HigherIsBetter(rule);
        int best = -1;
        for (int i = 0; i < scores.Length; i++)
        {
            if (double.IsFinite(scores[i]) && (best < 0 || (higher ? scores[i] > scores[best] : scores[i] < scores[best])))
            {
                best = i;
            }
        }

        string words = string.Create(CultureInfo.InvariantCulture, $"{Describe(rule)}, best of {candidates.Count} candidate(s) {among}");
        bool oracle = rule == SelectionRule.Oracle;
        return best < 0
            ? new Pick(candidates.Count - 1, double.NaN, words + " — undefined for every candidate, so the last was kept", oracle)
            : new Pick(best, scores[best], words, oracle);
    }

    /// <summary>A rule in words.</summary>
    public static string Describe(SelectionRule rule) => rule switch
    {
        SelectionRule.SourceVal => "source-val AUROC",
        SelectionRule.Im => "im on the target training images",
        SelectionRule.Snd => "snd on the target training images",
        SelectionRule.Entropy => "lowest mean prediction entropy on the target training images",
        SelectionRule.Bnm => "bnm (batch nuclear norm) on the target training images",
        SelectionRule.Dev => "dev (importance-weighted source-val loss, domain classifier on the candidate's features)",
        SelectionRule.Ensv => "ensv (agreement with the ensemble of the candidates on the target training images)",
        _ => "ORACLE: AUROC on the target validation partition with its labels",
    };
}
