using Xunit.Abstractions;
using MedTransfer.Training.Adaptation;
using MedTransfer.Training.Configuration;
using MedTransfer.Training.Data;
using MedTransfer.Training.FineTuning;
using MedTransfer.Training.Models;
using MedTransfer.Training.Tests.FineTuning;
using MedTransfer.Training.Runtime;
using MedTransfer.Training.Tests.Runtime;
using static TorchSharp.torch;

namespace MedTransfer.Training.Tests.Adaptation;

/// <summary>
/// Behaviour on generated 8-D two-domain data with a known covariate shift (<see cref="TwoDomainData"/>: target axes
/// 1…7 shifted by +2 and scaled ×2), trained by the one trainer on a small vector model (an MLP backbone, a
/// tllib-style bottleneck Linear → BN → ReLU and a linear head), 300 steps, seeds 1 and 2, all against the source-only
/// run with the same seeds. The proxy A-distance (PAD) is measured on held-out samples of both domains. Measured here
/// (mean of the two seeds; source-only PAD 1.10, source accuracy 0.898, target accuracy 0.769): DANN PAD 0.35,
/// CORAL 0.61, DAN 0.20, JAN 0.16, each keeping source accuracy at 0.91–0.92; MCC does not align the marginals
/// (PAD 1.39) but raises target accuracy to 0.839.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class AdaptationBehaviourTests
{
    private const int Dim = 8;
    private static readonly int[] s_seeds = [1, 2];
    private static readonly Lazy<Outcome> s_sourceOnly = new(() => Mean(AdaptationMethods.SourceOnly));

    private readonly ITestOutputHelper _output;

    public AdaptationBehaviourTests(ITestOutputHelper output)
    {
        _output = output;
        TorchRuntime.EnsureAvailable();

        // Tiny tensors: one intra-op thread avoids libtorch's thread hand-offs on a shared 2-core machine (and keeps
        // the float reduction order, hence the results, identical from run to run).
        set_num_threads(1);
    }

    [Theory]
    [InlineData("dann", 0.25)]
    [InlineData("coral", 0.4)]
    [InlineData("dan", 0.5)]
    [InlineData("jan", 0.5)]
    public void AlignmentMethods_ReduceProxyADistance_KeepSourceAccuracy(string method, double minimumDrop)
    {
        Outcome baseline = s_sourceOnly.Value;

        Outcome adapted = Mean(method);
        _output.WriteLine($"{method}: PAD {adapted.Pad:0.000} (source-only {baseline.Pad:0.000}), source accuracy {adapted.SourceAccuracy:0.000} ({baseline.SourceAccuracy:0.000}), target accuracy {adapted.TargetAccuracy:0.000} ({baseline.TargetAccuracy:0.000})");

        Assert.True(baseline.Pad > 1.0, $"the generated shift must be visible to a linear probe (source-only PAD {baseline.Pad:0.000})");
        Assert.True(adapted.Pad <= baseline.Pad - minimumDrop, $"{method}: PAD {adapted.Pad:0.000} vs source-only {baseline.Pad:0.000}");
        Assert.True(adapted.SourceAccuracy >= baseline.SourceAccuracy - 0.05, $"{method}: source accuracy {adapted.SourceAccuracy:0.000} vs {baseline.SourceAccuracy:0.000}");
    }

    [Fact]
    public void Mcc_RaisesTargetAccuracy_KeepsSourceAccuracy()
    {
        Outcome baseline = s_sourceOnly.Value;

        Outcome adapted = Mean(AdaptationMethods.Mcc);
        _output.WriteLine($"mcc: PAD {adapted.Pad:0.000} (source-only {baseline.Pad:0.000}), target accuracy {adapted.TargetAccuracy:0.000} ({baseline.TargetAccuracy:0.000})");

        Assert.True(adapted.TargetAccuracy >= baseline.TargetAccuracy + 0.02, $"MCC target accuracy {adapted.TargetAccuracy:0.000} vs source-only {baseline.TargetAccuracy:0.000}");
        Assert.True(adapted.SourceAccuracy >= baseline.SourceAccuracy - 0.05, $"MCC source accuracy {adapted.SourceAccuracy:0.000} vs {baseline.SourceAccuracy:0.000}");
    }

    private static Outcome Mean(string method)
    {
        Outcome[] runs = [.. s_seeds.Select(s => Train(method, s))];
        return new Outcome(runs.Average(r => r.Pad), runs.Average(r => r.SourceAccuracy), runs.Average(r => r.TargetAccuracy));
    }

    private static Outcome Train(string method, int seed)
    {
        using var scope = NewDisposeScope();
        (Tensor xs, Tensor ys) = TwoDomainData.Make(400, Dim, 100 + seed);
        (Tensor xt, _) = TwoDomainData.Make(300, Dim, 200 + seed, shift: 2, scale: 2);
        (Tensor xsTest, Tensor ysTest) = TwoDomainData.Make(400, Dim, 300 + seed);
        (Tensor xtTest, Tensor ytTest) = TwoDomainData.Make(400, Dim, 400 + seed, shift: 2, scale: 2);
        using TransferModel model = VectorModels.Mlp(Dim, seed: seed);
        using var source = TensorSamples.Labelled(xs, ys);
        using var target = new TensorSamples(xt);
        FineTuneConfig config = VectorModels.Config(method, iterations: 300, batch: 32, seed: seed) with
        {
            WeightDecay = 1e-3,
            Schedule = "dann",
            DannGamma = 0.3,
            Snapshots = 1,
            Adaptation = new AdaptationConfig { Method = method, DiscriminatorWidth = 32 },
        };

        new TransferTrainer(config).Fit(model, new TrainingData(source, null, target)).Dispose();

        return new Outcome(
            TwoDomainData.ProxyA(model.Features, xsTest, xtTest),
            TwoDomainData.Accuracy(model.Features, model.Classifier, xsTest, ysTest),
            TwoDomainData.Accuracy(model.Features, model.Classifier, xtTest, ytTest));
    }

    private sealed record Outcome(double Pad, double SourceAccuracy, double TargetAccuracy);
}
