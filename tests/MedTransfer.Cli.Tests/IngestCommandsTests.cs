using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MedTransfer.Cli.Commands;
using MedTransfer.Dicom;
using MedTransfer.Imaging.Index;
using MedTransfer.Testing;
using Spectre.Console;

namespace MedTransfer.Cli.Tests;

/// <summary>`medtransfer ingest` on a small generated two-site DICOM folder, invoked through <see cref="IngestCommands.Create"/>.</summary>
public sealed class IngestCommandsTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-ingest");
    private readonly string _data;
    private readonly string _labels;

    public IngestCommandsTests()
    {
        _data = Path.Combine(_dir, "data");
        _labels = Path.Combine(_dir, "labels.csv");
        var lines = new List<string> { "patient,finding" };
        foreach ((string site, string institution, int offset) in new[] { ("siteA", "Hospital A", 0), ("siteB", "Hospital B", 100) })
        {
            for (int p = 0; p < 10; p++)
            {
                string patient = string.Create(CultureInfo.InvariantCulture, $"TEST-{offset + p:D3}");
                lines.Add(patient + "," + (p % 3 == 0 ? "pos" : "neg"));
                for (int k = 0; k < 2; k++)
                {
                    WriteDicom(
                        Path.Combine(_data, site, patient, string.Create(CultureInfo.InvariantCulture, $"{k}.dcm")),
                        string.Create(CultureInfo.InvariantCulture, $"1.2.826.0.1.3680043.10.2.{offset + p}.{k + 1}"),
                        patient,
                        institution);
                }
            }
        }

        lines.Add("TEST-999,pos");
        File.WriteAllLines(_labels, lines);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Ingest_WithSplitAndLabels_WritesAManifestWithoutLeakageAndExitsZero()
    {
        string manifestPath = Path.Combine(_dir, "out", "manifest.csv");

        (int code, string output, string error) = Run("ingest", _data, "--out", manifestPath, "--labels", _labels, "--label-column", "finding",
            "--key", "patient", "--site", "tag:InstitutionName", "--split", "0.6,0.2,0.2", "--seed", "7", "--json");

        Assert.True(code == 0, error);
        Manifest manifest = ManifestFile.Load(manifestPath);
        Assert.Equal(40, manifest.Rows.Count);
        Assert.All(manifest.Rows, r => Assert.NotEqual(Partition.None, r.Split));
        Assert.All(manifest.Rows.GroupBy(r => r.Patient), g => Assert.Single(g.Select(r => r.Split).Distinct()));
        using JsonDocument summary = JsonDocument.Parse(output);
        JsonElement root = summary.RootElement;
        Assert.Equal(manifest.ManifestHash, root.GetProperty("manifestHash").GetString());
        Assert.Equal(0, root.GetProperty("failed").GetInt32());
        Assert.Equal(["Hospital A", "Hospital B"], root.GetProperty("sites").EnumerateArray().Select(s => s.GetProperty("site").GetString()));
        Assert.Equal(8, root.GetProperty("sites")[0].GetProperty("labels").GetProperty("pos").GetInt32());
        Assert.Equal(1, root.GetProperty("labels").GetProperty("unmatchedRows").GetInt32());
        Assert.Equal(3, root.GetProperty("split").GetArrayLength());
    }

    [Fact]
    public void Ingest_PoisonFiles_StillWritesTheManifestListsFailuresAndExitsOne()
    {
        File.WriteAllBytes(Path.Combine(_data, "empty.dcm"), []);
        File.WriteAllText(Path.Combine(_data, "siteA", "readme.dcm"), "not dicom at all, just text that is long enough to be sniffed");
        string manifestPath = Path.Combine(_dir, "manifest.json");

        (int code, string output, _) = Run("ingest", _data, "--out", manifestPath, "--site", "folder:1");

        Assert.Equal(1, code);
        Assert.Equal(40, ManifestFile.Load(manifestPath).Rows.Count);
        string[] failures = File.ReadAllLines(manifestPath + ".failures.csv");
        Assert.Equal("root,path,reason,detail", failures[0]);
        Assert.Equal(3, failures.Length);
        Assert.Contains("Indexed 40 sample(s); 2 file(s) failed.", output, StringComparison.Ordinal);
        Assert.Contains("siteA", output, StringComparison.Ordinal);
        Assert.Contains("Empty", output, StringComparison.Ordinal);
        Assert.Contains("UnknownFormat", output, StringComparison.Ordinal);
        Assert.DoesNotContain("TEST-", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Ingest_LeaveSiteOut_PutsTheTargetSiteInTest()
    {
        string manifestPath = Path.Combine(_dir, "m.csv");

        (int code, _, string error) = Run("ingest", _data, "--out", manifestPath, "--site", "folder:1", "--target-site", "siteB", "--json");

        Assert.True(code == 0, error);
        Manifest manifest = ManifestFile.Load(manifestPath);
        Assert.All(manifest.Rows, r => Assert.Equal(r.Site == "siteB", r.Split == Partition.Test));
    }

    [Fact]
    public void Ingest_LabelTableWithoutTheColumn_FailsWithOneClearLine()
    {
        (int code, _, string error) = Run("ingest", _data, "--out", Path.Combine(_dir, "m.csv"), "--labels", _labels, "--label-column", "diagnosis", "--key", "patient");

        Assert.Equal(1, code);
        Assert.StartsWith($"error: label table {Path.GetFileName(_labels)} line 1, column 'diagnosis'", error, StringComparison.Ordinal);
        Assert.Contains("'diagnosis'", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--site", "building:3")]
    [InlineData("--split", "0.5,0.5")]
    public void Ingest_BadRuleOrFractions_FailsWithoutWritingAManifest(string option, string value)
    {
        string manifestPath = Path.Combine(_dir, "m.csv");

        (int code, _, string error) = Run("ingest", _data, "--out", manifestPath, option, value);

        Assert.Equal(1, code);
        Assert.StartsWith("error:", error, StringComparison.Ordinal);
        Assert.False(File.Exists(manifestPath));
    }

    [Fact]
    public void Ingest_InteractiveConsole_DrawsAProgressBarAndTheSummary()
    {
        (int code, string output, string error) = Run(interactive: true, "ingest", _data, "--out", Path.Combine(_dir, "m.csv"));

        Assert.True(code == 0, error);
        Assert.Contains("Indexing", output, StringComparison.Ordinal);
        Assert.Contains("Indexed 40 sample(s); 0 file(s) failed.", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Ingest_WithoutOut_IsAUsageError()
    {
        (int code, _, _) = Run("ingest", _data);

        Assert.NotEqual(0, code);
    }

    private static (int Code, string Output, string Error) Run(params string[] args) => CliRunner.Run(args);

    private static (int Code, string Output, string Error) Run(bool interactive, params string[] args) => CliRunner.Run(interactive, args);

    private static void WriteDicom(string path, string sop, string patient, string institution)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var ds = new DicomDataset();
        ds.Set(Tag.SOPClassUID, DicomVR.UI, "1.2.840.10008.5.1.4.1.1.1");
        ds.Set(Tag.SOPInstanceUID, DicomVR.UI, sop);
        ds.Set(Tag.Modality, DicomVR.CS, "CR");
        ds.Set(Tag.InstitutionName, DicomVR.LO, institution);
        ds.Set(Tag.PatientID, DicomVR.LO, patient);
        ds.Set(Tag.StudyInstanceUID, DicomVR.UI, sop + ".1");
        ds.Set(Tag.SeriesInstanceUID, DicomVR.UI, sop + ".2");
        ds.SetNumbers(Tag.SamplesPerPixel, DicomVR.US, 1);
        ds.Set(Tag.PhotometricInterpretation, DicomVR.CS, "MONOCHROME2");
        ds.SetNumbers(Tag.Rows, DicomVR.US, 2);
        ds.SetNumbers(Tag.Columns, DicomVR.US, 2);
        ds.SetNumbers(Tag.BitsAllocated, DicomVR.US, 8);
        ds.SetNumbers(Tag.BitsStored, DicomVR.US, 8);
        ds.SetNumbers(Tag.HighBit, DicomVR.US, 7);
        ds.SetNumbers(Tag.PixelRepresentation, DicomVR.US, 0);
        ds.SetBytes(DicomTag.PixelData, DicomVR.OB, new byte[] { 1, 2, 3, (byte)sop.Length });
        new DicomFile(ds, TransferSyntax.ExplicitVRLittleEndian).Save(path);
    }
}
