using BenchmarkDotNet.Attributes;
using MedTransfer.Imaging.Normalization;
using MedTransfer.Pipeline.Diagnose;
using MedTransfer.Testing;

namespace MedTransfer.Benchmarks.Diagnose;

/// <summary>
/// Batch-diagnosis throughput on the committed sample radiographs (sample-data/cxr: 350 studies, 160–256 px, three
/// transfer syntaxes) with a ResNet-18 (the ImageNet ONNX of Microsoft.ML.DnnImageFeaturizer.ResNet18 wrapped by
/// <see cref="TestOnnxModels.WrapBackbone"/>) at 224 × 224 × 3 on ONNX Runtime's CPU path: header scan, decode, X-ray
/// recipe, inference, fsynced journal and outputs — a whole `medtransfer diagnose` run. Target: ≥ 50 studies/s on 2 cores.
/// The backbone is read from MEDTRANSFER_RESNET18_ONNX or the NuGet cache.
/// Run: dotnet run -c Release --project tests/MedTransfer.Benchmarks -- --filter '*DiagnoseBenchmarks*'.
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 3, invocationCount: 1)]
public class DiagnoseBenchmarks
{
    private string _folder = null!;
    private DiagnosisModel _model = null!;
    private string _input = null!;
    private int _run;

    /// <summary>Threads for decoding and inference.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        string backbone = Environment.GetEnvironmentVariable("MEDTRANSFER_RESNET18_ONNX")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages", "microsoft.ml.dnnimagefeaturizer.resnet18", "0.23.1", "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
        _folder = TestPaths.NewTempDirectory("medtransfer-bench-diagnose");
        string path = Path.Combine(_folder, "model.onnx");
        File.WriteAllBytes(path, TestOnnxModels.WrapBackbone(File.ReadAllBytes(backbone), 224, new XrayRecipe().ToJson()));
        _model = DiagnosisModel.Load(path, Threads);
        _input = Path.Combine(TestPaths.RepoRoot, "sample-data", "cxr");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _model.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>One full run over the 350 studies into a fresh output folder.</summary>
    [Benchmark]
    public int DiagnoseSampleRadiographs()
    {
        string outDir = Path.Combine(_folder, "out" + _run++);
        var keys = new StudyPseudonyms([.. Enumerable.Range(0, 32).Select(i => (byte)i)]);
        return DiagnosisRunner.Run(_model, new FolderStudySource(_input), keys, new DiagnosisOptions { OutputDirectory = outDir, Threads = Threads, BatchSize = 32 }).Processed;
    }
}
