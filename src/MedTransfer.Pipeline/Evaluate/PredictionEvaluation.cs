using MedTransfer.Evaluation.Metrics;

namespace MedTransfer.Pipeline.Evaluate;

/// <summary>One scored sample.</summary>
/// <param name="Id">Sample id (never printed in reports).</param>
/// <param name="Patient">Patient key for patient-level resampling (the id when unknown).</param>
/// <param name="Label">Binary reference label.</param>
/// <param name="Score">The model's probability (or score) for the positive class.</param>
/// <param name="Site">Site / domain.</param>
/// <param name="Split">Partition ("val", "test", …) or empty.</param>
/// <param name="Subgroups">Other grouping columns (sex, age_band, manufacturer, view …).</param>
public sealed record PredictionRow(string Id, string Patient, int Label, double Score, string Site, string Split, IReadOnlyDictionary<string, string> Subgroups);

/// <summary>What the person who commissions the evaluation states about the model: the report needs it to be read correctly (intended use, data, limitations).</summary>
public sealed record ModelCard
{
    /// <summary>Intended use.</summary>
    public string IntendedUse { get; init; } = string.Empty;

    /// <summary>Uses the model is not meant for.</summary>
    public string OutOfScopeUse { get; init; } = string.Empty;

    /// <summary>Where the data came from.</summary>
    public string DataSources { get; init; } = string.Empty;

    /// <summary>How the data was partitioned and at which level partitions are disjoint.</summary>
    public string Partitions { get; init; } = string.Empty;

    /// <summary>Preprocessing (recipe and its hash when known).</summary>
    public string Preprocessing { get; init; } = string.Empty;

    /// <summary>Model, backbone, fine-tuning strategy.</summary>
    public string Model { get; init; } = string.Empty;

    /// <summary>Domain-adaptation method and settings, or "none".</summary>
    public string Adaptation { get; init; } = string.Empty;

    /// <summary>How the checkpoint and hyperparameters were selected.</summary>
    public string SelectionRule { get; init; } = string.Empty;

    /// <summary>Known limitations.</summary>
    public IReadOnlyList<string> Limitations { get; init; } = [];
}

/// <summary>Options of an evaluation.</summary>
public sealed record EvaluationOptions
{
    /// <summary>Bootstrap settings for every interval.</summary>
    public BootstrapOptions Bootstrap { get; init; } = new();

    /// <summary>Operating threshold when no validation rows exist to choose one (stated in the report). Default 0.5.</summary>
    public double DefaultThreshold { get; init; } = 0.5;

    /// <summary>ECE bins.</summary>
    public int CalibrationBins { get; init; } = Calibration.DefaultBins;

    /// <summary>Compute AUROC per site with intervals and differences (the default).</summary>
    public bool PerSite { get; init; } = true;

    /// <summary>Choose the threshold on the validation rows as the one reaching this sensitivity there; null = Youden's J.</summary>
    public double? TargetSensitivity { get; init; }
}

/// <summary>Metrics of one evaluated partition.</summary>
/// <param name="Samples">Samples.</param>
/// <param name="Patients">Distinct patients.</param>
/// <param name="Prevalence">Positive fraction.</param>
/// <param name="AurocDeLong">AUROC with a DeLong interval.</param>
/// <param name="AurocBootstrap">AUROC with a patient-level bootstrap interval.</param>
/// <param name="AveragePrecision">Average precision with a bootstrap interval.</param>
/// <param name="Brier">Brier score.</param>
/// <param name="Calibration">ECE and reliability bins.</param>
/// <param name="Threshold">The operating threshold.</param>
/// <param name="ThresholdSource">Where the threshold came from.</param>
/// <param name="AtThreshold">Confusion rates at the threshold.</param>
/// <param name="Sensitivity">Sensitivity with a bootstrap interval at the threshold.</param>
/// <param name="Specificity">Specificity with a bootstrap interval at the threshold.</param>
public sealed record OverallMetrics(
    int Samples,
    int Patients,
    double Prevalence,
    Estimate AurocDeLong,
    Estimate AurocBootstrap,
    Estimate AveragePrecision,
    double Brier,
    CalibrationResult Calibration,
    double Threshold,
    string ThresholdSource,
    ConfusionMatrix AtThreshold,
    Estimate Sensitivity,
    Estimate Specificity);

/// <summary>Everything an evaluation computed.</summary>
/// <param name="Overall">Metrics on the evaluated partition.</param>
/// <param name="EvaluatedPartition">Which rows were evaluated ("test", or "all rows").</param>
/// <param name="BySite">AUROC per site with differences.</param>
/// <param name="PrevalenceBySite">Prevalence per site.</param>
/// <param name="Subgroups">Per grouping column, AUROC per group.</param>
/// <param name="Warnings">Plain-language caveats found while evaluating.</param>
public sealed record EvaluationResult(
    OverallMetrics Overall,
    string EvaluatedPartition,
    IReadOnlyList<GroupResult> BySite,
    IReadOnlyDictionary<string, double> PrevalenceBySite,
    IReadOnlyDictionary<string, IReadOnlyList<GroupResult>> Subgroups,
    IReadOnlyList<string> Warnings);

