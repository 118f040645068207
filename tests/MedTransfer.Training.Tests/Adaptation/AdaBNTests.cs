using MedTransfer.Training.Adaptation;
using MedTransfer.Training.Runtime;
using MedTransfer.Training.Tests.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedTransfer.Training.Tests.Adaptation;

[Collection(TorchCollection.Name)]
public sealed class AdaBNTests
{
    public AdaBNTests() => TorchRuntime.EnsureAvailable();

    [Fact]
    public void Recompute_TwoBatches_RunningStatsAreCumulativeAverageOfBatchStats_ModesAndMomentumRestored()
    {
        manual_seed(7);
        using var model = nn.Sequential(("drop", nn.Dropout(0.5)), ("bn", nn.BatchNorm1d(3, momentum: 0.1)));
        var bn = (BatchNorm1d)model.modules().OfType<BatchNorm1d>().Single();
        model.eval();
        double[][] a = Reference.Matrix(4, 3, 1, 2.0, 5.0);
        double[][] b = Reference.Matrix(4, 3, 2, 1.0, -1.0);
        using Tensor ta = Reference.ToTensor(a);
        using Tensor tb = Reference.ToTensor(b);

        BatchNormRecomputeResult result = AdaBN.Recompute(model, [ta, tb]);

        Assert.Equal(new BatchNormRecomputeResult(1, 2, 8), result);
        float[] mean = bn.running_mean!.data<float>().ToArray();
        float[] var = bn.running_var!.data<float>().ToArray();
        for (int k = 0; k < 3; k++)
        {
            double[] ca = [.. a.Select(r => r[k])];
            double[] cb = [.. b.Select(r => r[k])];
            double va = ca.Sum(v => (v - ca.Average()) * (v - ca.Average())) / 3;
            double vb = cb.Sum(v => (v - cb.Average()) * (v - cb.Average())) / 3;
            Assert.Equal((ca.Average() + cb.Average()) / 2, mean[k], 1e-5);
            Assert.Equal((va + vb) / 2, var[k], 1e-4);
        }

        Assert.Equal(0.1, bn.momentum);
        Assert.False(model.training);
        Assert.All(model.modules(), m => Assert.False(m.training));
    }

    [Fact]
    public void Recompute_TrainModeModel_StaysInTrainMode()
    {
        using var model = nn.Sequential(("bn", nn.BatchNorm1d(2)));
        model.train();
        using Tensor x = Reference.ToTensor(Reference.Matrix(5, 2, 3));

        AdaBN.Recompute(model, [x]);

        Assert.All(model.modules(), m => Assert.True(m.training));
    }

    [Fact]
    public void Recompute_NoBatches_ThrowsTyped()
    {
        using var model = nn.Sequential(("bn", nn.BatchNorm1d(2)));

        var ex = Assert.Throws<AdaptationException>(() => AdaBN.Recompute(model, []));

        Assert.Equal(AdaptationErrorCode.InvalidData, ex.Code);
    }

    [Fact]
    public void TestTime_DefaultIsNone_LeavesModelUnchanged()
    {
        manual_seed(2);
        using var model = nn.Sequential(("fc", nn.Linear(3, 3)), ("bn", nn.BatchNorm1d(3)), ("out", nn.Linear(3, 2)));
        model.eval();
        using Tensor x = Reference.ToTensor(Reference.Matrix(6, 3, 4, 1.0, 3.0));
        using Tensor before = model.modules().OfType<BatchNorm1d>().Single().running_mean!.clone();

        using Tensor logits = TestTimeAdaptation.Predict(model, x);

        Assert.Equal(new long[] { 6, 2 }, logits.shape);
        Assert.True(model.modules().OfType<BatchNorm1d>().Single().running_mean!.eq(before).all().item<bool>());
    }

    [Fact]
    public void TestTime_AdaBN_UsesBatchStatistics()
    {
        manual_seed(2);
        using var model = nn.Sequential(("bn", nn.BatchNorm1d(3, affine: false)));
        model.eval();
        using Tensor x = Reference.ToTensor(Reference.Matrix(8, 3, 5, 1.0, 4.0));

        using Tensor y = TestTimeAdaptation.Predict(model, x, new TestTimeAdaptationOptions(TestTimeAdaptationMode.AdaBN));

        // Normalised with the batch's own mean: every column of the output has mean ≈ 0.
        using Tensor colMeans = y.mean([0]);
        Assert.All(colMeans.data<float>().ToArray(), m => Assert.Equal(0.0, m, 1e-5));
    }

    [Fact]
    public void TestTime_Tent_UpdatesOnlyBatchNormAffine_LowersEntropy_RestoresFlags()
    {
        manual_seed(4);
        using var model = nn.Sequential(("fc", nn.Linear(4, 6)), ("bn", nn.BatchNorm1d(6)), ("relu", nn.ReLU()), ("out", nn.Linear(6, 3)));
        model.eval();
        using Tensor x = Reference.ToTensor(Reference.Matrix(16, 4, 6, 1.0, 0.5));
        Dictionary<string, Tensor> before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        using Tensor runningBefore = model.modules().OfType<BatchNorm1d>().Single().running_mean!.clone();
        double entropyBefore;
        using (var s = NewDisposeScope())
        {
            entropyBefore = AdaptationLosses.EntropyMinimization(TestTimeAdaptation.Predict(model, x, new TestTimeAdaptationOptions(TestTimeAdaptationMode.Tent, TentSteps: 1, TentLearningRate: 1e-12))).item<float>();
        }

        using Tensor logits = TestTimeAdaptation.Predict(model, x, new TestTimeAdaptationOptions(TestTimeAdaptationMode.Tent, TentSteps: 10, TentLearningRate: 0.5));

        double entropyAfter = AdaptationLosses.EntropyMinimization(logits).item<float>();
        Assert.True(entropyAfter < entropyBefore, $"TENT should lower the batch entropy ({entropyBefore} → {entropyAfter})");
        foreach ((string name, Tensor p) in model.named_parameters())
        {
            bool same = p.eq(before[name]).all().item<bool>();
            Assert.True(name.StartsWith("bn.", StringComparison.Ordinal) ? !same : same, $"{name} changed: {!same}");
            Assert.True(p.requires_grad);
        }

        Assert.True(model.modules().OfType<BatchNorm1d>().Single().running_mean!.eq(runningBefore).all().item<bool>(), "TENT must not move the running statistics");
        Assert.All(model.modules(), m => Assert.False(m.training));
        foreach (Tensor t in before.Values)
        {
            t.Dispose();
        }
    }
}
