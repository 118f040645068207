using MedTransfer.Training.Adaptation;
using MedTransfer.Training.Runtime;
using MedTransfer.Training.Tests.Runtime;
using static TorchSharp.torch;

namespace MedTransfer.Training.Tests.Adaptation;

[Collection(TorchCollection.Name)]
public sealed class AdaptationMethodsTests
{
    public AdaptationMethodsTests() => TorchRuntime.EnsureAvailable();

    public static TheoryData<string> AllNames() => [.. AdaptationMethods.Names];

    [Fact]
    public void Names_AreTheStableLowercaseSet()
    {
        Assert.Equal(
            ["source-only", "target-only", "dann", "cdan", "cdan-e", "dan", "jan", "coral", "mcc", "entropy", "adabn", "shot"],
            AdaptationMethods.Names);
    }

    [Theory]
    [MemberData(nameof(AllNames))]
    public void Create_EveryName_GivesFiniteTransferLossWithGradientToFeatures(string name)
    {
        manual_seed(3);
        using var scope = NewDisposeScope();
        var config = new AdaptationConfig { Method = name, DiscriminatorWidth = 16 };
        using IAdaptationMethod method = AdaptationMethods.Create(config, featureDim: 4, classes: 3);
        Tensor fs = Reference.ToTensor(Reference.Matrix(6, 4, 1), requiresGrad: true);
        Tensor ft = Reference.ToTensor(Reference.Matrix(5, 4, 2, 1, 0.7), requiresGrad: true);
        Tensor ls = Reference.ToTensor(Reference.Matrix(6, 3, 3), requiresGrad: true);
        Tensor lt = Reference.ToTensor(Reference.Matrix(5, 3, 4), requiresGrad: true);
        method.SetTraining(true);

        TransferLossOutput output = method.TransferLoss(fs, ft, ls, lt, 1.0);

        Assert.Equal(name, method.Name);
        double value = output.Loss.item<float>();
        Assert.True(double.IsFinite(value));
        Assert.Equal(method.IsAdversarial, output.DiscriminatorAccuracy is not null);
        Assert.Equal(method.IsAdversarial, method.Parameters().Any());
        if (method.Role == AdaptationRole.Transfer)
        {
            Assert.True(value != 0, $"{name}: a transfer method must give a non-zero loss on shifted batches");
            output.Loss.backward();
            Tensor? g = name is "mcc" or "entropy" ? lt.grad : ft.grad;
            Assert.NotNull(g);
            Assert.True(g!.abs().sum().item<float>() > 0, $"{name}: no gradient reached the inputs");
        }
        else
        {
            Assert.Equal(0.0, value);
        }
    }

    [Fact]
    public void Cdan_AutoMap_RandomizedAboveLimit()
    {
        var config = new AdaptationConfig { Method = "cdan", DiscriminatorWidth = 8, CdanMultilinearLimit = 10, CdanRandomizedDim = 32 };
        using var small = (CdanMethod)AdaptationMethods.Create(config, featureDim: 4, classes: 2);
        using var large = (CdanMethod)AdaptationMethods.Create(config, featureDim: 6, classes: 2);

        Assert.False(small.UsesRandomizedMap);
        Assert.True(large.UsesRandomizedMap);
    }

    [Fact]
    public void Resolve_UnknownName_ThrowsTypedErrorListingValidNames()
    {
        var ex = Assert.Throws<UnknownAdaptationMethodException>(() => AdaptationMethods.Resolve("dannn"));

        Assert.Equal(AdaptationErrorCode.UnknownMethod, ex.Code);
        Assert.Equal(AdaptationMethods.Names, ex.ValidNames);
        Assert.Contains("cdan-e", ex.Message, StringComparison.Ordinal);
        Assert.Contains("dannn", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_CaseAndSpace_Normalised()
    {
        Assert.Equal("cdan-e", AdaptationMethods.Resolve("  CDAN-E "));
    }

    [Fact]
    public void Config_JsonRoundTrip_PreservesEveryField()
    {
        var config = new AdaptationConfig
        {
            Method = "jan",
            TradeOff = 0.3,
            Schedule = new LambdaSchedule(LambdaScheduleKind.Tllib, Alpha: 2, Hi: 0.5, MaxIters: 2000),
            ScheduleTransferWeight = true,
            DiscriminatorWidth = 256,
            DiscriminatorDepth = 3,
            DiscriminatorDropout = 0.5,
            DiscriminatorBatchNorm = false,
            KernelAlphas = [0.5, 1, 2],
            JanSoftmaxSigma = null,
            Temperature = 3,
            CdanMap = CdanMapKind.Randomized,
            CdanRandomizedDim = 512,
            CdanMultilinearLimit = 100,
        };

        string json = config.ToJson();
        AdaptationConfig back = AdaptationConfig.FromJson(json);

        Assert.Equal(json, back.ToJson());
        Assert.Equal(config with { KernelAlphas = back.KernelAlphas }, back);
        Assert.Equal(config.KernelAlphas, back.KernelAlphas);
        Assert.Contains("\"Tllib\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Config_FromJson_UnknownMethod_ThrowsUnknownMethod()
    {
        Assert.Throws<UnknownAdaptationMethodException>(() => AdaptationConfig.FromJson("{\"method\":\"mmd\"}"));
    }

    [Fact]
    public void Config_FromJson_PartialJson_UsesDefaults()
    {
        AdaptationConfig c = AdaptationConfig.FromJson("{\"method\":\"mcc\",\"temperature\":2.0}");

        Assert.Equal("mcc", c.Method);
        Assert.Equal(2.0, c.Temperature);
        Assert.Equal(1.0, c.TradeOff);
        Assert.Equal(AdaptationLosses.DefaultKernelAlphas, c.KernelAlphas);
    }

    [Theory]
    [InlineData("{\"method\":\"dann\",\"tradeOff\":-1}")]
    [InlineData("{\"method\":\"dann\",\"discriminatorDropout\":1.0}")]
    [InlineData("{\"method\":\"dan\",\"kernelAlphas\":[]}")]
    [InlineData("{\"method\":\"mcc\",\"temperature\":0}")]
    [InlineData("{\"method\":\"dann\",\"schedule\":{\"kind\":\"Tllib\",\"maxIters\":0}}")]
    [InlineData("{\"method\":\"dann\",\"schedule\":null}")]
    [InlineData("{\"method\":")]
    public void Config_FromJson_InvalidValues_ThrowTyped(string json)
    {
        var ex = Assert.Throws<AdaptationException>(() => AdaptationConfig.FromJson(json));
        Assert.Equal(AdaptationErrorCode.InvalidHyperparameter, ex.Code);
    }

    [Fact]
    public void DomainDiscriminator_ConfigurableShape_OneLogitPerRow()
    {
        manual_seed(1);
        using var scope = NewDisposeScope();
        using var d = new DomainDiscriminator(5, width: 7, depth: 3, dropout: 0.2, batchNorm: true);

        Tensor y = d.forward(ones(4, 5));

        Assert.Equal(new long[] { 4, 1 }, y.shape);
        Assert.Equal(3, d.modules().OfType<TorchSharp.Modules.Dropout>().Count());
        Assert.Equal(3, d.modules().OfType<TorchSharp.Modules.BatchNorm1d>().Count());
        Assert.Equal(4, d.modules().OfType<TorchSharp.Modules.Linear>().Count());
        Assert.Throws<AdaptationException>(() => d.forward(ones(4, 6)));
        Assert.Throws<AdaptationException>(() => new DomainDiscriminator(5, depth: 0));
    }
}
