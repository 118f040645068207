using MedTransfer.Testing;
using MedTransfer.Training.Configuration;
using MedTransfer.Training.FineTuning;
using MedTransfer.Training.Models;
using MedTransfer.Training.Tests.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace MedTransfer.Training.Tests.FineTuning;

[Collection(TorchCollection.Name)]
public sealed class FineTuneTrainerTests
{
    private static FineTuneConfig Small(string strategy, int iterations = 4) => new()
    {
        ImageSize = 32,
        Strategy = strategy,
        BatchSize = 4,
        Iterations = iterations,
        LearningRate = 0.01,
        Schedule = "constant",
        EarlyStopping = new EarlyStoppingConfig { EvaluateEvery = 1000, Patience = 0 },
        Seed = 5,
    };

    private static Dictionary<string, Tensor> Copy(nn.Module m) =>
        m.state_dict().ToDictionary(k => k.Key, k => k.Value.detach().clone(), StringComparer.Ordinal);

    private static bool Same(Tensor a, Tensor b) => a.eq(b).all().item<bool>();

    [Fact]
    public void FeatureExtraction_LeavesTheBackboneUnchanged_AndTrainsTheHead()
    {
        FineTuneConfig config = Small(StrategyNames.FeatureExtraction);
        using TransferModel model = TransferModel.Create(config);
        var before = Copy(model);
        new FineTuneTrainer(config, CPU).Fit(model, TinyImages.Create(12, 32, 1));
        var after = model.state_dict();
        foreach ((string key, Tensor value) in before)
        {
            bool isBackbone = key.StartsWith("features.backbone.", StringComparison.Ordinal);
            Assert.True(isBackbone == Same(value, after[key]), $"{key}: backbone={isBackbone}");
        }
    }

    [Fact]
    public void GradualUnfreezing_KeepsLowerStagesFrozenUntilTheirTurn()
    {
        FineTuneConfig config = Small(StrategyNames.GradualUnfreezing, iterations: 3) with { UnfreezeEvery = 2 };
        using TransferModel model = TransferModel.Create(config);
        var before = Copy(model);
        new FineTuneTrainer(config, CPU).Fit(model, TinyImages.Create(12, 32, 1));
        var after = model.state_dict();

        // Steps 0–1: head only; step 2: stage4 unfrozen too. Lower stages never change (incl. BN statistics).
        var stages = model.BackboneStages();
        foreach ((string stage, var parameters) in stages)
        {
            bool changed = parameters.Any(p => !Same(before[p.Name], after[p.Name]));
            Assert.Equal(stage == "stage4", changed);
        }

        string stemMean = before.Keys.First(k => k.Contains("stem_bn1.running_mean", StringComparison.Ordinal));
        Assert.True(Same(before[stemMean], after[stemMean]), "frozen BatchNorm statistics must not move");
    }

    [Fact]
    public void Discriminative_AppliesTheStageLearningRates()
    {
        // Plain SGD (no momentum, no weight decay) and one step: Δw = −η·m·g per group, so the
        // ratio |Δw|/|g| of each stage must be η·decay^k.
        FineTuneConfig config = Small(StrategyNames.Discriminative, iterations: 1) with
        {
            Momentum = 0,
            WeightDecay = 0,
            DiscriminativeDecay = 0.5,
            Augmentation = new AugmentationConfig { Enabled = false },
            ChannelsLast = false,
        };
        using TransferModel model = TransferModel.Create(config);
        var before = Copy(model);
        var grads = new Dictionary<string, Tensor>();
        var trainer = new FineTuneTrainer(config, CPU);
        var stages = model.BackboneStages();
        trainer.Fit(model, TinyImages.Create(8, 32, 2));
        foreach ((string stage, var parameters) in stages)
        {
            (string name, TorchSharp.Modules.Parameter p) = parameters.First(q => q.Name.EndsWith("conv1.weight", StringComparison.Ordinal));
            using Tensor delta = before[name].sub(model.state_dict()[name]);
            double ratio = delta.norm().item<float>() / p.grad!.norm().item<float>();
            int fromTop = stages.Count - 1 - stages.Select(s => s.Stage).ToList().IndexOf(stage);
            double expected = 0.01 * Math.Pow(0.5, fromTop);
            Assert.True(Math.Abs(ratio - expected) <= 0.01 * expected, $"{stage}: |Δw|/|g| = {ratio}, expected {expected}");
        }
    }

    [Fact]
    public void TwoRuns_WithTheSameSeed_GiveBitIdenticalWeights()
    {
        FineTuneConfig config = Small(StrategyNames.Full, iterations: 3);
        var data = TinyImages.Create(12, 32, 3);
        using TransferModel a = TransferModel.Create(config);
        using TransferModel b = TransferModel.Create(config);
        new FineTuneTrainer(config, CPU).Fit(a, data);
        new FineTuneTrainer(config, CPU).Fit(b, data);
        var sb = b.state_dict();
        foreach ((string key, Tensor value) in a.state_dict())
        {
            Assert.True(Same(value, sb[key]), key);
        }
    }

