using System.Text.Json;
using MedTransfer.Testing;

namespace MedTransfer.Cli.Tests;

/// <summary>
/// `medtransfer adapt`: a finished run's selected model is adapted with SHOT to an unlabelled site folder, and the
/// output is a complete model folder that `diagnose --model` accepts.
/// </summary>
[Collection("Torch")]
public sealed class AdaptCommandTests
{
    [Fact]
    [Trait("Category", "Slow")]
    public void Adapt_SelectedModelOnSiteC_WritesAModelDiagnoseAccepts_AndTheStatisticsBeforeAndAfter()
    {
        string dir = TestPaths.NewTempDirectory();
        string run = Path.Combine(dir, "run");
        string protocol = RunCommandTests.SmallProtocol(t => TestText.Replace(t, "size: 64", "size: 32"));
        string key = RunCommandTests.KeyFile();
        (int code, string output, string error) = CliRunner.Run("run", protocol, "--out", run, "--device", "cpu", "--key-file", key);
        Assert.True(code == 0, error + output);

        string adapted = Path.Combine(dir, "adapted");
        string target = Path.Combine(TestPaths.RepoRoot, "sample-data", "cxr", "C");
        (code, output, error) = CliRunner.Run("adapt", "--model", run, "--target", target, "--out", adapted, "--iterations", "12", "--device", "cpu", "--key-file", key, "--json");

        Assert.True(code == 0, error + output);
        foreach (string file in new[] { "model/model.onnx", "adaptation.json", "run.complete.json" })
        {
            Assert.True(File.Exists(Path.Combine(adapted, file)), file);
        }

        using (JsonDocument summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(adapted, "adaptation.json"))))
        {
            JsonElement root = summary.RootElement;
            Assert.Equal("shot", root.GetProperty("method").GetString());
            Assert.Equal(100, root.GetProperty("images").GetInt32());
            Assert.Equal(12, root.GetProperty("steps").GetInt64());
            Assert.Contains(root.GetProperty("source").GetProperty("method").GetString(), new[] { "source-only", "dann" });
            double entropyBefore = root.GetProperty("before").GetProperty("MeanEntropy").GetDouble();
            double entropyAfter = root.GetProperty("after").GetProperty("MeanEntropy").GetDouble();
            Assert.True(double.IsFinite(entropyBefore) && double.IsFinite(entropyAfter));

            // SHOT minimises the mean entropy on the target images; 12 steps at the run's rate already lower it.
            Assert.True(entropyAfter < entropyBefore, $"{entropyBefore} → {entropyAfter}");
        }

        // The adapted folder is a model folder like a run's: diagnose scores images with it.
        string input = Path.Combine(target, "SYN-C-0001");
        (code, output, error) = CliRunner.Run("diagnose", "--model", adapted, "--input", input, "--out", Path.Combine(dir, "dx"), "--key-file", key, "--json", "--in-process-native");
        Assert.True(code == 0, error + output);
        using JsonDocument dx = JsonDocument.Parse(output);
        Assert.True(dx.RootElement.GetProperty("studies").GetInt32() >= 1);

        // Started again with the same arguments, it finds its finished output and refuses to mix it with a new one.
        (code, _, error) = CliRunner.Run("adapt", "--model", run, "--target", target, "--out", adapted, "--iterations", "13", "--device", "cpu", "--key-file", key);
        Assert.True(code == 2, error);
    }

    [Fact]
    public void Adapt_FromAFolderThatIsNotAFinishedRun_IsAUsageError()
    {
        string dir = TestPaths.NewTempDirectory();
        string target = Path.Combine(TestPaths.RepoRoot, "sample-data", "cxr", "C");

        (int code, _, string error) = CliRunner.Run("adapt", "--model", dir, "--target", target, "--out", Path.Combine(dir, "out"));

        Assert.Equal(2, code);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(dir, "out")));
    }

    [Fact]
    public void Adapt_MissingTargetFolder_IsAUsageError_AndHelpNamesShot()
    {
        string dir = TestPaths.NewTempDirectory();

        (int code, _, string error) = CliRunner.Run("adapt", "--model", dir, "--target", Path.Combine(dir, "absent"), "--out", Path.Combine(dir, "out"));
        (_, string help, _) = CliRunner.Run("adapt", "--help");

        Assert.Equal(2, code);
        Assert.Contains("absent", error, StringComparison.Ordinal);
        Assert.Contains("SHOT", help, StringComparison.Ordinal);
    }
}
