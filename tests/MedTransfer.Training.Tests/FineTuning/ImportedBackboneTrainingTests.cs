using MedTransfer.Training.Configuration;
using MedTransfer.Training.FineTuning;
using MedTransfer.Training.Models;
using MedTransfer.Training.Tests.Backbones;
using MedTransfer.Training.Tests.Runtime;
using static TorchSharp.torch;

namespace MedTransfer.Training.Tests.FineTuning;

/// <summary>The one trainer on an imported non-ResNet backbone (MobileNet/DenseNet blocks): stages freeze, rates and unfreezing follow the stride-named stages.</summary>
[Collection(TorchCollection.Name)]
public sealed class ImportedBackboneTrainingTests
{
    private static FineTuneConfig Config(string strategy, string? from) => new()
    {
        ImageSize = 32,
        Strategy = strategy,
        TrainableFrom = from,
        BatchSize = 4,
        Iterations = 3,
        LearningRate = 0.05,
        Schedule = "constant",
        Snapshots = 1,
        Head = "linear",
        Seed = 3,
    };

    private static TransferModel Model() => TransferModel.Create(ImportedBackbones.MobileDenseNet(), "linear", 0, 2, 3);

    private static string? StageOf(string key) =>
        key.StartsWith("features.backbone.graph.", StringComparison.Ordinal) ? key["features.backbone.graph.".Length..].Split('_')[0] : null;

    [Theory]
    [InlineData("stage2")] // the dense block and the transition after it train; the stem and the inverted residual stay
    [InlineData("stage1")]
    public void TrainableFrom_FreezesEarlierStages_WeightsAndBatchNormStatistics_AndCachesTheFrozenPrefix(string from)
    {
        FineTuneConfig config = Config(StrategyNames.Full, from);
        using TransferModel model = Model();
        var before = model.state_dict().ToDictionary(k => k.Key, k => k.Value.detach().clone(), StringComparer.Ordinal);
        using TrainingOutcome outcome = new TransferTrainer(config, CPU).Fit(model, new TrainingData(TinyImages.Create(12, 32, 1)));
        Dictionary<string, Tensor> after = model.state_dict();
        int fromRank = int.Parse(from["stage".Length..], System.Globalization.CultureInfo.InvariantCulture);
        int frozenSeen = 0, trainedSeen = 0;
        foreach ((string key, Tensor value) in before)
        {
            if (StageOf(key) is not { } stage || key.EndsWith("num_batches_tracked", StringComparison.Ordinal))
            {
                continue;
            }

            int rank = stage == "stem" ? 0 : int.Parse(stage["stage".Length..], System.Globalization.CultureInfo.InvariantCulture);
            bool frozen = rank < fromRank;
            bool same = value.eq(after[key]).all().item<bool>();
            Assert.True(frozen == same, $"{key}: frozen={frozen}, unchanged={same}");
            frozenSeen += frozen ? 1 : 0;
            trainedSeen += frozen ? 0 : 1;
        }

        Assert.True(frozenSeen > 0 && trainedSeen > 0);
        Assert.Contains(before.Keys, k => k.Contains("_bn", StringComparison.Ordinal) && k.EndsWith("running_mean", StringComparison.Ordinal) && StageOf(k) == "stem");
        Assert.True(outcome.CachedActivations, "the frozen prefix should run once: the stage boundary is a single-tensor cut");
        Assert.Equal(from, outcome.TrainableFrom);
    }

    [Fact]
    public void GradualUnfreezing_AndDiscriminativeRates_UseTheImportedStages()
    {
        FineTuneConfig gradual = Config(StrategyNames.GradualUnfreezing, "stage1") with { UnfreezeEvery = 2 };
        using TransferModel model = Model();
        var notes = new List<string>();
        var before = model.state_dict().ToDictionary(k => k.Key, k => k.Value.detach().clone(), StringComparer.Ordinal);
        using (new TransferTrainer(gradual, CPU, new Progress(e => { if (e.Message is { } m) { notes.Add(m); } })).Fit(model, new TrainingData(TinyImages.Create(12, 32, 2))))
        {
        }

        // Three steps, one more stage every two, from the top: the head alone at steps 0 and 1, stage3 from step 2.
        Assert.Contains(notes, n => n.Contains("stage3 unfrozen at step 2", StringComparison.Ordinal));
        Dictionary<string, Tensor> after = model.state_dict();
        Assert.All(before.Where(kv => StageOf(kv.Key) is "stage1" or "stage2"), kv => Assert.True(kv.Value.eq(after[kv.Key]).all().item<bool>(), kv.Key));
        Assert.Contains(before.Where(kv => StageOf(kv.Key) == "stage3"), kv => !kv.Value.eq(after[kv.Key]).all().item<bool>());

        using TransferModel other = Model();
        IReadOnlyList<(string Stage, IReadOnlyList<(string Name, TorchSharp.Modules.Parameter Parameter)> Parameters)> stages = other.BackboneStages();
        Assert.Equal(["stem", "stage1", "stage2", "stage3"], stages.Select(s => s.Stage));
    }

    private sealed class Progress(Action<TrainingEvent> onEvent) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value) => onEvent(value);
    }
}
