using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MedTransfer.Training.Backbones;
using static TorchSharp.torch;

namespace MedTransfer.Bench.Training;

/// <summary>Options of <see cref="FeatureBenchmark"/>.</summary>
/// <param name="Batch">Images per batch (the activation cache computes batches of 32).</param>
/// <param name="Sizes">Image sides.</param>
/// <param name="Cuts">Where the frozen part ends ("head": the whole backbone, N×512 features; "stage4": before layer4).</param>
/// <param name="Steps">Timed batches (after <see cref="Warmup"/> untimed ones).</param>
/// <param name="Warmup">Untimed batches first.</param>
public sealed record FeatureBenchmarkOptions(int Batch = 32, IReadOnlyList<int>? Sizes = null, IReadOnlyList<string>? Cuts = null, int Steps = 5, int Warmup = 1)
{
    /// <summary>The sizes measured.</summary>
    public IReadOnlyList<int> SizeList => Sizes ?? [128, 224];

    /// <summary>The cuts measured.</summary>
    public IReadOnlyList<string> CutList => Cuts ?? ["head", "stage4"];
}

/// <summary>Frozen-feature throughput of one engine at one size and cut.</summary>
/// <param name="Engine">"torchsharp", "torchsharp inference_mode", "onnxruntime" or "pytorch".</param>
/// <param name="Size">Image side.</param>
/// <param name="Cut">Where the frozen part ends.</param>
/// <param name="ImagesPerSecond">Images through the frozen layers per second.</param>
/// <param name="Version">Library and version.</param>
public sealed record FeatureThroughput(string Engine, int Size, string Cut, double ImagesPerSecond, string Version);

/// <summary>Every engine's throughput, the reference's (or why it is missing), and the threads used.</summary>
/// <param name="Options">What was measured.</param>
/// <param name="Threads">Intra-op threads of every engine.</param>
/// <param name="Rows">One row per engine, size and cut.</param>
/// <param name="ReferenceUnavailable">Why PyTorch did not run, or null.</param>
public sealed record FeatureBenchmarkResult(FeatureBenchmarkOptions Options, int Threads, IReadOnlyList<FeatureThroughput> Rows, string? ReferenceUnavailable);

/// <summary>
/// Frozen-feature extraction of the ImageNet ResNet-18 (what the activation cache and the diagnostics compute):
/// grey N×1×S×S batches through the layers before a cut, in evaluation mode without gradients, with TorchSharp
/// (<see cref="FeatureEngine.Torch"/>, and the same under inference_mode), ONNX Runtime
/// (<see cref="FeatureEngine.OnnxRuntime"/>) and PyTorch eager (Debian python3-torch, torchvision's ResNet with the
/// same blocks), same batch, size and thread count, in the same run.
/// </summary>
public static class FeatureBenchmark
{
    /// <summary>Measures every engine at every size and cut.</summary>
    public static FeatureBenchmarkResult Run(FeatureBenchmarkOptions options, bool withReference = true)
    {
        ArgumentNullException.ThrowIfNull(options);
        int threads = get_num_threads();
        var rows = new List<FeatureThroughput>();
        string? why = null;
        foreach (int size in options.SizeList)
        {
            using Backbone backbone = Backbone.Create(BackboneNames.ResNet18ImageNet, size);
            backbone.eval();
            random.manual_seed(1);
            using Tensor images = rand(options.Batch, 1, size, size);
            foreach (string name in options.CutList)
            {
                BackboneCut cut = backbone.CutBefore(name) ?? throw new ArgumentException($"The ResNet-18 has no cut before '{name}'.", nameof(options));
                using (FrozenForward torchEngine = FrozenForward.Create(backbone, cut, FeatureEngine.Torch))
                {
                    rows.Add(new FeatureThroughput("torchsharp", size, name, Measure(options, () => torchEngine.Forward(images)), torchEngine.Name));
                    rows.Add(new FeatureThroughput("torchsharp inference_mode", size, name, Measure(options, () =>
                    {
                        using var mode = inference_mode();
                        return backbone.ForwardTo(cut, images);
                    }), torchEngine.Name));
                }

                using (FrozenForward ort = FrozenForward.Create(backbone, cut, FeatureEngine.OnnxRuntime))
                {
                    rows.Add(new FeatureThroughput("onnxruntime", size, name, Measure(options, () => ort.Forward(images)), ort.Name));
                }
            }

            if (withReference && why is null)
            {
                rows.AddRange(MeasureReference(options, size, threads, out why));
            }
        }

        return new FeatureBenchmarkResult(options, threads, rows, withReference ? why : "not asked for");
    }

    private static double Measure(FeatureBenchmarkOptions o, Func<Tensor> forward)
    {
        for (int i = 0; i < o.Warmup; i++)
        {
            forward().Dispose();
        }

        var watch = Stopwatch.StartNew();
        for (int i = 0; i < o.Steps; i++)
        {
            forward().Dispose();
        }

        return o.Batch * o.Steps / watch.Elapsed.TotalSeconds;
    }

    private static IEnumerable<FeatureThroughput> MeasureReference(FeatureBenchmarkOptions o, int size, int threads, out string? unavailable)
    {
        string[] args = [.. new[] { o.Batch, size, o.Steps, o.Warmup, threads }.Select(v => v.ToString(CultureInfo.InvariantCulture)), string.Join(',', o.CutList)];
        using JsonDocument? doc = PythonReference.Run(PythonScript, args, out unavailable);
        if (doc is null)
        {
            return [];
        }

        string version = "PyTorch " + doc.RootElement.GetProperty("version").GetString();
        return [.. o.CutList.Select(cut => new FeatureThroughput("pytorch", size, cut, doc.RootElement.GetProperty("rates").GetProperty(cut).GetDouble(), version))];
    }

    // Grey input replicated to three channels, ×255 and minus a mean image, as the built-in preprocessing does, then
    // the torchvision ResNet with the CNTK export's blocks up to the cut.
    private const string PythonScript = """
        import json, sys, time
        import torch
        from torchvision.models.resnet import ResNet, BasicBlock
        batch, size, steps, warmup, threads = (int(a) for a in sys.argv[1:6])
        cuts = sys.argv[6].split(",")
        torch.set_num_threads(threads)
        torch.manual_seed(1)
        model = ResNet(BasicBlock, [2, 2, 2, 3]).eval()
        mean = torch.rand(1, 3, size, size) * 255
        images = torch.rand(batch, 1, size, size)
        def forward(x, cut):
            x = x.expand(-1, 3, -1, -1).mul(255).flip(1).sub(mean)
            x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
            x = model.layer3(model.layer2(model.layer1(x)))
            if cut == "stage4":
                return x
            return torch.flatten(model.avgpool(model.layer4(x)), 1)
        for cut in cuts:
            if cut not in ("head", "stage4"):
                sys.exit(f"the reference measures the cuts head and stage4, not {cut}")
        rates = {}
        with torch.no_grad():
            for cut in cuts:
                for _ in range(warmup):
                    forward(images, cut)
                t = time.perf_counter()
                for _ in range(steps):
                    forward(images, cut)
                rates[cut] = batch * steps / (time.perf_counter() - t)
        print(json.dumps({"rates": rates, "threads": torch.get_num_threads(), "version": torch.__version__}))
        """;
}
