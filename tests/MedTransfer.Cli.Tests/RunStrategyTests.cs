using System.Diagnostics;
using System.Text.Json;
using MedTransfer.Testing;
using MedTransfer.Training.Checkpoints;
using MedTransfer.Training.Configuration;
using MedTransfer.Training.Models;
using static TorchSharp.torch;

namespace MedTransfer.Cli.Tests;

/// <summary>
/// `medtransfer run` end to end with every fine-tuning strategy: a tiny protocol per strategy (32 px, 40 iterations,
/// one seed, DANN beside source-only, light augmentation, early stopping on im, cosine schedule) runs with no notice
/// printed, and the weights it kept show the strategy's layer choice; plus kill -9 and resume, and the template.
/// </summary>
[Collection("Torch")]
[Trait("Category", "Slow")]
public sealed class RunStrategyTests
{
    private static string Tiny(string model, Func<string, string>? more = null) => RunCommandTests.SmallProtocol(t =>
    {
        t = TestText.Replace(t, "size: 64", "size: 32");
        t = TestText.Replace(t, "  strategy: feature-extraction\n  # trainable_from: stage4 ", model);
        t = TestText.Replace(t, "  schedule: dann ", "  schedule: cosine ");
        t = TestText.Replace(t, "  class_weighting: balanced ", "  augmentation: {rotation_deg: 5, scale: 0.05, translate: 0.05, brightness: 0.1, contrast: 0.1, gamma: 0.1, noise: 0.01}\n  class_weighting: balanced ");
        return more?.Invoke(t) ?? t;
    });

