using System.Globalization;
using MedTransfer.Pipeline.Evaluate;

namespace MedTransfer.Pipeline.Protocols;

/// <summary>
/// Describes a protocol in the words of the validation report's required sections, so that a run
/// can render its report from the protocol alone: data sources, partitions, preprocessing (with the recipe hash),
/// model, adaptation, selection rule, plus the intended use and limitations the protocol's <c>report</c> block states.
/// </summary>
public static class ProtocolCard
{
    /// <summary>The model card of a run of <paramref name="protocol"/>.</summary>
    public static ModelCard ToModelCard(ExperimentProtocol protocol)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        DataSpec d = protocol.Data;
        SplitSpec s = d.Split;
        TrainingSpec t = protocol.Training;
        ModelSpec m = protocol.Model;
        string sources = string.Join("; ", d.Sources.Select(x => $"{x.Path} ({(x.Kind == DataSourceKind.Folder ? "folder" : "manifest")})"));
        string labels = d.Labels is null ? "labels from the manifest" : $"labels from {d.Labels.Path} (key {ProtocolNames.Of(d.Labels.Key)}, column {d.Labels.Column})";
        string length = t.Iterations is { } i ? Invariant($"{i} iterations") : Invariant($"{t.Epochs} epochs (steps = epochs × ⌈labelled training images / batch⌉)");
        string stopping = t.EarlyStopping is { } e ? Invariant($", early stopping on {ProtocolNames.Of(e.Signal)} (patience {e.Patience}, every {e.Every} steps)") : string.Empty;
        string augmentation = !t.Augmentation.Enabled ? "no augmentation" : "augmentation (see the resolved protocol)";
        return new ModelCard
        {
            IntendedUse = protocol.Report.IntendedUse,
            OutOfScopeUse = protocol.Report.OutOfScopeUse,
            DataSources = $"{(d.Modality == ProtocolModality.Xray ? "X-ray" : "MRI")}: {sources}; {labels}; site rule {d.Site}; source sites {string.Join(", ", d.SourceSites)}; target sites {string.Join(", ", d.TargetSites)}.",
            Partitions = protocol.Evaluation.Target == TargetEvaluation.Transductive
                ? Invariant($"Source sites: patient-level split {s.Train:0.###}/{s.Val:0.###}/{s.Test:0.###} (train/val/test), stratified by {ProtocolNames.Of(s.Stratify)}, split seed {s.Seed}. Target sites: transductive — every target image is adapted on without labels and scored, and the target-only baseline is 5-fold cross-validated over target patients; the target numbers are therefore not a held-out estimate.")
                : Invariant($"Patient-level split {s.Train:0.###}/{s.Val:0.###}/{s.Test:0.###} (train/val/test) over every site, stratified by {ProtocolNames.Of(s.Stratify)}, split seed {s.Seed}; no patient is in two partitions."),
            Preprocessing = Preprocessing(protocol.Preprocessing),
            Model = Invariant($"Protocol {protocol.Name} (sha256 {protocol.ComputeHash()}). {BackboneText(m)}, {ProtocolNames.Of(m.Head)} head, {Strategy(m)}; {ProtocolNames.Of(t.Optimizer)}, backbone lr {t.Lr} and new layers × {m.HeadLrMultiplier}, weight decay {t.WeightDecay}, batch {t.BatchSize}, at most {length}, {ProtocolNames.Of(t.Schedule)} schedule{stopping}, {augmentation}; seeds {string.Join(", ", protocol.Seeds)}."),
            Adaptation = Adaptation(protocol),
            SelectionRule = Selection(protocol.Selection),
            Limitations = protocol.Report.Limitations,
        };
    }

    private static string Preprocessing(PreprocessingSpec p)
    {
        if (p.Xray is { } x)
        {
            return Invariant($"X-ray recipe sha256 {p.RecipeHash}: VOI {ProtocolNames.Of(x.Voi)}, clip {x.Clip.LowPercent}–{x.Clip.HighPercent} percentiles, {(x.CropCollimation is null ? "no collimation crop" : "collimation crop")}, {x.Resize.Size} px {ProtocolNames.Of(x.Resize.Method)} resize with padding, {x.Channels} channel(s).");
        }

        var m = p.Mri!;
        return Invariant($"MRI recipe sha256 {p.RecipeHash}: {(m.ReorientToRas ? "RAS reorientation" : "native orientation")}, {ProtocolNames.Of(m.Foreground)} foreground, {ProtocolNames.Of(m.Standardize)} standardisation, {ProtocolNames.Of(m.Slices.Axis)} slabs of {m.Slices.SlabThickness}, slices resized to {p.MriSliceSize} px.");
    }

    private static string Strategy(ModelSpec m)
    {
        string strategy = m.Strategy switch
        {
            FineTuningStrategy.Discriminative => Invariant($"discriminative fine-tuning (each stage below the top at lr × {m.DiscriminativeLrDecay}^k)"),
            FineTuningStrategy.GradualUnfreezing => Invariant($"gradual unfreezing (one stage more every {m.UnfreezeEvery} iterations)"),
            FineTuningStrategy.L2Sp => Invariant($"L2-SP fine-tuning (α {m.L2SpAlpha}, β {m.L2SpBeta})"),
            FineTuningStrategy.FeatureExtraction => "feature extraction (frozen backbone)",
            _ => "full fine-tuning",
        };
        return m.TrainableFrom is { } from && from != TrainableStage.Stem && m.Strategy != FineTuningStrategy.FeatureExtraction
            ? $"{strategy} from {ProtocolNames.Of(from)} on (earlier stages frozen, their BatchNorm statistics too)"
            : strategy;
    }

    private static string Adaptation(ExperimentProtocol protocol)
    {
        string baselines = "baselines: " + string.Join(", ", protocol.Baselines.Select(ProtocolNames.Of));
        if (protocol.Adaptation.Methods.Count == 0)
        {
            return $"None ({baselines}).";
        }

        IEnumerable<string> methods = protocol.Adaptation.Methods.Select(m => m.Method switch
        {
            TrainingMethod.AdaBn => "adabn",
            TrainingMethod.Shot => Invariant($"shot (source-free, from each seed's source-only model; β {m.ShotBeta})"),
            _ => Invariant($"{ProtocolNames.Of(m.Method)} (trade-off {m.TradeOff})"),
        });
        return $"{string.Join(", ", methods)}; λ schedule {ProtocolNames.Of(protocol.Adaptation.LambdaSchedule)}; {baselines}.";
    }

    private static string Selection(SelectionRule rule)
    {
        string what = rule switch
        {
            SelectionRule.SourceVal => "the best source-validation AUROC (no target labels)",
            SelectionRule.Im => "the best information maximisation on the unlabelled target training images (no target labels)",
            SelectionRule.Snd => "the best soft neighbourhood density of the target predictions (no target labels)",
            SelectionRule.Entropy => "the lowest mean prediction entropy on the target training images (no target labels)",
            SelectionRule.Bnm => "the highest batch nuclear norm of the target predictions (no target labels)",
            SelectionRule.Dev => "the lowest deep-embedded-validation risk: source-validation loss weighted by a domain classifier's density ratios (no target labels)",
            SelectionRule.Ensv => "the highest agreement with the ensemble of all candidates on the target training images (no target labels)",
            _ => "ORACLE: the best AUROC on the target validation partition, using its labels; an upper bound, not a deployable result",
        };
        string text = $"Every candidate checkpoint of every (method, seed) run was scored; each run keeps, and the reported model is, the candidate with {what}.";
        return rule == SelectionRule.Oracle ? "ORACLE: " + text : text;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>Which backbone, and for a user's ONNX file what identifies it: its SHA-256, feature node, input convention and the user's provenance text.</summary>
    private static string BackboneText(ModelSpec m)
    {
        string text = m.BackbonePath is { } path
            ? Invariant($"ONNX backbone {Path.GetFileName(path)} (sha256 {m.BackboneSha256 ?? "not computed"}; feature node {m.FeatureNode ?? "found automatically"}; input {m.Input?.Describe() ?? "from the file's metadata, else ImageNet's"})")
            : Invariant($"{ProtocolNames.Of(m.Backbone)} backbone");
        return m.Provenance.Length > 0 ? Invariant($"{text} (weights: {m.Provenance})") : text;
    }
}
