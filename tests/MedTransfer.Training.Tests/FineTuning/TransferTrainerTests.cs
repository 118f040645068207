using MedTransfer.Training.Adaptation;
using MedTransfer.Training.Configuration;
using MedTransfer.Training.Data;
using MedTransfer.Training.FineTuning;
using MedTransfer.Training.Models;
using MedTransfer.Training.Runtime;
using MedTransfer.Training.Tests.Adaptation;
using MedTransfer.Training.Tests.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedTransfer.Training.Tests.FineTuning;

/// <summary>The one trainer on small vector models: seeds, losses, schedules, sampling, adaptation methods and errors.</summary>
[Collection(TorchCollection.Name)]
public sealed class TransferTrainerTests
{
    public TransferTrainerTests()
    {
        TorchRuntime.EnsureAvailable();

        // Tiny tensors: one intra-op thread keeps the reduction order, hence the results, the same from run to run.
        set_num_threads(1);
    }

    [Fact]
    public void Fit_SameSeedTwice_BitIdenticalWeights_DifferentSeedDiffers()
    {
        // Dropout in the discriminator and shuffling both draw from the seed.
        FineTuneConfig config = VectorModels.Config("dann", iterations: 25) with { Adaptation = new AdaptationConfig { Method = "dann", DiscriminatorWidth = 16, DiscriminatorDropout = 0.5 } };

        float[] a = TrainAndFlatten(config, seed: 5);
        float[] b = TrainAndFlatten(config, seed: 5);
        float[] c = TrainAndFlatten(config, seed: 6);

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Fit_ClassWeightsAndLabelSmoothing_EnterTheClassificationLoss()
    {
        // One step over the whole batch: the reported loss must equal the weighted, smoothed cross-entropy written
        // out from its definition on the model's logits before the step.
        var r = new Random(2);
        float[] x = [.. Enumerable.Range(0, 8 * 3).Select(_ => (float)(r.NextDouble() - 0.5))];
        int[] y = [0, 1, 1, 1, 0, 1, 1, 1];
        using TransferModel model = VectorModels.Mlp(3, head: "linear");
        double[] weights = [8.0 / (2 * 2), 8.0 / (2 * 6)];
        const double Epsilon = 0.1;
        double expected;
        using (no_grad())
        {
            model.eval();
            float[] logits = model.forward(tensor(x, [8, 3])).data<float>().ToArray();
            double num = 0, den = 0;
            for (int i = 0; i < 8; i++)
            {
                double l0 = logits[i * 2], l1 = logits[(i * 2) + 1];
                double m = Math.Max(l0, l1);
                double lse = m + Math.Log(Math.Exp(l0 - m) + Math.Exp(l1 - m));
                double[] logp = [l0 - lse, l1 - lse];
                int c = y[i];

                // PyTorch's definition: (1−ε)·w_y·(−log p_y) + ε/K·Σ_k w_k·(−log p_k), normalised by Σ w_y.
                num += ((1 - Epsilon) * weights[c] * -logp[c]) + (Epsilon / 2 * ((weights[0] * -logp[0]) + (weights[1] * -logp[1])));
                den += weights[c];
            }

            expected = num / den;
        }

        var events = new List<TrainingEvent>();
        using var labelled = new TensorSamples(tensor(x, [8, 3]), y);
        FineTuneConfig config = VectorModels.Config(iterations: 1, batch: 8) with { Head = "linear", ClassWeighting = "balanced", LabelSmoothing = Epsilon };
        using TrainingOutcome outcome = Fit(model, config, new TrainingData(labelled), events);

        Assert.Equal(expected, Train(events)[0].ClassificationLoss, 1e-5);
        Assert.Equal(expected, Train(events)[0].Loss, 1e-5);
    }

    [Theory]
    [InlineData("constant")]
    [InlineData("cosine")]
    [InlineData("step")]
    [InlineData("dann")]
    public void Fit_TheOptimizerAppliesTheScheduledRate_ToBackboneAndNewLayers(string schedule)
    {
        // Plain SGD (no momentum, no weight decay): after each step Δw = −η_t·m·g, so |Δw|/|g| of a backbone weight
        // must be the schedule's η_t and that of a new layer η_t × head_lr_multiplier, at the first, a middle and the
        // last step.
        const int Steps = 8;
        FineTuneConfig config = VectorModels.Config(iterations: Steps) with { Schedule = schedule, LearningRate = 0.02, HeadLrMultiplier = 4, Momentum = 0, WeightDecay = 0, DannGamma = 10 };
        using TransferModel model = VectorModels.Mlp(4);
        Parameter backbone = model.BackboneStages().SelectMany(s => s.Parameters).First(p => p.Name.EndsWith(".weight", StringComparison.Ordinal)).Parameter;
        Parameter head = model.Classifier.weight!;
        var ratios = new List<(double Backbone, double Head)>();
        Tensor previousBackbone = backbone.detach().clone();
        Tensor previousHead = head.detach().clone();
        using var scope = NewDisposeScope();
        (Tensor xs, Tensor ys) = TwoDomainData.Make(40, 4, 1);
        using var labelled = TensorSamples.Labelled(xs, ys);
        var events = new List<TrainingEvent>();
        var progress = new Sink(e =>
        {
            events.Add(e);
            if (e.Phase != "train")
            {
                return;
            }

            using Tensor db = backbone.detach().sub(previousBackbone);
            using Tensor dh = head.detach().sub(previousHead);
            ratios.Add((db.norm().item<float>() / backbone.grad!.norm().item<float>(), dh.norm().item<float>() / head.grad!.norm().item<float>()));
            previousBackbone.Dispose();
            previousHead.Dispose();
            previousBackbone = backbone.detach().clone();
            previousHead = head.detach().clone();
        });

        using TrainingOutcome outcome = new TransferTrainer(config, CPU, progress).Fit(model, new TrainingData(labelled));

        Assert.Equal(Steps, ratios.Count);
        foreach (int step in new[] { 0, Steps / 2, Steps - 1 })
        {
            double eta = LearningRateSchedule.Rate(schedule, 0.02, step, Steps, 10);
            double expected = schedule switch
            {
                "constant" => 0.02,
                "cosine" => 0.02 * 0.5 * (1 + Math.Cos(Math.PI * step / Steps)),
                "step" => 0.02 * (step >= 0.75 * Steps ? 0.01 : step >= 0.5 * Steps ? 0.1 : 1),
                _ => 0.02 * Math.Pow(1 + (10.0 * step / Steps), -0.75),
            };
            Assert.Equal(expected, eta, 12);
            Assert.Equal(expected, Train(events)[step].LearningRate, 12);
            Assert.Equal(expected, ratios[step].Backbone, expected * 1e-3);
            Assert.Equal(expected * 4, ratios[step].Head, expected * 4e-3);
        }
    }

    [Fact]
    public void Fit_NonAdversarial_NoDiscriminatorAccuracy_TradeOffWeightsTransfer()
    {
        var events = new List<TrainingEvent>();
        FineTuneConfig config = VectorModels.Config("coral", iterations: 4) with { Adaptation = new AdaptationConfig { Method = "coral", TradeOff = 3 } };

        Run(config, events);

        Assert.All(Train(events), e => Assert.Null(e.DiscriminatorAccuracy));
        Assert.All(Train(events), e => Assert.Equal(e.ClassificationLoss + (3 * e.TransferLoss), e.Loss, 1e-4));
        Assert.Contains(Train(events), e => e.TransferLoss > 0);
    }

    [Fact]
    public void Fit_Adversarial_EventsCarryTheScheduledLambdaAndDiscriminatorAccuracy()
    {
        var events = new List<TrainingEvent>();
        FineTuneConfig config = VectorModels.Config("dann", iterations: 12) with { Adaptation = new AdaptationConfig { Method = "dann", DiscriminatorWidth = 8, Schedule = Training.Adaptation.LambdaSchedule.TllibDefault with { MaxIters = 4 } } };

        Run(config, events);

        TrainingEvent[] steps = Train(events);
        Assert.Equal(12, steps.Length);
        for (int i = 0; i < 12; i++)
        {
            Assert.Equal(i + 1, steps[i].Step);
            Assert.Equal((2.0 / (1 + Math.Exp(-i / 4.0))) - 1, steps[i].Lambda, 1e-12);
            Assert.InRange(steps[i].DiscriminatorAccuracy!.Value, 0, 1);
            Assert.Equal(steps[i].ClassificationLoss + steps[i].TransferLoss, steps[i].Loss, 1e-4);
        }
    }

    [Fact]
    public void Fit_SourceOnly_TransferLossZero()
    {
        var events = new List<TrainingEvent>();

        Run(VectorModels.Config(iterations: 3), events);

        Assert.All(Train(events), e => Assert.Equal(0.0, e.TransferLoss));
    }

    [Fact]
    public void Fit_UnequalSources_EachPassCoversDistinctSamples_AndReshuffles()
    {
        using var scope = NewDisposeScope();
        (Tensor xs, Tensor ys) = TwoDomainData.Make(10, 3, 1);
        (Tensor xt, _) = TwoDomainData.Make(7, 3, 2, 1);
        using var sourceInner = TensorSamples.Labelled(xs, ys);
        using var targetInner = new TensorSamples(xt);
        var source = new RecordingSource(sourceInner);
        var target = new RecordingSource(targetInner);
        using TransferModel model = VectorModels.Mlp(3);

        using TrainingOutcome outcome = new TransferTrainer(VectorModels.Config("mcc", iterations: 12, batch: 4, seed: 3)).Fit(model, new TrainingData(source, null, target));

        // The training batches are the calls of batch size 4 (the candidate evaluations score the target in one batch).
        List<int[]> s = [.. source.Calls.Where(c => c.Length == 4)];
        List<int[]> t = [.. target.Calls.Where(c => c.Length == 4)];
        Assert.Equal(12, s.Count);
        Assert.Equal(12, t.Count);
        for (int pass = 0; pass < 6; pass++)
        {
            int[] both = [.. s[2 * pass], .. s[(2 * pass) + 1]];
            Assert.Equal(8, both.Distinct().Count());
        }

        Assert.Equal(10, s.SelectMany(b => b).Distinct().Count());
        Assert.Equal(7, t.SelectMany(b => b).Distinct().Count());
        Assert.True(t.Select(b => string.Join(",", b)).Distinct().Count() > 1, "each target pass must be reshuffled");
    }

    [Fact]
    public void Fit_BalancedSampling_DrawsBothClassesEqually()
    {
        using var scope = NewDisposeScope();
        float[] x = [.. Enumerable.Range(0, 40 * 3).Select(i => (float)Math.Sin(i))];
        int[] y = [.. Enumerable.Range(0, 40).Select(i => i < 34 ? 0 : 1)];
        var source = new RecordingSource(new TensorSamples(tensor(x, [40, 3]), y));
        using TransferModel model = VectorModels.Mlp(3);

        using TrainingOutcome outcome = new TransferTrainer(VectorModels.Config(iterations: 10, batch: 8) with { BalancedSampling = true }).Fit(model, new TrainingData(source));

        int[] drawn = [.. source.Calls.Where(c => c.Length == 8).SelectMany(c => c)];
        Assert.Equal(80, drawn.Length);
        Assert.Equal(40, drawn.Count(i => y[i] == 1));
    }

    [Fact]
    public void Fit_SaturatedDiscriminator_WarnsAfterFiftySteps()
    {
        // Target far from the source: the discriminator wins at once and keeps winning.
        using var scope = NewDisposeScope();
        (Tensor xs, Tensor ys) = TwoDomainData.Make(40, 4, 1);
        (Tensor xt, _) = TwoDomainData.Make(30, 4, 2, shift: 40);
        using var source = TensorSamples.Labelled(xs, ys);
        using var target = new TensorSamples(xt);
        using TransferModel model = VectorModels.Mlp(4);
        var events = new List<TrainingEvent>();

        using TrainingOutcome outcome = new TransferTrainer(VectorModels.Config("cdan-e", iterations: 60), CPU, new Sink(events.Add)).Fit(model, new TrainingData(source, null, target));

        Assert.True(outcome.SaturatedSteps >= 1, $"saturated steps {outcome.SaturatedSteps}");
        Assert.Contains(Train(events), e => e.Message?.Contains("discriminator", StringComparison.Ordinal) == true);
        Assert.DoesNotContain(Train(events).Take(49), e => e.Message?.Contains("discriminator", StringComparison.Ordinal) == true);
    }

    [Fact]
    public void AdaBN_Adapt_RecomputesBatchNormOnAllTargetSamples()
    {
        using var scope = NewDisposeScope();
        (Tensor xt, _) = TwoDomainData.Make(11, 3, 2, 3);
        using var target = new TensorSamples(xt);
        using TransferModel model = VectorModels.Mlp(3);

        BatchNormRecomputeResult result = AdaBN.Adapt(model, target, CPU, batchSize: 4);

        Assert.Equal(new BatchNormRecomputeResult(1, 3, 11), result);
        Assert.False(model.training);
    }

    [Fact]
    public void Fit_BadData_ThrowsClearErrors()
    {
        using var scope = NewDisposeScope();
        (Tensor x, Tensor y) = TwoDomainData.Make(8, 3, 1);
        using var labelled = TensorSamples.Labelled(x, y);
        using var unlabelled = new TensorSamples(x);
        using TransferModel model = VectorModels.Mlp(3);
        var dann = new TransferTrainer(VectorModels.Config("dann", iterations: 1, batch: 4));

        Assert.Contains("no label", Assert.Throws<ArgumentException>(() => dann.Fit(model, new TrainingData(unlabelled, null, unlabelled))).Message, StringComparison.Ordinal);
        Assert.Contains("target", Assert.Throws<ArgumentException>(() => dann.Fit(model, new TrainingData(labelled))).Message, StringComparison.Ordinal);
        (Tensor wide, _) = TwoDomainData.Make(8, 5, 2);
        using var wideTarget = new TensorSamples(wide);
        Assert.Throws<ArgumentException>(() => dann.Fit(model, new TrainingData(labelled, null, wideTarget)));
        Assert.Throws<ArgumentException>(() => new TensorSamples(x, [0, 1, 0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => labelled.Inputs([8]));
        Assert.Throws<FormatException>(() => new TransferTrainer(VectorModels.Config() with { Iterations = 0 }));
        Assert.Contains("adaptation", Assert.Throws<FormatException>(() => new TransferTrainer(VectorModels.Config("nope"))).Message, StringComparison.Ordinal);
        var early = VectorModels.Config(iterations: 4) with { EarlyStopping = new EarlyStoppingConfig { Signal = SignalNames.ValidationAuroc } };
        Assert.Contains("validation", Assert.Throws<ArgumentException>(() => new TransferTrainer(early).Fit(model, new TrainingData(labelled))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_Cancelled_Throws()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.Throws<OperationCanceledException>(() => Run(VectorModels.Config(iterations: 2), [], cts.Token));
    }

    [Fact]
    public void Fit_AdamW_LowersTheSourceLoss()
    {
        var events = new List<TrainingEvent>();

        Run(VectorModels.Config("entropy", iterations: 60, batch: 16) with { Optimizer = "adamw", LearningRate = 0.01, Adaptation = new AdaptationConfig { Method = "entropy", TradeOff = 0.1 } }, events);

        TrainingEvent[] steps = Train(events);
        Assert.True(steps.TakeLast(10).Average(e => e.ClassificationLoss) < steps.Take(10).Average(e => e.ClassificationLoss));
    }

    [Fact]
    public void Fit_EarlyStoppingOnIm_StopsAndKeepsTheBestCandidate()
    {
        var events = new List<TrainingEvent>();
        FineTuneConfig config = VectorModels.Config("source-only", iterations: 400) with { EarlyStopping = new EarlyStoppingConfig { Signal = SignalNames.Im, Patience = 2, EvaluateEvery = 5 }, LearningRate = 0.5 };

        using TrainingOutcome outcome = Run(config, events);

        Assert.True(outcome.StoppedEarly, "a high learning rate on this easy task plateaus early");
        Assert.True(outcome.StepsRun < 400);
        CandidateCheckpoint best = outcome.Candidates.MaxBy(c => c.Im!.Value)!;
        Assert.Equal(best.Step, outcome.BestStep);
        Assert.Equal(outcome.Candidates.Select(c => c.Step), outcome.Snapshots.Steps);
        Assert.All(outcome.Candidates, c => Assert.Equal(0, c.Step % 5));
    }

    [Theory]
    [InlineData("dann")]
    [InlineData("cdan-e")]
    [InlineData("jan")]
    [InlineData("source-only")]
    public void Fit_LiveTensorCount_DoesNotGrowWithSteps(string method)
    {
        long Leak(int steps)
        {
            using var scope = NewDisposeScope();
            (Tensor xs, Tensor ys) = TwoDomainData.Make(40, 4, 1);
            (Tensor xt, _) = TwoDomainData.Make(30, 4, 2, 1.5, 1.5);
            using var source = TensorSamples.Labelled(xs, ys);
            using var target = new TensorSamples(xt);
            using TransferModel model = VectorModels.Mlp(4);
            var trainer = new TransferTrainer(VectorModels.Config(method, iterations: steps) with { Snapshots = 1 });
            long before = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            trainer.Fit(model, new TrainingData(source, null, target)).Dispose();
            return TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount - before;
        }

        long c0 = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (Tensor probe = ones(1))
        {
            Assert.Equal(c0 + 1, TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount); // the counter does count
        }

        long few = Leak(3);
        long many = Leak(30);

        Assert.Equal(few, many);
    }

    [Fact]
    public void Fit_CheckpointsAndResume_EqualAnUninterruptedRun()
    {
        string dir = MedTransfer.Testing.TestPaths.NewTempDirectory();
        try
        {
            FineTuneConfig config = VectorModels.Config("dann", iterations: 20) with { Adaptation = new AdaptationConfig { Method = "dann", DiscriminatorWidth = 8, DiscriminatorDropout = 0.3 }, Optimizer = "adamw", LearningRate = 0.01, EarlyStopping = new EarlyStoppingConfig { Signal = SignalNames.Snd, Patience = 100, EvaluateEvery = 4 } };
            float[] uninterrupted = TrainAndFlatten(config, seed: 9);

            // Stop after 10 steps (a cancelled run), then resume to the end from the checkpoint folder.
            using var scope = NewDisposeScope();
            (Tensor xs, Tensor ys, Tensor xt) = Domains();
            using var source = TensorSamples.Labelled(xs, ys);
            using var target = new TensorSamples(xt);
            var policy = new CheckpointPolicy(dir, Every: 5);
            using var cts = new CancellationTokenSource();
            using (TransferModel first = VectorModels.Mlp(4, seed: 9))
            {
                var stopper = new Sink(e =>
                {
                    if (e.Phase == "train" && e.Step == 10)
                    {
                        cts.Cancel();
                    }
                });
                Assert.Throws<OperationCanceledException>(() => new TransferTrainer(config with { Seed = 9 }, CPU, stopper).Fit(first, new TrainingData(source, null, target), policy, cts.Token));
            }

            using TransferModel second = VectorModels.Mlp(4, seed: 9);
            using TrainingOutcome resumed = new TransferTrainer(config with { Seed = 9 }).Fit(second, new TrainingData(source, null, target), policy);

            Assert.Equal(10, resumed.ResumedFromStep);
            Assert.Equal(20, resumed.StepsRun);
            Assert.Equal(20, resumed.Curves.Loss.Count);
            Assert.Equal(uninterrupted, Flatten(second));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static TrainingEvent[] Train(List<TrainingEvent> events) => [.. events.Where(e => e.Phase == "train")];

    private static (Tensor Xs, Tensor Ys, Tensor Xt) Domains()
    {
        (Tensor xs, Tensor ys) = TwoDomainData.Make(40, 4, 1);
        (Tensor xt, _) = TwoDomainData.Make(30, 4, 2, 1.5, 1.5);
        return (xs, ys, xt);
    }

    private static TrainingOutcome Run(FineTuneConfig config, List<TrainingEvent> events, CancellationToken token = default)
    {
        using var scope = NewDisposeScope();
        (Tensor xs, Tensor ys, Tensor xt) = Domains();
        using var source = TensorSamples.Labelled(xs, ys);
        using var target = new TensorSamples(xt);
        using TransferModel model = VectorModels.Mlp(4, seed: (int)config.Seed);
        return Fit(model, config, new TrainingData(source, null, target), events, token);
    }

    private static TrainingOutcome Fit(TransferModel model, FineTuneConfig config, TrainingData data, List<TrainingEvent> events, CancellationToken token = default) =>
        new TransferTrainer(config, CPU, new Sink(events.Add)).Fit(model, data, null, token);

    private static float[] TrainAndFlatten(FineTuneConfig config, int seed)
    {
        using var scope = NewDisposeScope();
        (Tensor xs, Tensor ys, Tensor xt) = Domains();
        using var source = TensorSamples.Labelled(xs, ys);
        using var target = new TensorSamples(xt);
        using TransferModel model = VectorModels.Mlp(4, seed: seed);
        using TrainingOutcome outcome = new TransferTrainer(config with { Seed = seed }).Fit(model, new TrainingData(source, null, target));
        return Flatten(model);
    }

    private static float[] Flatten(TransferModel model) => [.. model.parameters().SelectMany(p => p.data<float>().ToArray())];

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class Sink(Action<TrainingEvent> onEvent) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value) => onEvent(value);
    }

    private sealed class RecordingSource(ISampleSource inner) : ISampleSource
    {
        public List<int[]> Calls { get; } = [];

        public int Count => inner.Count;

        public IReadOnlyList<int> Labels => inner.Labels;

        public Tensor Inputs(IReadOnlyList<int> indices, Device? device = null)
        {
            Calls.Add([.. indices]);
            return inner.Inputs(indices, device);
        }
    }
}
