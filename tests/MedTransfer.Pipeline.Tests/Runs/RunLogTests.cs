using MedTransfer.Pipeline.Runs;
using MedTransfer.Testing;

namespace MedTransfer.Pipeline.Tests.Runs;

/// <summary>run.log on a full disk: the error names the log, and closing it does not hide that error.</summary>
public sealed class RunLogTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-run-log");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Report_DiskFull_NamesTheLog_AndDisposeDoesNotThrow()
    {
        // Every write to /dev/full fails with ENOSPC, as on a full disk.
        string path = Path.Combine(_dir, "run.log");
        File.CreateSymbolicLink(path, "/dev/full");
        var seen = new List<RunProgress>();
        var log = new RunLog(path, new Collect(seen));

        var ex = Assert.Throws<IOException>(() => log.Report(new RunProgress("index", 0, 1, "scanning")));
        log.Dispose();

        Assert.StartsWith("cannot write run.log: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains("No space left on device", ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(seen);
    }

    [Fact]
    public void Report_WritesOneStampedLinePerReport_AndPassesItOn()
    {
        string path = Path.Combine(_dir, "run.log");
        var seen = new List<RunProgress>();
        using (var log = new RunLog(path, new Collect(seen)))
        {
            log.Report(new RunProgress("index", 0, 1, "scanning"));
            log.Report(new RunProgress("train", 3, 9, "dann"));
        }

        string[] lines = File.ReadAllLines(path);
        Assert.Equal(2, lines.Length);
        Assert.EndsWith(" train 3/9 dann", lines[1], StringComparison.Ordinal);
        Assert.True(DateTime.TryParse(lines[0].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind, out _));
        Assert.Equal(2, seen.Count);
    }

    private sealed class Collect(List<RunProgress> into) : IProgress<RunProgress>
    {
        public void Report(RunProgress value) => into.Add(value);
    }
}
