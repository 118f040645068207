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
        var model = new Command("model", "Backbones: check the import of the ImageNet ResNet-18 or of your own ONNX CNN into TorchSharp against ONNX Runtime.");
        model.Subcommands.Add(VerifyImport(output, error));
        return model;
    }

    private static Command VerifyImport(TextWriter output, TextWriter error)
    {
        var modelFile = new Option<string?>("--model") { Description = "An ONNX CNN to check (default: the built-in ImageNet ResNet-18)." };
        var featureNode = new Option<string?>("--feature-node") { Description = "The node (or value) whose output holds the features (default: the input of the final classifier layer)." };
        var size = new Option<int?>("--size") { Description = "Image side (default: the model's declared input size, else 224)." };
        var batch = new Option<int?>("--batch") { Description = "Random test images (uniform in [0, 1], seeded); default 4 for the ResNet-18, 2 for --model." };
        var seed = new Option<int>("--seed") { Description = "Seed of the test images.", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "Print the figures as JSON." };
        var command = new Command(
            "verify-import",
            "Run a model through ONNX Runtime and through our TorchSharp import on the same seeded images and print the largest difference " +
            "of the features (accepted: max |Δ| ≤ 1e-4 × max(1, feature scale)), with the feature node, the stages found and the parameter count. " +
            "Without --model: the built-in ImageNet ResNet-18 (Microsoft.ML.DnnImageFeaturizer.ResNet18) and its preprocessing. Exit code 1 when it fails.");
        foreach (Option o in new Option[] { modelFile, featureNode, size, batch, seed, json })
        {
            command.Options.Add(o);
        }

        command.SetAction(parse => Guard(error, () =>
        {
            TorchRuntime.EnsureAvailable();
            if (parse.GetValue(modelFile) is { } path)
            {
                var options = new BackboneImportOptions { FeatureNode = parse.GetValue(featureNode), ImageSize = parse.GetValue(size) };
                OnnxImportVerification r = OnnxImportVerification.Run(path, options, parse.GetValue(batch) ?? 2, parse.GetValue(seed));
                WriteVerification(output, r, parse.GetValue(json));
                return r.Passed ? CliApp.ExitCodes.Success : CliApp.ExitCodes.Failure;
            }

            if (parse.GetValue(featureNode) is not null || parse.GetValue(size) is not null)
            {
                error.WriteLine("error: --feature-node and --size need --model (the built-in ResNet-18 is checked at 224² on its pooled features).");
                return CliApp.ExitCodes.Usage;
            }

            ImportVerification v = ImportVerification.Run(parse.GetValue(batch) ?? 4, parse.GetValue(seed));
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

    private static void WriteVerification(TextWriter output, OnnxImportVerification r, bool json)
    {
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(new
            {
                r.Model,
                r.FeatureMaxAbsDiff,
                r.FeatureScale,
                r.Tolerance,
                r.Passed,
                r.FeatureNode,
                r.FeatureValue,
                r.FeatureNodeReason,
                r.FeatureDimension,
                Stages = r.Stages.Select(s => new { s.Name, s.OutputStride, Parameters = s.ParameterCount, s.FirstNode, s.LastNode }),
                r.ParameterCount,
                r.Input,
                r.Opset,
                r.Batch,
                r.ImageSize,
                r.Seed,
                r.ImportSeconds,
                r.FileBytes,
            }, s_json));
            return;
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(r.Model)} (opset {r.Opset}, {r.FileBytes / 1e6:F1} MB) imported in {r.ImportSeconds:F2} s"));
        output.WriteLine($"  feature node: {r.FeatureNode} (value {r.FeatureValue}; {r.FeatureNodeReason}), {r.FeatureDimension} features");
        output.WriteLine($"  input: {r.Input}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  parameters: {r.ParameterCount:N0}"));
        output.WriteLine("  stages:");
        foreach (GraphStage s in r.Stages)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {s.Name,-7} stride {s.OutputStride,2}  {s.ParameterCount,12:N0} parameters  from {s.FirstNode}"));
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  FeatureMaxAbsDiff {r.FeatureMaxAbsDiff:E2}, FeatureScale {r.FeatureScale:G4} on {r.Batch} images {r.ImageSize}² — {(r.Passed ? "PASS" : "FAIL")} (tolerance {r.Tolerance:E2})"));
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
                output.WriteLine(JsonSerializer.Serialize(new { r.Options, r.Device, r.Ours, r.Reference, r.ReferenceSameLevers, r.ReferenceUnavailable, r.TrainRatio, r.InferenceRatio, r.TrainRatioSameLevers, r.InferenceRatioSameLevers, r.OursOnnxRuntime, r.OnnxRuntimeInferenceRatio }, s_json));
                return CliApp.ExitCodes.Success;
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"batch {options.Batch}, {options.Size}², {r.Ours.Threads} threads, {r.Device}{(options.ChannelsLast ? ", channels-last" : string.Empty)}{(options.Bf16Inference ? ", bf16 inference" : string.Empty)}"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  MedTransfer ({r.Ours.Version}): train {r.Ours.TrainImagesPerSecond:F1} images/s, inference {r.Ours.InferenceImagesPerSecond:F1} images/s"));
            if (r.OursOnnxRuntime is double ort)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  MedTransfer (onnxruntime backbone): inference {ort:F1} images/s"));
            }

            if (r.Reference is { } p)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {p.Version}, default fp32 NCHW: train {p.TrainImagesPerSecond:F1} images/s, inference {p.InferenceImagesPerSecond:F1} images/s"));
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  ratio (ours / PyTorch default): train {r.TrainRatio:F2}x, inference {r.InferenceRatio:F2}x"));
                if (r.OnnxRuntimeInferenceRatio is double ortRatio)
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  ratio (ours on onnxruntime / PyTorch default): inference {ortRatio:F2}x"));
                }
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

    /// <summary>`bench features`.</summary>
    public static Command BenchFeatures(TextWriter output, TextWriter error)
    {
        var batch = new Option<int>("--batch") { Description = "Images per batch.", DefaultValueFactory = _ => 32 };
        var sizes = new Option<int[]>("--size") { Description = "Image sides in pixels (repeatable).", DefaultValueFactory = _ => [128, 224], AllowMultipleArgumentsPerToken = true };
        var cuts = new Option<string[]>("--cut") { Description = "Where the frozen part ends: head (whole backbone) or stage4 (repeatable).", DefaultValueFactory = _ => ["head", "stage4"], AllowMultipleArgumentsPerToken = true };
        var steps = new Option<int>("--steps") { Description = "Timed batches (after 1 warm-up batch).", DefaultValueFactory = _ => 5 };
        var noReference = new Option<bool>("--no-reference") { Description = "Skip the PyTorch reference." };
        var json = new Option<bool>("--json") { Description = "Print the measurement as JSON." };
        var command = new Command(
            "features",
            "Images/s of frozen-feature extraction with the ImageNet ResNet-18 (grey batches, evaluation mode, no gradients) on TorchSharp, " +
            "ONNX Runtime and PyTorch eager (Debian python3-torch), same batch, size and threads, measured in the same run.");
        foreach (Option o in new Option[] { batch, sizes, cuts, steps, noReference, json })
        {
            command.Options.Add(o);
        }

        command.SetAction(parse => Guard(error, () =>
        {
            TorchRuntime.EnsureAvailable();
            var options = new FeatureBenchmarkOptions(parse.GetValue(batch), parse.GetValue(sizes), parse.GetValue(cuts), parse.GetValue(steps));
            FeatureBenchmarkResult r = FeatureBenchmark.Run(options, !parse.GetValue(noReference));
            if (parse.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(r, s_json));
                return CliApp.ExitCodes.Success;
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"frozen features, batch {options.Batch}, {r.Threads} threads, ImageNet ResNet-18, grey input"));
            foreach (var group in r.Rows.GroupBy(row => (row.Size, row.Cut)))
            {
                double? torchRate = group.FirstOrDefault(row => row.Engine == "torchsharp")?.ImagesPerSecond;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {group.Key.Size}², cut {group.Key.Cut}:"));
                foreach (FeatureThroughput row in group)
                {
                    string ratio = torchRate is double t ? string.Create(CultureInfo.InvariantCulture, $"  ({row.ImagesPerSecond / t:F2}x torchsharp)") : string.Empty;
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {row.Engine,-26} {row.ImagesPerSecond,8:F1} images/s{ratio}  {row.Version}"));
                }
            }

            if (r.ReferenceUnavailable is not null)
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
        catch (Exception ex) when (ex is OnnxImportException or TorchUnavailableException or ArgumentException)
        {
            error.WriteLine($"error: {ex.Message}");
            return CliApp.ExitCodes.Failure;
        }
    }
}
