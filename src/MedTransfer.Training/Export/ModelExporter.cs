using MedTransfer.Training.Backbones;
using System.Text.Json.Nodes;
using Google.Protobuf;
using MedTransfer.Training.Models;
using MedTransfer.Training.Onnx;
using Onnx;
using static MedTransfer.Training.Export.OnnxGraphParts;
using static TorchSharp.torch;

namespace MedTransfer.Training.Export;

/// <summary>What the exported model says about itself (ONNX metadata key <see cref="ModelExporter.MetadataKey"/>).</summary>
/// <param name="Classes">Class names, index order.</param>
/// <param name="PositiveClass">Index of the class whose probability is "the score".</param>
/// <param name="Modality">"xray" or "mri".</param>
/// <param name="RecipeJson">The normalization recipe (its JSON), so inference preprocesses the same way.</param>
/// <param name="ShiftMonitorJson">The feature shift monitor (its JSON), or null.</param>
/// <param name="ProtocolHash">Hash of the protocol that trained it, or null.</param>
/// <param name="Seed">Training seed.</param>
/// <param name="CodeVersion">MedTransfer version/commit.</param>
public sealed record ExportMetadata(
    IReadOnlyList<string> Classes,
    int PositiveClass,
    string Modality,
    string? RecipeJson,
    string? ShiftMonitorJson,
    string? ProtocolHash,
    long Seed,
    string CodeVersion);

/// <summary>
/// Exports a fine-tuned <see cref="TransferModel"/> — preprocessing, backbone, bottleneck and classifier
/// — as one ONNX graph (in the source backbone's opset) that ONNX Runtime runs without libtorch. The preprocessing
/// is the built-in ResNet-18's mean-image subtraction or an imported backbone's input convention.
/// Input <c>image</c>: float32 [N, C, S, S] with the normalization recipe's output in [0, 1]
/// (C = 1 or 3). Outputs <c>logits</c> [N, K] and <c>features</c> [N, D].
/// </summary>
public static class ModelExporter
{
    /// <summary>The metadata_props key holding <see cref="ExportMetadata"/> as JSON.</summary>
    public const string MetadataKey = "medtransfer.model";

    /// <summary>The metadata_props key describing an imported backbone (file hash, feature node, input convention), as JSON.</summary>
    public const string BackboneMetadataKey = "medtransfer.backbone";

    /// <summary>Metadata format identifier.</summary>
    public const string Format = "medtransfer-model/1";

