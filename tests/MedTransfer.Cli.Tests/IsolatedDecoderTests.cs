using MedTransfer.Bench.Ingest;
using MedTransfer.Pipeline.Ingest;
using MedTransfer.Testing;

namespace MedTransfer.Cli.Tests;

/// <summary>A crash inside native decoding costs one file, never the batch.
/// The worker is the real medtransfer program built next to these tests.</summary>
[Collection(WorkerEnvironment.Name)]
public sealed class IsolatedDecoderTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-isolation");

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(DecodeWorker.FaultVariable, null);
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Decode_WorkerCrashesOnOneFile_ReportsThatFileAndRecoversForTheNext()
    {
        IReadOnlyList<string> files = IngestCorpus.Generate(_dir, 2, 16, seed: 5);
        string poison = Path.Combine(_dir, "crash-me.dcm");
        File.Copy(files[0], poison);
        Environment.SetEnvironmentVariable(DecodeWorker.FaultVariable, "crash-me");
        using var decoder = new IsolatedDecoder(Worker(), TimeSpan.FromSeconds(60));

        DecodeOutcome first = decoder.Decode(files[0]);
        DecodeOutcome crashed = decoder.Decode(poison);
        DecodeOutcome after = decoder.Decode(files[1]);

        Assert.Equal(new DecodeOutcome(16 * 16 * 2, null), first);
        Assert.Equal("NativeCodecCrash", crashed.Failure);
        Assert.Equal(new DecodeOutcome(16 * 16 * 2, null), after);
        Assert.Equal(1, decoder.Restarts);
    }

    [Fact]
    public void Decode_BadFile_IsATypedFailureNotACrash()
    {
        string bogus = Path.Combine(_dir, "bogus.dcm");
        File.WriteAllBytes(bogus, new byte[20]);
        using var decoder = new IsolatedDecoder(Worker(), TimeSpan.FromSeconds(60));

        DecodeOutcome outcome = decoder.Decode(bogus);

        Assert.NotNull(outcome.Failure);
        Assert.NotEqual("NativeCodecCrash", outcome.Failure);
        Assert.Equal(0, decoder.Restarts);
    }

    [SkippableFact]
    public void Run_RealJpegLsAndJpeg2000Files_DecodeThroughWorkersAndACrashCostsOneFile()
    {
        string? root = TestPaths.SharedData("dcm_qa_ts");
        Skip.If(root is null, TestPaths.MissingReason("dcm_qa_ts"));
        foreach (string file in Directory.GetFiles(Path.Combine(root!, "In"), "*.dcm"))
        {
            File.Copy(file, Path.Combine(_dir, Path.GetFileName(file)));
        }

        string jpeg2000 = Directory.GetFiles(_dir).First(f => MedTransfer.Dicom.DicomFile.Open(f).TransferSyntax.Uid == "1.2.840.10008.1.2.4.90");
        File.Move(jpeg2000, Path.Combine(_dir, "crash-me.dcm"));
        Environment.SetEnvironmentVariable(DecodeWorker.FaultVariable, "crash-me");

        IngestMeasurement result = IngestBenchmark.Run(IngestBenchmark.ListFiles(_dir), IngestMode.Full, isolateNativeCodecs: Worker());

        Assert.Equal(9, result.Files);
        Assert.Equal(8, result.Succeeded);
        Assert.Equal(1, result.FailuresByReason["NativeCodecCrash"]);
    }

    private static WorkerCommand Worker()
    {
        string program = Path.Combine(AppContext.BaseDirectory, "medtransfer.dll");
        Assert.True(File.Exists(program), "medtransfer.dll is copied next to the CLI tests");
        return new WorkerCommand("dotnet", [program, WorkerCommand.Verb]);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class WorkerEnvironment
{
    public const string Name = "worker fault-injection environment";
}
