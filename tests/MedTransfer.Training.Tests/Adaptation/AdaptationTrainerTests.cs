using MedTransfer.Training.Adaptation;
using MedTransfer.Training.Runtime;
using MedTransfer.Training.Tests.Runtime;
using static TorchSharp.torch;

namespace MedTransfer.Training.Tests.Adaptation;

[Collection(TorchCollection.Name)]
public sealed class AdaptationTrainerTests
{
    public AdaptationTrainerTests()
    {
        TorchRuntime.EnsureAvailable();
        set_num_threads(1);
    }

    [Fact]
    public void Run_SameSeedTwice_BitIdenticalWeights_DifferentSeedDiffers()
    {
        // Dropout in the discriminator and shuffling both draw from the seed.
        var config = new AdaptationConfig { Method = "dann", DiscriminatorWidth = 16, DiscriminatorDropout = 0.5 };

        float[] a = TrainAndFlatten(config, seed: 5);
        float[] b = TrainAndFlatten(config, seed: 5);
        float[] c = TrainAndFlatten(config, seed: 6);

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Run_ClassWeightsAndLabelSmoothing_EnterTheClassificationLoss()
    {
        // One source-only step over the whole (fixed) batch: the event's loss must equal the weighted,
        // smoothed cross-entropy written out from its definition on the same logits.
        var r = new Random(2);
        float[] x = [.. Enumerable.Range(0, 8 * 3).Select(_ => (float)(r.NextDouble() - 0.5))];
        long[] y = [0, 1, 1, 1, 0, 1, 1, 1];
        using var f = nn.Identity();
        using var g = nn.Linear(3, 2);
        double[] weights = [2.0, 0.5];
        const double Epsilon = 0.1;
        double expected;
        using (no_grad())
        {
            float[] logits = g.forward(tensor(x, [8, 3])).data<float>().ToArray();
            double num = 0, den = 0;
            for (int i = 0; i < 8; i++)
            {
                double l0 = logits[i * 2], l1 = logits[(i * 2) + 1];
                double m = Math.Max(l0, l1);
                double lse = m + Math.Log(Math.Exp(l0 - m) + Math.Exp(l1 - m));
                double[] logp = [l0 - lse, l1 - lse];
                int c = (int)y[i];

                // PyTorch's definition: (1−ε)·w_y·(−log p_y) + ε/K·Σ_k w_k·(−log p_k), normalised by Σ w_y.
                num += ((1 - Epsilon) * weights[c] * -logp[c]) + (Epsilon / 2 * ((weights[0] * -logp[0]) + (weights[1] * -logp[1])));
                den += weights[c];
            }

            expected = num / den;
        }

        var events = new List<AdaptationStepEvent>();
        using var source = new TensorDataSource(tensor(x, [8, 3]), tensor(y));
        using var target = new TensorDataSource(tensor(x, [8, 3]));
        new AdaptationTrainer(f, g, new AdaptationConfig { Method = "source-only" }, new AdaptationTrainerOptions { Steps = 1, BatchSize = 8, ClassWeights = weights, LabelSmoothing = Epsilon })
            .Run(source, [target], new Sink(events.Add));
        Assert.Equal(expected, events[0].ClassificationLoss, 1e-5);
        Assert.Throws<AdaptationException>(() => new AdaptationTrainerOptions { ClassWeights = [-1.0, 1.0] }.Validate());
    }

    private sealed class Sink(Action<AdaptationStepEvent> report) : IProgress<AdaptationStepEvent>
    {
        public void Report(AdaptationStepEvent value) => report(value);
    }

    [Fact]
    public void Run_Events_CarryScheduledLambdaAnnealedLrAndDiscriminatorAccuracy()
    {
        var events = new List<AdaptationStepEvent>();
        var options = new AdaptationTrainerOptions { Steps = 12, BatchSize = 8, Seed = 1, LearningRate = 0.02, AnnealGamma = 0.5 };
        var config = new AdaptationConfig { Method = "dann", DiscriminatorWidth = 8, Schedule = LambdaSchedule.TllibDefault with { MaxIters = 4 } };

        AdaptationRunResult result = Run(config, options, events.Add);

        Assert.Equal(12, events.Count);
        Assert.Equal("dann", result.Method);
        Assert.Same(events[^1], result.Last);
        for (int i = 0; i < 12; i++)
        {
            AdaptationStepEvent e = events[i];
            Assert.Equal(i + 1, e.Step);
            Assert.Equal(12, e.TotalSteps);
            Assert.Equal((2.0 / (1 + Math.Exp(-i / 4.0))) - 1, e.Lambda, 1e-12);
            Assert.Equal(0.02 * Math.Pow(1 + (0.5 * i), -0.75), e.LearningRate, 1e-12);
            Assert.NotNull(e.DiscriminatorAccuracy);
            Assert.InRange(e.DiscriminatorAccuracy!.Value, 0, 1);
            Assert.Equal(e.ClassificationLoss + e.TransferLoss, e.TotalLoss, 1e-4);
            Assert.Null(e.Warning);
        }
    }

    [Fact]
    public void Run_NonAdversarial_NoDiscriminatorAccuracy_TradeOffWeightsTransfer()
    {
        var events = new List<AdaptationStepEvent>();
        var config = new AdaptationConfig { Method = "coral", TradeOff = 3 };

        Run(config, new AdaptationTrainerOptions { Steps = 4, BatchSize = 8, AnnealLearningRate = false, LearningRate = 0.01 }, events.Add);

        Assert.All(events, e => Assert.Null(e.DiscriminatorAccuracy));
        Assert.All(events, e => Assert.Equal(0.01, e.LearningRate));
        Assert.All(events, e => Assert.Equal(e.ClassificationLoss + (3 * e.TransferLoss), e.TotalLoss, 1e-4));
        Assert.Contains(events, e => e.TransferLoss > 0);
    }

    [Fact]
    public void Run_AnnealByProgress_UsesPaperForm()
    {
        var events = new List<AdaptationStepEvent>();

        Run(new AdaptationConfig(), new AdaptationTrainerOptions { Steps = 5, BatchSize = 8, LearningRate = 0.01, AnnealGamma = 10, AnnealByProgress = true }, events.Add);

        Assert.Equal([.. Enumerable.Range(0, 5).Select(i => 0.01 * Math.Pow(1 + (10.0 * i / 5), -0.75))], events.Select(e => e.LearningRate));
    }

    [Fact]
    public void Run_SourceOnly_TransferLossZero()
    {
        var events = new List<AdaptationStepEvent>();

        Run(new AdaptationConfig(), new AdaptationTrainerOptions { Steps = 3, BatchSize = 8 }, events.Add);

        Assert.All(events, e => Assert.Equal(0.0, e.TransferLoss));
    }

    [Fact]
    public void Run_UnequalSources_EachPassCoversDistinctSamples_AndReshuffles()
    {
        using var scope = NewDisposeScope();
        (Tensor xs, Tensor ys) = TwoDomainData.Make(10, 3, 1);
        (Tensor xt, _) = TwoDomainData.Make(7, 3, 2, 1);
        using var sourceInner = new TensorDataSource(xs, ys);
        using var targetInner = new TensorDataSource(xt);
        var source = new RecordingSource(sourceInner);
        var target = new RecordingSource(targetInner);
        manual_seed(1);
        using var f = TwoDomainData.FeatureExtractor(3);
        using var g = nn.Linear(8, 2);

        new AdaptationTrainer(f, g, new AdaptationConfig { Method = "mcc" }, new AdaptationTrainerOptions { Steps = 12, BatchSize = 4, Seed = 3 })
            .Run(source, [target]);

        // Probe call first (index 0), then 12 training batches each.
        List<int[]> s = source.Calls.Skip(1).ToList();
        List<int[]> t = target.Calls.ToList();
        Assert.Equal(12, s.Count);
        Assert.Equal(12, t.Count);
        Assert.All(s, batch => Assert.Equal(4, batch.Length));
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
    public void Run_TwoTargets_DrawnInTurn()
    {
        using var scope = NewDisposeScope();
        (Tensor xs, Tensor ys) = TwoDomainData.Make(20, 3, 1);
        (Tensor xt1, _) = TwoDomainData.Make(9, 3, 2, 1);
        (Tensor xt2, _) = TwoDomainData.Make(13, 3, 3, -1);
        using var source = new TensorDataSource(xs, ys);
        using var t1 = new TensorDataSource(xt1);
        using var t2 = new TensorDataSource(xt2);
        manual_seed(1);
        using var f = TwoDomainData.FeatureExtractor(3);
        using var g = nn.Linear(8, 2);
        var events = new List<AdaptationStepEvent>();

        new AdaptationTrainer(f, g, new AdaptationConfig { Method = "dan" }, new AdaptationTrainerOptions { Steps = 5, BatchSize = 4 })
            .Run(source, [t1, t2], new SyncProgress(events.Add));

        Assert.Equal([0, 1, 0, 1, 0], events.Select(e => e.TargetDomain));
    }

    [Fact]
    public void Run_SaturatedDiscriminator_WarnsAfterWindow()
    {
        var events = new List<AdaptationStepEvent>();
        var options = new AdaptationTrainerOptions { Steps = 6, BatchSize = 8, SaturationWindow = 3, SaturationAccuracy = 0.0 };

        AdaptationRunResult result = Run(new AdaptationConfig { Method = "cdan-e", DiscriminatorWidth = 8 }, options, events.Add);

        Assert.Equal([false, false, true, true, true, true], events.Select(e => e.Warning is not null));
        Assert.Contains("discriminator", events[^1].Warning!, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(4, result.SaturatedSteps);
    }

    [Fact]
    public void Run_AdaBN_RecomputesBatchNormOnAllTargetSamples()
    {
        using var scope = NewDisposeScope();
        (Tensor xs, Tensor ys) = TwoDomainData.Make(20, 3, 1);
        (Tensor xt, _) = TwoDomainData.Make(11, 3, 2, 3);
        using var source = new TensorDataSource(xs, ys);
        using var target = new TensorDataSource(xt);
        manual_seed(1);
        using var f = TwoDomainData.FeatureExtractor(3, batchNorm: true);
        using var g = nn.Linear(8, 2);

        AdaptationRunResult result = new AdaptationTrainer(f, g, new AdaptationConfig { Method = "adabn" }, new AdaptationTrainerOptions { Steps = 3, BatchSize = 4 })
            .Run(source, [target]);

        Assert.Equal(new BatchNormRecomputeResult(1, 3, 11), result.BatchNorm);
        Assert.False(f.training);
    }

    [Fact]
    public void Run_TargetOnly_NeedsTargetLabels_NoSource()
    {
        using var scope = NewDisposeScope();
        (Tensor xt, Tensor yt) = TwoDomainData.Make(16, 3, 2, 1);
        using var labelled = new TensorDataSource(xt, yt);
        using var unlabelled = new TensorDataSource(xt);
        manual_seed(1);
        using var f = TwoDomainData.FeatureExtractor(3);
        using var g = nn.Linear(8, 2);
        var trainer = new AdaptationTrainer(f, g, new AdaptationConfig { Method = "target-only" }, new AdaptationTrainerOptions { Steps = 2, BatchSize = 4 });

        AdaptationRunResult ok = trainer.Run(null, [labelled]);
        var ex = Assert.Throws<AdaptationException>(() => trainer.Run(null, [unlabelled]));

        Assert.Equal(2, ok.Steps);
        Assert.True(ok.Last.ClassificationLoss > 0);
        Assert.Equal(AdaptationErrorCode.InvalidData, ex.Code);
    }

    [Fact]
    public void Run_BadData_ThrowsTypedErrors()
    {
        using var scope = NewDisposeScope();
        (Tensor x, Tensor y) = TwoDomainData.Make(8, 3, 1);
        using var labelled = new TensorDataSource(x, y);
        using var unlabelled = new TensorDataSource(x);
        using var f = TwoDomainData.FeatureExtractor(3);
        using var g = nn.Linear(8, 2);
        var trainer = new AdaptationTrainer(f, g, new AdaptationConfig { Method = "dann" }, new AdaptationTrainerOptions { Steps = 1, BatchSize = 4 });

        Assert.Equal(AdaptationErrorCode.InvalidData, Assert.Throws<AdaptationException>(() => trainer.Run(unlabelled, [unlabelled])).Code);
        Assert.Equal(AdaptationErrorCode.InvalidData, Assert.Throws<AdaptationException>(() => trainer.Run(labelled, [])).Code);
        Assert.Equal(AdaptationErrorCode.InvalidData, Assert.Throws<AdaptationException>(() => trainer.Run(null, [unlabelled])).Code);
        (Tensor wide, _) = TwoDomainData.Make(8, 5, 2);
        using var wideTarget = new TensorDataSource(wide);
        Assert.Equal(AdaptationErrorCode.ShapeMismatch, Assert.Throws<AdaptationException>(() => trainer.Run(labelled, [wideTarget])).Code);
        Assert.Throws<AdaptationException>(() => new TensorDataSource(x, y[..3]));
        Assert.Throws<AdaptationException>(() => labelled.Load([8]));
        Assert.Throws<AdaptationException>(() => new AdaptationTrainer(f, g, new AdaptationConfig(), new AdaptationTrainerOptions { Steps = 0 }));
        Assert.Throws<UnknownAdaptationMethodException>(() => new AdaptationTrainer(f, g, new AdaptationConfig { Method = "nope" }, new AdaptationTrainerOptions()));
    }

    [Fact]
    public void Run_Cancelled_Throws()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.Throws<OperationCanceledException>(() => Run(new AdaptationConfig(), new AdaptationTrainerOptions { Steps = 2, BatchSize = 4 }, _ => { }, cts.Token));
    }

    [Fact]
    public void Run_AdamW_TrainsAndLowersSourceLoss()
    {
        var events = new List<AdaptationStepEvent>();

        Run(new AdaptationConfig { Method = "entropy", TradeOff = 0.1 }, new AdaptationTrainerOptions { Steps = 60, BatchSize = 16, Optimizer = AdaptationOptimizer.AdamW, LearningRate = 0.01, AnnealLearningRate = false }, events.Add);

        Assert.True(events.TakeLast(10).Average(e => e.ClassificationLoss) < events.Take(10).Average(e => e.ClassificationLoss));
    }

    [Theory]
    [InlineData("dann")]
    [InlineData("cdan-e")]
    [InlineData("jan")]
    [InlineData("adabn")]
    public void Run_LiveTensorCount_DoesNotGrowWithSteps(string method)
    {
        long Leak(int steps)
        {
            using var scope = NewDisposeScope();
            (Tensor xs, Tensor ys) = TwoDomainData.Make(40, 4, 1);
            (Tensor xt, _) = TwoDomainData.Make(30, 4, 2, 1.5, 1.5);
            using var source = new TensorDataSource(xs, ys);
            using var target = new TensorDataSource(xt);
            manual_seed(1);
            using var f = TwoDomainData.FeatureExtractor(4, batchNorm: true);
            using var g = nn.Linear(8, 2);
            var trainer = new AdaptationTrainer(f, g, new AdaptationConfig { Method = method, DiscriminatorWidth = 8 }, new AdaptationTrainerOptions { Steps = steps, BatchSize = 8 });
            long before = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            trainer.Run(source, [target]);
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

    private static AdaptationRunResult Run(AdaptationConfig config, AdaptationTrainerOptions options, Action<AdaptationStepEvent> onEvent, CancellationToken token = default)
    {
        using var scope = NewDisposeScope();
        (Tensor xs, Tensor ys) = TwoDomainData.Make(40, 4, 1);
        (Tensor xt, _) = TwoDomainData.Make(30, 4, 2, 1.5, 1.5);
        using var source = new TensorDataSource(xs, ys);
        using var target = new TensorDataSource(xt);
        manual_seed(options.Seed);
        using var f = TwoDomainData.FeatureExtractor(4);
        using var g = nn.Linear(8, 2);
        return new AdaptationTrainer(f, g, config, options).Run(source, [target], new SyncProgress(onEvent), token);
    }

    private static float[] TrainAndFlatten(AdaptationConfig config, int seed)
    {
        using var scope = NewDisposeScope();
        (Tensor xs, Tensor ys) = TwoDomainData.Make(40, 4, 1);
        (Tensor xt, _) = TwoDomainData.Make(30, 4, 2, 1.5, 1.5);
        using var source = new TensorDataSource(xs, ys);
        using var target = new TensorDataSource(xt);
        manual_seed(seed);
        using var f = TwoDomainData.FeatureExtractor(4, batchNorm: true);
        using var g = nn.Linear(8, 2);
        new AdaptationTrainer(f, g, config, new AdaptationTrainerOptions { Steps = 25, BatchSize = 8, Seed = seed }).Run(source, [target]);
        return [.. f.parameters().Concat(g.parameters()).SelectMany(p => p.data<float>().ToArray())];
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class SyncProgress(Action<AdaptationStepEvent> onEvent) : IProgress<AdaptationStepEvent>
    {
        public void Report(AdaptationStepEvent value) => onEvent(value);
    }

    private sealed class RecordingSource(IAdaptationDataSource inner) : IAdaptationDataSource
    {
        public List<int[]> Calls { get; } = [];

        public int Count => inner.Count;

        public bool HasLabels => inner.HasLabels;

        public AdaptationBatch Load(IReadOnlyList<int> indices)
        {
            Calls.Add([.. indices]);
            return inner.Load(indices);
        }
    }
}
