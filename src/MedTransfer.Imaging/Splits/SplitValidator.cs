using System.Globalization;
using MedTransfer.Imaging.Index;

namespace MedTransfer.Imaging.Splits;

/// <summary>A patient found in more than one partition (their images would let the test set leak into training). The message gives counts only, never identifiers.</summary>
public sealed class SplitLeakageException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SplitLeakageException(int leakedPatients, int leakedSamples)
        : base(string.Create(CultureInfo.InvariantCulture, $"Patient leakage: {leakedPatients} patient(s) ({leakedSamples} sample(s)) appear in more than one partition."))
    {
        LeakedPatients = leakedPatients;
        LeakedSamples = leakedSamples;
    }

    /// <summary>Patients in more than one partition.</summary>
    public int LeakedPatients { get; }

    /// <summary>Samples of those patients.</summary>
    public int LeakedSamples { get; }
}

/// <summary>Counts of one partition.</summary>
/// <param name="Partition">The partition.</param>
/// <param name="Patients">Distinct patients.</param>
/// <param name="Samples">Samples.</param>
/// <param name="LabelCounts">Samples per label (empty label included as "").</param>
public sealed record PartitionSummary(Partition Partition, int Patients, int Samples, IReadOnlyDictionary<string, int> LabelCounts);

/// <summary>The result of <see cref="SplitValidator.Inspect"/>. Warnings hold counts and partition names only.</summary>
/// <param name="LeakedPatients">Patients in more than one partition (0 for a valid split).</param>
/// <param name="Partitions">Per-partition counts, for every partition that has samples.</param>
/// <param name="Warnings">Non-fatal problems: a partition with a single class, unassigned samples, samples without a patient id.</param>
public sealed record SplitCheck(int LeakedPatients, IReadOnlyList<PartitionSummary> Partitions, IReadOnlyList<string> Warnings)
{
    /// <summary>True when no patient is in two partitions.</summary>
    public bool IsValid => LeakedPatients == 0;
}

/// <summary>Checks a split manifest for patient leakage and degenerate partitions.</summary>
public static class SplitValidator
{
    /// <summary>Like <see cref="Inspect"/>, but throws when any patient is in more than one partition.</summary>
    /// <exception cref="SplitLeakageException">A patient appears in two partitions (the message gives the count only).</exception>
    public static SplitCheck Check(Manifest manifest)
    {
        SplitCheck check = InspectCore(manifest, out int leakedSamples);
        return check.IsValid ? check : throw new SplitLeakageException(check.LeakedPatients, leakedSamples);
    }

    /// <summary>Counts partitions, leaked patients and warnings without throwing.</summary>
    public static SplitCheck Inspect(Manifest manifest) => InspectCore(manifest, out _);

    private static SplitCheck InspectCore(Manifest manifest, out int leakedSamples)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var leaked = manifest.Rows
            .Where(r => r.Patient.Length > 0)
            .GroupBy(r => r.Patient, StringComparer.Ordinal)
            .Where(g => g.Select(r => r.Split).Distinct().Count() > 1)
            .ToList();
        leakedSamples = leaked.Sum(g => g.Count());
        var warnings = new List<string>();
        var partitions = new List<PartitionSummary>();
        foreach (var group in manifest.Rows.GroupBy(r => r.Split).OrderBy(g => g.Key))
        {
            var labels = group.GroupBy(r => r.Label, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            int patients = group.Select(PatientSplitter.PatientKey).Distinct(StringComparer.Ordinal).Count();
            partitions.Add(new PartitionSummary(group.Key, patients, group.Count(), labels));
            string name = ManifestFieldsName(group.Key);
            if (group.Key == Partition.None)
            {
                warnings.Add(string.Create(CultureInfo.InvariantCulture, $"{group.Count()} sample(s) have no partition."));
            }
            else if (labels.Keys.Count(l => l.Length > 0) == 1)
            {
                warnings.Add($"Partition '{name}' holds a single class: metrics that need both classes (AUROC, sensitivity/specificity) are undefined there.");
            }
        }

        int noPatient = manifest.Rows.Count(r => r.Patient.Length == 0);
        if (noPatient > 0)
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture, $"{noPatient} sample(s) have no patient id: each is split as its own patient, so leakage through them cannot be ruled out."));
        }

        return new SplitCheck(leaked.Count, partitions, warnings);
    }

    private static string ManifestFieldsName(Partition partition) => partition switch
    {
        Partition.Train => "train",
        Partition.Validation => "val",
        Partition.Test => "test",
        _ => "none",
    };
}
