using MedTransfer.Evaluation.Metrics;
using MedTransfer.Pipeline.Protocols;
using MedTransfer.Training.Adaptation;

namespace MedTransfer.Pipeline.Runs.Stages;

/// <summary>The model a run reports and exports: one candidate checkpoint of one (method, seed) run.</summary>
/// <param name="Method">The method.</param>
/// <param name="Seed">The seed.</param>
/// <param name="Checkpoint">The candidate's step.</param>
/// <param name="Rule">The selection rule, in words.</param>
/// <param name="Score">The rule's score of it.</param>
/// <param name="IsOracle">True when target labels chose it.</param>
public sealed record SelectedRun(string Method, int Seed, long Checkpoint, string Rule, double Score, bool IsOracle);

/// <summary>What one validator would have picked, judged with the target labels (ORACLE information).</summary>
/// <param name="Validator">The rule's protocol name.</param>
/// <param name="Method">Its pick's method.</param>
/// <param name="Seed">Its pick's seed.</param>
/// <param name="Checkpoint">Its pick's step.</param>
/// <param name="TargetAuroc">Its pick's AUROC on the evaluated target images.</param>
/// <param name="Rank">Its pick's rank among all candidates by that AUROC (1 = best).</param>
/// <param name="Regret">The best candidate's AUROC minus its pick's.</param>
/// <param name="RankCorrelation">Spearman's ρ between the validator's score (oriented so higher is better) and target AUROC over the candidates; NaN when undefined.</param>
/// <param name="IsProtocolRule">True for the rule the protocol selects with.</param>
public sealed record ValidatorAudit(string Validator, string Method, int Seed, long Checkpoint, double TargetAuroc, int Rank, double Regret, double RankCorrelation, bool IsProtocolRule);

/// <summary>
/// The selection audit (ORACLE: it reads the target labels): for every validator, the candidate it picks among all
/// (method, seed, checkpoint) candidates, that candidate's target AUROC, rank and regret, and how well the validator's
/// scores rank the candidates.
/// </summary>
/// <param name="Candidates">Candidates compared.</param>
/// <param name="BestTargetAuroc">The best candidate's target AUROC.</param>
/// <param name="Validators">One row per validator.</param>
public sealed record SelectionAudit(int Candidates, double BestTargetAuroc, IReadOnlyList<ValidatorAudit> Validators);

/// <summary>
/// Stage 4 of a run: the protocol's selection rule over every candidate checkpoint of every (method, seed) run picks
/// the one model that is evaluated in full and exported, and the audit shows what each validator would have picked.
/// The target-only baseline is never a candidate: it trains on target labels.
/// </summary>
internal static class SelectionStage
{
    public static (ItemResult Item, SelectedRun Selected, SelectionAudit Audit) Run(ExperimentProtocol protocol, IReadOnlyList<ItemResult> items)
    {
        List<(ItemResult Item, int Index)> pool = [.. items.Where(i => i.Method != AdaptationMethods.TargetOnly && !i.CrossValidated).SelectMany(i => Enumerable.Range(0, i.Candidates.Count).Select(k => (i, k)))];
        if (pool.Count == 0)
        {
            // A protocol of the target-only baseline alone: it is then the only model there is.
            pool = [.. items.SelectMany(i => Enumerable.Range(0, i.Candidates.Count).Select(k => (i, k)))];
        }

        CandidateResult[] candidates = [.. pool.Select(p => p.Item.Candidates[p.Index])];
        Pick pick = SelectionRules.Best(protocol.Selection, candidates, "over every (method, seed, checkpoint)");
        (ItemResult item, int index) = pool[pick.Index];
        var selected = new SelectedRun(item.Method, item.Seed, item.Candidates[index].Step, pick.Rule, pick.Score, pick.IsOracle);
        return (item, selected, Audit(protocol.Selection, pool, candidates));
    }

    private static SelectionAudit Audit(SelectionRule protocolRule, List<(ItemResult Item, int Index)> pool, CandidateResult[] candidates)
    {
        double[] auroc = [.. candidates.Select(c => c.TargetTestAuroc)];
        double best = auroc.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max();
        var rows = new List<ValidatorAudit>();
        foreach (SelectionRule rule in SelectionRules.All)
        {
            Pick pick = SelectionRules.Best(rule, candidates, string.Empty);
            (ItemResult item, int index) = pool[pick.Index];
            double picked = auroc[pick.Index];
            int rank = 1 + auroc.Count(a => a > picked);
            double[] scores = SelectionRules.Scores(rule, candidates);
            int[] defined = [.. Enumerable.Range(0, scores.Length).Where(i => double.IsFinite(scores[i]) && double.IsFinite(auroc[i]))];
            double sign = SelectionRules.HigherIsBetter(rule) ? 1 : -1;
            double rho = defined.Length < 3 ? double.NaN : RankCorrelation.Spearman([.. defined.Select(i => sign * scores[i])], [.. defined.Select(i => auroc[i])]);
            rows.Add(new ValidatorAudit(ProtocolNames.Of(rule), item.Method, item.Seed, item.Candidates[index].Step, picked, rank, best - picked, rho, rule == protocolRule));
        }

        return new SelectionAudit(candidates.Length, best, rows);
    }
}
