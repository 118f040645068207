using System.Globalization;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Random;
using MedTransfer.Evaluation.Metrics;

namespace MedTransfer.Evaluation.Diagnostics;

/// <summary>Proxy A-distance between two domains (Ben-David et al. 2007): 2(1 − 2ε) for a domain classifier's held-out error ε.</summary>
/// <param name="Distance">d_A = 2(1 − 2ε): 0 = indistinguishable, 2 = perfectly separable.</param>
/// <param name="HeldOutError">ε, the linear domain classifier's error on the held-out 20%.</param>
/// <param name="HeldOut">Held-out samples the error was measured on.</param>
public sealed record ProxyADistanceResult(double Distance, double HeldOutError, int HeldOut);

/// <summary>How well the site can be predicted from features alone (Zech et al. 2018).</summary>
/// <param name="PerSite">One-vs-rest cross-validated AUROC per site.</param>
/// <param name="MacroAuc">Mean of the per-site AUROCs.</param>
/// <param name="Folds">Cross-validation folds.</param>
public sealed record SiteProbeResult(IReadOnlyDictionary<string, double> PerSite, double MacroAuc, int Folds);

/// <summary>Dataset-bias diagnostics: proxy A-distance, site probe, label shift (BBSE) and a verdict in words.</summary>
public static class DatasetBias
{
    /// <summary>
    /// Proxy A-distance: a linear (logistic) domain classifier on the pooled features, trained on a seeded 80%
    /// split and tested on the other 20%; d_A = 2(1 − 2ε), clipped at 0 (a classifier worse than chance says
    /// "indistinguishable", not "negative distance").
    /// </summary>
    public static ProxyADistanceResult ProxyADistance(double[][] domainA, double[][] domainB, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(domainA);
        ArgumentNullException.ThrowIfNull(domainB);
        if (domainA.Length < 5 || domainB.Length < 5)
        {
            throw new MetricUndefinedException("The proxy A-distance needs at least 5 samples per domain.");
        }

        double[][] pooled = [.. domainA, .. domainB];
        int[] labels = [.. Enumerable.Repeat(0, domainA.Length), .. Enumerable.Repeat(1, domainB.Length)];
        int[] order = Shuffle(pooled.Length, seed);
        int train = (int)Math.Round(pooled.Length * 0.8);
        int[] trainIdx = order[..train];
        int[] testIdx = order[train..];
        LogisticRegression model = LogisticRegression.Fit(PatientBootstrap.Pick(pooled, trainIdx), PatientBootstrap.Pick(labels, trainIdx));
        double[] p = model.PredictProbability(PatientBootstrap.Pick(pooled, testIdx));
        int errors = 0;
        for (int i = 0; i < testIdx.Length; i++)
        {
            if ((p[i] >= 0.5 ? 1 : 0) != labels[testIdx[i]])
            {
                errors++;
            }
        }

        double epsilon = errors / (double)testIdx.Length;
        return new ProxyADistanceResult(Math.Max(0, 2 * (1 - (2 * epsilon))), epsilon, testIdx.Length);
    }