    [Theory]
    [InlineData("feature-extraction", "  strategy: feature-extraction\n", "head")]
    [InlineData("full", "  strategy: full\n", "stem")]
    [InlineData("discriminative", "  strategy: discriminative\n  discriminative_lr_decay: 0.5\n", "stem")]
    [InlineData("l2sp", "  strategy: l2sp\n  l2sp_alpha: 0.1\n", "stem")]
    [InlineData("trainable-from-stage3", "  strategy: full\n  trainable_from: stage3\n", "stage3")]
    [InlineData("gradual-unfreezing", "  strategy: gradual-unfreezing\n  unfreeze_every: 15\n", "stem")]
    public void Run_EveryStrategy_RunsEndToEnd_AndKeepsTheLayersItTrained(string name, string model, string trainableFrom)
    {
        string run = Path.Combine(TestPaths.NewTempDirectory(), name);
        (int code, string output, string error) = CliRunner.Run("run", Tiny(model), "--out", run, "--device", "cpu", "--json");

        Assert.True(code == 0, error + output);
        Assert.DoesNotContain("note:", error, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(run, "run.complete.json")));
        using JsonDocument results = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "results.json")));
        JsonElement runs = results.RootElement.GetProperty("run").GetProperty("runs");
        Assert.Equal(2, runs.GetArrayLength());
        Assert.All(runs.EnumerateArray(), r => Assert.Equal(trainableFrom, r.GetProperty("trainableFrom").GetString()));

        // The kept weights of the DANN run against the pretrained backbone.
        using TransferModel pretrained = TransferModel.Create(new FineTuneConfig { ImageSize = 32, Head = "bottleneck" });
        Dictionary<string, Tensor> start = pretrained.state_dict();
        Checkpoint kept = CheckpointFile.Load(RunFolders.KeptCheckpoint(run, "dann", 7));
        string[] stages = [.. pretrained.BackboneStages().Select(s => s.Stage)];
        bool Kept(string stage) => kept.Model.Keys.Any(k => k.StartsWith($"features.backbone.graph.{stage}_", StringComparison.Ordinal));
        bool Moved(string stage) => kept.Model.Where(k => k.Key.StartsWith($"features.backbone.graph.{stage}_", StringComparison.Ordinal)).Any(k => !k.Value.eq(start[k.Key]).all().item<bool>());
        switch (name)
        {
            case "feature-extraction":
                Assert.All(stages, s => Assert.False(Kept(s), s));
                break;
            case "trainable-from-stage3":
                Assert.Equal(["stage3", "stage4"], stages.Where(Kept));
                Assert.True(Moved("stage3") && Moved("stage4"));
                break;
            case "gradual-unfreezing":
                // One more stage every 15 steps: stage4 trains from step 15, stage3 from 30; stage2 and below never
                // within 40 steps. The kept checkpoint shows the stages unfrozen by its step.
                long step = runs.EnumerateArray().Single(r => r.GetProperty("method").GetString() == "dann").GetProperty("selectedStep").GetInt64();
                Assert.Equal(step > 15, Moved("stage4"));
                Assert.Equal(step > 30, Moved("stage3"));
                Assert.All(["stem", "stage1", "stage2"], s => Assert.False(Moved(s), s));
                break;
            default:
                Assert.All(stages, s => Assert.True(Moved(s), s));
                break;
        }
    }

    [Fact]
    public void Run_L2Sp_StaysCloserToThePretrainedWeightsThanFull()
    {
        double Distance(string model)
        {
            string run = Path.Combine(TestPaths.NewTempDirectory(), "run");
            (int code, _, string error) = CliRunner.Run("run", Tiny(model, t => TestText.Replace(t, "  lr: 0.001 ", "  lr: 0.01 ")), "--out", run, "--device", "cpu", "--json");
            Assert.True(code == 0, error);
            using TransferModel pretrained = TransferModel.Create(new FineTuneConfig { ImageSize = 32, Head = "bottleneck" });
            Dictionary<string, Tensor> start = pretrained.state_dict();
            Checkpoint kept = CheckpointFile.Load(RunFolders.KeptCheckpoint(run, "source-only", 7));
            return Math.Sqrt(kept.Model.Where(k => k.Key.StartsWith("features.backbone.", StringComparison.Ordinal) && k.Key.EndsWith(".weight", StringComparison.Ordinal))
                .Sum(k => k.Value.sub(start[k.Key]).pow(2).sum().item<float>()));
        }

        double full = Distance("  strategy: full\n");
        double l2sp = Distance("  strategy: l2sp\n  l2sp_alpha: 20\n");

        Assert.True(l2sp < full * 0.9, $"L2-SP {l2sp} vs full {full}");
    }

    [Fact]
    public void Run_ReportAndEvaluationSwitches_ReachTheOutputs()
    {
        string run = Path.Combine(TestPaths.NewTempDirectory(), "run");
        string protocol = Tiny("  strategy: feature-extraction\n", t =>
        {
            t = TestText.Replace(t, "  html: true", "  html: false");
            t = TestText.Replace(t, "  embeddings: pca", "  embeddings: none");
            t = TestText.Replace(t, "per_site: true", "per_site: false");
            t = TestText.Replace(t, "bootstrap: 200, ci: 0.95", "bootstrap: 150, ci: 0.8");
            return TestText.Replace(t, "selection: im", "selection: dev");
        });

        (int code, string output, string error) = CliRunner.Run("run", protocol, "--out", run, "--device", "cpu");

        Assert.True(code == 0, error + output);
        Assert.False(File.Exists(Path.Combine(run, "report.html")));
        Assert.Contains("report.html turned off by the protocol", output, StringComparison.Ordinal);
        using JsonDocument results = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "results.json")));
        JsonElement r = results.RootElement;
        Assert.Equal(0, r.GetProperty("run").GetProperty("embeddings").GetArrayLength());
        Assert.False(r.GetProperty("run").GetProperty("embeddingsRequested").GetBoolean());
        Assert.Equal(0, r.GetProperty("evaluation").GetProperty("result").GetProperty("bySite").GetArrayLength());
        Assert.All(r.GetProperty("run").GetProperty("runs").EnumerateArray(), x => Assert.StartsWith("dev (", x.GetProperty("selectedBy").GetString(), StringComparison.Ordinal));
        JsonElement bootstrap = r.GetProperty("evaluation").GetProperty("provenance").GetProperty("bootstrap");
        Assert.Equal(150, bootstrap.GetProperty("resamples").GetInt32());
        Assert.Equal(0.8, bootstrap.GetProperty("confidence").GetDouble());
    }

    [Fact]
    public void Run_TransductiveEnsv_EveryMethodIncludingShot_SelectsAcrossRuns_AndAuditsTheValidators()
    {
        string run = Path.Combine(TestPaths.NewTempDirectory(), "run");
        string protocol = Tiny("  strategy: feature-extraction\n", t =>
        {
            t = TestText.Replace(t, "methods: [dann]", "methods: [dann, cdan, coral, mcc, adabn, shot]\n  shot: {beta: 0.3}");
            t = TestText.Replace(t, "baselines: [source-only]", "baselines: [source-only, target-only]");
            t = TestText.Replace(t, "selection: im", "selection: ensv");
            return TestText.Replace(t, "per_site: true}", "per_site: true, target: transductive}");
        });

        (int code, string output, string error) = CliRunner.Run("run", protocol, "--out", run, "--device", "cpu");

        Assert.True(code == 0, error + output);
        using JsonDocument results = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "results.json")));
        JsonElement r = results.RootElement.GetProperty("run");
        string[] methods = [.. r.GetProperty("runs").EnumerateArray().Select(x => x.GetProperty("method").GetString()!)];
        Assert.Equal(["source-only", "target-only", "dann", "cdan", "coral", "mcc", "adabn", "shot"], methods);

        // One pick across every (method, seed, checkpoint), never the target-only baseline, by the protocol's rule.
        JsonElement selected = r.GetProperty("selected");
        Assert.NotEqual("target-only", selected.GetProperty("method").GetString());
        Assert.StartsWith("ensv", selected.GetProperty("rule").GetString(), StringComparison.Ordinal);
        Assert.False(selected.GetProperty("isOracle").GetBoolean());

        // The audit judges every validator with the target labels and marks the protocol's rule.
        JsonElement[] audit = [.. r.GetProperty("audit").GetProperty("validators").EnumerateArray()];
        Assert.Contains(audit, a => a.GetProperty("validator").GetString() == "ensv" && a.GetProperty("isProtocolRule").GetBoolean());
        Assert.All(audit, a => Assert.True(a.GetProperty("regret").GetDouble() >= 0));

        // Transductive: every target image is evaluated, so predictions hold all of site C as test rows.
        string[] rows = File.ReadAllLines(Path.Combine(run, "predictions.csv"));
        Assert.Equal(100, rows.Skip(1).Select(l => l.Split(',')).Count(c => c[4] == "C" && c[5] == "test"));
        Assert.Contains("transductive", File.ReadAllText(Path.Combine(run, "report.html")), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Run_WithoutAKey_GeneratesOneInPrivate_AndNamesTheImagesOtherwise()
    {
        string protocol = RunCommandTests.SmallProtocol();
        string keyed = Path.Combine(TestPaths.NewTempDirectory(), "run");
        string generated = Path.Combine(TestPaths.NewTempDirectory(), "run");
        (int code, _, string error) = CliRunner.Run("run", protocol, "--out", keyed, "--device", "cpu", "--key-file", RunCommandTests.KeyFile());
        Assert.True(code == 0, error);

        (code, _, error) = CliRunner.Run("run", protocol, "--out", generated, "--device", "cpu");

        Assert.True(code == 0, error);
        Assert.Contains("generated a pseudonym key", error, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(generated, "private", "pseudonym.key")));
        string Ids(string run) => string.Join('\n', File.ReadAllLines(Path.Combine(run, "predictions.csv")).Skip(1).Select(l => l.Split(',')[0]));
        Assert.NotEqual(Ids(keyed), Ids(generated));
    }

    [Fact]
    public void Run_KilledDuringTraining_ResumesToTheSameResultsAsAnUninterruptedRun()
    {
        string key = RunCommandTests.KeyFile();
        // No early stopping, so the second item is still training when it is killed.
        string protocol = Tiny("  strategy: full\n  trainable_from: stage4\n", t => TestText.Replace(TestText.Replace(t, "iterations: 40", "iterations: 120"), "  early_stopping: {signal: im, patience: 2, every: 10}", "  # no early stopping"));
        string reference = Path.Combine(TestPaths.NewTempDirectory(), "reference");
        (int code, _, string error) = CliRunner.Run("run", protocol, "--out", reference, "--device", "cpu", "--key-file", key, "--checkpoint-seconds", "0");
        Assert.True(code == 0, error);

        // A separate process (the built CLI, one process), killed with SIGKILL once the second item has written a
        // resumable checkpoint.
        string run = Path.Combine(TestPaths.NewTempDirectory(), "killed");
        string cli = Path.Combine(AppContext.BaseDirectory, "medtransfer.dll");
        Assert.True(File.Exists(cli), cli);
        var start = new ProcessStartInfo("dotnet", [cli, "run", protocol, "--out", run, "--device", "cpu", "--key-file", key, "--checkpoint-seconds", "0", "--json"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using (Process child = Process.Start(start)!)
        {
            string last = Path.Combine(run, "checkpoints", "dann.seed-7", "work", "last.ckpt");
            var clock = Stopwatch.StartNew();
            while (!File.Exists(last) && !child.HasExited && clock.Elapsed < TimeSpan.FromMinutes(5))
            {
                Thread.Sleep(50);
            }

            if (child.HasExited)
            {
                Assert.Fail("the run ended before it could be killed: " + child.StandardError.ReadToEnd());
            }

            child.Kill();
            child.WaitForExit();
            Assert.NotEqual(0, child.ExitCode);
        }

        Assert.False(File.Exists(Path.Combine(run, "run.complete.json")));
        Assert.True(File.Exists(Path.Combine(run, "checkpoints", "source-only.seed-7", "result.json")));
        (code, _, error) = CliRunner.Run("run", protocol, "--out", run, "--device", "cpu", "--key-file", key, "--checkpoint-seconds", "0");
        Assert.True(code == 0, error);

        string log = File.ReadAllText(Path.Combine(run, "run.log"));
        Assert.Contains("resumed from step", log, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(Path.Combine(reference, "predictions.csv")), File.ReadAllBytes(Path.Combine(run, "predictions.csv")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(reference, "model", "model.onnx")), File.ReadAllBytes(Path.Combine(run, "model", "model.onnx")));
        Assert.Equal(RunFolders.Numbers(reference), RunFolders.Numbers(run));
    }

    [Fact]
    public void Template_ValidatesAndRuns_OnceItsPathsAndSitesExist()
    {
        string text = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "protocols", "template-dicom-folder.yaml"));
        string data = Path.Combine(TestPaths.RepoRoot, "sample-data");
        text = TestText.Replace(text, "path/to/dicom-folder", Path.Combine(data, "cxr"));
        text = TestText.Replace(text, "path/to/labels.csv", Path.Combine(data, "manifest.csv"));
        text = TestText.Replace(text, "label_key: path", "label_key: id");
        text = TestText.Replace(text, "source_sites: [HOSPITAL A]", "source_sites: [SYNTHETIC GENERAL HOSPITAL A, SYNTHETIC UNIVERSITY CLINIC B]");
        text = TestText.Replace(text, "target_sites: [HOSPITAL B]", "target_sites: [SYNTHETIC COMMUNITY HOSPITAL C]");
        text = TestText.Replace(text, "size: 224", "size: 32");
        text = TestText.Replace(text, "iterations: 2000", "iterations: 20");
        text = TestText.Replace(text, "every: 100", "every: 10");
        text = TestText.Replace(text, "seeds: [1, 2, 3]", "seeds: [1]");
        text = TestText.Replace(text, "bootstrap: 2000", "bootstrap: 100");
        string protocol = Path.Combine(TestPaths.NewTempDirectory(), "mine.yaml");
        File.WriteAllText(protocol, text);

        (int code, _, string error) = CliRunner.Run("protocol", "validate", protocol);
        Assert.True(code == 0, error);
        string run = Path.Combine(TestPaths.NewTempDirectory(), "run");
        (code, string output, error) = CliRunner.Run("run", protocol, "--out", run, "--device", "cpu", "--json");
        Assert.True(code == 0, error + output);
        Assert.True(File.Exists(Path.Combine(run, "report.html")));
    }
}
