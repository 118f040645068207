using MedTransfer.Training.Adaptation;
using MedTransfer.Training.Configuration;
using MedTransfer.Training.Data;
using MedTransfer.Training.FineTuning;
using MedTransfer.Training.Models;
using MedTransfer.Training.Tests.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace MedTransfer.Training.Tests.FineTuning;

/// <summary>Fine-tuning strategies on the ImageNet ResNet-18 at 32 px: which weights and statistics move, at which rates.</summary>
[Collection(TorchCollection.Name)]
public sealed class StrategyTests
{
    private static FineTuneConfig Small(string strategy, int iterations = 4) => new()
    {
        ImageSize = 32,
        Strategy = strategy,
        BatchSize = 4,
        Iterations = iterations,
        LearningRate = 0.01,
        Schedule = "constant",
        Snapshots = 1,
        Seed = 5,
    };

    private static Dictionary<string, Tensor> Copy(nn.Module m) =>
        m.state_dict().ToDictionary(k => k.Key, k => k.Value.detach().clone(), StringComparer.Ordinal);

    private static bool Same(Tensor a, Tensor b) => a.eq(b).all().item<bool>();

    [Fact]
    public void FeatureExtraction_LeavesTheBackboneUnchanged_TrainsTheHead_FromCachedActivations()
    {
        FineTuneConfig config = Small(StrategyNames.FeatureExtraction);
        using TransferModel model = TransferModel.Create(config);
        var before = Copy(model);
        using TrainingOutcome outcome = new TransferTrainer(config, CPU).Fit(model, new TrainingData(TinyImages.Create(12, 32, 1)));
        var after = model.state_dict();
        foreach ((string key, Tensor value) in before)
        {
            bool isBackbone = key.StartsWith("features.backbone.", StringComparison.Ordinal);
            Assert.True(isBackbone == Same(value, after[key]), $"{key}: backbone={isBackbone}");
        }

        Assert.True(outcome.CachedActivations);
        Assert.Equal("head", outcome.TrainableFrom);
    }

    [Theory]
    [InlineData("stage4", false)]
    [InlineData("stage3", true)]
    public void TrainableFrom_FreezesEarlierStages_WeightsAndBatchNormStatistics(string from, bool augment)
    {
        FineTuneConfig config = Small(StrategyNames.Full, iterations: 3) with
        {
            TrainableFrom = from,
            Augmentation = augment ? AugmentationConfig.Light : new AugmentationConfig(),
        };
        using TransferModel model = TransferModel.Create(config);
        var before = Copy(model);
        using TrainingOutcome outcome = new TransferTrainer(config, CPU).Fit(model, new TrainingData(TinyImages.Create(12, 32, 1)));
        var after = model.state_dict();
        int fromRank = from == "stage4" ? 4 : 3;
        foreach ((string key, Tensor value) in before)
        {
            if (!key.StartsWith("features.backbone.graph.", StringComparison.Ordinal) || key.EndsWith("num_batches_tracked", StringComparison.Ordinal))
            {
                continue;
            }

            string stage = key["features.backbone.graph.".Length..].Split('_')[0];
            if (stage != "stem" && !stage.StartsWith("stage", StringComparison.Ordinal))
            {
                continue;
            }

            int rank = stage == "stem" ? 0 : int.Parse(stage["stage".Length..], System.Globalization.CultureInfo.InvariantCulture);
            bool frozen = rank < fromRank;
            Assert.True(frozen == Same(value, after[key]), $"{key}: frozen={frozen}");
        }

        // Without augmentation the frozen layers ran once; with it they run on every augmented batch.
        Assert.Equal(!augment, outcome.CachedActivations);
        Assert.Equal(from, outcome.TrainableFrom);
    }

