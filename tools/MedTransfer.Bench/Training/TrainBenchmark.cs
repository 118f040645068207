using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MedTransfer.Training.Backbones;
using MedTransfer.Training.Configuration;
using MedTransfer.Training.Models;
using MedTransfer.Training.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MedTransfer.Bench.Training;

/// <summary>Options of <see cref="TrainBenchmark"/>.</summary>
/// <param name="Batch">Images per batch.</param>
/// <param name="Size">Image side.</param>
/// <param name="Steps">Timed steps (after <see cref="Warmup"/> untimed ones).</param>
/// <param name="ChannelsLast">Channels-last memory format (our model and the reference).</param>
/// <param name="Bf16Inference">Inference in bfloat16 (our model and the reference).</param>
/// <param name="Device">"cpu", "cuda" or "auto".</param>
/// <param name="Warmup">Untimed steps first.</param>
public sealed record TrainBenchmarkOptions(int Batch = 16, int Size = 224, int Steps = 10, bool ChannelsLast = true, bool Bf16Inference = false, string Device = "cpu", int Warmup = 2);

/// <summary>Images per second of one implementation.</summary>
/// <param name="Name">"medtransfer" or "pytorch".</param>
/// <param name="TrainImagesPerSecond">Forward + backward + SGD step.</param>
/// <param name="InferenceImagesPerSecond">Evaluation-mode forward without gradients.</param>
/// <param name="Threads">Intra-op threads.</param>
/// <param name="Version">Library version.</param>
public sealed record ThroughputResult(string Name, double TrainImagesPerSecond, double InferenceImagesPerSecond, int Threads, string Version);

/// <summary>Our throughput, the reference's (or why it is missing), and the ratios.</summary>
/// <param name="Options">What was measured.</param>
/// <param name="Ours">MedTransfer (TorchSharp, imported ONNX graph).</param>
/// <param name="Reference">PyTorch running the same architecture in its default setting (fp32, NCHW), or null.</param>
/// <param name="ReferenceSameLevers">PyTorch with the same channels-last/bf16 choices as ours (null when none are on, or unavailable).</param>
/// <param name="ReferenceUnavailable">Why the reference did not run.</param>
/// <param name="Device">Device used.</param>
/// <param name="OursOnnxRuntime">Our inference with the backbone on ONNX Runtime (<see cref="FeatureEngine.OnnxRuntime"/>) and the head on
/// TorchSharp, images/s; null when it does not apply (not the CPU, bf16, a bottleneck head).</param>
public sealed record TrainBenchmarkResult(TrainBenchmarkOptions Options, ThroughputResult Ours, ThroughputResult? Reference, ThroughputResult? ReferenceSameLevers, string? ReferenceUnavailable, string Device, double? OursOnnxRuntime = null)
{
    /// <summary>Our ONNX Runtime inference throughput / the default reference's.</summary>
    public double? OnnxRuntimeInferenceRatio => Reference is null || OursOnnxRuntime is null ? null : OursOnnxRuntime / Reference.InferenceImagesPerSecond;

    /// <summary>Our training throughput / the default reference's.</summary>
    public double? TrainRatio => Reference is null ? null : Ours.TrainImagesPerSecond / Reference.TrainImagesPerSecond;

    /// <summary>Our inference throughput / the default reference's.</summary>
    public double? InferenceRatio => Reference is null ? null : Ours.InferenceImagesPerSecond / Reference.InferenceImagesPerSecond;

    /// <summary>Our training throughput / the reference's with the same levers.</summary>
    public double? TrainRatioSameLevers => ReferenceSameLevers is null ? null : Ours.TrainImagesPerSecond / ReferenceSameLevers.TrainImagesPerSecond;

    /// <summary>Our inference throughput / the reference's with the same levers.</summary>
    public double? InferenceRatioSameLevers => ReferenceSameLevers is null ? null : Ours.InferenceImagesPerSecond / ReferenceSameLevers.InferenceImagesPerSecond;
}

/// <summary>
/// Training and inference throughput of the default backbone (ImageNet ResNet-18 + linear head) on
/// random data, compared in the same run with PyTorch (Debian <c>python3-torch</c> +
/// <c>python3-torchvision</c>) running torchvision's ResNet with the same blocks [2, 2, 2, 3] as the
/// CNTK export, the same batch, image size, thread count, memory format and optimizer.
/// </summary>
public static class TrainBenchmark
{
    /// <summary>The interpreter with Debian's python3-torch.</summary>
    public const string ReferencePython = PythonReference.Python;

    /// <summary>Measures ours, then the reference.</summary>
    public static TrainBenchmarkResult Run(TrainBenchmarkOptions options, bool withReference = true)
    {
        ArgumentNullException.ThrowIfNull(options);
        Device device = TorchRuntime.SelectDevice(options.Device);
        ThroughputResult ours = MeasureOurs(options, device, out double? onnxRuntime);
        ThroughputResult? reference = null;
        ThroughputResult? sameLevers = null;
        string? why = null;
        if (withReference)
        {
            if (device.type != DeviceType.CPU)
            {
                why = "the PyTorch reference is CPU-only here (Debian python3-torch)";
            }
            else
            {
                reference = MeasureReference(options with { ChannelsLast = false, Bf16Inference = false }, get_num_threads(), out why);
                if (reference is not null && (options.ChannelsLast || options.Bf16Inference))
                {
                    sameLevers = MeasureReference(options, get_num_threads(), out why);
                }
            }
        }

        return new TrainBenchmarkResult(options, ours, reference, sameLevers, why, device.ToString(), onnxRuntime);
    }

