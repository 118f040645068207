namespace MedTransfer.Training.Adaptation;

/// <summary>Which checkpoint a selector chose and why.</summary>
/// <param name="Selector">The selector's name (<see cref="CheckpointSelection"/> constants); record it with the result.</param>
/// <param name="SelectedIndex">Index of the chosen checkpoint (the first one on ties).</param>
/// <param name="Scores">The criterion per checkpoint.</param>
/// <param name="HigherIsBetter">True when the largest score wins; false for risks (DEV).</param>
/// <param name="IsOracle">True only when target labels were used: such a result is an upper bound and must be labelled "oracle".</param>
public sealed record SelectionResult(string Selector, int SelectedIndex, IReadOnlyList<double> Scores, bool HigherIsBetter, bool IsOracle);

/// <summary>
/// Label-free checkpoint selection for domain adaptation (docs/METHODS.md): never on target-test labels, except through the
/// explicitly named oracle selector whose result says <see cref="SelectionResult.IsOracle"/>. Inputs are plain arrays
/// (rows = samples) of logits, probabilities or features computed by the caller for each checkpoint; no model is run.
/// Entropies use the natural logarithm with 0·log 0 = 0.
/// </summary>
public static class CheckpointSelection
{
    /// <summary>Selector name: accuracy on labelled source validation data.</summary>
    public const string SourceAccuracyName = "source-accuracy";

    /// <summary>Selector name: information maximisation on target predictions.</summary>
    public const string InformationMaximizationName = "im";

    /// <summary>Selector name: soft neighbourhood density.</summary>
    public const string SoftNeighborhoodDensityName = "snd";

    /// <summary>Selector name: deep embedded validation.</summary>
    public const string DeepEmbeddedValidationName = "dev";

    /// <summary>Selector name: target-label accuracy. An oracle: never a legitimate selection rule.</summary>
    public const string OracleTargetAccuracyName = "oracle-target-accuracy";

    /// <summary>SND's temperature τ = 0.05 (Saito et al. 2021).</summary>
    public const double DefaultSndTemperature = 0.05;

    /// <summary>Top-1 accuracy of <paramref name="logits"/> (N×C) against <paramref name="labels"/> (N).</summary>
    public static double SourceAccuracy(double[][] logits, IReadOnlyList<int> labels) => Accuracy(logits, labels);

    /// <summary>
    /// Information maximisation score (Shi &amp; Sha 2012; Liang et al. 2020's IM loss negated): H(mean_i p_i) − mean_i H(p_i),
    /// p = softmax(logits) of the N×C target logits. Higher = confident and diverse predictions.
    /// </summary>
    public static double InformationMaximization(double[][] targetLogits)
    {
        double[][] p = Softmax(targetLogits, nameof(targetLogits));
        int c = p[0].Length;
        double[] mean = new double[c];
        double meanEntropy = 0;
        foreach (double[] row in p)
        {
            meanEntropy += Entropy(row);
            for (int j = 0; j < c; j++)
            {
                mean[j] += row[j] / p.Length;
            }
        }

        return Entropy(mean) - (meanEntropy / p.Length);
    }

    /// <summary>
    /// Soft neighbourhood density (Saito et al., ICCV 2021): rows L2-normalised, similarities s_ij = x_i·x_j / τ with the
    /// diagonal set to −1/τ (the lowest cosine similarity, so a sample is never its own neighbour), a row-wise softmax,
    /// and the mean row entropy. Higher = denser target neighbourhoods. The paper feeds the classifier's softmax
    /// probabilities of the target samples; features work too. N×K in, N ≥ 2.
    /// </summary>
    public static double SoftNeighborhoodDensity(double[][] targetRows, double temperature = DefaultSndTemperature)
    {
        RequireMatrix(targetRows, nameof(targetRows));
        if (targetRows.Length < 2 || !(temperature > 0) || !double.IsFinite(temperature))
        {
            throw Invalid("SND needs at least 2 target rows and a positive temperature.");
        }

        int n = targetRows.Length;
        double[][] x = new double[n][];
        for (int i = 0; i < n; i++)
        {
            double norm = Math.Sqrt(targetRows[i].Sum(v => v * v));
            x[i] = [.. targetRows[i].Select(v => v / Math.Max(norm, 1e-12))];
        }

        double total = 0;
        double[] s = new double[n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                s[j] = i == j ? -1.0 / temperature : Dot(x[i], x[j]) / temperature;
            }

            total += Entropy(SoftmaxRow(s));
        }

