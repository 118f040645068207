using System.Diagnostics;
using MedTransfer.Dicom;
using MedTransfer.Dicom.Pixels;
using MedTransfer.Testing;

namespace MedTransfer.Synthetic.Tests.SampleData;

/// <summary>One manifest row, parsed.</summary>
public sealed record ManifestEntry(string Id, string Path, string Patient, string Study, string Series, string Site, string SiteRole, string Modality, int Label, string Finding, string Sex, int Age, string AgeBand, string Split, int Instance, string TransferSyntax);

/// <summary>The small sample set generated once (default seed) into a temp folder and shared by the tests of a class.</summary>
public sealed class SampleDataFixture : IDisposable
{
    private readonly Lazy<IReadOnlyDictionary<string, (float[] Pixels, int Rows, int Columns)>> _radiographs;

    public SampleDataFixture()
    {
        Root = TestPaths.NewTempDirectory("medtransfer-sample");
        var watch = Stopwatch.StartNew();
        Summary = SampleDataGenerator.Generate(Root, SampleDataScale.Small, SampleDataGenerator.DefaultSeed);
        GenerationSeconds = watch.Elapsed.TotalSeconds;
        string[] lines = File.ReadAllLines(System.IO.Path.Combine(Root, SampleDataGenerator.ManifestFileName));
        Header = lines[0];
        Manifest = [.. lines.Skip(1).Select(Parse)];
        _radiographs = new(LoadRadiographs);
    }

    public string Root { get; }

    public SampleDataSummary Summary { get; }

    public double GenerationSeconds { get; }

    public string Header { get; }

    public IReadOnlyList<ManifestEntry> Manifest { get; }

    /// <summary>Presentation floats (modality LUT, VOI window, MONOCHROME1 inverted) of every radiograph, by path.</summary>
    public IReadOnlyDictionary<string, (float[] Pixels, int Rows, int Columns)> Radiographs => _radiographs.Value;

    public void Dispose() => Directory.Delete(Root, recursive: true);

    private static ManifestEntry Parse(string line)
    {
        string[] c = line.Split(',');
        return new ManifestEntry(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], int.Parse(c[8], System.Globalization.CultureInfo.InvariantCulture), c[9], c[10], int.Parse(c[11], System.Globalization.CultureInfo.InvariantCulture), c[12], c[13], int.Parse(c[14], System.Globalization.CultureInfo.InvariantCulture), c[15]);
    }

    private IReadOnlyDictionary<string, (float[] Pixels, int Rows, int Columns)> LoadRadiographs()
    {
        var result = new System.Collections.Concurrent.ConcurrentDictionary<string, (float[] Pixels, int Rows, int Columns)>(StringComparer.Ordinal);
        Parallel.ForEach(Manifest.Where(m => m.Modality != "MR"), m =>
        {
            DicomImage image = DicomImage.Create(DicomFile.Open(System.IO.Path.Combine(Root, m.Path)));
            result[m.Path] = (image.PresentationFloats(0), image.Module.Rows, image.Module.Columns);
        });
        return result;
    }
}
