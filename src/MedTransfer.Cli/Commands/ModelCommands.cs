using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MedTransfer.Bench.Training;
using MedTransfer.Training.Backbones;
using MedTransfer.Training.Onnx;
using MedTransfer.Training.Runtime;
using Spectre.Console;

namespace MedTransfer.Cli.Commands;

/// <summary>`medtransfer model verify-import` and `medtransfer bench train`.</summary>
internal static class ModelCommands
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    public static Command Create(IAnsiConsole console, TextWriter output, TextWriter error)
    {
        var model = new Command("model", "The ImageNet backbone: check its import into TorchSharp against ONNX Runtime.");
        model.Subcommands.Add(VerifyImport(output, error));
        return model;
    }

    private static Command VerifyImport(TextWriter output, TextWriter error)
    {
        var batch = new Option<int>("--batch") { Description = "Random test images (224², uniform in [0, 1]).", DefaultValueFactory = _ => 4 };
        var seed = new Option<int>("--seed") { Description = "Seed of the test images.", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "Print the figures as JSON." };
        var command = new Command(
            "verify-import",
            "Run the ImageNet ResNet-18 (Microsoft.ML.DnnImageFeaturizer.ResNet18) through ONNX Runtime and through our TorchSharp import " +
            "on the same images and print the largest difference of the 512-d features (accepted: ≤ 1e-4). Exit code 1 when it fails.");
        command.Options.Add(batch);
        command.Options.Add(seed);
        command.Options.Add(json);
        command.SetAction(parse => Guard(error, () =>
        {
            TorchRuntime.EnsureAvailable();
            ImportVerification v = ImportVerification.Run(parse.GetValue(batch), parse.GetValue(seed));
            if (parse.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(new
                {
                    v.Batch,
                    v.ImageSize,
                    v.Seed,
                    v.PreprocessMaxAbsDiff,
                    v.FeatureMaxAbsDiff,
                    v.FeatureMeanAbsDiff,
                    v.FeatureScale,
                    v.Tolerance,
                    v.Passed,
                    v.TorchMilliseconds,
                    v.OnnxRuntimeMilliseconds,
                    model = PretrainedModels.ResNet18Path,
                }, s_json));
            }
            else
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"ResNet-18 import vs ONNX Runtime on {v.Batch} images {v.ImageSize}²: features max |Δ| {v.FeatureMaxAbsDiff:E2} (mean {v.FeatureMeanAbsDiff:E2}; mean |feature| {v.FeatureScale:F3}), preprocessing max |Δ| {v.PreprocessMaxAbsDiff:E2} — {(v.Passed ? "PASS" : "FAIL")} (tolerance {v.Tolerance:E0})."));
            }

            return v.Passed ? CliApp.ExitCodes.Success : CliApp.ExitCodes.Failure;
        }));
        return command;
    }

    /// <summary>`bench train`.</summary>
    public static Command BenchTrain(TextWriter output, TextWriter error)
    {
        var batch = new Option<int>("--batch") { Description = "Images per batch.", DefaultValueFactory = _ => 16 };
        var size = new Option<int>("--size") { Description = "Image side in pixels.", DefaultValueFactory = _ => 224 };
        var steps = new Option<int>("--steps") { Description = "Timed steps (after 2 warm-up steps).", DefaultValueFactory = _ => 10 };
        var channelsLast = new Option<bool>("--channels-last") { Description = "Channels-last memory format (both implementations)." };
        var bf16 = new Option<bool>("--bf16") { Description = "bfloat16 inference (both implementations)." };
        var device = new Option<string>("--device") { Description = "cpu, cuda or auto.", DefaultValueFactory = _ => "cpu" };
        var noReference = new Option<bool>("--no-reference") { Description = "Skip the PyTorch reference." };
        var json = new Option<bool>("--json") { Description = "Print the measurement as JSON." };
        var command = new Command(
            "train",
            "Training and inference images/s of the default backbone (ImageNet ResNet-18 + linear head) on random data, and of PyTorch " +
            "(Debian python3-torch) running the same architecture with the same batch, size, threads and memory format, measured in the same run.");
        foreach (Option o in new Option[] { batch, size, steps, channelsLast, bf16, device, noReference, json })
        {
            command.Options.Add(o);
        }

        command.SetAction(parse => Guard(error, () =>
        {
            TorchRuntime.EnsureAvailable();
            var options = new TrainBenchmarkOptions(parse.GetValue(batch), parse.GetValue(size), parse.GetValue(steps), parse.GetValue(channelsLast), parse.GetValue(bf16), parse.GetValue(device)!);
            TrainBenchmarkResult r = TrainBenchmark.Run(options, !parse.GetValue(noReference));
            if (parse.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(new { r.Options, r.Device, r.Ours, r.Reference, r.ReferenceSameLevers, r.ReferenceUnavailable, r.TrainRatio, r.InferenceRatio, r.TrainRatioSameLevers, r.InferenceRatioSameLevers }, s_json));
                return CliApp.ExitCodes.Success;
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"batch {options.Batch}, {options.Size}², {r.Ours.Threads} threads, {r.Device}{(options.ChannelsLast ? ", channels-last" : string.Empty)}{(options.Bf16Inference ? ", bf16 inference" : string.Empty)}"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  MedTransfer ({r.Ours.Version}): train {r.Ours.TrainImagesPerSecond:F1} images/s, inference {r.Ours.InferenceImagesPerSecond:F1} images/s"));
            if (r.Reference is { } p)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {p.Version}, default fp32 NCHW: train {p.TrainImagesPerSecond:F1} images/s, inference {p.InferenceImagesPerSecond:F1} images/s"));
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  ratio (ours / PyTorch default): train {r.TrainRatio:F2}x, inference {r.InferenceRatio:F2}x"));
            }

            if (r.ReferenceSameLevers is { } q)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {q.Version}, same levers: train {q.TrainImagesPerSecond:F1} images/s, inference {q.InferenceImagesPerSecond:F1} images/s"));
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  ratio (ours / PyTorch same levers): train {r.TrainRatioSameLevers:F2}x, inference {r.InferenceRatioSameLevers:F2}x"));
            }
            else if (r.ReferenceUnavailable is not null)
            {
                output.WriteLine($"  reference not measured: {r.ReferenceUnavailable}");
            }

            return CliApp.ExitCodes.Success;
        }));
        return command;
    }

    private static int Guard(TextWriter error, Func<int> body)
    {
        try
        {
            return DicomCommands.Guard(error, body);
        }
        catch (Exception ex) when (ex is OnnxImportException or TorchUnavailableException)
        {
            error.WriteLine($"error: {ex.Message}");
            return CliApp.ExitCodes.Failure;
        }
    }
}
