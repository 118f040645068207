using System.Text.Json;
using MedTransfer.Imaging.Index;
using MedTransfer.Testing;
using MedTransfer.Training.Export;
using Onnx;

namespace MedTransfer.Cli.Tests;

/// <summary>Site A of the committed synthetic radiographs, ingested through the CLI once for the class.</summary>
public sealed class IngestedSiteA : IDisposable
{
    public IngestedSiteA()
    {
        Directory = TestPaths.NewTempDirectory("medtransfer-train");
        Root = Path.Combine(TestPaths.RepoRoot, "sample-data", "cxr", "A");
        Manifest = Path.Combine(Directory, "manifest.csv");
        KeyFile = Path.Combine(Directory, "test.key");
        File.WriteAllText(KeyFile, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
        (int code, _, string error) = CliRunner.Run("ingest", Root, "--out", Manifest, "--labels", Path.Combine(TestPaths.RepoRoot, "sample-data", "manifest.csv"),
            "--key", "id", "--label-column", "label", "--split", "0.6,0.2,0.2", "--seed", "3", "--json");
        if (code != 0)
        {
            throw new InvalidOperationException("ingest failed: " + error);
        }
    }

    public string Directory { get; }

    public string Root { get; }

    public string Manifest { get; }

    /// <summary>A fixed pseudonym key, so that two run folders name the same images alike.</summary>
    public string KeyFile { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

[Collection("Torch")]
public sealed class TrainCommandTests(IngestedSiteA data) : IClassFixture<IngestedSiteA>
{
    private string NewRunFolder() => Path.Combine(data.Directory, "runs", Guid.NewGuid().ToString("N"));

    private string[] Fast(string output, params string[] more) =>
        ["train", data.Manifest, "--root", data.Root, "--out", output, "--strategy", "feature-extraction", "--head", "bottleneck", "--size", "32",
         "--iterations", "10", "--batch", "8", "--device", "cpu", "--seed", "5", .. more];

    [Fact]
    public void Train_IngestedManifest_WritesTheRunFolderResumesWithoutRetrainingAndRefusesReuse()
    {
        string run = NewRunFolder();
        (int code, string output, string error) = CliRunner.Run(Fast(run, "--json"));
        Assert.True(code == 0, error + output);
        using (JsonDocument summary = JsonDocument.Parse(output))
        {
            JsonElement s = summary.RootElement;
            Assert.Equal(10, s.GetProperty("steps").GetInt64());
            Assert.Equal(JsonValueKind.Null, s.GetProperty("resumedFromStep").ValueKind);
            Assert.Equal("cpu", s.GetProperty("device").GetString());
            Assert.InRange(s.GetProperty("testAuroc").GetDouble(), 0, 1);
            Assert.InRange(s.GetProperty("testAccuracy").GetDouble(), 0, 1);
            Assert.True(s.GetProperty("imagesPerSecond").GetDouble() > 0);
        }

        foreach (string file in new[] { "model.onnx", "config.json", "predictions.csv", "training.json", "checkpoints/last.ckpt", "private/pseudonym.key" })
        {
            Assert.True(File.Exists(Path.Combine(run, file)), file);
        }

        // Predictions name images and patients by keyed pseudonyms only, for every val and test row.
        Manifest manifest = ManifestFile.Load(data.Manifest);
        string predictions = File.ReadAllText(Path.Combine(run, "predictions.csv"));
        Assert.DoesNotContain("SYN-", predictions, StringComparison.Ordinal);
        Assert.DoesNotContain("2.25.", predictions, StringComparison.Ordinal);
        Assert.Equal(manifest.Rows.Count(r => r.Split is Partition.Validation or Partition.Test), predictions.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length - 1);

        // The exported model carries the X-ray recipe it was trained with.
        ModelProto onnx = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(run, "model.onnx")));
        using (JsonDocument meta = JsonDocument.Parse(onnx.MetadataProps.Single(p => p.Key == ModelExporter.MetadataKey).Value))
        {
            Assert.Equal("xray", meta.RootElement.GetProperty("modality").GetString());
            Assert.Equal(32, meta.RootElement.GetProperty("recipe").GetProperty("resize").GetProperty("size").GetInt32());
        }

        string training = File.ReadAllText(Path.Combine(run, "training.json"));
        using (JsonDocument t = JsonDocument.Parse(training))
        {
            Assert.Equal(10, t.RootElement.GetProperty("losses").GetArrayLength());
            Assert.Equal(10, t.RootElement.GetProperty("learning_rates").GetArrayLength());
            JsonElement candidates = t.RootElement.GetProperty("candidates");
            Assert.Equal(10, candidates[candidates.GetArrayLength() - 1].GetProperty("step").GetInt64());
            Assert.Equal(t.RootElement.GetProperty("kept_step").GetInt64(), candidates.EnumerateArray().MaxBy(c => c.GetProperty("validation_auroc").GetDouble()).GetProperty("step").GetInt64());
        }

        // --resume on a finished run: no step runs, the record and the predictions stay the same.
        (code, output, error) = CliRunner.Run(Fast(run, "--json", "--resume"));
        Assert.True(code == 0, error + output);
        using (JsonDocument summary = JsonDocument.Parse(output))
        {
            Assert.Equal(10, summary.RootElement.GetProperty("steps").GetInt64());
            Assert.Equal(10, summary.RootElement.GetProperty("resumedFromStep").GetInt64());
        }

        Assert.Equal(predictions, File.ReadAllText(Path.Combine(run, "predictions.csv")));
        using (JsonDocument before = JsonDocument.Parse(training), after = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "training.json"))))
        {
            Assert.Equal(before.RootElement.GetProperty("losses").GetRawText(), after.RootElement.GetProperty("losses").GetRawText());
            Assert.Equal(before.RootElement.GetProperty("images_per_second").GetDouble(), after.RootElement.GetProperty("images_per_second").GetDouble());
        }

        // Without --resume the folder is refused, and so is resuming with another configuration.
        (code, _, error) = CliRunner.Run(Fast(run));
        Assert.Equal(2, code);
        Assert.Contains("--resume", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));

        (code, _, error) = CliRunner.Run(Fast(run, "--resume", "--lr", "0.05"));
        Assert.Equal(2, code);
        Assert.Contains("another configuration", error, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Train_PlainConsole_PrintsProgressLinesAndASummary()
    {
        (int code, string output, string error) = CliRunner.Run(Fast(NewRunFolder()));
        Assert.True(code == 0, error + output);
        Assert.Contains("step 10/10: loss", output, StringComparison.Ordinal);
        Assert.Contains("img/s", output, StringComparison.Ordinal);
        Assert.Contains("candidate checkpoint", output, StringComparison.Ordinal);
        Assert.Contains("Test AUROC", output, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Train_InteractiveConsole_DrawsAProgressBar()
    {
        (int code, string output, string error) = CliRunner.Run(interactive: true, Fast(NewRunFolder()));
        Assert.True(code == 0, error + output);
        Assert.Contains("img/s", output, StringComparison.Ordinal);
        Assert.Contains("Test AUROC", output, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Train_FullStrategyThreeIterations_TrainsTheWholeNetwork()
    {
        string run = NewRunFolder();
        (int code, string output, string error) = CliRunner.Run("train", data.Manifest, "--root", data.Root, "--out", run, "--strategy", "full",
            "--size", "32", "--iterations", "3", "--batch", "4", "--device", "cpu", "--json");
        Assert.True(code == 0, error + output);
        using JsonDocument t = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "training.json")));
        Assert.Equal("full", t.RootElement.GetProperty("strategy").GetString());
        Assert.Equal(3, t.RootElement.GetProperty("losses").GetArrayLength());
        Assert.All(t.RootElement.GetProperty("losses").EnumerateArray(), l => Assert.True(double.IsFinite(l.GetDouble())));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Train_ConfigFile_IsTheBaseAndOptionsOverrideIt()
    {
        string config = Path.Combine(data.Directory, Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(config, new Training.Configuration.FineTuneConfig { Strategy = "feature-extraction", Head = "bottleneck", ImageSize = 32, Iterations = 4, BatchSize = 8, LabelSmoothing = 0.1 }.ToJson());
        string run = NewRunFolder();
        (int code, string output, string error) = CliRunner.Run("train", data.Manifest, "--root", data.Root, "--out", run, "--config", config, "--iterations", "2", "--device", "cpu", "--json");
        Assert.True(code == 0, error + output);
        var written = Training.Configuration.FineTuneConfig.FromJson(File.ReadAllText(Path.Combine(run, "config.json")));
        Assert.Equal(2, written.Iterations);
        Assert.Equal(0.1, written.LabelSmoothing);
        Assert.Equal(32, written.ImageSize);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Train_SameSeedTwiceOnCpu_GivesIdenticalPredictionsAndModel()
    {
        string first = NewRunFolder();
        string second = NewRunFolder();
        (int code, _, string error) = CliRunner.Run(Fast(first, "--json", "--key-file", data.KeyFile));
        Assert.True(code == 0, error);
        (code, _, error) = CliRunner.Run(Fast(second, "--json", "--key-file", data.KeyFile));
        Assert.True(code == 0, error);
        Assert.Equal(File.ReadAllBytes(Path.Combine(first, "predictions.csv")), File.ReadAllBytes(Path.Combine(second, "predictions.csv")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(first, "model.onnx")), File.ReadAllBytes(Path.Combine(second, "model.onnx")));
    }

    [Fact]
    public void Train_MissingManifest_IsAUsageErrorOnOneLine()
    {
        (int code, _, string error) = CliRunner.Run("train", Path.Combine(data.Directory, "absent.csv"), "--out", NewRunFolder());
        Assert.Equal(2, code);
        Assert.Contains("does not exist", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public void Train_ManifestWithoutLabels_IsAUsageErrorNamingTheFix()
    {
        string manifest = Path.Combine(data.Directory, Guid.NewGuid().ToString("N") + ".csv");
        ManifestFile.Save(new Manifest(ManifestFile.Load(data.Manifest).Rows.Select(r => r with { Label = string.Empty })), manifest);
        (int code, _, string error) = CliRunner.Run("train", manifest, "--root", data.Root, "--out", NewRunFolder());
        Assert.Equal(2, code);
        Assert.Contains("--labels", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_LabelsNotBinary_IsAUsageErrorWithoutIdentifiers()
    {
        string manifest = Path.Combine(data.Directory, Guid.NewGuid().ToString("N") + ".csv");
        ManifestFile.Save(new Manifest(ManifestFile.Load(data.Manifest).Rows.Select(r => r with { Label = r.Label == "1" ? "pos" : "neg" })), manifest);
        (int code, _, string error) = CliRunner.Run("train", manifest, "--root", data.Root, "--out", NewRunFolder());
        Assert.Equal(2, code);
        Assert.Contains("'neg', 'pos'", error, StringComparison.Ordinal);
        Assert.DoesNotContain("SYN-", error, StringComparison.Ordinal);
        Assert.DoesNotContain("2.25.", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_NoTrainRows_IsAUsageError()
    {
        string manifest = Path.Combine(data.Directory, Guid.NewGuid().ToString("N") + ".csv");
        ManifestFile.Save(new Manifest(ManifestFile.Load(data.Manifest).Rows.Select(r => r with { Split = r.Split == Partition.Train ? Partition.Test : r.Split })), manifest);
        (int code, _, string error) = CliRunner.Run("train", manifest, "--root", data.Root, "--out", NewRunFolder());
        Assert.Equal(2, code);
        Assert.Contains("train partition", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_WrongRoot_IsAUsageErrorAskingForRoot()
    {
        (int code, _, string error) = CliRunner.Run("train", data.Manifest, "--root", data.Directory, "--out", NewRunFolder(), "--size", "32", "--device", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("--root", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--strategy", "dann")]
    [InlineData("--size", "16")]
    [InlineData("--device", "tpu")]
    public void Train_BadOption_IsAUsageError(string option, string value)
    {
        (int code, _, _) = CliRunner.Run("train", data.Manifest, "--root", data.Root, "--out", NewRunFolder(), option, value);
        Assert.Equal(2, code);
    }
}
