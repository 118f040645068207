using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MedTransfer.Synthetic.Output;
using MedTransfer.Synthetic.Randomness;

namespace MedTransfer.Synthetic;

/// <summary>
/// Writes the synthetic sample data set: chest radiograph phantoms (CR/DX) and brain MRI phantom series from three
/// fictitious sites that differ the way hospitals do (<see cref="SiteProfile.Defaults"/>), with manifest.csv,
/// SHA256SUMS, a README.md describing the set, and a .gitattributes that keeps every file byte-exact in Git.
/// </summary>
/// <remarks>
/// The bytes depend only on the seed and the scale: every random draw comes from a named sub-stream of one
/// <see cref="SeededRandom"/>, transcendental functions are computed in portable arithmetic, dates are fixed,
/// UIDs are derived from the seed under the 2.25 root, and files are rendered in parallel but each from its own
/// stream, so neither thread timing nor machine, culture or clock changes a byte. There is no patient data:
/// names are SYNTH^A0001, IDs SYN-A-0001.
/// </remarks>
public static class SampleDataGenerator
{
    /// <summary>The seed of the committed sample-data/ folder.</summary>
    public const ulong DefaultSeed = 20260101;

    /// <summary>The manifest's file name.</summary>
    public const string ManifestFileName = "manifest.csv";

    /// <summary>The checksum list's file name (GNU sha256sum format).</summary>
    public const string ChecksumFileName = "SHA256SUMS";

    private static readonly string[] s_generatedRoots = ["cxr", "mri"];
    private static readonly string[] s_generatedFiles = ["README.md", ManifestFileName, ChecksumFileName, ".gitattributes"];

    /// <summary>Generates the sample set into <paramref name="outputDirectory"/>.</summary>
    /// <param name="outputDirectory">The folder: absent, empty, or a folder this generator wrote before (its files are replaced).</param>
    /// <param name="scale">Small (the committed set), medium or large.</param>
    /// <param name="seed">The seed; <see cref="DefaultSeed"/> gives the committed set.</param>
    /// <param name="progress">Optional progress in radiographs plus MRI slices.</param>
    /// <param name="sites">The sites; <see cref="SiteProfile.Defaults"/> when null.</param>
    /// <returns>What was written.</returns>
    /// <exception cref="IOException">The folder holds files that this generator did not write.</exception>
    public static SampleDataSummary Generate(string outputDirectory, SampleDataScale scale, ulong seed = DefaultSeed, IProgress<SampleDataProgress>? progress = null, IReadOnlyList<SiteProfile>? sites = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outputDirectory);
        sites ??= SiteProfile.Defaults;
        if (sites.Count == 0 || sites.Select(s => s.Id).Distinct(StringComparer.Ordinal).Count() != sites.Count)
        {
            throw new ArgumentException("Sites must be non-empty with distinct ids.", nameof(sites));
        }

        string root = Path.GetFullPath(outputDirectory);
        PrepareDirectory(root);
        var random = new SeededRandom(seed);
        var plan = new SamplePlan(sites, scale, random.Derive("plan"));
        SeededRandom pixels = random.Derive("pixels");
        int total = plan.Radiographs.Count + plan.Mri.Sum(m => m.SopUids.Count);
        int done = 0;
        void Step() => progress?.Report(new SampleDataProgress(Interlocked.Increment(ref done), total));

        var rows = new ConcurrentBag<ManifestRow>();
        var work = new List<Action>();
        foreach (RadiographPlan item in plan.Radiographs)
        {
            work.Add(() =>
            {
                rows.Add(RadiographWriter.Write(item, pixels, plan.ResolutionFactor, root));
                Step();
            });
        }

        foreach (MriPlan item in plan.Mri)
        {
            work.Add(() =>
            {
                foreach (ManifestRow row in MriWriter.Write(item, pixels, plan.ResolutionFactor, root, Step))
                {
                    rows.Add(row);
                }
            });
        }

        // Largest first (MRI series) so the tail of the parallel loop is short; order does not affect any byte.
        work.Reverse();
        Parallel.ForEach(work, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, action => action());

        ManifestRow[] sorted = [.. rows.OrderBy(r => r.Path, StringComparer.Ordinal)];
        var csv = new StringBuilder();
        csv.Append(ManifestRow.Header).Append('\n');
        foreach (ManifestRow row in sorted)
        {
            row.AppendTo(csv);
        }

