using MedTransfer.Training.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace MedTransfer.Training.Tests.Runtime;

/// <summary>Proves that libtorch loads on this OS (with the loader fix) and really computes.
/// Global torch state: kept in one sequential collection.</summary>
[Collection(TorchCollection.Name)]
public sealed class TorchRuntimeTests
{
    [Fact]
    public void Probe_OnThisHost_LoadsLibtorchOnCpu()
    {
        TorchStatus status = TorchRuntime.Probe();

        Assert.True(status.Loaded, status.Error);
        Assert.NotEqual(LoaderFixState.Missing, status.LoaderFix);
        Assert.Equal(DeviceType.CPU, TorchRuntime.SelectDevice("cpu").type);
    }

    [Fact]
    public void TensorOp_MatrixProduct_MatchesHandComputedValues()
    {
        TorchRuntime.EnsureAvailable();
        using var scope = NewDisposeScope();
        Tensor a = tensor(new float[] { 1, 2, 3, 4 }, [2, 2]);
        Tensor b = tensor(new float[] { 5, 6, 7, 8 }, [2, 2]);

        float[] product = a.matmul(b).data<float>().ToArray();

        Assert.Equal(new float[] { 19, 22, 43, 50 }, product);
    }

    [Fact]
    public void Backward_QuadraticLoss_GivesAnalyticGradient()
    {
        TorchRuntime.EnsureAvailable();
        using var scope = NewDisposeScope();
        Tensor x = tensor(new float[] { 1f, -2f, 3f }, requires_grad: true);

        Tensor loss = (x * x).sum() + (3 * x).sum();
        loss.backward();

        // d/dx (x² + 3x) = 2x + 3
        Assert.Equal(new float[] { 5f, -1f, 9f }, x.grad!.data<float>().ToArray());
    }

    [Fact]
    public void SmallConvNet_TrainingSteps_ReduceLossOnSeparableData()
    {
        TorchRuntime.EnsureAvailable();
        manual_seed(1234);
        var net = nn.Sequential(
            ("conv", nn.Conv2d(1, 4, kernel_size: 3, padding: 1)),
            ("bn", nn.BatchNorm2d(4)),
            ("relu", nn.ReLU()),
            ("pool", nn.AdaptiveAvgPool2d(1)),
            ("flat", nn.Flatten()),
            ("fc", nn.Linear(4, 2)));
        var optimizer = optim.SGD(net.parameters(), learningRate: 0.1, momentum: 0.9);

        // Class 1 images are bright, class 0 images dark: any working conv net learns this quickly.
        Tensor images;
        Tensor labels;
        using (var setup = NewDisposeScope())
        {
            Tensor noise = rand(32, 1, 8, 8) * 0.2f;
            Tensor y = cat([zeros(16, dtype: int64), ones(16, dtype: int64)]);
            Tensor brightness = y.to_type(float32).reshape(32, 1, 1, 1);
            images = (noise + brightness).MoveToOuterDisposeScope();
            labels = y.MoveToOuterDisposeScope();
        }

        float first = 0f;
        float last = 0f;
        for (int step = 0; step < 30; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            Tensor loss = nn.functional.cross_entropy(net.forward(images), labels);
            loss.backward();
            optimizer.step();
            float value = loss.item<float>();
            if (step == 0)
            {
                first = value;
            }

            last = value;
        }

        Assert.True(last < first * 0.5f, $"loss went from {first} to {last}");
        images.Dispose();
        labels.Dispose();
        net.Dispose();
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchCollection
{
    public const string Name = "torch global state";
}