    [Fact]
    public void TrainableFrom_CachedAndPerBatchFrozenLayers_TrainTheSameWeights()
    {
        // The frozen prefix computed once (the fast path) and per batch (a cache too small to hold it) must agree.
        FineTuneConfig config = Small(StrategyNames.Full, iterations: 3) with { TrainableFrom = "stage4", ChannelsLast = false };
        ImageSet data = TinyImages.Create(12, 32, 6);
        using TransferModel a = TransferModel.Create(config);
        using TransferModel b = TransferModel.Create(config);
        using var tiny = new ActivationCache(maxBytes: 1);
        // Both paths on TorchSharp: this checks the trainer's two paths, not the engines (FrozenForwardTests compare
        // those). At 32 px, stage4's BatchNorm over four 1×1 samples turns the engines' 1e-6 differences into visible
        // weight changes within three steps.
        using var torchCache = new ActivationCache { ForcedEngine = MedTransfer.Training.Backbones.FeatureEngine.Torch };
        using TrainingOutcome fast = new TransferTrainer(config, CPU, cache: torchCache).Fit(a, new TrainingData(data));
        using TrainingOutcome slow = new TransferTrainer(config, CPU, cache: tiny).Fit(b, new TrainingData(data));

        Assert.True(fast.CachedActivations);
        Assert.False(slow.CachedActivations);
        var sb = b.state_dict();
        foreach ((string key, Tensor value) in a.state_dict())
        {
            Assert.True(value.allclose(sb[key], rtol: 1e-4, atol: 1e-5), key + " max |Δ| " + (value - sb[key]).abs().max().item<float>() + " max |w| " + value.abs().max().item<float>());
        }
    }

    [Fact]
    public void GradualUnfreezing_KeepsLowerStagesFrozenUntilTheirTurn()
    {
        FineTuneConfig config = Small(StrategyNames.GradualUnfreezing, iterations: 3) with { UnfreezeEvery = 2 };
        using TransferModel model = TransferModel.Create(config);
        var before = Copy(model);
        var notes = new List<string>();
        using TrainingOutcome outcome = new TransferTrainer(config, CPU, new Sink(e => { if (e.Message is { } m) { notes.Add(m); } })).Fit(model, new TrainingData(TinyImages.Create(12, 32, 1)));
        var after = model.state_dict();

        // Steps 0–1: head only; step 2: stage4 unfrozen too. Lower stages never change (BatchNorm statistics too).
        foreach ((string stage, var parameters) in model.BackboneStages())
        {
            bool changed = parameters.Any(p => !Same(before[p.Name], after[p.Name]));
            Assert.Equal(stage == "stage4", changed);
        }

        string stemMean = before.Keys.First(k => k.Contains("stem_bn1.running_mean", StringComparison.Ordinal));
        Assert.True(Same(before[stemMean], after[stemMean]), "frozen BatchNorm statistics must not move");
        Assert.Contains("stage4 unfrozen at step 2", notes);
    }

    [Fact]
    public void Discriminative_AppliesTheStageLearningRates_AndTheHeadMultiplier()
    {
        // Plain SGD (no momentum, no weight decay) and one step: Δw = −η·m·g per group, so the ratio |Δw|/|g| of
        // each stage must be η·decay^k, and the new layers' η × head_lr_multiplier.
        FineTuneConfig config = Small(StrategyNames.Discriminative, iterations: 1) with
        {
            Momentum = 0,
            WeightDecay = 0,
            DiscriminativeDecay = 0.5,
            HeadLrMultiplier = 3,
            ChannelsLast = false,
        };
        using TransferModel model = TransferModel.Create(config);
        var before = Copy(model);
        var stages = model.BackboneStages();
        using TrainingOutcome outcome = new TransferTrainer(config, CPU).Fit(model, new TrainingData(TinyImages.Create(8, 32, 2)));
        foreach ((string stage, var parameters) in stages)
        {
            (string name, TorchSharp.Modules.Parameter p) = parameters.First(q => q.Name.EndsWith("conv1.weight", StringComparison.Ordinal));
            using Tensor delta = before[name].sub(model.state_dict()[name]);
            double ratio = delta.norm().item<float>() / p.grad!.norm().item<float>();
            int fromTop = stages.Count - 1 - stages.Select(s => s.Stage).ToList().IndexOf(stage);
            double expected = 0.01 * Math.Pow(0.5, fromTop);
            Assert.True(Math.Abs(ratio - expected) <= 0.01 * expected, $"{stage}: |Δw|/|g| = {ratio}, expected {expected}");
        }

        using Tensor headDelta = before["classifier.weight"].sub(model.Classifier.weight!);
        double headRatio = headDelta.norm().item<float>() / model.Classifier.weight!.grad!.norm().item<float>();
        Assert.Equal(0.03, headRatio, 0.03 * 0.01);
    }

