using System.Diagnostics;
using MedTransfer.Pipeline.Tests.Diagnose;
using MedTransfer.Testing;

namespace MedTransfer.Cli.Tests;

/// <summary>`diagnose` refuses an output folder another process is writing, and a resume with another --input (exit 2).</summary>
public sealed class DiagnoseOutputFolderTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-diagnose-folder-cli");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Diagnose_FolderLockedByAnotherProcess_IsRefusedNamingItsPid()
    {
        string input = Path.Combine(_dir, "in");
        DiagnosisTestData.CopySamples(input, perSite: 1);
        string outDir = Path.Combine(_dir, "out");
        Directory.CreateDirectory(outDir);
        string lockFile = Path.Combine(outDir, "diagnose.lock");
        // Another process holds the kernel lock on OUT/diagnose.lock (util-linux flock), its pid in the file.
        using Process holder = Process.Start(new ProcessStartInfo("sh") { ArgumentList = { "-c", "echo $$ > \"$1\"; exec flock \"$1\" sleep 60", "sh", lockFile } })!;
        try
        {
            WaitUntilLocked(lockFile, holder.Id);

            (int code, _, string error) = CliRunner.Run("diagnose", "--model", DiagnosisTestData.WriteModel(_dir), "--input", input, "--out", outDir, "--in-process-native");

            Assert.Equal(CliApp.ExitCodes.Failure, code);
            Assert.Contains($"error: OutputLocked: the output folder is in use by another diagnose or merge (pid {holder.Id})", error, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(outDir, "journal.jsonl")));
        }
        finally
        {
            holder.Kill(entireProcessTree: true);
            holder.WaitForExit();
        }
    }

    [Fact]
    public void Diagnose_ResumeWithAnotherInput_IsAUsageError()
    {
        string first = Path.Combine(_dir, "first");
        string second = Path.Combine(_dir, "second");
        DiagnosisTestData.CopySamples(first, perSite: 1);
        DiagnosisTestData.CopySamples(second, perSite: 2);
        string model = DiagnosisTestData.WriteModel(_dir);
        string outDir = Path.Combine(_dir, "out");

        (int firstCode, _, string firstError) = CliRunner.Run("diagnose", "--model", model, "--input", first, "--out", outDir, "--in-process-native");
        (int code, _, string error) = CliRunner.Run("diagnose", "--model", model, "--input", second, "--out", outDir, "--in-process-native");

        Assert.True(firstCode == 0, firstError);
        Assert.Equal(CliApp.ExitCodes.Usage, code);
        Assert.Contains("InputMismatch", error, StringComparison.Ordinal);
        Assert.Equal(4, File.ReadAllLines(Path.Combine(outDir, "predictions.csv")).Length);
    }

    private static void WaitUntilLocked(string lockFile, int pid)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            // flock(1) holds the lock once .NET can no longer take it (the shell wrote the pid before that).
            if (!File.Exists(lockFile))
            {
                Thread.Sleep(50);
                continue;
            }

            try
            {
                using var probe = new FileStream(lockFile, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                return;
            }

            Thread.Sleep(50);
        }

        throw new TimeoutException($"process {pid} never took the lock");
    }
}
