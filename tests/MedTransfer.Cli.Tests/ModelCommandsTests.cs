using System.Text.Json;

namespace MedTransfer.Cli.Tests;

[Collection("Torch")]
public sealed class ModelCommandsTests
{
    [Fact]
    public void VerifyImport_Json_ReportsAFeatureDifferenceWithinTolerance()
    {
        (int code, string output, string error) = CliRunner.Run("model", "verify-import", "--batch", "1", "--json");
        Assert.True(code == 0, error);
        using JsonDocument doc = JsonDocument.Parse(output);
        double max = doc.RootElement.GetProperty("FeatureMaxAbsDiff").GetDouble();
        Assert.InRange(max, 0, 1e-4);
        Assert.True(doc.RootElement.GetProperty("Passed").GetBoolean());
    }

    [Fact]
    public void BenchTrain_Json_MeasuresBothThroughputs()
    {
        (int code, string output, string error) = CliRunner.Run("bench", "train", "--batch", "2", "--size", "32", "--steps", "1", "--no-reference", "--json");
        Assert.True(code == 0, error);
        using JsonDocument doc = JsonDocument.Parse(output);
        JsonElement ours = doc.RootElement.GetProperty("Ours");
        Assert.True(ours.GetProperty("TrainImagesPerSecond").GetDouble() > 0);
        Assert.True(ours.GetProperty("InferenceImagesPerSecond").GetDouble() > 0);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("Reference").ValueKind);
    }
}

/// <summary>CLI tests that use libtorch's process-wide state run one at a time.</summary>
[CollectionDefinition("Torch", DisableParallelization = true)]
public sealed class TorchCliCollection
{
}
