using MedTransfer.Training.Backbones;
using MedTransfer.Training.Configuration;

namespace MedTransfer.Pipeline.Protocols;

/// <summary>A backbone to rank and where to cut it.</summary>
/// <param name="Backbone">A built-in name (<see cref="BackboneNames"/>) or the path of an ONNX CNN.</param>
/// <param name="Cut">The <c>trainable_from</c> stage: features are the backbone's activations just before it,
/// averaged over space (<c>head</c>: the backbone's own pooled features).</param>
public sealed record RankCandidate(string Backbone, string Cut);

/// <summary>How candidate backbones are written, in <c>model.candidates</c> and <c>medtransfer rank --candidate</c>.</summary>
public static class BackboneCandidates
{
    /// <summary>
    /// Candidates written as <c>BACKBONE</c> or <c>BACKBONE@cut,cut</c> (a built-in name or a path ending in .onnx,
    /// relative to <paramref name="baseDirectory"/>); without cuts: stage3, stage4 and head.
    /// </summary>
    /// <exception cref="ArgumentException">A name that is neither a built-in backbone nor an .onnx path, or an unknown cut.</exception>
    public static IReadOnlyList<RankCandidate> Parse(IReadOnlyList<string> written, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(written);
        var list = new List<RankCandidate>();
        foreach (string text in written)
        {
            int at = text.LastIndexOf('@');
            string backbone = at < 0 ? text : text[..at];
            IReadOnlyList<string> cuts = at < 0 ? DefaultCuts : text[(at + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (BackboneNames.IsOnnxFile(backbone))
            {
                backbone = Path.GetFullPath(Path.Combine(baseDirectory, backbone));
            }
            else if (!BackboneNames.All.Contains(backbone))
            {
                throw new ArgumentException($"'{text}': '{backbone}' is neither a built-in backbone ({string.Join(", ", BackboneNames.All)}) nor an .onnx file.");
            }

            foreach (string cut in cuts)
            {
                if (!TrainableFromNames.All.Contains(cut))
                {
                    throw new ArgumentException($"'{text}': '{cut}' is not a cut; use one of {string.Join(", ", TrainableFromNames.All)}.");
                }

                list.Add(new RankCandidate(backbone, cut));
            }
        }

        return list;
    }

    /// <summary>The cuts ranked when a candidate names none.</summary>
    public static IReadOnlyList<string> DefaultCuts { get; } = ["stage3", "stage4", "head"];
}