        return total / n;
    }

    /// <summary>Mean prediction entropy −Σ p log p of the target rows (class probabilities, N×C). Lower = more confident.</summary>
    public static double MeanEntropy(double[][] targetProbabilities)
    {
        RequireProbabilities(targetProbabilities, nameof(targetProbabilities));
        return targetProbabilities.Average(Entropy);
    }

    /// <summary>
    /// Batch nuclear norm (Cui et al., CVPR 2020): ‖P‖_* / N, the sum of the singular values of the N×C matrix of target
    /// class probabilities divided by N. It grows with both confidence and diversity of the predictions (a model that
    /// predicts one class for everything has rank 1). Higher is better.
    /// </summary>
    public static double BatchNuclearNorm(double[][] targetProbabilities)
    {
        RequireProbabilities(targetProbabilities, nameof(targetProbabilities));
        int c = targetProbabilities[0].Length;

        // The singular values of P are the square roots of the eigenvalues of the C×C Gram matrix PᵀP.
        var gram = new double[c, c];
        foreach (double[] row in targetProbabilities)
        {
            for (int a = 0; a < c; a++)
            {
                for (int b = 0; b < c; b++)
                {
                    gram[a, b] += row[a] * row[b];
                }
            }
        }

        return SymmetricEigenvalues(gram).Sum(e => Math.Sqrt(Math.Max(e, 0))) / targetProbabilities.Length;
    }

    /// <summary>
    /// Ensemble validation (EnsV; Hu et al., NeurIPS 2023): the average of every candidate's target probabilities is
    /// the role model, and a candidate's score is the share of target rows whose predicted class agrees with the
    /// ensemble's. The ensemble is never worse than the worst candidate, so the pick is never the worst. Higher is
    /// better. <paramref name="candidates"/>: per candidate, N×C probabilities of the same rows.
    /// </summary>
    public static double[] EnsembleAgreement(IReadOnlyList<double[][]> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        if (candidates.Count == 0)
        {
            throw Invalid("EnsV needs at least one candidate.");
        }

        foreach (double[][] p in candidates)
        {
            RequireProbabilities(p, nameof(candidates));
            if (p.Length != candidates[0].Length || p[0].Length != candidates[0][0].Length)
            {
                throw Invalid("EnsV needs the same rows and classes from every candidate.");
            }
        }

        int n = candidates[0].Length;
        int k = candidates[0][0].Length;
        var ensemble = new int[n];
        for (int i = 0; i < n; i++)
        {
            var mean = new double[k];
            foreach (double[][] p in candidates)
            {
                for (int j = 0; j < k; j++)
                {
                    mean[j] += p[i][j];
                }
            }

            ensemble[i] = ArgMax(mean);
        }

        return [.. candidates.Select(p => Enumerable.Range(0, n).Count(i => ArgMax(p[i]) == ensemble[i]) / (double)n)];
    }

    /// <summary>
    /// Density ratios w = p_t(x)/p_s(x) from a domain classifier's probability d(x) = P(target | x) on source validation
    /// samples (You et al. 2019): w = (N_s/N_t)·d/(1 − d), N_s and N_t the source and target samples the domain
    /// classifier was trained on. d is clipped to [1e−6, 1 − 1e−6].
    /// </summary>
    public static double[] DensityRatios(IReadOnlyList<double> targetProbability, int sourceCount, int targetCount)
    {
        ArgumentNullException.ThrowIfNull(targetProbability);
        if (sourceCount < 1 || targetCount < 1 || targetProbability.Any(d => !(d >= 0 && d <= 1)))
        {
            throw Invalid("Density ratios need positive sample counts and probabilities in [0, 1].");
        }

        double prior = sourceCount / (double)targetCount;
        return [.. targetProbability.Select(d => Math.Clamp(d, 1e-6, 1 - 1e-6)).Select(d => prior * d / (1 - d))];
    }

    /// <summary>
    /// Deep embedded validation risk (You et al., ICML 2019): per source-validation sample loss ℓ_i and density ratio
    /// w_i, L_i = w_i·ℓ_i, η = −Cov(L, w)/Var(w) (sample covariance and variance), risk = mean(L) + η·mean(w) − η.
    /// Lower is better. When all w are equal (Var = 0, relative to mean(w)²) the control variate is dropped (η = 0).
    /// </summary>
    public static double DeepEmbeddedValidationRisk(IReadOnlyList<double> sourceValidationLosses, IReadOnlyList<double> densityRatios)
    {
        ArgumentNullException.ThrowIfNull(sourceValidationLosses);
        ArgumentNullException.ThrowIfNull(densityRatios);
        int n = sourceValidationLosses.Count;
        if (n < 2 || densityRatios.Count != n || sourceValidationLosses.Any(v => !double.IsFinite(v)) || densityRatios.Any(v => !(v >= 0) || !double.IsFinite(v)))
        {
            throw Invalid("DEV needs ≥ 2 finite losses and as many finite non-negative density ratios.");
        }

        double[] l = new double[n];
        for (int i = 0; i < n; i++)
        {
            l[i] = densityRatios[i] * sourceValidationLosses[i];
        }

        double meanL = l.Average();
        double meanW = densityRatios.Average();
        double cov = 0;
        double var = 0;
        for (int i = 0; i < n; i++)
        {
            cov += (l[i] - meanL) * (densityRatios[i] - meanW);
            var += (densityRatios[i] - meanW) * (densityRatios[i] - meanW);
        }

        cov /= n - 1;
        var /= n - 1;
        // Rounding leaves a tiny non-zero variance for equal ratios, which would make η arbitrary: below a relative
        // 1e−12 the ratios count as constant.
        double eta = var > 1e-12 * Math.Max(meanW * meanW, double.Epsilon) ? -cov / var : 0;
        return meanL + (eta * meanW) - eta;
    }

    /// <summary>Per-sample cross-entropy −log softmax(logits)_y, e.g. the source-validation losses that DEV needs.</summary>
    public static double[] CrossEntropyPerSample(double[][] logits, IReadOnlyList<int> labels)
    {
        double[][] p = Softmax(logits, nameof(logits));
        RequireLabels(labels, p.Length, p[0].Length);
        return [.. p.Select((row, i) => -Math.Log(Math.Max(row[labels[i]], 1e-300)))];
    }

    /// <summary>Chooses the checkpoint with the highest source-validation accuracy.</summary>
    public static SelectionResult SelectBySourceAccuracy(IReadOnlyList<double[][]> sourceLogits, IReadOnlyList<int> sourceLabels)
        => Choose(SourceAccuracyName, [.. Each(sourceLogits).Select(l => SourceAccuracy(l, sourceLabels))], higherIsBetter: true, oracle: false);

    /// <summary>Chooses the checkpoint with the highest IM score on target logits.</summary>
    public static SelectionResult SelectByInformationMaximization(IReadOnlyList<double[][]> targetLogits)
        => Choose(InformationMaximizationName, [.. Each(targetLogits).Select(InformationMaximization)], higherIsBetter: true, oracle: false);

    /// <summary>Chooses the checkpoint with the highest SND on target rows (probabilities or features).</summary>
    public static SelectionResult SelectBySoftNeighborhoodDensity(IReadOnlyList<double[][]> targetRows, double temperature = DefaultSndTemperature)
        => Choose(SoftNeighborhoodDensityName, [.. Each(targetRows).Select(r => SoftNeighborhoodDensity(r, temperature))], higherIsBetter: true, oracle: false);

    /// <summary>Chooses the checkpoint with the lowest DEV risk (per-checkpoint losses and density ratios).</summary>
    public static SelectionResult SelectByDeepEmbeddedValidation(IReadOnlyList<double[]> sourceValidationLosses, IReadOnlyList<double[]> densityRatios)
    {
        ArgumentNullException.ThrowIfNull(sourceValidationLosses);
        ArgumentNullException.ThrowIfNull(densityRatios);
        if (sourceValidationLosses.Count != densityRatios.Count)
        {
            throw Invalid("DEV needs one loss array and one density-ratio array per checkpoint.");
        }

        double[] risks = [.. Each(sourceValidationLosses).Select((l, i) => DeepEmbeddedValidationRisk(l, densityRatios[i]))];
        return Choose(DeepEmbeddedValidationName, risks, higherIsBetter: false, oracle: false);
    }

    /// <summary>
    /// ORACLE: chooses by accuracy on target labels. The result has <see cref="SelectionResult.IsOracle"/> = true and
    /// must be reported as "oracle" (an upper bound), never as a model selected without target labels.
    /// </summary>
    public static SelectionResult SelectByOracleTargetAccuracy(IReadOnlyList<double[][]> targetLogits, IReadOnlyList<int> targetLabels)
        => Choose(OracleTargetAccuracyName, [.. Each(targetLogits).Select(l => Accuracy(l, targetLabels))], higherIsBetter: true, oracle: true);

    private static IReadOnlyList<T> Each<T>(IReadOnlyList<T> perCheckpoint)
    {
        ArgumentNullException.ThrowIfNull(perCheckpoint);
        if (perCheckpoint.Count == 0)
        {
            throw Invalid("Checkpoint selection needs at least one checkpoint.");
        }

        return perCheckpoint;
    }

    private static SelectionResult Choose(string name, double[] scores, bool higherIsBetter, bool oracle)
    {
        if (scores.Any(s => !double.IsFinite(s)))
        {
            throw Invalid($"Selector '{name}' produced a non-finite score; check the inputs for NaN or infinity.");
        }

        int best = 0;
        for (int i = 1; i < scores.Length; i++)
        {
            if (higherIsBetter ? scores[i] > scores[best] : scores[i] < scores[best])
            {
                best = i;
            }
        }

        return new SelectionResult(name, best, scores, higherIsBetter, oracle);
    }

    private static double Accuracy(double[][] logits, IReadOnlyList<int> labels)
    {
        RequireMatrix(logits, nameof(logits));
        RequireLabels(labels, logits.Length, logits[0].Length);
        int correct = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            int arg = 0;
            for (int j = 1; j < logits[i].Length; j++)
            {
                if (logits[i][j] > logits[i][arg])
                {
                    arg = j;
                }
            }

            correct += arg == labels[i] ? 1 : 0;
        }

        return correct / (double)logits.Length;
    }

    private static double[][] Softmax(double[][] logits, string name)
    {
        RequireMatrix(logits, name);
        return [.. logits.Select(SoftmaxRow)];
    }

    private static double[] SoftmaxRow(double[] row)
    {
        double max = row.Max();
        double[] e = [.. row.Select(v => Math.Exp(v - max))];
        double sum = e.Sum();
        return [.. e.Select(v => v / sum)];
    }

    private static double Entropy(double[] p)
    {
        double h = 0;
        foreach (double v in p)
        {
            if (v > 0)
            {
                h -= v * Math.Log(v);
            }
        }

        return h;
    }

    private static int ArgMax(double[] v)
    {
        int best = 0;
        for (int j = 1; j < v.Length; j++)
        {
            if (v[j] > v[best])
            {
                best = j;
            }
        }

        return best;
    }

    // Eigenvalues of a small symmetric matrix by cyclic Jacobi rotations (C is the number of classes).
    private static double[] SymmetricEigenvalues(double[,] matrix)
    {
        int n = matrix.GetLength(0);
        var a = (double[,])matrix.Clone();
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int p = 0; p < n; p++)
            {
                for (int q = p + 1; q < n; q++)
                {
                    off += a[p, q] * a[p, q];
                }
            }

            if (off < 1e-30)
            {
                break;
            }

            for (int p = 0; p < n; p++)
            {
                for (int q = p + 1; q < n; q++)
                {
                    if (Math.Abs(a[p, q]) < 1e-300)
                    {
                        continue;
                    }

                    double theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                    double t = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt((theta * theta) + 1));
                    double cos = 1 / Math.Sqrt((t * t) + 1);
                    double sin = t * cos;
                    for (int k = 0; k < n; k++)
                    {
                        double akp = a[k, p];
                        double akq = a[k, q];
                        a[k, p] = (cos * akp) - (sin * akq);
                        a[k, q] = (sin * akp) + (cos * akq);
                    }

                    for (int k = 0; k < n; k++)
                    {
                        double apk = a[p, k];
                        double aqk = a[q, k];
                        a[p, k] = (cos * apk) - (sin * aqk);
                        a[q, k] = (sin * apk) + (cos * aqk);
                    }
                }
            }
        }

        return [.. Enumerable.Range(0, n).Select(i => a[i, i])];
    }

    private static void RequireProbabilities(double[][] rows, string name)
    {
        RequireMatrix(rows, name);
        if (rows.Any(r => r.Any(v => v < 0 || v > 1 + 1e-9)))
        {
            throw Invalid($"{name} must hold class probabilities in [0, 1].");
        }
    }

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int k = 0; k < a.Length; k++)
        {
            s += a[k] * b[k];
        }

        return s;
    }

    private static void RequireMatrix(double[][] rows, string name)
    {
        ArgumentNullException.ThrowIfNull(rows, name);
        if (rows.Length == 0 || rows[0] is null || rows[0].Length == 0 || rows.Any(r => r is null || r.Length != rows[0].Length || r.Any(v => !double.IsFinite(v))))
        {
            throw Invalid($"{name} must be a non-empty rectangular matrix of finite numbers.");
        }
    }

    private static void RequireLabels(IReadOnlyList<int> labels, int rows, int classes)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count != rows || labels.Any(y => y < 0 || y >= classes))
        {
            throw Invalid($"Labels must have one entry per row ({rows}) in [0, {classes}).");
        }
    }

    private static AdaptationException Invalid(string message) => new(AdaptationErrorCode.InvalidSelectionInput, message);
}