    [Fact]
    public void KilledAndResumed_EqualsAnUninterruptedRun()
    {
        FineTuneConfig config = Small(StrategyNames.L2Sp, iterations: 5) with { Optimizer = "adamw", LearningRate = 1e-3 };
        var data = TinyImages.Create(12, 32, 4);
        var validation = TinyImages.Create(8, 32, 40);
        config = config with { EarlyStopping = new EarlyStoppingConfig { EvaluateEvery = 2, Patience = 0 } };

        using TransferModel reference = TransferModel.Create(config);
        var expected = new FineTuneTrainer(config, CPU).Fit(reference, data, validation);

        string dir = TestPaths.NewTempDirectory();
        using var cts = new CancellationTokenSource();
        var stopAtThree = new Progress(e =>
        {
            if (e.Phase == "train" && e.Step == 3)
            {
                cts.Cancel();
            }
        });
        using (TransferModel killed = TransferModel.Create(config))
        {
            Assert.ThrowsAny<OperationCanceledException>(() =>
                new FineTuneTrainer(config, CPU, stopAtThree).Fit(killed, data, validation, new CheckpointPolicy(dir, Every: 2), cts.Token));
        }

        using TransferModel resumed = TransferModel.Create(config);
        var outcome = new FineTuneTrainer(config, CPU).Fit(resumed, data, validation, new CheckpointPolicy(dir, Every: 2));
        Assert.Equal(2, outcome.ResumedFromStep);
        Assert.Equal(expected.Losses, outcome.Losses);
        Assert.Equal(expected.BestStep, outcome.BestStep);
        var r = reference.state_dict();
        foreach ((string key, Tensor value) in resumed.state_dict())
        {
            Assert.True(Same(value, r[key]), key);
        }
    }

    [Fact]
    public void TinyFineTune_LearnsTheGeneratedTask()
    {
        // Feature extraction on cached ImageNet features: a bright disc vs none, 64 px.
        FineTuneConfig config = Small(StrategyNames.FeatureExtraction, iterations: 80) with
        {
            ImageSize = 64,
            BatchSize = 8,
            LearningRate = 0.01,
            EarlyStopping = new EarlyStoppingConfig { EvaluateEvery = 20, Patience = 0, Signal = "val-accuracy" },
        };
        using TransferModel model = TransferModel.Create(config);
        var outcome = new FineTuneTrainer(config, CPU).Fit(model, TinyImages.Create(48, 64, 6, contrast: 0.3), TinyImages.Create(32, 64, 60, contrast: 0.3));
        Assert.True(outcome.BestSignal >= 0.9, $"validation accuracy {outcome.BestSignal}");
        Assert.True(outcome.Losses[^1] < outcome.Losses[0]);
    }

    [Fact]
    public void ManySteps_DoNotLeakTensors() => AssertNoLeak(1_000);

    [Fact]
    [Trait("Category", "Slow")]
    public void TenThousandSteps_DoNotLeakTensors() => AssertNoLeak(10_000);

    private static void AssertNoLeak(int steps)
    {
        // RELIABILITY E5: one dispose scope per step. Head-only steps on cached features keep this fast.
        FineTuneConfig config = Small(StrategyNames.FeatureExtraction, iterations: steps) with { ImageSize = 32 };
        using TransferModel model = TransferModel.Create(config);
        long at100 = 0, atEnd = 0;
        var watch = new Progress(e =>
        {
            if (e.Phase == "train" && e.Step == 100)
            {
                at100 = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            }
            else if (e.Phase == "train" && e.Step == steps)
            {
                atEnd = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            }
        });
        new FineTuneTrainer(config, CPU, watch).Fit(model, TinyImages.Create(8, 32, 7));
        Assert.True(at100 > 0);
        Assert.True(atEnd <= at100, $"live tensors grew from {at100} to {atEnd}");
    }

    [Fact]
    public void Config_RoundTripsAndRejectsUnknownNames()
    {
        FineTuneConfig config = Small(StrategyNames.GradualUnfreezing) with { Head = "bottleneck" };
        Assert.Equal(config.ToJson(), FineTuneConfig.FromJson(config.ToJson()).ToJson());
        Assert.Contains("strategy", Assert.Throws<FormatException>(() => (config with { Strategy = "magic" }).Validate()).Message, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => FineTuneConfig.FromJson("{\"colour\": 1}"));
    }

    [Fact]
    public void AdaBn_ReestimatesStatisticsOnTargetData()
    {
        FineTuneConfig config = Small(StrategyNames.Full) with { Head = "bottleneck" };
        using TransferModel model = TransferModel.Create(config);
        string key = model.state_dict().Keys.First(k => k.EndsWith("stem_bn1.running_mean", StringComparison.Ordinal));
        using Tensor before = model.state_dict()[key].clone();
        int layers = BatchNormAdaptation.Apply(model, TinyImages.Create(10, 32, 8, contrast: 0.6));
        int graphNorms = model.Features.Backbone.Graph.Model.Graph.Node.Count(n => n.OpType == "BatchNormalization");
        Assert.Equal(graphNorms + 1, layers); // every BatchNorm of the graph + the bottleneck's
        Assert.False(before.allclose(model.state_dict()[key]));
        Assert.False(model.training);
    }

    private sealed class Progress(Action<TrainingEvent> onEvent) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value) => onEvent(value);
    }
}
