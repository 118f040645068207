using MedTransfer.Training.Backbones;
using MedTransfer.Training.Configuration;
using MedTransfer.Training.Models;
using MedTransfer.Training.Onnx;
using static TorchSharp.torch;

namespace MedTransfer.Training.Tests.FineTuning;

/// <summary>
/// Small transfer models over vectors, for trainer tests that need many steps: the backbone is an ONNX graph built
/// in code (Gemm → Relu → Gemm → Relu, inputs → hidden → features; all its layers form the graph's "head" stage),
/// with no input preprocessing, then the usual new layers (a bottleneck when asked) and a linear classifier.
/// </summary>
internal static class VectorModels
{
    public static TransferModel Mlp(int inputs, int hidden = 16, int features = 8, string head = "bottleneck", int bottleneck = 8, int seed = 1)
    {
        var g = new TestGraphs(seed).Input("x", 1, inputs);
        string w1 = g.Weights(hidden, inputs);
        string b1 = g.Weights(hidden);
        string w2 = g.Weights(features, hidden);
        string b2 = g.Weights(features);
        g.Node("Gemm", ["x", w1, b1], ["h1"], TestGraphs.Int("transB", 1))
            .Node("Relu", ["h1"], ["r1"])
            .Node("Gemm", ["r1", w2, b2], ["h2"], TestGraphs.Int("transB", 1))
            .Node("Relu", ["h2"], ["y"])
            .Output("y");
        OnnxGraphModule graph = OnnxGraphModule.Import(g.Build());
        Backbone backbone = Backbone.FromGraph("mlp", $"mlp-{inputs}-{hidden}-{features}-{seed}", graph, nn.Identity(), 32);
        return TransferModel.Create(backbone, head, bottleneck, 2, seed);
    }

    /// <summary>A configuration for the vector models: plain settings, no channels-last (vectors are 2-D).</summary>
    public static FineTuneConfig Config(string method = "source-only", int iterations = 20, int batch = 8, long seed = 1) => new()
    {
        Head = "bottleneck",
        BottleneckWidth = 8,
        Strategy = StrategyNames.Full,
        LearningRate = 0.05,
        HeadLrMultiplier = 1,
        BatchSize = batch,
        Iterations = iterations,
        ChannelsLast = false,
        Seed = seed,
        Adaptation = new Training.Adaptation.AdaptationConfig { Method = method, DiscriminatorWidth = 16 },
    };
}
