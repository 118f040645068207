using Google.Protobuf;
using MedTransfer.Training.Backbones;
using Onnx;

namespace MedTransfer.Training.Tests.Backbones;

/// <summary>Writes code-built ONNX graphs to files and imports them the way a user's model is imported.</summary>
internal static class ImportedBackbones
{
    public static string Write(ModelProto model, string name = "model.onnx")
    {
        string path = Path.Combine(TestPaths.NewTempDirectory("medtransfer-onnx"), name);
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }

    /// <summary><see cref="TestGraphs.MobileDenseNet"/> as a backbone at 32 px (stages stem, stage1, stage2, stage3; 16 features).</summary>
    public static Backbone MobileDenseNet(InputConvention? input = null, ModelProto? model = null) =>
        Backbone.Import(Write(model ?? TestGraphs.MobileDenseNet()), new BackboneImportOptions { ImageSize = 32, Input = input });
}
