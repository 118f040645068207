using System.Diagnostics;
using MedTransfer.Dicom.Deidentification;
using MedTransfer.Testing;
using Xunit;

namespace MedTransfer.Dicom.Tests.Deidentification;

/// <summary>Derived names stay inside the output root, and a bad file never stops a folder run.</summary>
public sealed class DeidentifierFileSystemTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("deid-fs");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> MaliciousNames() => new()
    {
        "../../../../etc/passwd",
        "..\\..\\..\\Windows\\System32\\evil",
        "/etc/passwd",
        "C:\\evil",
        "a\0b",
        "..",
        ".",
        string.Empty,
        "   ",
        "CON",
        "nul.txt",
        new string('9', 300),
        "../" + new string('x', 300),
        "1.2.3/../../4",
    };

    [Theory]
    [MemberData(nameof(MaliciousNames))]
    public void PathInside_MaliciousValue_StaysDirectlyInsideTheRoot(string value)
    {
        string root = Path.Combine(_dir, "out");
        string path = OutputFileNames.PathInside(root, value);
        Assert.Equal(Path.GetFullPath(root), Path.GetDirectoryName(path));
        string name = Path.GetFileName(path);
        Assert.EndsWith(".dcm", name, StringComparison.Ordinal);
        Assert.False(name.StartsWith('.'));
        Assert.InRange(name.Length, 5, OutputFileNames.MaxStemLength + 5);
        Assert.All(name, c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_', $"unsafe character U+{(int)c:X4}"));
    }

    [Fact]
    public void DeidentifyFolder_MaliciousSopInstanceUidAndFileName_OutputStaysInsideTheRoot()
    {
        string inputRoot = Path.Combine(_dir, "in");
        string sub = Path.Combine(inputRoot, "..x", "nested");
        Directory.CreateDirectory(sub);
        string outputRoot = Path.Combine(_dir, "out");
        DicomDataset ds = TestInstances.Image(sopUid: "../../../../" + new string('A', 300) + "\0/evil");
        TestInstances.Save(ds, Path.Combine(sub, "..%2F..%2Fevil name ..dcm"));

        DeidentificationBatchResult result = new Deidentifier(TestKeys.Options()).DeidentifyFolder(inputRoot, outputRoot);

        Assert.Empty(result.Failures);
        DeidentifiedFile file = Assert.Single(result.Files);
        Assert.Equal(Path.GetFullPath(outputRoot), Path.GetDirectoryName(file.OutputPath));
        Assert.Matches("^2\\.25\\.[0-9]+\\.dcm$", Path.GetFileName(file.OutputPath));
        // Nothing was written anywhere else under the test folder.
        string[] outside = [.. Directory.EnumerateFiles(_dir, "*", SearchOption.AllDirectories)
            .Where(f => !f.StartsWith(Path.GetFullPath(inputRoot), StringComparison.Ordinal)
                && !f.StartsWith(Path.GetFullPath(outputRoot), StringComparison.Ordinal))];
        Assert.Empty(outside);
        Assert.Null(file.InputPath); // input names may identify patients: only with RecordMapping
    }

    [Fact]
    public void DeidentifyFolder_PoisonFilesDirectoryAndDicomdir_NMinusFailuresAndNothingLost()
    {
        string inputRoot = Path.Combine(_dir, "in");
        Directory.CreateDirectory(inputRoot);
        TestInstances.Save(TestInstances.Image(sopUid: "1.2.3.1"), Path.Combine(inputRoot, "01.dcm"));
        TestInstances.Save(TestInstances.Image(sopUid: "1.2.3.2"), Path.Combine(inputRoot, "02.dcm"));
        TestInstances.Save(TestInstances.Image(sopUid: "1.2.3.2"), Path.Combine(inputRoot, "03-duplicate.dcm"));
        File.WriteAllBytes(Path.Combine(inputRoot, "04-empty.dcm"), []);
        File.WriteAllBytes(Path.Combine(inputRoot, "05-png.dcm"), [0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10]);
        Directory.CreateDirectory(Path.Combine(inputRoot, "06-dir.dcm"));
        File.WriteAllBytes(Path.Combine(inputRoot, "DICOMDIR"), [1, 2, 3]);

        var progress = new List<DeidentificationProgress>();
        DeidentificationBatchResult result = new Deidentifier(TestKeys.Options()).DeidentifyFolder(inputRoot, Path.Combine(_dir, "out"), new SyncProgress(progress));

        Assert.Equal(2, result.Files.Count);
        Assert.Equal(4, result.Failures.Count);
        Assert.Equal(DeidentificationFailureKind.DuplicateSopInstanceUid, result.Failures[0].Kind);
        Assert.Equal("03-duplicate.dcm", result.Failures[0].RelativeInputPath);
        Assert.All(result.Failures.Skip(1).Take(2), f =>
        {
            Assert.Equal(DeidentificationFailureKind.InvalidDicom, f.Kind);
            Assert.NotNull(f.Reason);
        });
        Assert.Equal(DeidentificationFailureKind.MediaDirectorySkipped, result.Failures[3].Kind);
        Assert.Equal(new DeidentificationProgress(6, 6, 4), progress[^1]);
        Assert.Equal(2, result.BurnedInAnnotationUnverifiedCount);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(_dir, "out")).Length); // no temporary files left behind
    }

    [Fact]
    public void DeidentifyFolder_OutputInsideInput_IsNotReadAgain_AndRerunIsIdempotent()
    {
        string inputRoot = Path.Combine(_dir, "in");
        Directory.CreateDirectory(inputRoot);
        TestInstances.Save(TestInstances.Image(), Path.Combine(inputRoot, "a.dcm"));
        string outputRoot = Path.Combine(inputRoot, "deidentified");
        var deidentifier = new Deidentifier(TestKeys.Options());

        DeidentificationBatchResult first = deidentifier.DeidentifyFolder(inputRoot, outputRoot);
        DeidentificationBatchResult second = deidentifier.DeidentifyFolder(inputRoot, outputRoot);

        Assert.Single(first.Files);
        Assert.Single(second.Files);
        Assert.Empty(second.Failures);
        Assert.Equal(first.Files[0].OutputPath, second.Files[0].OutputPath);
        Assert.Single(Directory.GetFiles(outputRoot));
    }

    [Fact]
    public void DeidentifyFolder_SameFolderForInputAndOutput_Throws()
    {
        Assert.Throws<ArgumentException>(() => new Deidentifier(TestKeys.Options()).DeidentifyFolder(_dir, _dir + Path.DirectorySeparatorChar));
    }

    [Fact]
    public void DeidentifyFolder_OutputRootIsAFile_FailsBeforeReadingAnyInput()
    {
        string inputRoot = Path.Combine(_dir, "in");
        Directory.CreateDirectory(inputRoot);
        TestInstances.Save(TestInstances.Image(), Path.Combine(inputRoot, "a.dcm"));
        string blocker = Path.Combine(_dir, "out");
        File.WriteAllText(blocker, "not a folder");
        var progress = new List<DeidentificationProgress>();
        Assert.ThrowsAny<IOException>(() => new Deidentifier(TestKeys.Options()).DeidentifyFolder(inputRoot, blocker, new SyncProgress(progress)));
        Assert.Empty(progress);
    }

    [Fact]
    public void DeidentifyFolder_InputInsideOutputRoot_StillFindsItsFiles()
    {
        string outputRoot = Path.Combine(_dir, "out");
        string inputRoot = Path.Combine(outputRoot, "incoming");
        Directory.CreateDirectory(inputRoot);
        TestInstances.Save(TestInstances.Image(), Path.Combine(inputRoot, "a.dcm"));
        DeidentificationBatchResult result = new Deidentifier(TestKeys.Options()).DeidentifyFolder(inputRoot, outputRoot);
        Assert.Single(result.Files);
    }

    [Fact]
    public void Failure_ToString_LeavesOutTheInputPath()
    {
        var failure = new DeidentificationFailure("Doe_Jane/ct.dcm", DeidentificationFailureKind.InvalidDicom, DicomErrorCode.NotDicom, "NotDicom");
        Assert.DoesNotContain("Doe", failure.ToString(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public void DeidentifyFolder_FifoNamedDcm_IsAFailureNotAHang()
    {
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "named pipes via mkfifo are POSIX only");
        string inputRoot = Path.Combine(_dir, "in");
        Directory.CreateDirectory(inputRoot);
        TestInstances.Save(TestInstances.Image(), Path.Combine(inputRoot, "a.dcm"));
        Skip.IfNot(MakeFifo(Path.Combine(inputRoot, "b.dcm")), "mkfifo is not available");

        var run = Task.Run(() => new Deidentifier(TestKeys.Options()).DeidentifyFolder(inputRoot, Path.Combine(_dir, "out")));
        Assert.True(run.Wait(TimeSpan.FromSeconds(30)), "the folder run hung on a FIFO");
        Assert.Single(run.Result.Files);
        Assert.Equal(DicomErrorCode.NotDicom, Assert.Single(run.Result.Failures).Reason);
    }

    [Fact]
    public void DeidentifyFolder_Cancelled_Throws()
    {
        string inputRoot = Path.Combine(_dir, "in");
        Directory.CreateDirectory(inputRoot);
        TestInstances.Save(TestInstances.Image(), Path.Combine(inputRoot, "a.dcm"));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => new Deidentifier(TestKeys.Options()).DeidentifyFolder(inputRoot, Path.Combine(_dir, "out"), null, cts.Token));
    }

    [Fact]
    public void DeidentifyFile_PreambleIsZeros_AndPixelsAreUnchanged()
    {
        string input = Path.Combine(_dir, "in.dcm");
        DicomDataset ds = TestInstances.Image();
        var file = new DicomFile(ds);
        using (var ms = new MemoryStream())
        {
            file.Save(ms);
            byte[] bytes = ms.ToArray();
            "MZ\x90\0ELF"u8.CopyTo(bytes); // a hostile preamble: executable bytes
            File.WriteAllBytes(input, bytes);
        }

        DeidentifiedFile result = new Deidentifier(TestKeys.Options()).DeidentifyFile(input, Path.Combine(_dir, "out.dcm"));

        byte[] output = File.ReadAllBytes(result.OutputPath);
        Assert.All(output[..128], b => Assert.Equal(0, b));
        Assert.Equal("DICM"u8.ToArray(), output[128..132]);
        Assert.Equal(new byte[] { 1, 0, 2, 0, 3, 0, 4, 0 }, DicomFile.Open(result.OutputPath).Dataset.GetBytes(DicomTag.PixelData).ToArray());
    }

    [Fact]
    public void DeidentifyFile_NotDicom_ThrowsTypedError()
    {
        string input = Path.Combine(_dir, "x.dcm");
        File.WriteAllText(input, "hello");
        DicomFormatException ex = Assert.Throws<DicomFormatException>(() => new Deidentifier(TestKeys.Options()).DeidentifyFile(input, Path.Combine(_dir, "y.dcm")));
        Assert.Equal(DicomErrorCode.NotDicom, ex.Reason);
        Assert.False(File.Exists(Path.Combine(_dir, "y.dcm")));
    }

    private static bool MakeFifo(string path)
    {
        try
        {
            using Process? process = Process.Start(new ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false });
            return process is not null && process.WaitForExit(10_000) && process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
