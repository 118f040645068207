using MedTransfer.Imaging.Index;
using MedTransfer.Imaging.Normalization;
using MedTransfer.Imaging.Resampling;

namespace MedTransfer.Pipeline.Protocols;

/// <summary>The YAML spelling of every enum value a protocol can hold, both ways (kebab-case, as users type them).</summary>
public static class ProtocolNames
{
    private static readonly Dictionary<Type, IReadOnlyList<(string Name, object Value)>> s_tables = new()
    {
        [typeof(ProtocolModality)] = Table(("xray", ProtocolModality.Xray), ("mri", ProtocolModality.Mri)),
        [typeof(SplitStratification)] = Table(("none", SplitStratification.None), ("label", SplitStratification.Label), ("label+site", SplitStratification.LabelAndSite)),
        [typeof(BackboneKind)] = Table(("resnet18-imagenet", BackboneKind.ResNet18ImageNet), ("resnet18-scratch", BackboneKind.ResNet18Scratch)),
        [typeof(HeadKind)] = Table(("linear", HeadKind.Linear), ("bottleneck", HeadKind.Bottleneck)),
        [typeof(FineTuningStrategy)] = Table(
            ("feature-extraction", FineTuningStrategy.FeatureExtraction),
            ("full", FineTuningStrategy.Full),
            ("discriminative", FineTuningStrategy.Discriminative),
            ("gradual-unfreezing", FineTuningStrategy.GradualUnfreezing),
            ("l2sp", FineTuningStrategy.L2Sp)),
        [typeof(TrainableStage)] = Table(
            ("stem", TrainableStage.Stem),
            ("stage1", TrainableStage.Stage1),
            ("stage2", TrainableStage.Stage2),
            ("stage3", TrainableStage.Stage3),
            ("stage4", TrainableStage.Stage4),
            ("head", TrainableStage.Head)),
        [typeof(OptimizerKind)] = Table(("sgd", OptimizerKind.Sgd), ("adamw", OptimizerKind.AdamW)),
        [typeof(LrSchedule)] = Table(("constant", LrSchedule.Constant), ("cosine", LrSchedule.Cosine), ("step", LrSchedule.Step), ("dann", LrSchedule.Dann)),
        [typeof(ClassWeighting)] = Table(("none", ClassWeighting.None), ("balanced", ClassWeighting.Balanced)),
        [typeof(EarlyStoppingSignal)] = Table(
            ("source-val-auroc", EarlyStoppingSignal.SourceValAuroc),
            ("source-val-loss", EarlyStoppingSignal.SourceValLoss),
            ("im", EarlyStoppingSignal.Im),
            ("snd", EarlyStoppingSignal.Snd)),
        [typeof(TrainingMethod)] = Table(
            ("source-only", TrainingMethod.SourceOnly),
            ("target-only", TrainingMethod.TargetOnly),
            ("scratch", TrainingMethod.Scratch),
            ("dann", TrainingMethod.Dann),
            ("cdan", TrainingMethod.Cdan),
            ("cdan-e", TrainingMethod.CdanE),
            ("dan", TrainingMethod.Dan),
            ("jan", TrainingMethod.Jan),
            ("coral", TrainingMethod.Coral),
            ("mcc", TrainingMethod.Mcc),
            ("entropy", TrainingMethod.Entropy),
            ("adabn", TrainingMethod.AdaBn),
            ("shot", TrainingMethod.Shot)),
        [typeof(LambdaSchedule)] = Table(("paper", LambdaSchedule.Paper), ("tllib", LambdaSchedule.Tllib), ("constant", LambdaSchedule.Constant)),
        [typeof(SelectionRule)] = Table(
            ("source-val", SelectionRule.SourceVal),
            ("im", SelectionRule.Im),
            ("snd", SelectionRule.Snd),
            ("entropy", SelectionRule.Entropy),
            ("bnm", SelectionRule.Bnm),
            ("dev", SelectionRule.Dev),
            ("ensv", SelectionRule.Ensv),
            ("oracle", SelectionRule.Oracle)),
        [typeof(TargetEvaluation)] = Table(("test", TargetEvaluation.Test), ("transductive", TargetEvaluation.Transductive)),
        [typeof(EmbeddingPlot)] = Table(("none", EmbeddingPlot.None), ("pca", EmbeddingPlot.Pca)),
        [typeof(VoiMode)] = Table(("file-window", VoiMode.UseFileWindow), ("none", VoiMode.None)),
        [typeof(ResizeMethod)] = Table(("area", ResizeMethod.Area), ("lanczos3", ResizeMethod.Lanczos3)),
        [typeof(ForegroundMethod)] = Table(("otsu", ForegroundMethod.Otsu), ("mean", ForegroundMethod.Mean)),
        [typeof(IntensityStandardization)] = Table(("zscore", IntensityStandardization.ZScore), ("nyul", IntensityStandardization.Nyul)),
        [typeof(SliceAxis)] = Table(("axial", SliceAxis.Axial), ("coronal", SliceAxis.Coronal), ("sagittal", SliceAxis.Sagittal)),
        [typeof(LabelKey)] = Table(("id", LabelKey.Id), ("path", LabelKey.Path), ("patient", LabelKey.Patient), ("sop", LabelKey.SopInstanceUid)),
    };

    /// <summary>The YAML name of <paramref name="value"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The enum is not one a protocol holds.</exception>
    public static string Of<T>(T value)
        where T : struct, Enum =>
        s_tables.TryGetValue(typeof(T), out IReadOnlyList<(string Name, object Value)>? table) && table.FirstOrDefault(e => e.Value.Equals(value)).Name is { } name
            ? name
            : throw new ArgumentOutOfRangeException(nameof(value), value, "Not a protocol value.");

    /// <summary>Every YAML name of <typeparamref name="T"/>, in declaration order.</summary>
    public static IReadOnlyList<string> All<T>()
        where T : struct, Enum => [.. s_tables[typeof(T)].Select(e => e.Name)];

    /// <summary>Parses a YAML name (exact, lower case).</summary>
    public static bool TryParse<T>(string text, out T value)
        where T : struct, Enum
    {
        foreach ((string name, object v) in s_tables[typeof(T)])
        {
            if (string.Equals(name, text, StringComparison.Ordinal))
            {
                value = (T)v;
                return true;
            }
        }

        value = default;
        return false;
    }

    private static IReadOnlyList<(string Name, object Value)> Table<T>(params (string Name, T Value)[] entries)
        where T : struct, Enum => [.. entries.Select(e => (e.Name, (object)e.Value))];
}
