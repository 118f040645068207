namespace MedTransfer.Synthetic;

/// <summary>What <see cref="SampleDataGenerator.Generate"/> wrote.</summary>
/// <param name="OutputDirectory">The folder (absolute).</param>
/// <param name="Scale">The scale generated.</param>
/// <param name="Seed">The seed.</param>
/// <param name="Files">Files written, including README.md, manifest.csv, SHA256SUMS and .gitattributes.</param>
/// <param name="TotalBytes">Their total size.</param>
/// <param name="Sites">Counts per site.</param>
public sealed record SampleDataSummary(string OutputDirectory, SampleDataScale Scale, ulong Seed, int Files, long TotalBytes, IReadOnlyList<SiteSummary> Sites)
{
    /// <summary>Radiograph files over all sites.</summary>
    public int Radiographs => Sites.Sum(s => s.Radiographs);

    /// <summary>MRI series over all sites.</summary>
    public int MriSeries => Sites.Sum(s => s.MriSeries);
}

/// <summary>Counts for one site.</summary>
/// <param name="SiteId">The site letter.</param>
/// <param name="Role">"source" or "target".</param>
/// <param name="Radiographs">Radiograph files.</param>
/// <param name="RadiographPatients">Patients with radiographs.</param>
/// <param name="RadiographPositives">Radiographs with the finding (label 1).</param>
/// <param name="MriPatients">Patients with MRI series (a patient-level split needs several per site).</param>
/// <param name="MriSeries">MRI series.</param>
/// <param name="MriSlices">MRI slice files.</param>
/// <param name="MriPositives">MRI series with a lesion.</param>
public sealed record SiteSummary(string SiteId, string Role, int Radiographs, int RadiographPatients, int RadiographPositives, int MriPatients, int MriSeries, int MriSlices, int MriPositives);

/// <summary>Progress of a generation run: units (radiographs and MRI slices) done of the total.</summary>
/// <param name="Done">Units written.</param>
/// <param name="Total">Units in the run.</param>
public readonly record struct SampleDataProgress(int Done, int Total);
