using System.Globalization;
using MedTransfer.Reporting.Html;
using MedTransfer.Training.Backbones;

namespace MedTransfer.Pipeline.Runs;

/// <summary>One stage of the backbone as the run cut it.</summary>
/// <param name="Name">stem, stage1 … stage4 or head.</param>
/// <param name="OutputStride">Input pixels per output pixel at the stage's end.</param>
/// <param name="Parameters">Scalar parameters in the stage.</param>
public sealed record BackboneStage(string Name, int OutputStride, long Parameters);

/// <summary>
/// Which backbone a run fine-tuned, as an auditor needs it: the built-in name or the ONNX file with its SHA-256, the
/// feature node (and why it was chosen), the input convention, the stages that <c>trainable_from</c> names, the
/// parameter count and the user's provenance text for the weights.
/// </summary>
/// <param name="Name">The built-in backbone's name, or the ONNX file's name.</param>
/// <param name="Sha256">SHA-256 of the ONNX file; null for the built-in backbone.</param>
/// <param name="FeatureNode">The node whose output is the features (null for the built-in backbone).</param>
/// <param name="FeatureNodeReason">How the feature node was found.</param>
/// <param name="Input">The input convention, in words.</param>
/// <param name="Stages">The stages, in order.</param>
/// <param name="Parameters">Scalar parameters of the backbone.</param>
/// <param name="Provenance">The protocol's <c>model.provenance</c> text.</param>
public sealed record BackboneSummary(string Name, string? Sha256, string? FeatureNode, string? FeatureNodeReason, string Input, IReadOnlyList<BackboneStage> Stages, long Parameters, string Provenance)
{
    /// <summary>The summary of <paramref name="backbone"/>.</summary>
    internal static BackboneSummary Of(Backbone backbone, string provenance)
    {
        BackboneStage[] stages = [.. backbone.Stages.Select(s => new BackboneStage(s.Name, s.OutputStride, s.ParameterCount))];
        return backbone.Imported is { } i
            ? new BackboneSummary(Path.GetFileName(i.Path), i.Sha256, i.FeatureNode, i.FeatureNodeReason, $"{i.Input.Describe()} ({i.InputSource})", stages, backbone.Graph.ParameterCount, provenance)
            : new BackboneSummary(backbone.Name, null, null, null, "the built-in ResNet-18's own: × 255, RGB → BGR, minus the ImageNet mean image", stages, backbone.Graph.ParameterCount, provenance);
    }

    /// <summary>The report's backbone section.</summary>
    internal ReportBlock[] Blocks()
    {
        var facts = new List<KeyValuePair<string, string>> { new("Backbone", Name) };
        if (Sha256 is not null)
        {
            facts.Add(new("File SHA-256", Sha256));
        }

        if (FeatureNode is not null)
        {
            facts.Add(new("Feature node", FeatureNodeReason is { Length: > 0 } why ? $"{FeatureNode} ({why})" : FeatureNode));
        }

        facts.Add(new("Input convention", Input));
        facts.Add(new("Parameters", Parameters.ToString("N0", CultureInfo.InvariantCulture)));
        facts.Add(new("Provenance of the weights", Provenance.Length > 0 ? Provenance : "not stated (model.provenance)"));
        return
        [
            new KeyValues(facts),
            new TableBlock(
                ["Stage", "Output stride", "Parameters"],
                [.. Stages.Select(s => (IReadOnlyList<string>)[s.Name, s.OutputStride.ToString(CultureInfo.InvariantCulture), s.Parameters.ToString("N0", CultureInfo.InvariantCulture)])],
                "The stages model.trainable_from names: every stage before the chosen one stays frozen"),
        ];
    }
}
