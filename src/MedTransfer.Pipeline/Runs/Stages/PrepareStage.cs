using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using MedTransfer.Imaging.Index;
using MedTransfer.Imaging.Normalization;
using MedTransfer.Imaging.Splits;
using MedTransfer.Pipeline.Diagnose;
using MedTransfer.Pipeline.Ingest;
using MedTransfer.Pipeline.Protocols;
using MedTransfer.Training.Data;

namespace MedTransfer.Pipeline.Runs.Stages;

/// <summary>The six partitions of a run: source and target sites × train, val, test (split by patient).</summary>
internal sealed class RunSets
{
    public required ImageSet SourceTrain { get; init; }

    public required ImageSet SourceVal { get; init; }

    public required ImageSet SourceTest { get; init; }

    public required ImageSet TargetTrain { get; init; }

    public required ImageSet TargetVal { get; init; }

    public required ImageSet TargetTest { get; init; }

    public IEnumerable<(string Name, ImageSet Set)> All =>
    [
        ("source-train", SourceTrain), ("source-val", SourceVal), ("source-test", SourceTest),
        ("target-train", TargetTrain), ("target-val", TargetVal), ("target-test", TargetTest),
    ];

    /// <summary>Each image once (transductive runs use one target set for train, val and test).</summary>
    public IEnumerable<(string Name, ImageSet Set)> Distinct => All.DistinctBy(s => s.Set);
}

/// <summary>How many images of a site were found and how many the run used.</summary>
/// <param name="Site">The site.</param>
/// <param name="Role">"source" or "target".</param>
/// <param name="Indexed">Images the indexer found for the site.</param>
/// <param name="Labelled">Of those, with a 0/1 label.</param>
/// <param name="Unlabelled">Of those, without a label (not used).</param>
/// <param name="Quarantined">Labelled images that could not be normalized.</param>
/// <param name="Used">Images in the run's partitions.</param>
public sealed record SiteCount(string Site, string Role, int Indexed, int Labelled, int Unlabelled, int Quarantined, int Used);

/// <summary>What the prepare stage hands on: the used rows, the partitions, counts and quarantine.</summary>
internal sealed class PreparedData
{
    public required IReadOnlyList<ManifestRow> Rows { get; init; }

    public required RunSets Sets { get; init; }

    public required IReadOnlyList<SiteCount> Sites { get; init; }

    public required IReadOnlyList<string> Quarantine { get; init; }

    public required XrayRecipe Recipe { get; init; }

    public required int Size { get; init; }

    public required bool IsMri { get; init; }
}

/// <summary>
/// Stage 1 of a run: index the sources, refuse unusable labels and sites before any work, split each side by
/// patient, normalize every image once (X-ray recipe, or MR series to per-row slices), and build the partitions.
/// Problems that the protocol causes are refused at the protocol field (file:line:col); files that cannot be read
/// are quarantined by a keyed pseudonym, never by a path that may hold a patient's name.
/// </summary>
internal static class PrepareStage
{
    public static PreparedData Run(ExperimentProtocol protocol, StudyPseudonyms pseudonyms, IProgress<RunProgress>? progress, CancellationToken ct, RunCache? cache = null)
    {
        var quarantine = new ConcurrentBag<string>();
        DataSpec data = protocol.Data;
        progress?.Report(new RunProgress("index", 0, 1, "scanning " + string.Join(", ", data.Sources.Select(s => s.Path))));
        var indexer = new DatasetIndexer(data.ToIndexOptions());
        DatasetIndex index = indexer.IndexAsync([.. data.Sources.Select(s => s.FullPath)], null, ct).GetAwaiter().GetResult();
        foreach (IndexFailure f in index.Failures)
        {
            quarantine.Add($"index: file {pseudonyms.Of("file", f.Path)}: {f}");
        }

        bool mri = data.Modality == ProtocolModality.Mri;
        var siteSet = data.SourceSites.Concat(data.TargetSites).ToHashSet(StringComparer.Ordinal);
        List<ManifestRow> ofSites = [.. index.Manifest.Rows.Where(r => siteSet.Contains(r.Site))];
        CheckLabels(protocol, ofSites);
        List<ManifestRow> labelled = [.. ofSites.Where(r => r.Label is "0" or "1")];
        CheckSites(protocol, labelled, [.. index.Manifest.Rows.Select(r => r.Site).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)]);
        progress?.Report(new RunProgress("index", 1, 1, $"{labelled.Count} labelled images"));

