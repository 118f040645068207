using MedTransfer.Evaluation.Diagnostics;
using MedTransfer.Evaluation.Metrics;
using MedTransfer.Pipeline.Protocols;

namespace MedTransfer.Pipeline.Runs.Stages;

/// <summary>What the item results say together: per-method summaries, negative-transfer gaps and the label-free BBSE estimate.</summary>
internal sealed class Comparison
{
    public required IReadOnlyList<MethodSeedResult> Runs { get; init; }

    public required IReadOnlyList<MethodSummary> Summary { get; init; }

    public required IReadOnlyList<NegativeTransferEntry> NegativeTransfer { get; init; }

    public required IReadOnlyList<PooledGapEntry> PooledGaps { get; init; }

    public required FeatureBias Bias { get; init; }
}

/// <summary>
/// Stage 5 of a run: mean ± sd over seeds per method; the gap of every adaptation method against every baseline on
/// the evaluated target images, pooled over seeds (paired patient bootstrap of the seed-averaged AUROC gap) and per
/// run of the first seed; BBSE from source-only's predictions; and the dataset-bias verdict.
/// </summary>
internal static class ComparisonStage
{
    public static Comparison Run(ExperimentProtocol protocol, IReadOnlyList<ItemResult> items, RunSets sets, PretrainedDiagnostics diagnostics)
    {
        MethodSeedResult[] runs = [.. items.Select(i => new MethodSeedResult(i.Method, i.Seed, i.TargetAuroc, i.SourceAuroc, i.TargetAccuracy, i.Steps, i.Seconds, i.ChosenBy, i.IsOracle, i.Chosen.Step, i.StoppedEarly, i.TrainableFrom, i.Curves))];
        string[] methods = [.. items.Select(i => i.Method).Distinct(StringComparer.Ordinal)];
        MethodSummary[] summary = [.. methods.Select(m => Summarize(m, [.. runs.Where(r => r.Method == m)]))];

        int firstSeed = protocol.Seeds[0];
        ItemResult? First(string method) => items.FirstOrDefault(i => i.Method == method && i.Seed == firstSeed);
        var bootstrap = new BootstrapOptions { Resamples = protocol.Evaluation.Bootstrap, Confidence = protocol.Evaluation.Ci, Seed = 1 };
        var negative = new List<NegativeTransferEntry>();
        IReadOnlyList<int> labels = sets.TargetTest.Labels;
        bool both = labels.Contains(0) && labels.Contains(1);
        foreach (string method in protocol.Adaptation.Methods.Select(m => ProtocolNames.Of(m.Method)))
        {
            foreach (string baseline in protocol.Baselines.Select(ProtocolNames.Of))
            {
                if (First(method) is { } a && First(baseline) is { } b && both)
                {
                    negative.Add(new NegativeTransferEntry(method, NegativeTransfer.AurocGap(baseline, a.TargetTestScores, b.TargetTestScores, labels, sets.TargetTest.Groups, bootstrap)));
                }
            }
        }

        var pooled = new List<PooledGapEntry>();
        foreach (string method in protocol.Adaptation.Methods.Select(m => ProtocolNames.Of(m.Method)))
        {
            foreach (string baseline in protocol.Baselines.Select(ProtocolNames.Of))
            {
                ItemResult?[] a = [.. protocol.Seeds.Select(seed => items.FirstOrDefault(i => i.Method == method && i.Seed == seed))];
                ItemResult?[] b = [.. protocol.Seeds.Select(seed => items.FirstOrDefault(i => i.Method == baseline && i.Seed == seed))];
                if (both && a.All(x => x is not null) && b.All(x => x is not null))
                {
                    PooledGapResult gap = NegativeTransfer.PooledAurocGap(baseline, [.. a.Select(x => (IReadOnlyList<double>)x!.TargetTestScores)], [.. b.Select(x => (IReadOnlyList<double>)x!.TargetTestScores)], labels, sets.TargetTest.Groups, bootstrap);
                    pooled.Add(new PooledGapEntry(method, [.. protocol.Seeds], gap));
                }
            }
        }

        double[] bbse = [];
        if (First(ProtocolNames.Of(TrainingMethod.SourceOnly)) is { } sourceOnly)
        {
            static int[] Predicted(IReadOnlyList<double> s) => [.. s.Select(v => v >= 0.5 ? 1 : 0)];
            bbse = DatasetBias.BbseTargetDistribution(Predicted(sourceOnly.SourceValScores), sets.SourceVal.Labels, Predicted(sourceOnly.TargetTestScores), 2);
        }

        return new Comparison
        {
            Runs = runs,
            Summary = summary,
            NegativeTransfer = negative,
            PooledGaps = pooled,
            Bias = new FeatureBias(diagnostics.SiteProbe, diagnostics.SourceVsTarget, diagnostics.Prevalence, bbse, DatasetBias.Verdict(diagnostics.SiteProbe, diagnostics.Prevalence)),
        };
    }

    private static MethodSummary Summarize(string method, IReadOnlyList<MethodSeedResult> runs)
    {
        static (double Mean, double Sd) Stats(IEnumerable<double> values)
        {
            double[] v = [.. values];
            double mean = v.Average();
            double sd = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
            return (mean, sd);
        }

        var t = Stats(runs.Select(r => r.TargetAuroc));
        var s = Stats(runs.Select(r => r.SourceAuroc));
        return new MethodSummary(method, runs.Count, t.Mean, t.Sd, s.Mean, s.Sd);
    }
}