        WriteText(Path.Combine(root, ManifestFileName), csv.ToString());
        WriteText(Path.Combine(root, ".gitattributes"), "# Generated sample data: every byte is checked against SHA256SUMS, so Git must never convert line endings.\n* -text\n");
        List<SiteSummary> summaries = Summaries(sites, sorted);
        long dicomBytes = sorted.Sum(r => new FileInfo(Path.Combine(root, r.Path)).Length);
        WriteText(Path.Combine(root, "README.md"), SampleReadme.Render(sites, scale, seed, plan, summaries, sorted.Length, dicomBytes));
        WriteChecksums(root);

        string[] files = Directory.GetFiles(root, "*", SearchOption.AllDirectories);
        return new SampleDataSummary(root, scale, seed, files.Length, files.Sum(f => new FileInfo(f).Length), summaries);
    }

    /// <summary>Lines "hash␠␠path" for every file under <paramref name="root"/> except SHA256SUMS, sorted by path (ordinal), '/' separators.</summary>
    public static string ComputeChecksums(string root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var lines = new List<(string Path, string Hash)>();
        foreach (string file in Directory.GetFiles(root, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            if (relative == ChecksumFileName)
            {
                continue;
            }

            using FileStream stream = File.OpenRead(file);
            lines.Add((relative, Convert.ToHexStringLower(SHA256.HashData(stream))));
        }

        var text = new StringBuilder();
        foreach ((string path, string hash) in lines.OrderBy(l => l.Path, StringComparer.Ordinal))
        {
            text.Append(hash).Append("  ").Append(path).Append('\n');
        }

        return text.ToString();
    }

    private static void WriteChecksums(string root) => WriteText(Path.Combine(root, ChecksumFileName), ComputeChecksums(root));

    private static void WriteText(string path, string text) => File.WriteAllBytes(path, new UTF8Encoding(false).GetBytes(text));

    private static void PrepareDirectory(string root)
    {
        if (!Directory.Exists(root))
        {
            Directory.CreateDirectory(root);
            return;
        }

        string[] entries = Directory.GetFileSystemEntries(root);
        if (entries.Length == 0)
        {
            return;
        }

        bool ours = File.Exists(Path.Combine(root, ChecksumFileName)) && File.Exists(Path.Combine(root, ManifestFileName));
        bool onlyOurs = entries.All(e => s_generatedRoots.Contains(Path.GetFileName(e), StringComparer.Ordinal) || s_generatedFiles.Contains(Path.GetFileName(e), StringComparer.Ordinal));
        if (!ours || !onlyOurs)
        {
            throw new IOException($"The folder '{root}' is not empty and was not written by the sample-data generator; choose an empty or new folder.");
        }

        foreach (string entry in entries)
        {
            if (Directory.Exists(entry))
            {
                Directory.Delete(entry, recursive: true);
            }
            else
            {
                File.Delete(entry);
            }
        }
    }

    private static List<SiteSummary> Summaries(IReadOnlyList<SiteProfile> sites, IReadOnlyList<ManifestRow> rows)
    {
        var result = new List<SiteSummary>();
        foreach (SiteProfile site in sites)
        {
            ManifestRow[] cxr = [.. rows.Where(r => r.Site == site.Id && r.Modality != "MR")];
            ManifestRow[] mr = [.. rows.Where(r => r.Site == site.Id && r.Modality == "MR")];
            int series = mr.Select(r => r.Series).Distinct(StringComparer.Ordinal).Count();
            int mrPositive = mr.Where(r => r.Label == 1).Select(r => r.Series).Distinct(StringComparer.Ordinal).Count();
            result.Add(new SiteSummary(
                site.Id,
                site.Role,
                cxr.Length,
                cxr.Select(r => r.Patient).Distinct(StringComparer.Ordinal).Count(),
                cxr.Count(r => r.Label == 1),
                mr.Select(r => r.Patient).Distinct(StringComparer.Ordinal).Count(),
                series,
                mr.Length,
                mrPositive));
        }

        return result;
    }

    internal static string Percent(int part, int whole) =>
        whole == 0 ? "-" : (100.0 * part / whole).ToString("F1", CultureInfo.InvariantCulture) + "%";
}
