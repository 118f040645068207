using MedTransfer.Training.Adaptation;
using MedTransfer.Training.Data;
using MedTransfer.Training.FineTuning;
using MedTransfer.Training.Models;
using MedTransfer.Training.Runtime;
using MedTransfer.Training.Tests.FineTuning;
using MedTransfer.Training.Tests.Runtime;
using static TorchSharp.torch;

namespace MedTransfer.Training.Tests.Adaptation;

/// <summary>SHOT: its loss against a hand evaluation, its pseudo-labels, and the trainer's source-free mode.</summary>
[Collection(TorchCollection.Name)]
public sealed class ShotTests
{
    public ShotTests()
    {
        TorchRuntime.EnsureAvailable();
        set_num_threads(1);
    }

    [Fact]
    public void Loss_MatchesMeanEntropyMinusEntropyOfTheMeanPlusBetaCrossEntropy()
    {
        using var scope = NewDisposeScope();
        double[][] logits = Reference.Matrix(6, 3, 7, 2);
        long[] pseudo = [0, 2, 1, 1, 0, 2];
        double[][] p = [.. logits.Select(r => Reference.Softmax(r))];
        double meanEntropy = p.Average(Reference.Entropy);
        double[] mean = [.. Enumerable.Range(0, 3).Select(k => p.Average(r => r[k]))];
        double ce = pseudo.Select((y, i) => -Math.Log(p[i][y])).Average();
        double expected = meanEntropy - Reference.Entropy(mean) + (0.3 * ce);

        double actual = AdaptationLosses.Shot(Reference.ToTensor(logits), tensor(pseudo), 0.3).item<float>();
        double imOnly = AdaptationLosses.Shot(Reference.ToTensor(logits), tensor(pseudo), 0).item<float>();

        Assert.Equal(expected, actual, 1e-5);
        Assert.Equal(meanEntropy - Reference.Entropy(mean), imOnly, 1e-5);
    }

    [Fact]
    public void PseudoLabels_TwoClusters_FollowTheClustersNotTheClassifier()
    {
        // Two tight clusters; the classifier is confident about cluster A and unsure about B, yet every point of B
        // must be labelled by its cluster's centroid, and one point of A with a wrong prediction relabelled.
        double[][] features = [[1, 0.1], [1, -0.1], [0.9, 0], [-1, 0.1], [-1, -0.1], [-0.9, 0]];
        double[][] probabilities = [[0.9, 0.1], [0.9, 0.1], [0.4, 0.6], [0.45, 0.55], [0.4, 0.6], [0.3, 0.7]];

        int[] labels = ShotPseudoLabels.Compute(features, probabilities);

        Assert.Equal([0, 0, 0, 1, 1, 1], labels);
        Assert.Throws<ArgumentException>(() => ShotPseudoLabels.Compute(features, probabilities[..3]));
    }

    [Fact]
    public void Fit_Shot_KeepsTheClassifier_MovesTheFeatures_UsesNoLabelledData()
    {
        using var scope = NewDisposeScope();
        (Tensor xt, _) = TwoDomainData.Make(30, 4, 2, 1.5, 1.5);
        using var target = new TensorSamples(xt);
        using TransferModel model = VectorModels.Mlp(4, seed: 3);
        float[] classifier = [.. model.Classifier.parameters().SelectMany(p => p.data<float>().ToArray())];
        float[] bottleneck = [.. model.HeadParameters().Where(p => !p.Name.StartsWith("classifier.", StringComparison.Ordinal)).SelectMany(p => p.Parameter.data<float>().ToArray())];
        var events = new List<TrainingEvent>();

        // The labelled slot holds the unlabelled target: a source-free method never reads it.
        using TrainingOutcome outcome = new TransferTrainer(VectorModels.Config("shot", iterations: 12) with { Seed = 3 }, CPU, new Sink(events.Add)).Fit(model, new TrainingData(target, null, target));

        Assert.Equal(classifier, model.Classifier.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray());
        Assert.NotEqual(bottleneck, model.HeadParameters().Where(p => !p.Name.StartsWith("classifier.", StringComparison.Ordinal)).SelectMany(p => p.Parameter.data<float>().ToArray()).ToArray());
        Assert.All(events.Where(e => e.Phase == "train"), e => Assert.True(double.IsFinite(e.Loss)));
        Assert.Contains("target", Assert.Throws<ArgumentException>(() => new TransferTrainer(VectorModels.Config("shot", iterations: 2)).Fit(model, new TrainingData(target))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_Shot_ResumedMidPass_EqualsAnUninterruptedRun()
    {
        string dir = MedTransfer.Testing.TestPaths.NewTempDirectory();
        try
        {
            // 30 target samples in batches of 8: a pass is 3 steps, so step 4 is inside the second pass and the
            // resumed run must reuse the pseudo-labels stored in the checkpoint, not relabel with moved weights.
            var config = VectorModels.Config("shot", iterations: 9) with { Seed = 4 };
            using var scope = NewDisposeScope();
            (Tensor xt, _) = TwoDomainData.Make(30, 4, 2, 1.5, 1.5);
            using var target = new TensorSamples(xt);
            var data = new TrainingData(target, null, target);
            float[] uninterrupted;
            using (TransferModel once = VectorModels.Mlp(4, seed: 4))
            {
                using TrainingOutcome o = new TransferTrainer(config).Fit(once, data);
                uninterrupted = [.. once.parameters().SelectMany(p => p.data<float>().ToArray())];
            }

            var policy = new CheckpointPolicy(dir, Every: 4);
            using var cts = new CancellationTokenSource();
            using (TransferModel first = VectorModels.Mlp(4, seed: 4))
            {
                var stopper = new Sink(e =>
                {
                    if (e.Phase == "train" && e.Step == 4)
                    {
                        cts.Cancel();
                    }
                });
                Assert.Throws<OperationCanceledException>(() => new TransferTrainer(config, CPU, stopper).Fit(first, data, policy, cts.Token));
            }

            using TransferModel second = VectorModels.Mlp(4, seed: 4);
            using TrainingOutcome resumed = new TransferTrainer(config).Fit(second, data, policy);

            Assert.Equal(4, resumed.ResumedFromStep);
            Assert.Equal(uninterrupted, second.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private sealed class Sink(Action<TrainingEvent> onEvent) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value) => onEvent(value);
    }
}