    /// <summary>
    /// Site probe: for each site, a one-vs-rest logistic probe with k-fold cross-validated probabilities and its
    /// AUROC. High values mean the features (or image statistics) carry the site: a shortcut risk when prevalence
    /// also differs by site.
    /// </summary>
    /// <param name="features">Rows = samples.</param>
    /// <param name="sites">The site of each row.</param>
    /// <param name="folds">Cross-validation folds.</param>
    /// <param name="seed">Seed of the fold assignment.</param>
    /// <param name="progress">Told (folds done, folds) after each fold: on thousands of high-dimensional rows the probe takes seconds.</param>
    public static SiteProbeResult SiteProbe(double[][] features, IReadOnlyList<string> sites, int folds = 5, int seed = 1, IProgress<(int Done, int Total)>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(sites);
        if (features.Length != sites.Count)
        {
            throw new ArgumentException("One site per feature row.", nameof(sites));
        }

        string[] distinct = [.. sites.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        if (distinct.Length < 2)
        {
            throw new MetricUndefinedException("The site probe needs at least two sites.");
        }

        int[] fold = new int[features.Length];
        int[] order = Shuffle(features.Length, seed);
        for (int i = 0; i < order.Length; i++)
        {
            fold[order[i]] = i % folds;
        }

        // With two sites one probe answers for both (its AUROC is the other's too).
        string[] probed = distinct.Length == 2 ? distinct[..1] : distinct;
        int[][] y = [.. probed.Select(site => sites.Select(s => s == site ? 1 : 0).ToArray())];
        double[][] probability = [.. probed.Select(_ => new double[features.Length])];
        for (int f = 0; f < folds; f++)
        {
            int[] trainIdx = [.. Enumerable.Range(0, features.Length).Where(i => fold[i] != f)];
            int[] testIdx = [.. Enumerable.Range(0, features.Length).Where(i => fold[i] == f)];
            if (testIdx.Length == 0)
            {
                progress?.Report((f + 1, folds));
                continue;
            }

            // Every site's probe in this fold trains on the same rows: standardise them once. (Starting from the
            // previous fold's weights was tried: with d/n ≈ 0.2 the weights move as far between folds as from 0, and the
            // fits took more steps.)
            ProbeDesign design = ProbeDesign.From(features, trainIdx);
            double[][] test = PatientBootstrap.Pick(features, testIdx);
            for (int s = 0; s < probed.Length; s++)
            {
                LogisticRegression model = LogisticRegression.Fit(design, PatientBootstrap.Pick(y[s], trainIdx), 1.0, 50);
                double[] p = model.PredictProbability(test);
                for (int i = 0; i < testIdx.Length; i++)
                {
                    probability[s][testIdx[i]] = p[i];
                }
            }

            progress?.Report((f + 1, folds));
        }

        var perSite = new SortedDictionary<string, double>(StringComparer.Ordinal);
        for (int s = 0; s < probed.Length; s++)
        {
            perSite[probed[s]] = Auroc.Compute(probability[s], y[s]);
        }

        if (distinct.Length == 2)
        {
            perSite[distinct[1]] = perSite[distinct[0]];
        }

        return new SiteProbeResult(perSite, perSite.Values.Average(), folds);
    }

    /// <summary>Prevalence of the positive label per site.</summary>
    public static IReadOnlyDictionary<string, double> PrevalenceBySite(IReadOnlyList<string> sites, IReadOnlyList<int> labels)
    {
        ArgumentNullException.ThrowIfNull(sites);
        ArgumentNullException.ThrowIfNull(labels);
        return sites.Zip(labels).GroupBy(p => p.First, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Average(p => (double)p.Second), StringComparer.Ordinal);
    }

    /// <summary>
    /// Black-box shift estimation (Lipton et al. 2018): with the source validation joint confusion matrix
    /// C[i, j] = P(ŷ = i, y = j) and the target's predicted-class distribution μ, solve C·w = μ; the target label
    /// distribution is q(y) = w(y)·p_source(y), clipped at 0 and renormalised.
    /// </summary>
    /// <param name="sourcePredicted">Predicted classes on labelled source validation data.</param>
    /// <param name="sourceTrue">True classes of the same samples.</param>
    /// <param name="targetPredicted">Predicted classes on unlabelled target data.</param>
    /// <param name="classes">Number of classes.</param>
    /// <exception cref="MetricUndefinedException">The confusion matrix is singular (the classifier cannot tell the classes apart).</exception>
    public static double[] BbseTargetDistribution(IReadOnlyList<int> sourcePredicted, IReadOnlyList<int> sourceTrue, IReadOnlyList<int> targetPredicted, int classes = 2)
    {
        ArgumentNullException.ThrowIfNull(sourcePredicted);
        ArgumentNullException.ThrowIfNull(sourceTrue);
        ArgumentNullException.ThrowIfNull(targetPredicted);
        Matrix<double> c = Matrix<double>.Build.Dense(classes, classes);
        var prior = new double[classes];
        for (int i = 0; i < sourcePredicted.Count; i++)
        {
            c[sourcePredicted[i], sourceTrue[i]] += 1.0 / sourcePredicted.Count;
            prior[sourceTrue[i]] += 1.0 / sourcePredicted.Count;
        }

        Vector<double> mu = Vector<double>.Build.Dense(classes);
        foreach (int p in targetPredicted)
        {
            mu[p] += 1.0 / targetPredicted.Count;
        }

        if (Math.Abs(c.Determinant()) < 1e-12)
        {
            throw new MetricUndefinedException("BBSE needs an invertible source confusion matrix: the classifier does not separate the classes.");
        }

        Vector<double> w = c.Solve(mu);
        double[] q = [.. Enumerable.Range(0, classes).Select(k => Math.Max(0, w[k] * prior[k]))];
        double total = q.Sum();
        return total > 0 ? [.. q.Select(v => v / total)] : q;
    }

    /// <summary>
    /// A plain-language verdict from the site probe and per-site prevalence, with the numbers, e.g.
    /// "the model can tell the site apart from the image alone with AUC 0.99 and prevalence differs 20% vs 50%: shortcut risk".
    /// </summary>
    /// <param name="probe">The site probe (from image statistics or from features).</param>
    /// <param name="prevalence">Prevalence per site.</param>
    /// <param name="source">What the probe looked at, e.g. "the image alone" or "the backbone features".</param>
    public static string Verdict(SiteProbeResult probe, IReadOnlyDictionary<string, double> prevalence, string source = "the image alone")
    {
        ArgumentNullException.ThrowIfNull(probe);
        ArgumentNullException.ThrowIfNull(prevalence);
        double min = prevalence.Values.Min();
        double max = prevalence.Values.Max();
        bool separable = probe.MacroAuc >= 0.9;
        bool prevalenceDiffers = max - min >= 0.1;
        string auc = probe.MacroAuc.ToString("F2", CultureInfo.InvariantCulture);
        string prev = string.Create(CultureInfo.InvariantCulture, $"{min * 100:F0}% vs {max * 100:F0}%");
        return (separable, prevalenceDiffers) switch
        {
            (true, true) => $"the model can tell the site apart from {source} with AUC {auc} and prevalence differs {prev}: shortcut risk",
            (true, false) => $"the site is recognisable from {source} (AUC {auc}) but prevalence is similar ({prev}): a shift to adapt to, with a lower shortcut risk",
            (false, true) => $"the site is hard to recognise from {source} (AUC {auc}) while prevalence differs {prev}: label shift, check calibration per site",
            _ => $"no strong site signal in {source} (AUC {auc}) and similar prevalence ({prev})",
        };
    }

    private static int[] Shuffle(int n, int seed)
    {
        var rng = new Xoshiro256StarStar(seed, threadSafe: false);
        int[] order = [.. Enumerable.Range(0, n)];
        for (int i = n - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }

        return order;
    }
}
