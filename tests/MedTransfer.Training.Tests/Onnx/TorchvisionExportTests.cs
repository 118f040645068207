using System.Diagnostics;
using System.Security.Cryptography;
using MedTransfer.Training.Backbones;
using MedTransfer.Training.Onnx;
using MedTransfer.Training.Tests.Runtime;
using Xunit.Abstractions;

namespace MedTransfer.Training.Tests.Onnx;

/// <summary>
/// Real exporter output: torchvision's DenseNet-121 (and a TorchXRayVision-style one), ResNet-50, MobileNetV2/V3,
/// EfficientNet-B0, ConvNeXt-Tiny (opsets 13 and 17), VGG-11-BN and Inception-v3 with random weights, exported by
/// <c>tools/onnx-fixtures/export_torchvision.py</c> (Debian's python3-torch and python3-torchvision) into a cache
/// folder keyed by the script's hash. Skipped, with the reason, where those packages are absent.
/// </summary>
[Collection(TorchCollection.Name)]
[Trait("Category", "Slow")]
public sealed class TorchvisionExportTests(ITestOutputHelper log)
{
    private static readonly Lazy<(string? Folder, string? Missing)> s_exports = new(Export);

    private static readonly string[] s_names =
    [
        "resnet50-op11", "densenet121-op13", "xrv-densenet121-op11", "mobilenet_v2-op11", "mobilenet_v3_small-op13", "mobilenet_v3_large-op14",
        "efficientnet_b0-op13", "convnext_tiny-op13", "convnext_tiny-op17", "vgg11_bn-op12", "inception_v3-op11",
    ];

    public static TheoryData<string> Names => [.. s_names];

    [SkippableTheory]
    [MemberData(nameof(Names))]
    public void Export_ImportsMatchesOnnxRuntime_AndEveryStageCanBeCutBefore(string name)
    {
        (string? folder, string? missing) = s_exports.Value;
        Skip.If(folder is null, missing);
        string path = Path.Combine(folder!, name + ".onnx");
        OnnxImportVerification v = OnnxImportVerification.Run(path);
        log.WriteLine($"{name}: max |Δ| {v.FeatureMaxAbsDiff:E2} (scale {v.FeatureScale:G4}), {v.FeatureDimension} features at {v.FeatureNode}, {v.ParameterCount:N0} parameters, import {v.ImportSeconds:F2} s, stages {string.Join(", ", v.Stages.Select(s => $"{s.Name}/{s.OutputStride}"))}");
        Assert.True(v.Passed, $"max |Δ| {v.FeatureMaxAbsDiff} > {v.Tolerance}");
        Assert.Contains(v.Stages, s => s.Name == "stage4" || (name.StartsWith("vgg", StringComparison.Ordinal) && s.Name == "stage3"));

        using Backbone backbone = Backbone.Import(path, new BackboneImportOptions { ImageSize = name.StartsWith("inception", StringComparison.Ordinal) ? 299 : 224 });
        foreach (GraphStage stage in backbone.Stages.Where(s => s.Name != "head"))
        {
            Assert.True(backbone.CutBefore(stage.Name) is not null, $"{name}: no single-tensor cut before {stage.Name}");
        }
    }

    [SkippableFact]
    public void HundredMegabyteModel_ImportsWithinTenSeconds()
    {
        (string? folder, string? missing) = s_exports.Value;
        Skip.If(folder is null, missing);
        string path = Path.Combine(folder!, "resnet50-op11.onnx");
        Assert.True(new FileInfo(path).Length > 100_000_000);
        var watch = Stopwatch.StartNew();
        using Backbone backbone = Backbone.Import(path);
        watch.Stop();
        log.WriteLine($"resnet50 ({new FileInfo(path).Length / 1e6:F1} MB): {watch.Elapsed.TotalSeconds:F2} s");
        Assert.True(watch.Elapsed.TotalSeconds <= 10, $"import took {watch.Elapsed.TotalSeconds:F1} s");
    }

    private static (string? Folder, string? Missing) Export()
    {
        const string python = "/usr/bin/python3";
        string script = Path.Combine(TestPaths.RepoRoot, "tools", "onnx-fixtures", "export_torchvision.py");
        if (!File.Exists(python))
        {
            return (null, "no /usr/bin/python3 (Debian python3-torch and python3-torchvision export these fixtures)");
        }

        string hash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(script)))[..12];
        string folder = Path.Combine(Path.GetTempPath(), "medtransfer-torchvision-onnx", hash);
        if (s_names.All(n => File.Exists(Path.Combine(folder, n + ".onnx"))))
        {
            return (folder, null);
        }

        var start = new ProcessStartInfo(python) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(folder);
        using Process process = Process.Start(start)!;
        string errors = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            return (null, errors.Contains("No module named", StringComparison.Ordinal)
                ? $"python3-torch / python3-torchvision are not installed ({errors.Trim().Split('\n')[^1]})"
                : $"the export script failed: {errors.Trim().Split('\n')[^1]}");
        }

        return (folder, null);
    }
}