    /// <summary>Builds the ONNX model.</summary>
    /// <param name="model">The trained model (its current weights and BatchNorm statistics are written).</param>
    /// <param name="metadata">Self-description embedded in the file.</param>
    /// <param name="channels">Input channels the recipe produces (1 or 3).</param>
    public static ModelProto Build(TransferModel model, ExportMetadata metadata, int channels = 3)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(metadata);
        if (channels is not (1 or 3))
        {
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "The exported input has 1 or 3 channels.");
        }

        OnnxGraphModule graph = model.Features.Backbone.Graph;
        ModelProto trained = graph.ToTrainedModel();
        int size = model.ImageSize;
        var g = new GraphProto { Name = "medtransfer" };
        g.Input.Add(Value("image", ["N", channels, size, size]));

        if (!OnnxGraphParts.TryAddPreprocessing(g, model.Features.Backbone.Preprocess, "image", channels))
        {
            throw new ArgumentException("Export writes the mean-image or the input-convention preprocessing; this backbone has another.", nameof(model));
        }

        // The backbone, with its trained initializers; a globalized final pool becomes GlobalAveragePool.
        OnnxGraphParts.AddBackbone(g, graph, trained);
        g.Node.Add(Node("Flatten", [graph.OutputName], ["mt_backbone_features"], Int("axis", 1)));

        Dictionary<string, Tensor> state = model.state_dict();
        string features = "mt_backbone_features";
        if (model.Features.Bottleneck is not null)
        {
            g.Initializer.Add(Floats("mt_bottleneck_w", state["features.bottleneck.linear.weight"]));
            g.Initializer.Add(Floats("mt_bottleneck_b", state["features.bottleneck.linear.bias"]));
            g.Node.Add(Node("Gemm", [features, "mt_bottleneck_w", "mt_bottleneck_b"], ["mt_bottleneck_linear"], Int("transB", 1)));
            foreach (string part in new[] { "weight", "bias", "running_mean", "running_var" })
            {
                g.Initializer.Add(Floats("mt_bottleneck_bn_" + part, state["features.bottleneck.bn." + part]));
            }

            g.Node.Add(Node("BatchNormalization", ["mt_bottleneck_linear", "mt_bottleneck_bn_weight", "mt_bottleneck_bn_bias", "mt_bottleneck_bn_running_mean", "mt_bottleneck_bn_running_var"], ["mt_bottleneck_bn"], Float("epsilon", 1e-5f)));
            g.Node.Add(Node("Relu", ["mt_bottleneck_bn"], ["features"]));
        }
        else
        {
            g.Node.Add(Node("Identity", [features], ["features"]));
        }

        g.Initializer.Add(Floats("mt_classifier_w", state["classifier.weight"]));
        g.Initializer.Add(Floats("mt_classifier_b", state["classifier.bias"]));
        g.Node.Add(Node("Gemm", ["features", "mt_classifier_w", "mt_classifier_b"], ["logits"], Int("transB", 1)));
        g.Output.Add(Value("logits", ["N", model.Classifier.weight!.shape[0]]));
        g.Output.Add(Value("features", ["N", model.Features.Dimension]));

        var result = new ModelProto
        {
            IrVersion = trained.IrVersion,
            ProducerName = "MedTransfer",
            ProducerVersion = metadata.CodeVersion,
            DocString = "Fine-tuned by MedTransfer: preprocessing + pretrained backbone + head. Input 'image' is the normalization recipe's output in [0, 1].",
            Graph = g,
        };
        result.OpsetImport.AddRange(trained.OpsetImport.Select(o => o.Clone()));
        result.MetadataProps.Add(new StringStringEntryProto { Key = MetadataKey, Value = MetadataJson(metadata) });
        if (model.Features.Backbone.Imported is { } imported)
        {
            result.MetadataProps.Add(new StringStringEntryProto { Key = BackboneMetadataKey, Value = BackboneJson(imported) });
        }
        return result;
    }

    /// <summary>Builds and writes the model atomically (temporary file, flush, rename).</summary>
    public static void Save(TransferModel model, ExportMetadata metadata, string path, int channels = 3)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes = Build(model, metadata, channels).ToByteArray();
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = full + $".tmp-{Environment.ProcessId}";
        using (var fs = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            fs.Write(bytes);
            fs.Flush(flushToDisk: true);
        }

        File.Move(temp, full, overwrite: true);
    }

    /// <summary>The metadata as the JSON stored in the file.</summary>
    public static string MetadataJson(ExportMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var json = new JsonObject
        {
            ["format"] = Format,
            ["classes"] = new JsonArray([.. metadata.Classes.Select(c => (JsonNode)c)]),
            ["positiveClass"] = metadata.PositiveClass,
            ["modality"] = metadata.Modality,
            ["recipe"] = metadata.RecipeJson is null ? null : JsonNode.Parse(metadata.RecipeJson),
            ["shiftMonitor"] = metadata.ShiftMonitorJson is null ? null : JsonNode.Parse(metadata.ShiftMonitorJson),
            ["trainedOn"] = new JsonObject
            {
                ["protocolHash"] = metadata.ProtocolHash,
                ["seed"] = metadata.Seed,
                ["codeVersion"] = metadata.CodeVersion,
            },
        };
        return json.ToJsonString();
    }

    private static string BackboneJson(ImportedBackbone b) => new JsonObject
    {
        ["file"] = Path.GetFileName(b.Path),
        ["sha256"] = b.Sha256,
        ["featureNode"] = b.FeatureNode,
        ["opset"] = b.Opset,
        ["input"] = JsonNode.Parse(b.Input.ToJson()),
    }.ToJsonString();
}