        SplitOptions split = data.Split.ToSplitOptions();
        var source = new Manifest(labelled.Where(r => data.SourceSites.Contains(r.Site)));
        var target = new Manifest(labelled.Where(r => data.TargetSites.Contains(r.Site)));
        // Transductive evaluation adapts on and scores every target image: the target is not split (all rows "test").
        bool transductive = protocol.Evaluation.Target == TargetEvaluation.Transductive;
        IEnumerable<ManifestRow> targetRows = transductive ? target.Rows.Select(r => r with { Split = Partition.Test }) : PatientSplitter.Assign(target, split).Rows;
        List<ManifestRow> assigned = [.. PatientSplitter.Assign(source, split).Rows.Concat(targetRows)];

        XrayRecipe recipe = protocol.Preprocessing.Xray ?? new XrayRecipe();
        int size = protocol.Preprocessing.InputSize;
        var failed = new List<string>();
        Dictionary<string, float[]> images = mri
            ? MriSlices.Normalize(assigned, [.. data.Sources.Select(s => s.FullPath)], protocol.Preprocessing.Mri ?? new MriRecipe(), size, protocol.Preprocessing.MriResize, r => pseudonyms.Of("image", r.Id),
                new Relay<(int Done, int Total)>(p => progress?.Report(new RunProgress("normalize", p.Done, p.Total, "MR series"))), failed, ct)
            : XrayInputs.Normalize(assigned, [.. data.Sources.Select(s => s.FullPath)], recipe, pseudonyms, failed,
                new Relay<(int Done, int Total)>(p => progress?.Report(new RunProgress("normalize", p.Done, p.Total, null))), ct, cache).Images;
        foreach (string q in failed)
        {
            quarantine.Add(q);
        }

        List<ManifestRow> rows = [.. assigned.Where(r => images.ContainsKey(r.Id))];
        // MR slices come from whole series, not one file each: they are not cached (no content key).
        RunSets sets = BuildSets(protocol, rows, images, size, mri ? null : cache);
        var counts = new List<SiteCount>();
        foreach ((string role, IReadOnlyList<string> sites) in new[] { ("source", data.SourceSites), ("target", data.TargetSites) })
        {
            foreach (string site in sites)
            {
                int indexed = ofSites.Count(r => r.Site == site);
                int withLabel = labelled.Count(r => r.Site == site);
                int used = rows.Count(r => r.Site == site);
                counts.Add(new SiteCount(site, role, indexed, withLabel, indexed - withLabel, withLabel - used, used));
            }
        }

