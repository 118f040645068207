using System.Globalization;
using System.Text.Json;
using MedTransfer.Testing;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MedTransfer.Cli.Tests;

/// <summary>
/// The shipped MRI protocol on the committed sample data, end to end: every output of the run folder is there and
/// holds what the protocol asked for (its methods and seeds, predictions for the target sites only, a model that
/// runs). About a minute on 2 cores, so it is in the Slow lane.
/// </summary>
[Collection("Torch")]
public sealed class MriRunTests
{
    private static readonly string[] s_methods = ["adabn", "cdan", "mcc", "source-only", "target-only"];

    [Fact]
    [Trait("Category", "Slow")]
    public void Run_MriProtocolOnTheCommittedSample_WritesTheWholeRunFolder()
    {
        string protocol = Path.Combine(TestPaths.RepoRoot, "protocols", "mri-contrast-shift.yaml");
        string root = TestPaths.NewTempDirectory("medtransfer-mri-run");
        string run = Path.Combine(root, "run");
        try
        {
            (int code, string output, string error) = CliRunner.Run("run", protocol, "--out", run, "--device", "cpu");
            Assert.True(code == 0, error + output);
            foreach (string file in new[] { "report.html", "results.json", "predictions.csv", "private/manifest.csv", "protocol.resolved.yaml", "run.log", "model/model.onnx", "run.complete.json" })
            {
                Assert.True(File.Exists(Path.Combine(run, file)), file);
            }

            AssertResults(Path.Combine(run, "results.json"));
            AssertPredictions(Path.Combine(run, "predictions.csv"));
            AssertModelRuns(Path.Combine(run, "model", "model.onnx"));

            string report = File.ReadAllText(Path.Combine(run, "report.html"));
            Assert.Contains("mri-contrast-shift", report, StringComparison.Ordinal);
            Assert.All(s_methods, m => Assert.Contains(m, report, StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>One result per method and seed of the protocol (3 seeds × adabn, mcc, cdan and both baselines), AUROCs in [0, 1].</summary>
    private static void AssertResults(string path)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path));
        JsonElement run = doc.RootElement.GetProperty("run");
        Assert.Equal("mri-contrast-shift", run.GetProperty("protocolName").GetString());
        Assert.True(run.GetProperty("deterministic").GetBoolean(), "a CPU run claims determinism");
        var runs = run.GetProperty("runs").EnumerateArray()
            .Select(r => (Method: r.GetProperty("method").GetString()!, Seed: r.GetProperty("seed").GetInt32(), Auroc: r.GetProperty("targetAuroc").GetDouble()))
            .ToList();
        Assert.Equal(s_methods, runs.Select(r => r.Method).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal([1, 2, 3], runs.Select(r => r.Seed).Distinct().Order());
        Assert.Equal(s_methods.Length * 3, runs.Count);
        Assert.All(runs, r => Assert.InRange(r.Auroc, 0.0, 1.0));
        Assert.Contains(run.GetProperty("selectedMethod").GetString(), s_methods);
        Assert.Equal(s_methods, run.GetProperty("summary").EnumerateArray().Select(m => m.GetProperty("method").GetString()!).Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// Test rows of the target sites B and C (what is evaluated), validation rows of the source site A (where the
    /// threshold and the temperature were fitted), scores in [0, 1], and no identifier from the DICOM files.
    /// </summary>
    private static void AssertPredictions(string path)
    {
        string text = File.ReadAllText(path);
        Assert.DoesNotContain("SYN-", text, StringComparison.Ordinal);
        Assert.DoesNotContain("2.25.", text, StringComparison.Ordinal);
        string[] lines = text.TrimEnd('\n').Split('\n');
        string[] header = lines[0].Split(',');
        int site = Array.IndexOf(header, "site");
        int split = Array.IndexOf(header, "split");
        int score = Array.IndexOf(header, "score");
        int label = Array.IndexOf(header, "label");
        Assert.True(site >= 0 && split >= 0 && score >= 0 && label >= 0, lines[0]);
        string[][] rows = [.. lines.Skip(1).Select(l => l.Split(','))];
        Assert.NotEmpty(rows);
        Assert.Equal(["B", "C"], rows.Where(r => r[split] == "test").Select(r => r[site]).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(["A"], rows.Where(r => r[split] == "val").Select(r => r[site]).Distinct());
        Assert.All(rows, r => Assert.Contains(r[split], new[] { "test", "val" }));
        Assert.All(rows, r => Assert.InRange(double.Parse(r[score], CultureInfo.InvariantCulture), 0.0, 1.0));
        Assert.Equal(["0", "1"], rows.Select(r => r[label]).Distinct().Order(StringComparer.Ordinal));
    }

    /// <summary>The exported model loads in ONNX Runtime and gives finite outputs for one image of its declared input size.</summary>
    private static void AssertModelRuns(string path)
    {
        using var session = new InferenceSession(path);
        (string name, NodeMetadata input) = session.InputMetadata.First();
        int[] shape = [.. input.Dimensions.Select(d => d > 0 ? d : 1)];
        var tensor = new DenseTensor<float>(shape);
        for (int i = 0; i < tensor.Length; i++)
        {
            tensor.SetValue(i, (i % 97) / 97f);
        }

        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = session.Run([NamedOnnxValue.CreateFromTensor(name, tensor)]);
        float[] values = [.. results.First().AsEnumerable<float>()];
        Assert.NotEmpty(values);
        Assert.All(values, v => Assert.True(float.IsFinite(v)));
    }
}
