using System.Globalization;
using MedTransfer.Dicom;
using MedTransfer.Dicom.Pixels;
using MedTransfer.Testing;
using Xunit.Abstractions;

namespace MedTransfer.Synthetic.Tests.SampleData;

/// <summary>The small sample set: reproducible, valid DICOM, consistent geometry and patients, a real and learnable shift.</summary>
public sealed class SampleDataTests(SampleDataFixture fixture, ITestOutputHelper output) : IClassFixture<SampleDataFixture>
{
    private static readonly DicomReaderOptions s_strict = new() { Validation = ValidationMode.Strict, PixelData = PixelDataLoading.Eager };

    [SkippableFact]
    public void CommittedSampleData_IsReproducibleBitForBit()
    {
        string committed = Path.Combine(TestPaths.RepoRoot, "sample-data");
        Skip.IfNot(Directory.Exists(committed), "sample-data/ is absent from this checkout, so there is nothing to compare the regenerated set with");

        string[] expected = RelativeFiles(fixture.Root);
        string[] actual = RelativeFiles(committed);
        Assert.Equal(expected, actual);
        foreach (string file in expected)
        {
            byte[] regenerated = File.ReadAllBytes(Path.Combine(fixture.Root, file));
            byte[] stored = File.ReadAllBytes(Path.Combine(committed, file));
            Assert.True(regenerated.AsSpan().SequenceEqual(stored), $"{file} differs from the regenerated copy (seed {SampleDataGenerator.DefaultSeed}, scale small)");
        }

        output.WriteLine($"{expected.Length} files identical; generation took {fixture.GenerationSeconds:F1} s");
    }

    [Fact]
    public void SmallSet_HasTheDocumentedSizeAndCounts()
    {
        output.WriteLine($"{fixture.Summary.Files} files, {fixture.Summary.TotalBytes / 1e6:F2} MB, generated in {fixture.GenerationSeconds:F1} s");
        Assert.InRange(fixture.Summary.TotalBytes, 1_000_000, 25_000_000);
        Assert.Equal(3, fixture.Summary.Sites.Count);
        Assert.All(fixture.Summary.Sites, s => Assert.InRange(s.Radiographs, 100, 150));
        Assert.All(fixture.Summary.Sites, s => Assert.InRange(s.MriSeries, 8, 16));

        // A patient-level 60/20/20 split stratified by label needs at least 8 MR patients per site for every
        // partition to hold patients of both labels (the MRI protocol splits the sample this way).
        Assert.All(fixture.Summary.Sites, s => Assert.True(s.MriPatients >= 8, $"site {s.SiteId}: {s.MriPatients} MR patients"));
        Assert.Contains(fixture.Summary.Sites, s => s.Role == "target");
        Assert.True(fixture.Summary.Sites.Count(s => s.Role == "source") >= 2);
    }

