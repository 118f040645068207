using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using MedTransfer.Imaging.Index;

namespace MedTransfer.Imaging.Splits;

/// <summary>
/// Patient-level, stratified, seeded partitions (no patient in two partitions: images of one patient are alike, so a split by image would leak the test set into training).
/// <para>
/// Each patient gets one stratum: its majority label (ties → the ordinally smallest), and with
/// <see cref="SplitOptions.StratifyBySite"/> its majority site too. Within a stratum, patients are ordered by
/// SHA-256 of (seed, patient) — a stable hash, so a patient's rank never depends on the order rows were enumerated
/// or on the platform — and the first ⌊n·train⌋, next ⌊n·val⌋, rest test, with the leftover patients given by the
/// largest-remainder rule, so each partition's count is within one patient of n × fraction in every stratum.
/// Samples without a patient id are treated as their own patient (and flagged <see cref="QualityFlags.MissingPatientId"/> by the indexer).
/// </para>
/// </summary>
public static class PatientSplitter
{
    /// <summary>A copy of <paramref name="manifest"/> with <see cref="ManifestRow.Split"/> set for every row.</summary>
    /// <exception cref="ArgumentException">The fractions are invalid.</exception>
    public static Manifest Assign(Manifest manifest, SplitOptions options)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Dictionary<string, Partition> byPatient = AssignPatients(manifest.Rows, options, options.Train, options.Validation, options.Test);
        return manifest.With(row => row with { Split = byPatient[PatientKey(row)] });
    }

    /// <summary>
    /// Leave-site-out: every patient with a sample at <paramref name="targetSite"/> goes to test (all of that
    /// patient's samples, so no patient straddles the boundary); the other patients are split into train and
    /// validation in the ratio of <see cref="SplitOptions.Train"/> to <see cref="SplitOptions.Validation"/>,
    /// stratified as in <see cref="Assign"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The target site has no sample, or train + validation is 0.</exception>
    public static Manifest LeaveSiteOut(Manifest manifest, string targetSite, SplitOptions options)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(targetSite);
        ArgumentNullException.ThrowIfNull(options);
        double sourceTotal = options.Train + options.Validation;
        if (!(sourceTotal > 0))
        {
            throw new ArgumentException("Train + validation fractions must be positive.", nameof(options));
        }

        var targetPatients = manifest.Rows.Where(r => string.Equals(r.Site, targetSite, StringComparison.Ordinal)).Select(PatientKey).ToHashSet(StringComparer.Ordinal);
        if (targetPatients.Count == 0)
        {
            throw new ArgumentException("No sample belongs to the target site.", nameof(targetSite));
        }

        var source = manifest.Rows.Where(r => !targetPatients.Contains(PatientKey(r))).ToList();
        Dictionary<string, Partition> byPatient = AssignPatients(source, options, options.Train / sourceTotal, options.Validation / sourceTotal, 0);
        return manifest.With(row => row with { Split = targetPatients.Contains(PatientKey(row)) ? Partition.Test : byPatient[PatientKey(row)] });
    }

    /// <summary>The key a row is split by: its patient, or "sample:" + id when the patient is unknown.</summary>
    internal static string PatientKey(ManifestRow row) => row.Patient.Length > 0 ? "patient:" + row.Patient : "sample:" + row.Id;

    /// <summary>A stable 64-bit rank of a patient under a seed: the first 8 bytes of SHA-256("seed\0patient").</summary>
    internal static ulong Rank(ulong seed, string patientKey)
    {
        byte[] material = new byte[8 + Encoding.UTF8.GetByteCount(patientKey)];
        BinaryPrimitives.WriteUInt64LittleEndian(material, seed);
        Encoding.UTF8.GetBytes(patientKey, material.AsSpan(8));
        return BinaryPrimitives.ReadUInt64LittleEndian(SHA256.HashData(material));
    }

    /// <summary>Counts for n items by the largest-remainder rule (ties: train, then validation, then test).</summary>
    internal static int[] Apportion(int n, double train, double validation, double test)
    {
        double[] exact = [n * train, n * validation, n * test];
        int[] counts = [.. exact.Select(e => (int)Math.Floor(e))];
        int left = n - counts.Sum();
        foreach (int i in Enumerable.Range(0, 3).OrderByDescending(i => exact[i] - counts[i]).ThenBy(i => i))
        {
            if (left == 0)
            {
                break;
            }

            if (exact[i] > 0 || (train + validation + test) == 0)
            {
                counts[i]++;
                left--;
            }
        }

        counts[0] += left; // only when every fraction is zero
        return counts;
    }

    private static Dictionary<string, Partition> AssignPatients(IEnumerable<ManifestRow> rows, SplitOptions options, double train, double validation, double test)
    {
        var patients = rows
            .GroupBy(PatientKey, StringComparer.Ordinal)
            .Select(g => (Key: g.Key, Stratum: Majority(g.Select(r => r.Label)) + (options.StratifyBySite ? "\u0000" + Majority(g.Select(r => r.Site)) : string.Empty)))
            .ToList();
        var result = new Dictionary<string, Partition>(StringComparer.Ordinal);
        foreach (var stratum in patients.GroupBy(p => p.Stratum, StringComparer.Ordinal))
        {
            var ordered = stratum
                .Select(p => (p.Key, Rank: Rank(options.Seed, p.Key)))
                .OrderBy(p => p.Rank)
                .ThenBy(p => p.Key, StringComparer.Ordinal)
                .ToList();
            int[] counts = Apportion(ordered.Count, train, validation, test);
            for (int i = 0; i < ordered.Count; i++)
            {
                result[ordered[i].Key] = i < counts[0] ? Partition.Train : i < counts[0] + counts[1] ? Partition.Validation : Partition.Test;
            }
        }

        return result;
    }

    private static string Majority(IEnumerable<string> values) =>
        values.GroupBy(v => v, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count())
            .ThenBy(g => g.Key, StringComparer.Ordinal)
            .First().Key;
}
