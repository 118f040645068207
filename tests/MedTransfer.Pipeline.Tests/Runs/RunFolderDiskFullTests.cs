using System.Globalization;
using MedTransfer.Pipeline.Runs;
using MedTransfer.Testing;

namespace MedTransfer.Pipeline.Tests.Runs;

/// <summary>A full disk while a run writes one of its files names that file and leaves no temporary file behind.</summary>
public sealed class RunFolderDiskFullTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-run-disk-full");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void WriteText_DiskFull_NamesTheFileAndRemovesItsTemporaryFile()
    {
        using RunFolder folder = RunFolder.Open(Path.Combine(_dir, "run"), "hash", "test", overwrite: false);
        // Every write to /dev/full fails with ENOSPC, as on a full disk: the temporary file the write goes through is one.
        string temp = Path.Combine(folder.Root, "results.json.tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        File.CreateSymbolicLink(temp, "/dev/full");

        var ex = Assert.Throws<IOException>(() => folder.WriteText("results.json", new string('x', 1 << 16)));

        Assert.StartsWith("cannot write results.json: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains("No space left on device", ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.False(File.Exists(Path.Combine(folder.Root, "results.json")));
        Assert.Empty(Directory.GetFiles(folder.Root, "*.tmp-*"));
    }
}