    [Fact]
    public void L2Sp_PullsTowardThePretrainedWeights()
    {
        // The same run with and without the penalty: with a strong α the backbone ends closer to its start.
        double Distance(string strategy, double alpha)
        {
            FineTuneConfig config = Small(strategy, iterations: 6) with { L2SpAlpha = alpha, LearningRate = 0.05, ChannelsLast = false };
            using TransferModel model = TransferModel.Create(config);
            var start = model.BackboneStages().SelectMany(s => s.Parameters).ToDictionary(p => p.Name, p => p.Parameter.detach().clone(), StringComparer.Ordinal);
            new TransferTrainer(config, CPU).Fit(model, new TrainingData(TinyImages.Create(12, 32, 3))).Dispose();
            return Math.Sqrt(model.BackboneStages().SelectMany(s => s.Parameters).Sum(p => p.Parameter.detach().sub(start[p.Name]).pow(2).sum().item<float>()));
        }

        double plain = Distance(StrategyNames.Full, 0);
        double pulled = Distance(StrategyNames.L2Sp, 50);

        Assert.True(pulled < plain * 0.9, $"L2-SP distance {pulled} vs full {plain}");
    }

    [Fact]
    public void TwoRuns_WithTheSameSeed_GiveBitIdenticalWeights()
    {
        FineTuneConfig config = Small(StrategyNames.Full, iterations: 3) with { Augmentation = AugmentationConfig.Light };
        var data = TinyImages.Create(12, 32, 3);
        using TransferModel a = TransferModel.Create(config);
        using TransferModel b = TransferModel.Create(config);
        new TransferTrainer(config, CPU).Fit(a, new TrainingData(data)).Dispose();
        new TransferTrainer(config, CPU).Fit(b, new TrainingData(data)).Dispose();
        var sb = b.state_dict();
        foreach ((string key, Tensor value) in a.state_dict())
        {
            Assert.True(Same(value, sb[key]), key);
        }
    }

    // ResNet-sized (the vector-model resume test in TransferTrainerTests covers the logic in the fast lane).
    [Fact]
    [Trait("Category", "Slow")]
    public void KilledAndResumed_EqualsAnUninterruptedRun()
    {
        FineTuneConfig config = Small(StrategyNames.L2Sp, iterations: 5) with
        {
            Optimizer = "adamw",
            LearningRate = 1e-3,
            EarlyStopping = new EarlyStoppingConfig { Signal = SignalNames.ValidationLoss, EvaluateEvery = 2, Patience = 10 },
        };
        var data = new TrainingData(TinyImages.Create(12, 32, 4), TinyImages.Create(8, 32, 40));
        string once = TestPaths.NewTempDirectory();
        string twice = TestPaths.NewTempDirectory();
        try
        {
            using TransferModel reference = TransferModel.Create(config);
            new TransferTrainer(config, CPU).Fit(reference, data, new CheckpointPolicy(once, Every: 2)).Dispose();

            using (TransferModel first = TransferModel.Create(config))
            {
                using var cts = new CancellationTokenSource();
                var stop = new Sink(e =>
                {
                    if (e.Phase == "train" && e.Step == 3)
                    {
                        cts.Cancel();
                    }
                });
                Assert.Throws<OperationCanceledException>(() => new TransferTrainer(config, CPU, stop).Fit(first, data, new CheckpointPolicy(twice, Every: 2), cts.Token));
            }

            using TransferModel second = TransferModel.Create(config);
            using TrainingOutcome outcome = new TransferTrainer(config, CPU).Fit(second, data, new CheckpointPolicy(twice, Every: 2));

            Assert.Equal(2, outcome.ResumedFromStep);
            var sr = reference.state_dict();
            foreach ((string key, Tensor value) in second.state_dict())
            {
                Assert.True(Same(value, sr[key]), key);
            }
        }
        finally
        {
            Directory.Delete(once, recursive: true);
            Directory.Delete(twice, recursive: true);
        }
    }

