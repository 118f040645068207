using BenchmarkDotNet.Attributes;
using MedTransfer.Evaluation.Metrics;
using MedTransfer.Imaging.Normalization;
using MedTransfer.Synthetic.Randomness;

namespace MedTransfer.Benchmarks.Evaluation;

/// <summary>AUROC on a test-set-sized input and a percentile clip on a full-size CR image.
/// Run: dotnet run -c Release --project tests/MedTransfer.Benchmarks -- --filter '*MetricBenchmarks*'.</summary>
[MemoryDiagnoser]
public class MetricBenchmarks
{
    private double[] _scores = [];
    private int[] _labels = [];
    private float[] _image = [];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new SeededRandom(2026);
        _labels = [.. Enumerable.Range(0, 100_000).Select(_ => rng.NextInt(2))];
        _scores = [.. _labels.Select(y => y + rng.NextGaussian())];
        _image = [.. Enumerable.Range(0, 2048 * 2500).Select(_ => (float)rng.NextDouble(0, 4095))];
    }

    [Benchmark]
    public double Auroc100k() => Auroc.Compute(_scores, _labels);

    [Benchmark]
    public double[] Percentiles2048x2500() => Percentiles.Compute(_image, [0.5, 99.5]);
}
