using MedTransfer.Testing;

namespace MedTransfer.Cli.Tests;

/// <summary>A broken --card used to be reported as "predictions line 1": the message must name the model card and where it breaks.</summary>
public sealed class EvaluateCardErrorTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-cli-card");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("{\"intendedUse\": \"research\",\n \"limitations\": [\"synthetic\"", 2, "$.limitations[1]")]
    [InlineData("{\"intendedUse\": \"research\",\n \"limitations\": 7}", 2, "$.limitations")]
    public void Evaluate_BrokenCard_NamesTheCardItsLineAndField(string card, int line, string field)
    {
        string predictions = Path.Combine(_dir, "predictions.csv");
        File.WriteAllText(predictions, "id,label,score\na,0,0.1\nb,1,0.9\nc,0,0.3\nd,1,0.7\n");
        File.WriteAllText(Path.Combine(_dir, "card.json"), card);

        (int code, _, string error) = CliRunner.Run("evaluate", "--predictions", predictions, "--card", Path.Combine(_dir, "card.json"), "--out", Path.Combine(_dir, "out"));

        Assert.Equal(CliApp.ExitCodes.Failure, code);
        Assert.StartsWith($"error: model card card.json line {line}, field '{field}': ", error, StringComparison.Ordinal);
        Assert.DoesNotContain("predictions", error, StringComparison.Ordinal);
        Assert.DoesNotContain("synthetic", error, StringComparison.Ordinal);
    }
}
