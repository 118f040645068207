using MedTransfer.Pipeline.Diagnose;
using MedTransfer.Pipeline.Runs;
using MedTransfer.Testing;

namespace MedTransfer.Pipeline.Tests.Diagnose;

public sealed class DiagnosisModelTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-model");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void Load_RunFolder_ReadsModelOnnxAndItsDescriptor()
    {
        // A finished run folder: its marker, written last, records the model's hash.
        using (RunFolder run = RunFolder.Open(Path.Combine(_dir, "run"), "hash", "test", overwrite: false))
        {
            string path = run.WriteBytes(Path.Combine("model", "model.onnx"), TestOnnxModels.Build(3, 32, DiagnosisTestData.Recipe.ToJson()));
            run.MarkComplete("hash", new Dictionary<string, string> { ["model/model.onnx"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path))) });
        }

        using DiagnosisModel model = DiagnosisModel.Load(Path.Combine(_dir, "run"));

        Assert.Equal(["normal", "abnormal"], model.Descriptor.Classes);
        Assert.Equal(1, model.Descriptor.PositiveClass);
        Assert.Equal(DiagnosisTestData.Recipe.ComputeHash(), model.Descriptor.Recipe.ComputeHash());
        Assert.Null(model.Descriptor.ShiftMonitor);
        Assert.Equal(64, model.Descriptor.Sha256.Length);
    }

    [Fact]
    public void Score_ConstantImage_GivesTheHandComputedProbability()
    {
        using DiagnosisModel model = DiagnosisModel.Load(Write("m.onnx", TestOnnxModels.Build(3, 32, DiagnosisTestData.Recipe.ToJson())));
        float[] image = [.. Enumerable.Repeat(0.25f, model.ImageLength)];

        ImageScore score = Assert.Single(model.Score([image]));

        Assert.Equal(DiagnosisTestData.HandScore([.. Enumerable.Repeat(0.25, 48)]), score.Score, 6);
        Assert.True(double.IsNaN(score.ShiftScore));
    }

    [Theory]
    [InlineData("missing", ModelLoadError.NotFound)]
    [InlineData("garbage", ModelLoadError.InvalidOnnx)]
    [InlineData("no-format", ModelLoadError.InvalidMetadata)]
    [InlineData("one-class", ModelLoadError.InvalidMetadata)]
    [InlineData("mri", ModelLoadError.UnsupportedModality)]
    [InlineData("wrong-size", ModelLoadError.ContractMismatch)]
    public void Load_BrokenModel_IsATypedError(string kind, ModelLoadError expected)
    {
        string recipe = DiagnosisTestData.Recipe.ToJson();
        string path = kind switch
        {
            "missing" => Path.Combine(_dir, "nothing.onnx"),
            "garbage" => Write("g.onnx", [1, 2, 3, 4, 5, 6, 7, 8]),
            "no-format" => Write("f.onnx", TestOnnxModels.Build(3, 32, recipe, metadataOverride: "{\"classes\":[\"a\",\"b\"]}")),
            "one-class" => Write("c.onnx", TestOnnxModels.Build(3, 32, recipe, metadataOverride: "{\"format\":\"medtransfer-model/1\",\"classes\":[\"a\"],\"positiveClass\":0,\"recipe\":" + recipe + "}")),
            "mri" => Write("m.onnx", TestOnnxModels.Build(3, 32, recipe, metadataOverride: "{\"format\":\"medtransfer-model/1\",\"modality\":\"mri\",\"classes\":[\"a\",\"b\"],\"positiveClass\":1,\"recipe\":" + recipe + "}")),
            _ => Write("s.onnx", TestOnnxModels.Build(3, 64, recipe)),
        };

        var ex = Assert.Throws<ModelLoadException>(() => DiagnosisModel.Load(path));
        Assert.Equal(expected, ex.Reason);
    }
}