        return new PreparedData
        {
            Rows = rows,
            Sets = sets,
            Sites = counts,
            Quarantine = [.. quarantine.Order(StringComparer.Ordinal)],
            Recipe = recipe,
            Size = size,
            IsMri = mri,
        };
    }

    /// <summary>A label that is neither 0, 1 nor empty stops the run at the line and column that holds it.</summary>
    private static void CheckLabels(ExperimentProtocol protocol, IReadOnlyList<ManifestRow> rows)
    {
        string[] bad = [.. rows.Select(r => r.Label).Where(l => l is not ("0" or "1" or "")).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        if (bad.Length == 0)
        {
            return;
        }

        var errors = new List<ProtocolError>();
        if (protocol.Data.Labels is { } labels && File.Exists(labels.FullPath))
        {
            using var reader = new StreamReader(labels.FullPath, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
            int column = -1;
            foreach (CsvTable.Record record in CsvTable.Read(reader))
            {
                if (column < 0)
                {
                    column = Array.FindIndex(record.Fields, f => string.Equals(f.Trim(), labels.Column, StringComparison.OrdinalIgnoreCase));
                    if (column < 0)
                    {
                        break;
                    }

                    continue;
                }

                string value = column < record.Fields.Length ? record.Fields[column].Trim() : string.Empty;
                if (bad.Contains(value, StringComparer.Ordinal) && errors.Count < 20)
                {
                    errors.Add(new ProtocolError(Path.GetFileName(labels.FullPath), record.Line, column + 1, labels.Column, $"'{Printable(value)}' is not a label: labels must be 0 or 1 (or empty for an unlabelled image); map them in the label file"));
                }
            }
        }

        if (errors.Count == 0)
        {
            errors.Add(protocol.Locations.ErrorAt("data.source", $"the sources hold labels other than 0 and 1 ({string.Join(", ", bad.Take(5).Select(b => "'" + Printable(b) + "'"))}): map them to 0/1 in the manifest or label file"));
        }

        throw new ProtocolException(errors);
    }

    /// <summary>Every site must have labelled images, and a target site both classes, before any feature is computed.</summary>
    private static void CheckSites(ExperimentProtocol protocol, IReadOnlyList<ManifestRow> labelled, IReadOnlyList<string> found)
    {
        var errors = new List<ProtocolError>();
        foreach ((string field, IReadOnlyList<string> sites) in new[] { ("data.source_sites", protocol.Data.SourceSites), ("data.target_sites", protocol.Data.TargetSites) })
        {
            foreach (string site in sites)
            {
                ManifestRow[] rows = [.. labelled.Where(r => r.Site == site)];
                if (rows.Length == 0)
                {
                    string list = found.Count == 0 ? "none" : string.Join(", ", found.Take(10)) + (found.Count > 10 ? ", …" : string.Empty);
                    errors.Add(protocol.Locations.ErrorAt(field, $"site '{site}' has no labelled {ProtocolNames.Of(protocol.Data.Modality)} image under data.source (sites found: {list}; the site rule is {protocol.Data.Site})"));
                }
                else if (field == "data.target_sites" && rows.Select(r => r.Label).Distinct(StringComparer.Ordinal).Count() < 2)
                {
                    errors.Add(protocol.Locations.ErrorAt(field, $"target site '{site}' has only label {rows[0].Label} ({rows.Length} images): AUROC and every target metric need both classes"));
                }
            }
        }

        if (errors.Count > 0)
        {
            throw new ProtocolException(errors);
        }
    }

    private static RunSets BuildSets(ExperimentProtocol protocol, IReadOnlyList<ManifestRow> rows, IReadOnlyDictionary<string, float[]> images, int size, RunCache? cache)
    {
        ImageSet Make(string role, IReadOnlyList<string> sites, Partition partition, string name)
        {
            var set = new ImageSet(size);
            foreach (ManifestRow r in rows.Where(r => sites.Contains(r.Site) && r.Split == partition).OrderBy(r => r.Id, StringComparer.Ordinal))
            {
                set.Add(r.Id, images[r.Id], int.Parse(r.Label, CultureInfo.InvariantCulture), r.Site, r.Patient, cache?.ContentKey(r.Sha256));
            }

            if (set.Count < 2)
            {
                int patients = rows.Where(r => sites.Contains(r.Site)).Select(r => r.Patient).Distinct(StringComparer.Ordinal).Count();
                throw protocol.Locations.Refuse("data.split", $"the {role} {name} partition has {set.Count} image(s) ({patients} {role} patient(s) in all, split by patient); a run needs at least 2 images in each partition: use more patients or other fractions.");
            }

            return set;
        }

        DataSpec d = protocol.Data;
        if (protocol.Evaluation.Target == TargetEvaluation.Transductive)
        {
            // One set of every target image: adapted on (labels unread), validated on by the oracle only, evaluated.
            ImageSet all = Make("target", d.TargetSites, Partition.Test, "(all images)");
            return new RunSets
            {
                SourceTrain = Make("source", d.SourceSites, Partition.Train, "train"),
                SourceVal = Make("source", d.SourceSites, Partition.Validation, "val"),
                SourceTest = Make("source", d.SourceSites, Partition.Test, "test"),
                TargetTrain = all,
                TargetVal = all,
                TargetTest = all,
            };
        }

        return new RunSets
        {
            SourceTrain = Make("source", d.SourceSites, Partition.Train, "train"),
            SourceVal = Make("source", d.SourceSites, Partition.Validation, "val"),
            SourceTest = Make("source", d.SourceSites, Partition.Test, "test"),
            TargetTrain = Make("target", d.TargetSites, Partition.Train, "train"),
            TargetVal = Make("target", d.TargetSites, Partition.Validation, "val"),
            TargetTest = Make("target", d.TargetSites, Partition.Test, "test"),
        };
    }

    private static string Printable(string label) => label.Length > 20 ? label[..20] + "…" : label;

    private sealed class Relay<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