    [Fact]
    public void TinyFineTune_LearnsTheGeneratedTask()
    {
        // Feature extraction on cached ImageNet features: a bright disc vs none, 64 px; the new layers at 0.001 × 10.
        FineTuneConfig config = Small(StrategyNames.FeatureExtraction, iterations: 80) with { ImageSize = 64, BatchSize = 8, LearningRate = 0.001, Snapshots = 4 };
        using TransferModel model = TransferModel.Create(config);
        using TrainingOutcome outcome = new TransferTrainer(config, CPU).Fit(model, new TrainingData(TinyImages.Create(48, 64, 6, contrast: 0.3), TinyImages.Create(32, 64, 60, contrast: 0.3)));

        double best = outcome.Candidates.Max(c => c.ValidationAccuracy!.Value);
        Assert.True(best >= 0.9, $"validation accuracy {best}");
        Assert.True(outcome.Curves.Loss[^1] < outcome.Curves.Loss[0]);
    }

    [Fact]
    public void ManySteps_DoNotLeakTensors() => AssertNoLeak(1_000);

    [Fact]
    [Trait("Category", "Slow")]
    public void TenThousandSteps_DoNotLeakTensors() => AssertNoLeak(10_000);

    [Fact]
    public void Config_RoundTripsAndRejectsUnknownNames()
    {
        FineTuneConfig config = Small(StrategyNames.GradualUnfreezing) with { TrainableFrom = "stage2", Augmentation = AugmentationConfig.Light, Adaptation = new AdaptationConfig { Method = "cdan" } };
        Assert.Equal(config.ToJson(), FineTuneConfig.FromJson(config.ToJson()).ToJson());
        Assert.Throws<FormatException>(() => FineTuneConfig.FromJson(config.ToJson().Replace("\"gradual-unfreezing\"", "\"nonsense\"", StringComparison.Ordinal)));
        Assert.Throws<FormatException>(() => FineTuneConfig.FromJson("{\"no_such_field\": 1}"));
        Assert.Throws<FormatException>(() => (config with { Strategy = StrategyNames.FeatureExtraction }).Validate());
        Assert.Throws<FormatException>(() => (config with { TrainableFrom = TrainableFromNames.Head }).Validate());
    }

    [Fact]
    public void AdaBn_ReestimatesBackboneAndHeadStatisticsOnTargetData()
    {
        FineTuneConfig config = Small(StrategyNames.FeatureExtraction) with { Head = "bottleneck" };
        using TransferModel model = TransferModel.Create(config);
        string key = model.state_dict().Keys.First(k => k.Contains("stem_bn1.running_mean", StringComparison.Ordinal));
        Tensor before = model.state_dict()[key].clone();
        string headKey = "features.bottleneck.bn.running_mean";
        Tensor headBefore = model.state_dict()[headKey].clone();
        BatchNormRecomputeResult result = AdaBN.Adapt(model, TinyImages.Create(10, 32, 11, contrast: 0.9), CPU, batchSize: 5);

        Assert.False(Same(before, model.state_dict()[key]));
        Assert.False(Same(headBefore, model.state_dict()[headKey]));
        Assert.Equal(2, result.Batches);
        Assert.Equal(model.modules().Count(m => m is TorchSharp.Modules.BatchNorm1d) + model.Features.Backbone.Graph.BatchNorms.Count(), result.Layers);
        Assert.False(model.training);
    }

    private static void AssertNoLeak(int steps)
    {
        FineTuneConfig config = Small(StrategyNames.FeatureExtraction, iterations: steps);
        using TransferModel model = TransferModel.Create(config);
        var data = new TrainingData(TinyImages.Create(8, 32, 5));
        new TransferTrainer(config, CPU).Fit(model, data).Dispose();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        new TransferTrainer(config with { Seed = 6 }, CPU).Fit(model, data).Dispose();
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.True(after - before <= 8, $"{after - before} tensors leaked over {steps} steps");
    }

    private sealed class Sink(Action<TrainingEvent> onEvent) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value) => onEvent(value);
    }
}
