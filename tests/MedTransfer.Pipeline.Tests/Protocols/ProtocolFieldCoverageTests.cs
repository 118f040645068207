using System.Text.Json.Nodes;
using MedTransfer.Pipeline.Protocols;
using MedTransfer.Testing;

namespace MedTransfer.Pipeline.Tests.Protocols;

/// <summary>
/// No protocol field is parsed and then ignored: every field of the resolved protocol is listed here with the code
/// that applies it and the test that proves it gets there. A field added to the schema without a consumer makes
/// this test fail until it is listed (and tested).
/// </summary>
public sealed class ProtocolFieldCoverageTests
{
    private const string Translation = "TrainerSettings.For (TrainerSettingsTests.For_EachProtocolField_ReachesTheTrainerConfiguration; the trainer's use of each value: TransferTrainerTests, StrategyTests)";

    private static readonly Dictionary<string, string> s_consumers = new(StringComparer.Ordinal)
    {
        ["schema"] = "ProtocolLoader refuses any other version (ProtocolLoaderTests)",
        ["name"] = "SweepPlan item ids, default run folder, report title (SweepTests, RunReportTests)",
        ["description"] = "ProtocolCard → model card of the report (ProtocolCardTests)",
        ["seeds"] = "SweepPlan: one item per seed, the seed passed to TrainerSettings.For (SweepTests, TrainerSettingsTests.For_TheSeedArgument_IsTheRunSeed)",
        ["data.modality"] = "PrepareStage: X-ray recipe or MriSlices (RunCommandTests, MriRunTests)",
        ["data.source"] = "PrepareStage: the indexer's roots (RunCommandTests)",
        ["data.labels"] = "DataSpec.ToIndexOptions → the indexer's label join; PrepareStage's label check (ProtocolLoaderTests.ToIndexOptions_*, RunCommandTests.Run_LabelsThatAreNotZeroOrOne_*)",
        ["data.label_key"] = "DataSpec.ToIndexOptions (ProtocolLoaderTests.ToIndexOptions_*)",
        ["data.label_column"] = "DataSpec.ToIndexOptions and PrepareStage's label check (RunCommandTests.Run_LabelsThatAreNotZeroOrOne_*)",
        ["data.site"] = "DataSpec.ToIndexOptions (ProtocolLoaderTests.ToIndexOptions_*)",
        ["data.patient_folder"] = "DataSpec.ToIndexOptions (ProtocolLoaderTests)",
        ["data.source_sites"] = "PrepareStage: source partitions and the site check (RunCommandTests)",
        ["data.target_sites"] = "PrepareStage: target partitions and the site check (RunCommandTests.Run_TargetSiteWithoutImages_*)",
        ["data.split.train"] = "SplitSpec.ToSplitOptions → PatientSplitter (ProtocolLoaderTests)",
        ["data.split.val"] = "SplitSpec.ToSplitOptions",
        ["data.split.test"] = "SplitSpec.ToSplitOptions",
        ["data.split.by"] = "only 'patient' is accepted (ProtocolLoaderTests)",
        ["data.split.stratify"] = "SplitSpec.ToSplitOptions",
        ["data.split.seed"] = "SplitSpec.ToSplitOptions",
        ["preprocessing.xray.voi"] = "XrayRecipe → XrayNormalizer (ProtocolLoaderTests, XrayNormalizerTests)",
        ["preprocessing.xray.clip"] = "XrayRecipe",
        ["preprocessing.xray.size"] = "XrayRecipe and the trainer's image size (TrainerSettingsTests)",
        ["preprocessing.xray.resize"] = "XrayRecipe",
        ["preprocessing.xray.padding"] = "XrayRecipe",
        ["preprocessing.xray.channels"] = "XrayRecipe and the exported model's input (RunCommandTests)",
        ["preprocessing.xray.crop_collimation"] = "XrayRecipe",
        ["preprocessing.mri.reorient_ras"] = "MriRecipe → MriSlices (MriSlicesTests)",
        ["preprocessing.mri.resample"] = "MriRecipe",
        ["preprocessing.mri.foreground"] = "MriRecipe",
        ["preprocessing.mri.standardize"] = "MriRecipe (only zscore is accepted)",
        ["preprocessing.mri.slice_axis"] = "MriRecipe",
        ["preprocessing.mri.slices"] = "MriRecipe",
        ["preprocessing.mri.slab"] = "MriRecipe",
        ["preprocessing.mri.size"] = "MriSlices' output size and the trainer's image size (MriSlicesTests)",
        ["preprocessing.mri.resize"] = "MriSlices' slice resize (MriSlicesTests.Normalize_ResizeMethod_*)",
        ["model.backbone"] = Translation,
        ["model.backbone_sha256"] = "ProtocolLoader: the file's hash, checked against a pinned value; part of the protocol hash (OnnxBackboneProtocolTests)",
        ["model.feature_node"] = Translation + " → Backbone.Import (OnnxBackboneProtocolTests, RunOnnxBackboneTests)",
        ["model.input.channels"] = Translation + " → Backbone.Import's input convention (OnnxBackboneProtocolTests)",
        ["model.input.range"] = Translation + " → Backbone.Import's input convention (OnnxBackboneProtocolTests)",
        ["model.input.mean"] = Translation + " → Backbone.Import's input convention (OnnxBackboneProtocolTests)",
        ["model.input.std"] = Translation + " → Backbone.Import's input convention (OnnxBackboneProtocolTests)",
        ["model.input.bgr"] = Translation + " → Backbone.Import's input convention (OnnxBackboneProtocolTests)",
        ["model.provenance"] = "ProtocolCard → model card of the report (OnnxBackboneProtocolTests)",
        ["model.validate_top"] = "ExperimentRunner → ValidateTopStage trains the top candidates (RunOnnxBackboneTests); more than the candidates is refused (OnnxBackboneProtocolTests)",
        ["model.candidates"] = "BackboneRanking: rank's default candidates and the run's ranking section (RankCommandTests, RunOnnxBackboneTests)",
        ["model.head"] = Translation,
        ["model.bottleneck_width"] = Translation,
        ["model.strategy"] = Translation,
        ["model.trainable_from"] = Translation,
        ["model.head_lr_multiplier"] = Translation,
        ["model.discriminative_lr_decay"] = Translation,
        ["model.unfreeze_every"] = Translation,
        ["model.l2sp_alpha"] = Translation,
        ["model.l2sp_beta"] = Translation,
        ["model.classes"] = Translation + "; values other than 2 are refused",
        ["training.optimizer"] = Translation,
        ["training.lr"] = Translation,
        ["training.momentum"] = Translation,
        ["training.weight_decay"] = Translation,
        ["training.batch_size"] = Translation,
        ["training.iterations"] = Translation,
        ["training.epochs"] = Translation,
        ["training.schedule"] = Translation,
        ["training.dann_gamma"] = Translation,
        ["training.label_smoothing"] = Translation,
        ["training.class_weighting"] = Translation,
        ["training.balanced_sampling"] = Translation,
        ["training.early_stopping.signal"] = Translation,
        ["training.early_stopping.patience"] = Translation,
        ["training.early_stopping.every"] = Translation,
        ["training.augmentation.rotation_deg"] = Translation,
        ["training.augmentation.scale"] = Translation,
        ["training.augmentation.translate"] = Translation,
        ["training.augmentation.brightness"] = Translation,
        ["training.augmentation.contrast"] = Translation,
        ["training.augmentation.gamma"] = Translation,
        ["training.augmentation.noise"] = Translation,
        ["training.augmentation.hflip"] = Translation,
        ["adaptation.methods"] = "SweepPlan items and TrainerSettings.For (SweepTests, TrainerSettingsTests)",
        ["adaptation.trade_off"] = Translation,
        ["adaptation.lambda_schedule"] = Translation,
        ["adaptation.dann.trade_off"] = Translation,
        ["adaptation.dann.discriminator_width"] = Translation,
        ["adaptation.cdan.trade_off"] = Translation,
        ["adaptation.cdan.discriminator_width"] = Translation,
        ["adaptation.cdan.randomized_dim"] = Translation,
        ["adaptation.mcc.trade_off"] = Translation,
        ["adaptation.mcc.temperature"] = Translation,
        ["adaptation.dan.trade_off"] = Translation,
        ["adaptation.dan.kernel_alphas"] = Translation,
        ["adaptation.coral.trade_off"] = Translation,
        ["adaptation.shot.beta"] = Translation,
        ["baselines"] = "SweepPlan items; scratch → a scratch backbone (SweepTests, TrainerSettingsTests)",
        ["selection"] = "SelectionRules over each run's candidates and across runs (SelectionTests, CheckpointSelectionTests)",
        ["evaluation.bootstrap"] = "ComparisonStage and OutputStage bootstrap options (RunStrategyTests)",
        ["evaluation.ci"] = "ComparisonStage and OutputStage bootstrap options (RunStrategyTests)",
        ["evaluation.subgroups"] = "OutputStage prediction rows → subgroup metrics; unknown columns refused (TrainerSettingsTests, RunCommandTests)",
        ["evaluation.target"] = "PrepareStage (one target set, not split), MethodRunStage (the target-only baseline cross-validated), ProtocolCard (RunStrategyTests.Run_TransductiveEnsv_*)",
        ["evaluation.operating_sensitivity"] = "OutputStage's operating point and EvaluationOptions.TargetSensitivity (EvaluateTests.Evaluate_TargetSensitivity_*)",
        ["evaluation.per_site"] = "EvaluationOptions.PerSite (EvaluateTests.Evaluate_PerSiteOff_*, RunStrategyTests)",
        ["report.html"] = "OutputStage writes report.html only when true (RunStrategyTests)",
        ["report.embeddings"] = "OutputStage computes embeddings only for pca (RunStrategyTests)",
        ["report.intended_use"] = "ProtocolCard → report (ProtocolCardTests)",
        ["report.out_of_scope_use"] = "ProtocolCard → report (ProtocolCardTests)",
        ["report.limitations"] = "ProtocolCard → report (ProtocolCardTests)",
        ["device"] = "ExperimentRunner: TorchRuntime.SelectDevice (TorchRuntimeTests)",
    };

