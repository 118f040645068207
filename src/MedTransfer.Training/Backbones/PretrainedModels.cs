using MedTransfer.Training.Onnx;

namespace MedTransfer.Training.Backbones;

/// <summary>
/// Finds the ImageNet ResNet-18 of the NuGet package <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c>
/// (docs/PLATFORM.md): the build copies its two ONNX files to <c>models/resnet18/</c> next to the
/// assemblies; <c>MEDTRANSFER_MODELS</c> overrides the folder; the restored package folder is the
/// last resort.
/// </summary>
public static class PretrainedModels
{
    /// <summary>Package version whose files are used.</summary>
    public const string ResNet18PackageVersion = "0.23.1";

    /// <summary>Environment variable naming a folder that holds <c>resnet18/ResNet18.onnx</c>.</summary>
    public const string ModelsEnvironmentVariable = "MEDTRANSFER_MODELS";

    /// <summary>Path of <c>ResNet18.onnx</c> (the backbone graph).</summary>
    /// <exception cref="OnnxImportException">Not found anywhere; the message lists where it looked.</exception>
    public static string ResNet18Path => Locate("ResNet18.onnx", "ResNet18Onnx");

    /// <summary>Path of <c>ResNetPreprocess.onnx</c> (RGB→BGR and mean-image subtraction).</summary>
    /// <exception cref="OnnxImportException">Not found anywhere.</exception>
    public static string ResNet18PreprocessPath => Locate("ResNetPreprocess.onnx", "ResNetPrepOnnx");

    private static string Locate(string file, string packageFolder)
    {
        var candidates = new List<string>();
        string? env = Environment.GetEnvironmentVariable(ModelsEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(env))
        {
            candidates.Add(Path.Combine(env, "resnet18", file));
        }

        candidates.Add(Path.Combine(AppContext.BaseDirectory, "models", "resnet18", file));
        string nugetRoot = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        candidates.Add(Path.Combine(nugetRoot, "microsoft.ml.dnnimagefeaturizer.resnet18", ResNet18PackageVersion, "tools", "DnnImageModels", packageFolder, file));
        foreach (string c in candidates)
        {
            if (File.Exists(c))
            {
                return c;
            }
        }

        throw new OnnxImportException(
            OnnxImportError.ModelNotFound,
            $"The ImageNet ResNet-18 file '{file}' was not found. Looked in: {string.Join("; ", candidates)}. "
            + $"Build the project (it restores Microsoft.ML.DnnImageFeaturizer.ResNet18 {ResNet18PackageVersion} and copies the model), or set {ModelsEnvironmentVariable}.");
    }
}
