using MedTransfer.Pipeline.Tests.Diagnose;
using MedTransfer.Testing;

namespace MedTransfer.Cli.Tests;

/// <summary>`diagnose` from a DICOMweb server that accepts the connection and never answers: --timeout ends it with a typed error, and the wait is never silent.</summary>
public sealed class DiagnoseDicomWebTimeoutTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-diagnose-timeout");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Diagnose_ServerNeverAnswers_StopsAfterTheTimeoutWithExitOneAndSaysItIsWaiting()
    {
        using var server = new LoopbackHttpServer(_ => null);
        string model = DiagnosisTestData.WriteModel(_dir);

        (int code, _, string error) = CliRunner.Run("diagnose", "--model", model, "--input", server.Root.AbsoluteUri, "--out", Path.Combine(_dir, "out"), "--timeout", "6");

        Assert.Equal(CliApp.ExitCodes.Failure, code);
        Assert.Contains("QIDO-RS: waiting for the server (5 s)", error, StringComparison.Ordinal);
        Assert.Contains("error: Timeout: QIDO-RS GET: the server sent nothing for 6 s (--timeout)", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-3")]
    public void Diagnose_TimeoutNotPositive_IsAUsageError(string seconds)
    {
        (int code, _, string error) = CliRunner.Run("diagnose", "--model", DiagnosisTestData.WriteModel(_dir), "--input", "http://127.0.0.1:9/dicom-web", "--out", Path.Combine(_dir, "out"), "--timeout", seconds);

        Assert.Equal(CliApp.ExitCodes.Usage, code);
        Assert.StartsWith("error: --timeout", error, StringComparison.Ordinal);
    }
}