    [Fact]
    public void EveryFile_ReadsStrictlyAndDecodes_InEveryTransferSyntaxUsed()
    {
        var syntaxes = new HashSet<string>(StringComparer.Ordinal);
        var uids = new HashSet<string>(StringComparer.Ordinal);
        Parallel.ForEach(fixture.Manifest, entry =>
        {
            DicomFile file = DicomFile.Open(Path.Combine(fixture.Root, entry.Path), s_strict);
            DicomImage image = DicomImage.Create(file);
            byte[] frame = image.DecodeFrame(0);
            DicomDataset ds = file.Dataset;
            Assert.Equal(image.Module.DecodedFrameLength, frame.Length);
            Assert.Equal(entry.TransferSyntax, file.TransferSyntax.Uid);
            Assert.Equal(entry.Id, ds.GetString(Tag.SOPInstanceUID));
            Assert.Equal(entry.Study, ds.GetString(Tag.StudyInstanceUID));
            Assert.Equal(entry.Series, ds.GetString(Tag.SeriesInstanceUID));
            Assert.Equal(entry.Patient, ds.GetString(Tag.PatientID));
            Assert.Equal(entry.Modality, ds.GetString(Tag.Modality));
            Assert.Matches(@"^SYNTH\^[A-Z]\d{4}$", ds.GetString(Tag.PatientName));
            Assert.Matches(@"^\d{3}Y$", ds.GetString(Tag.PatientAge));
            Assert.Equal(entry.Age, int.Parse(ds.GetString(Tag.PatientAge)![..3], CultureInfo.InvariantCulture));
            Assert.Equal(entry.Sex, ds.GetString(Tag.PatientSex));
            foreach (string? uid in new[] { entry.Id, entry.Study, entry.Series })
            {
                Assert.Matches(@"^2\.25\.[1-9]\d{0,38}$", uid);
                Assert.True(uid!.Length <= 64);
            }

            lock (syntaxes)
            {
                syntaxes.Add(file.TransferSyntax.Uid);
                Assert.True(uids.Add(entry.Id), "SOP Instance UIDs are unique");
            }
        });

        Assert.Equal(
            new[] { TransferSyntax.ExplicitVRLittleEndian.Uid, TransferSyntax.JpegLosslessFirstOrder.Uid, TransferSyntax.RleLossless.Uid }.Order(StringComparer.Ordinal),
            syntaxes.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ManifestAndChecksums_CoverEveryFile()
    {
        foreach (string column in new[] { "id", "path", "patient", "study", "series", "site", "modality", "label", "sex", "age_band", "split_suggestion" })
        {
            Assert.Contains(column, fixture.Header.Split(','));
        }

        string[] dicom = [.. RelativeFiles(fixture.Root).Where(f => f.EndsWith(".dcm", StringComparison.Ordinal))];
        Assert.Equal(dicom, fixture.Manifest.Select(m => m.Path).ToArray());

        string sums = File.ReadAllText(Path.Combine(fixture.Root, SampleDataGenerator.ChecksumFileName));
        Assert.Equal(SampleDataGenerator.ComputeChecksums(fixture.Root), sums);
        string[] lines = sums.TrimEnd('\n').Split('\n');
        Assert.All(lines, l => Assert.Matches("^[0-9a-f]{64}  [^ /][^ ]*$", l));
        string[] paths = [.. lines.Select(l => l[66..])];
        Assert.Equal(paths.Order(StringComparer.Ordinal), paths);
        Assert.Equal(RelativeFiles(fixture.Root).Where(f => f != SampleDataGenerator.ChecksumFileName), paths);

        string readme = File.ReadAllText(Path.Combine(fixture.Root, "README.md"));
        Assert.Contains($"medtransfer sample-data generate --out sample-data --scale small --seed {SampleDataGenerator.DefaultSeed}", readme, StringComparison.Ordinal);
        Assert.Contains("no patient data", readme, StringComparison.Ordinal);
    }

    [Fact]
    public void Patients_SomeHaveSeveralImages_AndEachHasOneSplit()
    {
        var radiographs = fixture.Manifest.Where(m => m.Modality != "MR").GroupBy(m => m.Patient).ToList();
        Assert.True(radiographs.Count(g => g.Count() > 1) >= 10, "several images per patient for some patients");
        var mri = fixture.Manifest.Where(m => m.Modality == "MR").GroupBy(m => m.Patient).ToList();
        Assert.Contains(mri, g => g.Select(m => m.Series).Distinct().Count() > 1);
        foreach (var patient in fixture.Manifest.GroupBy(m => m.Patient))
        {
            Assert.Single(patient.Select(m => m.Split).Distinct());
            Assert.Single(patient.Select(m => m.Sex).Distinct());
            Assert.Matches(@"^SYN-[A-Z]-\d{4}$", patient.Key);
        }

        Assert.Equal(["test", "train", "val"], fixture.Manifest.Select(m => m.Split).Distinct().Order(StringComparer.Ordinal));
        Assert.All(fixture.Manifest, m => Assert.Contains(m.AgeBand, new[] { "18-39", "40-59", "60-79", "80+" }));
        Assert.Equal(["F", "M"], fixture.Manifest.Select(m => m.Sex).Distinct().Order(StringComparer.Ordinal));

        // Prevalence differs by site as configured (patient level: exactly round(p × patients)).
        foreach (SiteProfile site in SiteProfile.Defaults)
        {
            var patients = fixture.Manifest.Where(m => m.Site == site.Id && m.Modality != "MR").GroupBy(m => m.Patient).ToList();
            int positives = patients.Count(g => g.First().Label == 1);
            Assert.Equal((int)Math.Round(site.Radiograph.Prevalence * patients.Count, MidpointRounding.AwayFromZero), positives);
        }
    }

    [Fact]
    public void MriSeries_GeometryIsConsistent()
    {
        var series = fixture.Manifest.Where(m => m.Modality == "MR").GroupBy(m => m.Series).ToList();
        Assert.NotEmpty(series);
        Assert.Contains(series, s => Orientation(s.First()).SequenceEqual([1.0, 0, 0, 0, 1, 0]));
        Assert.Contains(series, s => Orientation(s.First()).SequenceEqual([0.0, 1, 0, 0, 0, -1]));
        foreach (var s in series)
        {
            DicomDataset[] slices = [.. s.Select(m => DicomFile.Open(Path.Combine(fixture.Root, m.Path), new DicomReaderOptions { PixelData = PixelDataLoading.Skip }).Dataset)
                .OrderBy(d => d.GetInt32(Tag.InstanceNumber))];
            double[] iop = slices[0].GetDoubles(Tag.ImageOrientationPatient);
            double[] normal =
            [
                (iop[1] * iop[5]) - (iop[2] * iop[4]),
                (iop[2] * iop[3]) - (iop[0] * iop[5]),
                (iop[0] * iop[4]) - (iop[1] * iop[3]),
            ];
            double spacing = slices[0].GetDouble(Tag.SpacingBetweenSlices)!.Value;
            Assert.True(spacing >= slices[0].GetDouble(Tag.SliceThickness)!.Value);
            for (int k = 0; k < slices.Length; k++)
            {
                DicomDataset d = slices[k];
                Assert.Equal(k + 1, d.GetInt32(Tag.InstanceNumber));
                Assert.Equal(iop, d.GetDoubles(Tag.ImageOrientationPatient));
                Assert.Equal(slices[0].GetString(Tag.FrameOfReferenceUID), d.GetString(Tag.FrameOfReferenceUID));
                Assert.Equal(s.Key, d.GetString(Tag.SeriesInstanceUID));
                Assert.Equal(slices[0].GetDoubles(Tag.PixelSpacing), d.GetDoubles(Tag.PixelSpacing));
                Assert.Equal(slices[0].GetDouble(Tag.SliceThickness), d.GetDouble(Tag.SliceThickness));
                Assert.Equal(2, d.GetDoubles(Tag.PixelSpacing).Length);
                if (k == 0)
                {
                    continue;
                }

                double[] step = [.. d.GetDoubles(Tag.ImagePositionPatient).Zip(slices[k - 1].GetDoubles(Tag.ImagePositionPatient), (a, b) => a - b)];
                double along = (step[0] * normal[0]) + (step[1] * normal[1]) + (step[2] * normal[2]);
                Assert.Equal(spacing, along, 1e-3);
                double across = Math.Sqrt(step.Select((v, i) => (v - (along * normal[i])) * (v - (along * normal[i]))).Sum());
                Assert.Equal(0.0, across, 1e-3);
            }
        }
    }

    [Fact]
    public void Sites_AreSeparableFromSimpleImageStatistics()
    {
        // Nearest centroid on standardised statistics, fitted on the train split, scored on val + test.
        ManifestEntry[] rows = [.. fixture.Manifest.Where(m => m.Modality != "MR")];
        double[][] features = [.. rows.Select(m => Features(m))];
        bool[] train = [.. rows.Select(m => m.Split == "train")];
        int dims = features[0].Length;
        double[] mean = [.. Enumerable.Range(0, dims).Select(j => features.Where((_, i) => train[i]).Average(f => f[j]))];
        double[] sd = [.. Enumerable.Range(0, dims).Select(j => Math.Sqrt(features.Where((_, i) => train[i]).Average(f => (f[j] - mean[j]) * (f[j] - mean[j]))) + 1e-12)];
        double[][] z = [.. features.Select(f => f.Select((v, j) => (v - mean[j]) / sd[j]).ToArray())];
        foreach (SiteProfile site in SiteProfile.Defaults)
        {
            double[] centroid = [.. Enumerable.Range(0, dims).Select(j => z.Where((_, i) => train[i] && rows[i].Site == site.Id).Average(f => f[j]))];
            int[] held = [.. Enumerable.Range(0, rows.Length).Where(i => !train[i])];
            double[] scores = [.. held.Select(i => -Math.Sqrt(z[i].Select((v, j) => (v - centroid[j]) * (v - centroid[j])).Sum()))];
            double auc = ImageStatistics.Auc(scores, [.. held.Select(i => rows[i].Site == site.Id)]);
            output.WriteLine($"site {site.Id} vs rest: AUC {auc:F3} on {held.Length} held-out radiographs");
            Assert.True(auc >= 0.95, $"site {site.Id} should be recognisable from image statistics (AUC {auc:F3})");
        }
    }

    [Fact]
    public void Label_IsLearnableWithinASite_FromALungOpacityStatistic()
    {
        var aucs = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (SiteProfile site in SiteProfile.Defaults)
        {
            ManifestEntry[] rows = [.. fixture.Manifest.Where(m => m.Site == site.Id && m.Modality != "MR")];
            double[] scores = [.. rows.Select(m =>
            {
                (float[] p, int r, int c) = fixture.Radiographs[m.Path];
                return ImageStatistics.LungOpacity(p, r, c);
            })];
            aucs[site.Id] = ImageStatistics.Auc(scores, [.. rows.Select(m => m.Label == 1)]);
            output.WriteLine($"site {site.Id} lung-opacity statistic: AUC {aucs[site.Id]:F3} on {rows.Length} radiographs ({rows.Count(m => m.Label == 1)} positive)");
        }

        // Site A (clean detector, no collimation, no markers) is where one number must already see the finding;
        // the noisier sites are reported, not asserted: that is what training is for.
        Assert.True(aucs["A"] > 0.75, $"the finding should be visible to a one-number statistic at site A (AUC {aucs["A"]:F3})");
    }

    private double[] Features(ManifestEntry m)
    {
        (float[] p, int r, int c) = fixture.Radiographs[m.Path];
        return ImageStatistics.SiteFeatures(p, r, c);
    }

    private double[] Orientation(ManifestEntry m) =>
        DicomFile.Open(Path.Combine(fixture.Root, m.Path), new DicomReaderOptions { PixelData = PixelDataLoading.Skip }).Dataset.GetDoubles(Tag.ImageOrientationPatient);

    private static string[] RelativeFiles(string root) =>
        [.. Directory.GetFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).Order(StringComparer.Ordinal)];
}