    [Fact]
    public void EveryResolvedField_HasAConsumer_AndEveryConsumerAField()
    {
        string dir = TestPaths.NewTempDirectory("medtransfer-coverage");
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "images"));
            File.WriteAllText(Path.Combine(dir, "labels.csv"), "id,label,site\n");
            const string Common = "name: p\ndata: {modality: MOD, source: images, labels: labels.csv, source_sites: [A], target_sites: [B]}\n" +
                "training: {early_stopping: {signal: im}}\nadaptation: {methods: [dann, cdan, mcc, dan, coral, shot]}\n";
            ExperimentProtocol xray = ProtocolLoader.Parse(Common.Replace("MOD", "xray", StringComparison.Ordinal), dir);
            ExperimentProtocol mri = ProtocolLoader.Parse(Common.Replace("MOD", "mri", StringComparison.Ordinal), dir);

            // An ONNX backbone brings its own fields (the loader only hashes the file here).
            File.WriteAllBytes(Path.Combine(dir, "b.onnx"), [1]);
            ExperimentProtocol onnx = ProtocolLoader.Parse(Common.Replace("MOD", "xray", StringComparison.Ordinal) +
                "model: {backbone: b.onnx, head: bottleneck, feature_node: f, input: {channels: 3, mean: [0.5], std: [0.5]}, provenance: p, candidates: [resnet18-imagenet@stage4], validate_top: 1}\n", dir);
            var fields = new SortedSet<string>(StringComparer.Ordinal);
            Leaves(ProtocolSerializer.ToTree(xray), string.Empty, fields);
            Leaves(ProtocolSerializer.ToTree(mri), string.Empty, fields);
            Leaves(ProtocolSerializer.ToTree(onnx), string.Empty, fields);

            Assert.Equal(s_consumers.Keys.Order(StringComparer.Ordinal), fields);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void Leaves(JsonNode? node, string path, SortedSet<string> into)
    {
        if (node is JsonObject o)
        {
            foreach ((string key, JsonNode? value) in o)
            {
                Leaves(value, path.Length == 0 ? key : path + "." + key, into);
            }
        }
        else
        {
            into.Add(path);
        }
    }
}
