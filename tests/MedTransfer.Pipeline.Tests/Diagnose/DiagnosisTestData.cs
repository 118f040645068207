using MedTransfer.Dicom;
using MedTransfer.Imaging.Normalization;
using MedTransfer.Imaging.Resampling;
using MedTransfer.Pipeline.Diagnose;
using MedTransfer.Testing;

namespace MedTransfer.Pipeline.Tests.Diagnose;

/// <summary>Inputs for batch-diagnosis tests: sample radiographs, poison files built in code, and tiny models.</summary>
internal static class DiagnosisTestData
{
    public static readonly XrayRecipe Recipe = new() { Resize = new ResizeOptions(32, ResizeMethod.Area, 0f), Channels = 3 };

    public static string SampleFolder => Path.Combine(TestPaths.RepoRoot, "sample-data", "cxr");

    /// <summary>The first <paramref name="count"/> sample radiographs of each site, sorted.</summary>
    public static IReadOnlyList<string> SampleFiles(int count) =>
        [.. Directory.GetDirectories(SampleFolder).Order(StringComparer.Ordinal)
            .SelectMany(site => Directory.GetFiles(site, "*.dcm", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Take(count))];

    /// <summary>Copies sample files into <paramref name="folder"/>/good/ keeping their relative paths.</summary>
    public static IReadOnlyList<string> CopySamples(string folder, int perSite)
    {
        var copies = new List<string>();
        foreach (string file in SampleFiles(perSite))
        {
            string target = Path.Combine(folder, "good", Path.GetRelativePath(SampleFolder, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
            copies.Add(target);
        }

        return copies;
    }

    /// <summary>Poison files, each in its own study: truncated, not DICOM, no pixel data, huge dimensions.</summary>
    public static IReadOnlyList<string> WritePoisons(string folder, string template)
    {
        string dir = Path.Combine(folder, "poison");
        Directory.CreateDirectory(dir);
        DicomFile own = DicomFile.Open(template, new DicomReaderOptions { PixelData = PixelDataLoading.Eager });
        own.Dataset.Set(Tag.StudyInstanceUID, DicomVR.UI, "2.25.1003");
        using var buffer = new MemoryStream();
        own.Save(buffer);
        byte[] bytes = buffer.ToArray();
        string truncated = Path.Combine(dir, "truncated.dcm");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        string notDicom = Path.Combine(dir, "not-dicom.dcm");
        File.WriteAllBytes(notDicom, [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, .. new byte[200]]);
        string noPixels = Path.Combine(dir, "no-pixels.dcm");
        DicomFile file = DicomFile.Open(template, new DicomReaderOptions { PixelData = PixelDataLoading.Eager });
        file.Dataset.Set(Tag.StudyInstanceUID, DicomVR.UI, "2.25.1001");
        file.Dataset.Remove(Tag.PixelData);
        file.Save(noPixels);
        string huge = Path.Combine(dir, "huge.dcm");
        file = DicomFile.Open(template, new DicomReaderOptions { PixelData = PixelDataLoading.Eager });
        file.Dataset.Set(Tag.StudyInstanceUID, DicomVR.UI, "2.25.1002");
        file.Dataset.SetNumbers(Tag.Rows, DicomVR.US, 65535);
        file.Dataset.SetNumbers(Tag.Columns, DicomVR.US, 65535);
        file.Save(huge);
        return [truncated, notDicom, noPixels, huge];
    }

    /// <summary>Writes a tiny model (with an optional shift monitor JSON) and returns its path.</summary>
    public static string WriteModel(string folder, string? monitorJson = null)
    {
        string path = Path.Combine(folder, "model.onnx");
        File.WriteAllBytes(path, TestOnnxModels.Build(Recipe.Channels, Recipe.Resize.Size, Recipe.ToJson(), monitorJson));
        return path;
    }

    /// <summary>The tiny model's features of one file, computed by hand from the normaliser's tensor.</summary>
    public static double[] HandFeatures(string file)
    {
        XrayTensor t = XrayNormalizer.NormalizeFile(file, Recipe);
        int s = t.Height;
        int cell = s / 4;
        var f = new double[t.Channels * 16];
        for (int c = 0; c < t.Channels; c++)
        {
            for (int y = 0; y < s; y++)
            {
                for (int x = 0; x < s; x++)
                {
                    f[(c * 16) + ((y / cell) * 4) + (x / cell)] += t.Tensor[(c * s * s) + (y * s) + x] / (double)(cell * cell);
                }
            }
        }

        return f;
    }

    /// <summary>The tiny model's positive-class probability, by hand.</summary>
    public static double HandScore(double[] features)
    {
        double z = TestOnnxModels.Bias;
        for (int j = 0; j < features.Length; j++)
        {
            z += TestOnnxModels.Weight(j) * features[j];
        }

        return 1 / (1 + Math.Exp(-z));
    }

    public static StudyPseudonyms Keys() => new([.. Enumerable.Range(1, 32).Select(i => (byte)i)]);

    public static Dictionary<string, string[]> ReadCsv(string path) =>
        File.ReadAllLines(path).Skip(1).Select(l => l.Split(',')).ToDictionary(f => f[0], f => f);
}
