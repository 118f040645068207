using System.Text.Json;
using MedTransfer.Bench.Ingest;
using MedTransfer.Dicom;
using MedTransfer.Testing;

namespace MedTransfer.Cli.Tests;

/// <summary>`medtransfer dicom …` and `bench ingest` on a small generated corpus.</summary>
public sealed class DicomCommandsTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-cli");
    private readonly IReadOnlyList<string> _files;

    public DicomCommandsTests()
    {
        _files = IngestCorpus.Generate(Path.Combine(_dir, "in"), count: 3, size: 32, seed: 7);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Dump_GeneratedFile_ListsKeywordsAndTransferSyntax()
    {
        (int code, string output, _) = CliRunner.Run("dicom", "dump", _files[0]);

        Assert.Equal(0, code);
        Assert.Contains("Explicit VR Little Endian", output, StringComparison.Ordinal);
        Assert.Contains("(0028,0010) US Rows: 32", output, StringComparison.Ordinal);
        Assert.Contains("ProcedureCodeSequence: 1 item(s)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void DumpJson_GeneratedFile_IsTheDicomJsonModel()
    {
        (int code, string output, _) = CliRunner.Run("dicom", "dump", _files[1], "--json");

        using JsonDocument doc = JsonDocument.Parse(output);
        Assert.Equal(0, code);
        Assert.Equal("1.2.840.10008.1.2", doc.RootElement.GetProperty("fileMeta").GetProperty("00020010").GetProperty("Value")[0].GetString());
        Assert.Equal(32, doc.RootElement.GetProperty("dataset").GetProperty("00280011").GetProperty("Value")[0].GetInt32());
    }

    [Fact]
    public void Dump_NotDicom_FailsWithOneClearLine()
    {
        string bogus = Path.Combine(_dir, "fake.dcm");
        File.WriteAllBytes(bogus, "\u0089PNG\r\n\u001a\n0000000000000000"u8.ToArray());

        (int code, _, string error) = CliRunner.Run("dicom", "dump", bogus);

        Assert.Equal(1, code);
        Assert.StartsWith("error: not a readable DICOM file", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Pixels_RleFile_WritesNpyEqualToTheExplicitVrCopy()
    {
        // Files 0 (explicit LE) and 2 (RLE) hold different images, so compare each against its own decode.
        string npy = Path.Combine(_dir, "rle.npy");

        (int code, string output, _) = CliRunner.Run("dicom", "pixels", _files[2], "--out", npy);
        byte[] bytes = File.ReadAllBytes(npy);
        ushort[] expected = (ushort[])MedTransfer.Dicom.Pixels.DicomImage.Create(DicomFile.Open(_files[2])).StoredValues(0);
        ushort[] actual = [.. Enumerable.Range(0, 32 * 32).Select(i => BitConverter.ToUInt16(bytes, bytes.Length - (32 * 32 * 2) + (2 * i)))];

        Assert.Equal(0, code);
        Assert.Contains("dtype <u2, shape (32, 32)", output, StringComparison.Ordinal);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Pixels_WindowWidthZero_StrictExportStillWritesTheStoredValues()
    {
        // The window is a presentation setting: it must not stop an export of stored values.
        DicomFile file = DicomFile.Open(_files[0]);
        file.Dataset.SetNumbers(new DicomTag(0x0028, 0x1050), DicomVR.DS, 100);
        file.Dataset.SetNumbers(new DicomTag(0x0028, 0x1051), DicomVR.DS, 0);
        string path = Path.Combine(_dir, "width0.dcm");
        file.Save(path);
        string npy = Path.Combine(_dir, "width0.npy");

        (int code, string output, string error) = CliRunner.Run("dicom", "pixels", path, "--out", npy);

        Assert.True(code == 0, error);
        Assert.Contains("shape (32, 32)", output, StringComparison.Ordinal);
        Assert.DoesNotContain("# warning", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Pixels_YbrJpegWithTrailingBytes_PrintsTheRecoveryAndHonoursTheUpsamplingChoice()
    {
        string fixtures = Path.Combine(TestPaths.RepoRoot, "tests", "MedTransfer.Dicom.Tests", "Pixels", "Fixtures");
        byte[] jpeg = [.. File.ReadAllBytes(Path.Combine(fixtures, "ycbcr-420.jpg")), 0x01, 0x02, 0x03];
        var ds = new DicomDataset();
        ds.Set(new DicomTag(0x0008, 0x0016), DicomVR.UI, "1.2.840.10008.5.1.4.1.1.7");
        ds.Set(new DicomTag(0x0008, 0x0018), DicomVR.UI, "2.25.77");
        ds.SetNumbers(new DicomTag(0x0028, 0x0002), DicomVR.US, 3);
        ds.Set(new DicomTag(0x0028, 0x0004), DicomVR.CS, "YBR_FULL_422");
        ds.SetNumbers(new DicomTag(0x0028, 0x0006), DicomVR.US, 0);
        ds.SetNumbers(new DicomTag(0x0028, 0x0010), DicomVR.US, 23);
        ds.SetNumbers(new DicomTag(0x0028, 0x0011), DicomVR.US, 35);
        ds.SetNumbers(new DicomTag(0x0028, 0x0100), DicomVR.US, 8);
        ds.SetNumbers(new DicomTag(0x0028, 0x0101), DicomVR.US, 8);
        ds.SetNumbers(new DicomTag(0x0028, 0x0102), DicomVR.US, 7);
        ds.SetNumbers(new DicomTag(0x0028, 0x0103), DicomVR.US, 0);
        ds.SetFragments(DicomTag.PixelData, DicomVR.OB, new DicomFragments([], [jpeg.Length % 2 == 0 ? jpeg : [.. jpeg, 0]]));
        string path = Path.Combine(_dir, "ybr.dcm");
        new DicomFile(ds, TransferSyntax.JpegBaseline).Save(path);

        (int code, string output, string error) = CliRunner.Run("dicom", "pixels", path, "--out", Path.Combine(_dir, "fancy.npy"));
        (int code2, _, _) = CliRunner.Run("dicom", "pixels", path, "--out", Path.Combine(_dir, "replicate.npy"), "--upsampling", "replicate");

        Assert.True(code == 0 && code2 == 0, error);
        Assert.Contains("# warning CorruptPixelStream in (7FE0,0010): frame 0: 4 byte(s) after the end-of-image marker were ignored", output, StringComparison.Ordinal);
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(_dir, "fancy.npy")), File.ReadAllBytes(Path.Combine(_dir, "replicate.npy")));
    }

    [Fact]
    public void Deid_WithoutKey_ExitsWithUsageCodeAndSaysHow()
    {
        string? saved = Environment.GetEnvironmentVariable(Commands.DicomCommands.KeyVariable);
        Environment.SetEnvironmentVariable(Commands.DicomCommands.KeyVariable, null);
        try
        {
            (int code, _, string error) = CliRunner.Run("dicom", "deid", Path.Combine(_dir, "in"), Path.Combine(_dir, "out"));

            Assert.Equal(2, code);
            Assert.Contains("--key-file", error, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(Commands.DicomCommands.KeyVariable, saved);
        }
    }

    [Fact]
    public void Deid_Folder_WritesMarkedFilesWithoutThePatientNameAndReportsAPoisonFile()
    {
        string input = Path.Combine(_dir, "in");
        File.WriteAllBytes(Path.Combine(input, "poison.dcm"), new byte[20]);
        string keyFile = Path.Combine(_dir, "key.bin");
        File.WriteAllBytes(keyFile, [.. Enumerable.Range(0, 32).Select(i => (byte)i)]);
        string output = Path.Combine(_dir, "out");

        (int code, string stdout, _) = CliRunner.Run("dicom", "deid", input, output, "--key-file", keyFile, "--json");

        using JsonDocument summary = JsonDocument.Parse(stdout);
        string[] written = Directory.GetFiles(output);
        Assert.Equal(1, code);
        Assert.Equal(3, summary.RootElement.GetProperty("written").GetInt32());
        Assert.Equal(1, summary.RootElement.GetProperty("failed").GetInt32());
        Assert.Equal(3, written.Length);
        foreach (string file in written)
        {
            DicomFile dicom = DicomFile.Open(file);
            Assert.Equal("YES", dicom.Dataset.GetString(new DicomTag(0x0012, 0x0062)));
            Assert.DoesNotContain("SYNTH^", File.ReadAllText(file), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void BenchIngestJson_FolderWithAPoisonFile_CountsItAsAFailureAndKeepsGoing()
    {
        string input = Path.Combine(_dir, "in");
        File.WriteAllBytes(Path.Combine(input, "zz-poison.dcm"), "not dicom at all"u8.ToArray());

        (int code, string output, _) = CliRunner.Run("bench", "ingest", input, "--mode", "full", "--min-seconds", "0", "--json");

        using JsonDocument doc = JsonDocument.Parse(output);
        JsonElement ours = doc.RootElement[0].GetProperty("medtransfer");
        Assert.Equal(0, code);
        Assert.Equal(4, ours.GetProperty("files").GetInt32());
        Assert.Equal(3, ours.GetProperty("succeeded").GetInt32());
        Assert.Equal(1, ours.GetProperty("failuresByReason").EnumerateObject().Sum(p => p.Value.GetInt32()));
        Assert.True(ours.GetProperty("decodedMegabytesPerSecond").GetDouble() > 0);
    }
}