    private static ThroughputResult MeasureOurs(TrainBenchmarkOptions o, Device device, out double? onnxRuntime)
    {
        var config = new FineTuneConfig { ImageSize = o.Size, Seed = 1, ChannelsLast = o.ChannelsLast };
        using TransferModel model = TransferModel.Create(config);
        model.to(device);
        if (o.ChannelsLast)
        {
            model.Features.Backbone.Graph.ToChannelsLast();
        }

        var parameters = model.parameters().ToList();
        using var optimizer = optim.SGD(parameters, 0.01, 0.9);
        using Tensor images = Layout(rand(o.Batch, 3, o.Size, o.Size, device: device), o.ChannelsLast);
        using Tensor labels = randint(0, 2, [o.Batch], device: device);
        model.train();
        double train = Time(o, () =>
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            F.cross_entropy(model.forward(images), labels).backward();
            optimizer.step();
        });
        model.eval();
        if (o.Bf16Inference)
        {
            model.to(ScalarType.BFloat16);
        }

        using Tensor inferenceImages = o.Bf16Inference ? images.to(ScalarType.BFloat16) : images.alias();
        double inference = Time(o, () =>
        {
            using var scope = NewDisposeScope();
            using var guard = no_grad();
            model.forward(inferenceImages);
        });
        onnxRuntime = null;
        if (device.type == DeviceType.CPU && !o.Bf16Inference && model.Features.Bottleneck is null)
        {
            // The same trained weights, the backbone run by ONNX Runtime: what evaluation and diagnostics can use.
            Backbone backbone = model.Features.Backbone;
            using FrozenForward engine = FrozenForward.Create(backbone, backbone.CutBefore("head")!, FeatureEngine.OnnxRuntime);
            double seconds = Time(o, () =>
            {
                using var scope = NewDisposeScope();
                using var guard = no_grad();
                model.Classifier.forward(engine.Forward(images));
            });
            onnxRuntime = o.Batch / seconds;
        }

        return new ThroughputResult("medtransfer", o.Batch / train, o.Batch / inference, get_num_threads(), "TorchSharp " + typeof(torch).Assembly.GetName().Version);
    }

    private static Tensor Layout(Tensor x, bool channelsLast)
    {
        if (!channelsLast)
        {
            return x;
        }

        // The same values with channels-last (NHWC) strides, as the trainer lays out its batches (TorchSharp has no
        // memory_format argument; PLATFORM.md).
        using (x)
        {
            return x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
        }
    }

    private static double Time(TrainBenchmarkOptions o, Action step)
    {
        for (int i = 0; i < o.Warmup; i++)
        {
            step();
        }

        var watch = Stopwatch.StartNew();
        for (int i = 0; i < o.Steps; i++)
        {
            step();
        }

        return watch.Elapsed.TotalSeconds / o.Steps;
    }

    private static ThroughputResult? MeasureReference(TrainBenchmarkOptions o, int threads, out string? unavailable)
    {
        string[] args = [.. new[] { o.Batch, o.Size, o.Steps, o.Warmup, threads, o.ChannelsLast ? 1 : 0, o.Bf16Inference ? 1 : 0 }.Select(v => v.ToString(CultureInfo.InvariantCulture))];
        using JsonDocument? doc = PythonReference.Run(PythonScript, args, out unavailable);
        if (doc is null)
        {
            return null;
        }

        JsonElement r = doc.RootElement;
        return new ThroughputResult("pytorch", r.GetProperty("train").GetDouble(), r.GetProperty("inference").GetDouble(), r.GetProperty("threads").GetInt32(), "PyTorch " + r.GetProperty("version").GetString());
    }

    private const string PythonScript = """
        import json, sys, time
        import torch
        import torch.nn.functional as F
        from torchvision.models.resnet import ResNet, BasicBlock
        batch, size, steps, warmup, threads, channels_last, bf16 = (int(a) for a in sys.argv[1:8])
        torch.set_num_threads(threads)
        torch.manual_seed(1)
        model = ResNet(BasicBlock, [2, 2, 2, 3], num_classes=2)  # the CNTK ResNet-18's blocks
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        model = model.to(memory_format=fmt)
        images = torch.rand(batch, 3, size, size).to(memory_format=fmt)
        labels = torch.randint(0, 2, (batch,))
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        def timed(fn):
            for _ in range(warmup):
                fn()
            t = time.perf_counter()
            for _ in range(steps):
                fn()
            return (time.perf_counter() - t) / steps
        def train_step():
            opt.zero_grad()
            F.cross_entropy(model(images), labels).backward()
            opt.step()
        model.train()
        train = timed(train_step)
        model.eval()
        if bf16:
            model = model.to(torch.bfloat16)
            images = images.to(torch.bfloat16)
        def infer():
            with torch.no_grad():
                model(images)
        inference = timed(infer)
        print(json.dumps({"train": batch / train, "inference": batch / inference, "threads": torch.get_num_threads(), "version": torch.__version__}))
        """;
}
