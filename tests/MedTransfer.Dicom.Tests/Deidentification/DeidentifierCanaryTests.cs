using System.Text;
using MedTransfer.Dicom.Deidentification;
using MedTransfer.Testing;
using Xunit;

namespace MedTransfer.Dicom.Tests.Deidentification;

/// <summary>No canary byte anywhere in the output file, the warnings or the failure records.</summary>
public sealed class DeidentifierCanaryTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("deid-c1");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<DateHandling, string> DateModesAndSyntaxes()
    {
        var data = new TheoryData<DateHandling, string>();
        foreach (DateHandling dates in new[] { DateHandling.Remove, DateHandling.ShiftConsistently })
        {
            foreach (string syntax in new[] { "1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99" })
            {
                data.Add(dates, syntax);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(DateModesAndSyntaxes))]
    public void DeidentifyFile_CanaryInEveryProfileAttribute_NoCanaryInOutputBytes(DateHandling dates, string syntax)
    {
        string input = WriteCanaryFile(syntax: TransferSyntax.Lookup(syntax));
        if (TransferSyntax.Lookup(syntax).IsDeflated)
        {
            // The canaries are compressed in a deflated input; count them in the data set instead.
            Assert.Equal(CanaryDatasets.Canary, DicomFile.Open(input).Dataset.GetString(new DicomTag(0x0008, 0x0050)));
        }
        else
        {
            byte[] inputBytes = File.ReadAllBytes(input);
            Assert.True(CanaryDatasets.Count(inputBytes, CanaryDatasets.CanaryBytes) > 3 * 400);
            Assert.True(CanaryDatasets.Count(inputBytes, CanaryDatasets.UnicodeCanaryBytes) >= 2);
        }


        var deidentifier = new Deidentifier(TestKeys.Options() with { DateHandling = dates });
        DeidentifiedFile result = deidentifier.DeidentifyFile(input, Path.Combine(_dir, "out.dcm"));

        byte[] output = File.ReadAllBytes(result.OutputPath);
        if (TransferSyntax.Lookup(syntax).IsDeflated)
        {
            // The file meta is not deflated: inflate from where the data set starts, after (0002,0000) and its group.
            int start = 132 + 12 + (int)BitConverter.ToUInt32(output, 140);
            using var inflated = new MemoryStream();
            using (var deflate = new System.IO.Compression.DeflateStream(new MemoryStream(output, start, output.Length - start), System.IO.Compression.CompressionMode.Decompress))
            {
                deflate.CopyTo(inflated);
            }

            output = [.. output, .. inflated.ToArray()];
        }

        Assert.Equal(0, CanaryDatasets.Count(output, CanaryDatasets.CanaryBytes));
        Assert.Equal(0, CanaryDatasets.Count(output, CanaryDatasets.UnicodeCanaryBytes));
        Assert.Equal(0, CanaryDatasets.Count(output, Encoding.Unicode.GetBytes(CanaryDatasets.Canary)));
        Assert.All(result.Result.Warnings, w => Assert.DoesNotContain("CANARY", w, StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(CanaryDatasets.Canary, result.OutputPath, StringComparison.Ordinal);
    }

    [Fact]
    public void DeidentifyFile_CanaryInput_EveryTopLevelProfileAttributeWasPresentInTheInput()
    {
        DicomFile back = DicomFile.Open(WriteCanaryFile());
        foreach (DicomTag tag in CanaryDatasets.CanaryTags(topLevel: true))
        {
            Assert.True(back.Dataset.Contains(tag), $"{tag} missing from the canary input");
        }
    }

    [Fact]
    public void DeidentifyFile_CanaryInput_OutputIsReadableAndMarked()
    {
        string input = WriteCanaryFile();
        var deidentifier = new Deidentifier(TestKeys.Options());
        DeidentifiedFile result = deidentifier.DeidentifyFile(input, Path.Combine(_dir, "out.dcm"));

        DicomFile back = DicomFile.Open(result.OutputPath, new DicomReaderOptions { Validation = ValidationMode.Strict });
        Assert.Equal("YES", back.Dataset.GetString(Tag.PatientIdentityRemoved));
        Assert.False(back.Dataset.Contains(CanaryDatasets.PrivateCreator));
        Assert.False(back.Dataset.Contains(CanaryDatasets.PrivateText));
        Assert.Null(back.FileMeta.GetString(CanaryDatasets.SourceApplicationEntityTitle));
        Assert.Equal(back.Dataset.GetString(Tag.SOPInstanceUID), back.FileMeta.GetString(new DicomTag(0x0002, 0x0003)));
        Assert.StartsWith("2.25.", back.Dataset.GetString(Tag.SOPInstanceUID), StringComparison.Ordinal);
        DicomDataset level2 = back.Dataset.GetSequence(CanaryDatasets.ReferencedSeriesSequence)[0]
            .GetSequence(CanaryDatasets.ReferencedInstanceSequence)[0];
        Assert.False(level2.Contains(CanaryDatasets.PrivateSequence));
        Assert.StartsWith("ANON^", level2.GetString(Tag.PatientName), StringComparison.Ordinal);
    }

    [Fact]
    public void DeidentifyFolder_CanaryFilesAndPoisonFiles_NoCanaryInAnyRecordOrName()
    {
        string inputRoot = Path.Combine(_dir, "in");
        string outputRoot = Path.Combine(_dir, "out");
        Directory.CreateDirectory(inputRoot);
        string good = WriteCanaryFile(Path.Combine(inputRoot, "a.dcm"));
        byte[] bytes = File.ReadAllBytes(good);
        // Truncated inside the file meta: the reader fails, with the canary (the SOP Instance UID) in the bytes it saw.
        File.WriteAllBytes(Path.Combine(inputRoot, "b.dcm"), bytes[..170]);
        File.WriteAllBytes(Path.Combine(inputRoot, "c.dcm"), Encoding.ASCII.GetBytes(CanaryDatasets.Canary + " not dicom"));

        var progress = new List<DeidentificationProgress>();
        var deidentifier = new Deidentifier(TestKeys.Options());
        DeidentificationBatchResult result = deidentifier.DeidentifyFolder(inputRoot, outputRoot, new SyncProgress(progress));

        Assert.Single(result.Files);
        Assert.Equal(3, result.Files.Count + result.Failures.Count);
        foreach (DeidentificationFailure failure in result.Failures)
        {
            Assert.DoesNotContain("CANARY", failure.Detail, StringComparison.OrdinalIgnoreCase);
        }

        foreach (string file in Directory.EnumerateFileSystemEntries(outputRoot, "*", SearchOption.AllDirectories))
        {
            Assert.DoesNotContain("CANARY", Path.GetRelativePath(outputRoot, file), StringComparison.OrdinalIgnoreCase);
            Assert.Equal(0, CanaryDatasets.Count(File.ReadAllBytes(file), CanaryDatasets.CanaryBytes));
        }

        Assert.Equal(3, progress.Count);
        Assert.Equal(new DeidentificationProgress(3, 3, 2), progress[^1]);
    }

    [Fact]
    public void DeidentifyFile_NotDicomWithCanary_ExceptionHasNoCanary()
    {
        string input = Path.Combine(_dir, "garbage.dcm");
        File.WriteAllBytes(input, [.. CanaryDatasets.CanaryBytes, .. " is not DICOM"u8]);
        var deidentifier = new Deidentifier(TestKeys.Options());
        DicomFormatException ex = Assert.Throws<DicomFormatException>(() => deidentifier.DeidentifyFile(input, Path.Combine(_dir, "out.dcm")));
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            Assert.DoesNotContain(CanaryDatasets.Canary, e.Message, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Theory]
    [InlineData(170)]
    [InlineData(2000)]
    [InlineData(9000)]
    public void DeidentifyFile_TruncatedCanaryFile_ToleratedWithoutCanaryInOutputOrWarnings(int length)
    {
        string input = WriteCanaryFile();
        byte[] bytes = File.ReadAllBytes(input);
        File.WriteAllBytes(input, bytes[..length]);
        var deidentifier = new Deidentifier(TestKeys.Options());
        DeidentifiedFile result = deidentifier.DeidentifyFile(input, Path.Combine(_dir, "out.dcm"));
        Assert.Equal(0, CanaryDatasets.Count(File.ReadAllBytes(result.OutputPath), CanaryDatasets.CanaryBytes));
        Assert.Contains(result.Result.Warnings, w => w.Contains("damaged", StringComparison.Ordinal));
        Assert.All(result.Result.Warnings, w => Assert.DoesNotContain("CANARY", w, StringComparison.OrdinalIgnoreCase));
    }

    private string WriteCanaryFile(string? path = null, TransferSyntax? syntax = null)
    {
        path ??= Path.Combine(_dir, "canary.dcm");
        DicomDataset ds = CanaryDatasets.Build();
        ds.Set(Tag.SOPInstanceUID, DicomVR.UI, CanaryDatasets.Canary);
        var meta = new DicomDataset();
        meta.Set(CanaryDatasets.SourceApplicationEntityTitle, DicomVR.AE, CanaryDatasets.Canary);
        new DicomFile(ds, syntax ?? TransferSyntax.ExplicitVRLittleEndian, meta).Save(path);
        return path;
    }
}
