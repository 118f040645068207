using MedTransfer.Training.Adaptation;
using MedTransfer.Training.Runtime;
using MedTransfer.Training.Tests.Runtime;
using static TorchSharp.torch;

namespace MedTransfer.Training.Tests.Adaptation;

[Collection(TorchCollection.Name)]
public sealed class GradientReversalTests
{
    public GradientReversalTests() => TorchRuntime.EnsureAvailable();

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.37)]
    [InlineData(1.0)]
    [InlineData(2.5)]
    public void Apply_ForwardIsExactIdentity_BackwardIsMinusLambdaTimesGrad(double lambda)
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new float[] { 1.5f, -2.25f, 0.1f, 3f }, requires_grad: true);
        Tensor upstream = tensor(new float[] { 0.5f, -1f, 2f, 4f });

        Tensor y = GradientReversal.Apply(x, lambda);
        (y * upstream).sum().backward();

        Assert.True(y.eq(x).all().item<bool>(), "forward must be the identity bit for bit");
        float[] grad = x.grad!.data<float>().ToArray();
        float[] up = upstream.data<float>().ToArray();
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(-lambda * up[i], grad[i], 1e-6);
        }
    }

    [Fact]
    public void Layer_UsesCurrentLambda()
    {
        using var scope = NewDisposeScope();
        using var layer = new GradientReversalLayer(1.0) { Lambda = 0.25 };
        Tensor x = ones(3, requires_grad: true);

        layer.forward(x).sum().backward();

        Assert.All(x.grad!.data<float>().ToArray(), g => Assert.Equal(-0.25f, g));
    }

    [Fact]
    public void Apply_NonFiniteLambda_ThrowsTyped()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<AdaptationException>(() => GradientReversal.Apply(ones(2), double.NaN));
    }
}

public sealed class LambdaScheduleTests
{
    [Theory]
    [InlineData(1000, 0.462)]
    [InlineData(3000, 0.905)]
    [InlineData(5000, 0.987)]
    public void Tllib_Defaults_ReproduceIssueValues(long step, double expected)
    {
        double value = LambdaSchedule.TllibDefault.At(step, 10_000);

        Assert.Equal(expected, value, 1e-3);
        Assert.Equal((2.0 / (1 + Math.Exp(-step / 1000.0))) - 1, value, 1e-12);
    }

    [Fact]
    public void Tllib_Range_SpansLoToHi()
    {
        var s = new LambdaSchedule(LambdaScheduleKind.Tllib, Lo: 0.2, Hi: 0.8);

        Assert.Equal(0.2, s.At(0, 100), 1e-12);
        Assert.Equal(0.8, s.At(1_000_000, 100), 1e-9);
    }

    [Fact]
    public void Paper_StartsAtZero_HalfwayIsTwoOverOnePlusEMinusFiveMinusOne()
    {
        Assert.Equal(0.0, LambdaSchedule.PaperDefault.At(0, 1000), 1e-15);
        Assert.Equal(0.9866142981514305, LambdaSchedule.PaperDefault.At(500, 1000), 1e-12);
        Assert.Equal((2.0 / (1 + Math.Exp(-10))) - 1, LambdaSchedule.PaperDefault.At(1000, 1000), 1e-12);
    }

    [Fact]
    public void Constant_IsConstant()
    {
        Assert.Equal(0.3, LambdaSchedule.Constant(0.3).At(0, 10));
        Assert.Equal(0.3, LambdaSchedule.Constant(0.3).At(9, 10));
    }

    [Fact]
    public void At_BadArguments_ThrowTyped()
    {
        Assert.Throws<AdaptationException>(() => LambdaSchedule.PaperDefault.At(-1, 10));
        Assert.Throws<AdaptationException>(() => LambdaSchedule.PaperDefault.At(0, 0));
        Assert.Throws<AdaptationException>(() => new LambdaSchedule(LambdaScheduleKind.Tllib, MaxIters: 0).At(1, 10));
    }
}