/// <summary>
/// Evaluates a model's predictions: the threshold is chosen on validation rows (Youden) when the table has a
/// split column with "val" rows, and everything is measured on the "test" rows (or all rows when there is no split,
/// which the report states). Intervals are patient-level bootstraps (plus DeLong for AUROC).
/// </summary>
public static class PredictionEvaluation
{
    /// <summary>Runs the evaluation.</summary>
    /// <exception cref="MetricUndefinedException">The evaluated rows hold a single class.</exception>
    public static EvaluationResult Evaluate(IReadOnlyList<PredictionRow> rows, EvaluationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        options ??= new EvaluationOptions();
        var warnings = new List<string>();
        PredictionRow[] validation = [.. rows.Where(r => IsSplit(r, "val", "valid", "validation"))];
        PredictionRow[] test = [.. rows.Where(r => IsSplit(r, "test"))];
        string partition = "test";
        if (test.Length == 0)
        {
            test = [.. rows];
            partition = "all rows";
            warnings.Add("No rows are marked split=test: metrics are computed on all rows.");
        }

        double threshold = options.DefaultThreshold;
        string thresholdSource = $"fixed at {options.DefaultThreshold} (no validation rows to choose it on)";
        if (validation.Length > 0 && validation.Any(r => r.Label == 1) && validation.Any(r => r.Label == 0))
        {
            double[] vs = [.. validation.Select(r => r.Score)];
            int[] vy = [.. validation.Select(r => r.Label)];
            threshold = options.TargetSensitivity is double sensitivity ? BinaryMetrics.ThresholdForSensitivity(vs, vy, sensitivity) : BinaryMetrics.YoudenThreshold(vs, vy);
            thresholdSource = options.TargetSensitivity is double s
                ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"sensitivity ≥ {s:0.###} on {validation.Length} validation rows")
                : $"Youden's J on {validation.Length} validation rows";
        }
        else if (validation.Length > 0)
        {
            warnings.Add("The validation rows hold one class only: the threshold could not be chosen on them.");
        }

        double[] scores = [.. test.Select(r => r.Score)];
        int[] labels = [.. test.Select(r => r.Label)];
        string[] patients = [.. test.Select(r => r.Patient)];
        BootstrapOptions b = options.Bootstrap;
        ConfusionMatrix at = ConfusionMatrix.At(scores, labels, threshold);
        var overall = new OverallMetrics(
            test.Length,
            patients.Distinct(StringComparer.Ordinal).Count(),
            labels.Average(),
            DeLong.Auroc(scores, labels),
            PatientBootstrap.Auroc(scores, labels, patients, b),
            PatientBootstrap.Run(patients, labels, idx => BinaryMetrics.AveragePrecision(PatientBootstrap.Pick(scores, idx), PatientBootstrap.Pick(labels, idx)), b),
            BinaryMetrics.Brier(scores, labels),
            ProbabilityLike(scores) ? Calibration.BinaryEce(scores, labels, options.CalibrationBins) : new CalibrationResult(double.NaN, [], "not computed: scores are not probabilities in [0, 1]"),
            threshold,
            thresholdSource,
            at,
            PatientBootstrap.Run(patients, labels, idx => ConfusionMatrix.At(PatientBootstrap.Pick(scores, idx), PatientBootstrap.Pick(labels, idx), threshold).Sensitivity, b),
            PatientBootstrap.Run(patients, labels, idx => ConfusionMatrix.At(PatientBootstrap.Pick(scores, idx), PatientBootstrap.Pick(labels, idx), threshold).Specificity, b));

        if (!ProbabilityLike(scores))
        {
            warnings.Add("Scores fall outside [0, 1]: calibration (ECE, reliability) is not computed and the Brier score is not a probability score.");
        }

        string[] sites = [.. test.Select(r => r.Site)];
        IReadOnlyList<GroupResult> bySite = options.PerSite ? MedTransfer.Evaluation.Metrics.Subgroups.Auroc(scores, labels, patients, sites, b) : [];
        var prevalence = sites.Zip(labels).GroupBy(p => p.First, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Average(p => (double)p.Second), StringComparer.Ordinal);
        var subgroups = new SortedDictionary<string, IReadOnlyList<GroupResult>>(StringComparer.Ordinal);
        foreach (string column in test.SelectMany(r => r.Subgroups.Keys).Distinct(StringComparer.Ordinal))
        {
            string[] values = [.. test.Select(r => r.Subgroups.TryGetValue(column, out string? v) && v.Length > 0 ? v : "(missing)")];
            subgroups[column] = MedTransfer.Evaluation.Metrics.Subgroups.Auroc(scores, labels, patients, values, b);
        }

        return new EvaluationResult(overall, partition, bySite, prevalence, subgroups, warnings);
    }

    private static bool IsSplit(PredictionRow row, params string[] names) =>
        names.Any(n => string.Equals(row.Split, n, StringComparison.OrdinalIgnoreCase));

    private static bool ProbabilityLike(double[] scores) => scores.All(s => s is >= 0 and <= 1);
}
