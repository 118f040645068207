using MedTransfer.Pipeline.Diagnose;
using MedTransfer.Testing;

namespace MedTransfer.Pipeline.Tests.Diagnose;

/// <summary>
/// One output folder, one writer, one input: two concurrent runs used to interleave their journal lines (the next
/// resume then failed JournalCorrupt with no way out), and a resume with another --input merged its results into the
/// first input's. Also the way out of a damaged journal (--repair).
/// </summary>
public sealed class DiagnosisFolderSafetyTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-diagnose-safety");
    private readonly string _input;
    private readonly string _model;
    private readonly string _out;

    public DiagnosisFolderSafetyTests()
    {
        _input = Path.Combine(_dir, "in");
        DiagnosisTestData.CopySamples(_input, perSite: 2);
        _model = DiagnosisTestData.WriteModel(_dir);
        _out = Path.Combine(_dir, "out");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private DiagnosisRunResult Run(string? input = null, Action<int>? afterAppend = null, bool repair = false)
    {
        using DiagnosisModel loaded = DiagnosisModel.Load(_model, threads: 1);
        return DiagnosisRunner.Run(loaded, new FolderStudySource(input ?? _input), DiagnosisTestData.Keys(), new DiagnosisOptions
        {
            OutputDirectory = _out,
            Threads = 1,
            BatchSize = 1,
            Fsync = false,
            AfterAppend = afterAppend,
            Repair = repair,
        });
    }

    [Fact]
    public async Task Run_SecondWriterWhileTheFirstRuns_IsRefusedWithTheHoldersPid_AndTheJournalStaysWhole()
    {
        using var firstAppended = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        Task<DiagnosisRunResult> first = Task.Run(() => Run(afterAppend: n =>
        {
            if (n == 1)
            {
                firstAppended.Set();
                release.Wait(TimeSpan.FromSeconds(60));
            }
        }));
        Assert.True(firstAppended.Wait(TimeSpan.FromSeconds(60)), "the first run never appended");

        DiagnosisException refused = Assert.Throws<DiagnosisException>(() => Run());
        release.Set();
        DiagnosisRunResult done = await first.WaitAsync(TimeSpan.FromSeconds(60));
        DiagnosisRunResult again = Run();

        Assert.Equal(DiagnosisError.OutputLocked, refused.Reason);
        Assert.Contains($"pid {Environment.ProcessId}", refused.Message, StringComparison.Ordinal);
        Assert.Equal(6, done.Totals.Ok);
        Assert.Equal((6, 0), (again.Resumed, again.Processed));
        Assert.Equal(7, File.ReadAllLines(Path.Combine(_out, DiagnosisJournal.FileName)).Length);
        Assert.Equal(string.Empty, File.ReadAllText(Path.Combine(_out, DiagnosisLock.FileName)));
    }

    [Fact]
    public void Run_LockLeftByAKilledRun_IsTakenOverAndNamed()
    {
        Directory.CreateDirectory(_out);
        File.WriteAllText(Path.Combine(_out, DiagnosisLock.FileName), "2147483000\n");

        DiagnosisRunResult result = Run();

        Assert.Equal(2147483000, result.StaleLockPid);
        Assert.Equal(6, result.Totals.Ok);
    }

    [Fact]
    public void Run_ResumeWithAnotherInput_IsRefused()
    {
        string other = Path.Combine(_dir, "other");
        DiagnosisTestData.CopySamples(other, perSite: 1);
        Run();

        DiagnosisException refused = Assert.Throws<DiagnosisException>(() => Run(other));
        DiagnosisRunResult sameAgain = Run(_input + Path.DirectorySeparatorChar);

        Assert.Equal(DiagnosisError.InputMismatch, refused.Reason);
        Assert.Equal((6, 0), (sameAgain.Resumed, sameAgain.Processed));
        Assert.Equal(6, sameAgain.Totals.Studies);
    }

    [Fact]
    public void Run_JournalDamagedInTheMiddle_FailsUntilRepaired_ThenRedoesOnlyTheLostStudy()
    {
        Run();
        string journal = Path.Combine(_out, DiagnosisJournal.FileName);
        string[] lines = File.ReadAllLines(journal);
        // A second writer's leftovers: a line cut in half in the middle, and a study written twice.
        string[] damaged = [lines[0], lines[1], lines[2][..(lines[2].Length / 2)], lines[3], lines[3], .. lines[4..]];
        File.WriteAllText(journal, string.Join('\n', damaged) + "\n");
        byte[] original = File.ReadAllBytes(journal);

        DiagnosisException corrupt = Assert.Throws<DiagnosisException>(() => Run());
        DiagnosisRunResult repaired = Run(repair: true);

        Assert.Equal(DiagnosisError.JournalCorrupt, corrupt.Reason);
        Assert.Contains("--repair", corrupt.Message, StringComparison.Ordinal);
        Assert.Equal(2, repaired.RepairedLines);
        Assert.Equal((5, 1), (repaired.Resumed, repaired.Processed));
        Assert.Equal(6, repaired.Totals.Ok);
        Assert.Equal(original, File.ReadAllBytes(Path.Combine(_out, "journal.damaged-1.jsonl")));
        Assert.Equal(7, File.ReadAllLines(Path.Combine(_out, DiagnosisOutputs.PredictionsFile)).Length);
        Assert.Equal(0, Run().Processed);
    }

    [Fact]
    public void Run_JournalWithADamagedHeader_CannotBeRepaired()
    {
        Run();
        string journal = Path.Combine(_out, DiagnosisJournal.FileName);
        string[] lines = File.ReadAllLines(journal);
        lines[0] = lines[0][..10];
        File.WriteAllLines(journal, lines);

        DiagnosisException refused = Assert.Throws<DiagnosisException>(() => Run(repair: true));

        Assert.Equal(DiagnosisError.JournalCorrupt, refused.Reason);
        Assert.Contains("header", refused.Message, StringComparison.Ordinal);
    }
}
