using System.Text.Json;
using MedTransfer.Evaluation.Diagnostics;

namespace MedTransfer.Evaluation.Tests.Diagnostics;

public sealed class ShiftMonitorJsonTests
{
    private static ShiftMonitor Fitted()
    {
        var random = new Random(7);
        double[][] Sample(int n, double offset) => [.. Enumerable.Range(0, n).Select(_ => new[] { random.NextDouble() + offset, random.NextDouble() * 2, (random.NextDouble() * 0.5) - offset })];
        return ShiftMonitor.Fit(Sample(40, 0), Sample(20, 0.1), quantile: 0.9);
    }

    [Fact]
    public void ToJsonFromJson_GivesIdenticalScoresThresholdAndQuantile()
    {
        ShiftMonitor monitor = Fitted();

        ShiftMonitor back = ShiftMonitor.FromJson(monitor.ToJson());

        Assert.Equal(monitor.Threshold, back.Threshold);
        Assert.Equal(monitor.Quantile, back.Quantile);
        Assert.Equal(3, back.Dimension);
        foreach (double[] x in new[] { new[] { 0.1, 0.2, 0.3 }, new[] { 5.0, -3.0, 2.0 } })
        {
            Assert.Equal(monitor.Score(x), back.Score(x));
        }

        Assert.Equal(monitor.ToJson(), back.ToJson());
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("{\"format\":\"other/1\"}")]
    [InlineData("{\"format\":\"medtransfer-shift-monitor/1\",\"threshold\":1,\"quantile\":0.9,\"mean\":[0,0],\"precision\":[[1,0]]}")]
    [InlineData("{\"format\":\"medtransfer-shift-monitor/1\",\"threshold\":1,\"quantile\":0.9,\"mean\":[0],\"precision\":[[\"x\"]]}")]
    [InlineData("{\"format\":\"medtransfer-shift-monitor/1\",\"quantile\":0.9,\"mean\":[0],\"precision\":[[1]]}")]
    [InlineData("{\"format\":\"medtransfer-shift-monitor/1\",\"threshold\":1,\"quantile\":0.9,\"mean\":[],\"precision\":[]}")]
    public void FromJson_NotAMonitor_IsAJsonException(string json) =>
        Assert.ThrowsAny<JsonException>(() => ShiftMonitor.FromJson(json));
}
