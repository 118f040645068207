using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MedTransfer.Pipeline.Protocols;

/// <summary>
/// The resolved protocol as a tree in the YAML schema's own names (every default filled in), its canonical JSON and
/// its hash. The canonical form sorts keys ordinally at every level, writes no whitespace and prints numbers in their
/// shortest round-trip form; paths appear as written in the protocol ('/'-separated), not resolved, so the same
/// protocol hashes the same in any checkout. Comments and key order in the YAML do not change the hash.
/// </summary>
public static partial class ProtocolSerializer
{
    // Escapes only what JSON must (quote, backslash, control characters): valid YAML double-quoted text.
    private static readonly JsonSerializerOptions s_quoting = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The resolved protocol, keys in schema order (for display).</summary>
    public static JsonObject ToTree(ExperimentProtocol protocol)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        DataSpec d = protocol.Data;
        var data = new JsonObject
        {
            ["modality"] = ProtocolNames.Of(d.Modality),
            ["source"] = Array(d.Sources.Select(s => (JsonNode?)s.Path)),
            ["labels"] = d.Labels?.Path,
            ["label_key"] = d.Labels is null ? null : ProtocolNames.Of(d.Labels.Key),
            ["label_column"] = d.Labels?.Column,
            ["site"] = d.Site.ToString(),
            ["patient_folder"] = d.PatientFolder,
            ["source_sites"] = Array(d.SourceSites.Select(s => (JsonNode?)s)),
            ["target_sites"] = Array(d.TargetSites.Select(s => (JsonNode?)s)),
            ["split"] = new JsonObject
            {
                ["train"] = d.Split.Train,
                ["val"] = d.Split.Val,
                ["test"] = d.Split.Test,
                ["by"] = "patient",
                ["stratify"] = ProtocolNames.Of(d.Split.Stratify),
                ["seed"] = d.Split.Seed,
            },
        };

        ModelSpec m = protocol.Model;
        TrainingSpec t = protocol.Training;
        Training.Configuration.AugmentationConfig a = t.Augmentation;
        return new JsonObject
        {
            ["schema"] = protocol.Schema,
            ["name"] = protocol.Name,
            ["description"] = protocol.Description,
            ["seeds"] = Array(protocol.Seeds.Select(s => (JsonNode?)s)),
            ["data"] = data,
            ["preprocessing"] = Preprocessing(protocol.Preprocessing),
            ["model"] = WithOnnxBackbone(m, new JsonObject
            {
                ["backbone"] = ProtocolNames.Of(m.Backbone),
                ["head"] = ProtocolNames.Of(m.Head),
                ["bottleneck_width"] = m.BottleneckWidth,
                ["strategy"] = ProtocolNames.Of(m.Strategy),
                ["trainable_from"] = m.TrainableFrom is { } from ? ProtocolNames.Of(from) : null,
                ["head_lr_multiplier"] = m.HeadLrMultiplier,
                ["discriminative_lr_decay"] = m.DiscriminativeLrDecay,
                ["unfreeze_every"] = m.UnfreezeEvery,
                ["l2sp_alpha"] = m.L2SpAlpha,
                ["l2sp_beta"] = m.L2SpBeta,
                ["classes"] = m.Classes,
            }),
            ["training"] = new JsonObject
            {
                ["optimizer"] = ProtocolNames.Of(t.Optimizer),
                ["lr"] = t.Lr,
                ["momentum"] = t.Momentum,
                ["weight_decay"] = t.WeightDecay,
                ["batch_size"] = t.BatchSize,
                ["iterations"] = t.Iterations,
                ["epochs"] = t.Epochs,
                ["schedule"] = ProtocolNames.Of(t.Schedule),
                ["dann_gamma"] = t.Schedule == LrSchedule.Dann ? t.DannGamma : null,
                ["label_smoothing"] = t.LabelSmoothing,
                ["class_weighting"] = ProtocolNames.Of(t.ClassWeighting),
                ["balanced_sampling"] = t.BalancedSampling,
                ["early_stopping"] = t.EarlyStopping is not { } e ? null : new JsonObject
                {
                    ["signal"] = ProtocolNames.Of(e.Signal),
                    ["patience"] = e.Patience,
                    ["every"] = e.Every,
                },
                ["augmentation"] = new JsonObject
                {
                    ["rotation_deg"] = a.RotationDegrees,
                    ["scale"] = a.Scale,
                    ["translate"] = a.Translate,
                    ["brightness"] = a.Brightness,
                    ["contrast"] = a.Contrast,
                    ["gamma"] = a.Gamma,
                    ["noise"] = a.Noise,
                    ["hflip"] = a.HorizontalFlip,
                },
            },
            ["adaptation"] = Adaptation(protocol.Adaptation),
            ["baselines"] = Array(protocol.Baselines.Select(b => (JsonNode?)ProtocolNames.Of(b))),
            ["selection"] = ProtocolNames.Of(protocol.Selection),
            ["evaluation"] = new JsonObject
            {
                ["bootstrap"] = protocol.Evaluation.Bootstrap,
                ["ci"] = protocol.Evaluation.Ci,
                ["subgroups"] = Array(protocol.Evaluation.Subgroups.Select(s => (JsonNode?)s)),
                ["per_site"] = protocol.Evaluation.PerSite,
                ["target"] = ProtocolNames.Of(protocol.Evaluation.Target),
                ["operating_sensitivity"] = protocol.Evaluation.OperatingSensitivity,
            },
            ["report"] = new JsonObject
            {
                ["html"] = protocol.Report.Html,
                ["embeddings"] = ProtocolNames.Of(protocol.Report.Embeddings),
                ["intended_use"] = protocol.Report.IntendedUse,
                ["out_of_scope_use"] = protocol.Report.OutOfScopeUse,
                ["limitations"] = Array(protocol.Report.Limitations.Select(l => (JsonNode?)l)),
            },
            ["device"] = protocol.Device,
        };
    }

    /// <summary>Canonical JSON: keys sorted ordinally at every level, no whitespace, UTF-8 text.</summary>
    public static string ToCanonicalJson(ExperimentProtocol protocol)
    {
        return CanonicalJson.Write(ToTree(protocol), indented: false);
    }

    /// <summary>SHA-256 of <see cref="ToCanonicalJson"/> as UTF-8, lower-case hex: what runs and reports record.</summary>
    public static string ComputeHash(ExperimentProtocol protocol) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ToCanonicalJson(protocol))));

    /// <summary>The resolved protocol as YAML (schema order, block style), loadable again by <see cref="ProtocolLoader"/>.</summary>
    public static string ToYaml(ExperimentProtocol protocol)
    {
        var text = new StringBuilder();
        WriteYaml(text, ToTree(protocol), 0);
        return text.ToString();
    }

    private static JsonObject Preprocessing(PreprocessingSpec p)
    {
        var tree = new JsonObject();
        if (p.Xray is { } x)
        {
            tree["xray"] = new JsonObject
            {
                ["voi"] = ProtocolNames.Of(x.Voi),
                ["clip"] = new JsonArray(x.Clip.LowPercent, x.Clip.HighPercent),
                ["size"] = x.Resize.Size,
                ["resize"] = ProtocolNames.Of(x.Resize.Method),
                ["padding"] = (double)x.Resize.PaddingValue,
                ["channels"] = x.Channels,
                ["crop_collimation"] = x.CropCollimation is not null,
            };
        }

        if (p.Mri is { } m)
        {
            tree["mri"] = new JsonObject
            {
                ["reorient_ras"] = m.ReorientToRas,
                ["resample"] = m.ResampleSpacing is { } s ? new JsonArray(s.X, s.Y, s.Z) : null,
                ["foreground"] = ProtocolNames.Of(m.Foreground),
                ["standardize"] = ProtocolNames.Of(m.Standardize),
                ["slice_axis"] = ProtocolNames.Of(m.Slices.Axis),
                ["slices"] = m.Slices.Count,
                ["slab"] = m.Slices.SlabThickness,
                ["size"] = p.MriSliceSize,
                ["resize"] = ProtocolNames.Of(p.MriResize),
            };
        }

        return tree;
    }

    private static JsonObject Adaptation(AdaptationSpec a)
    {
        var tree = new JsonObject
        {
            ["methods"] = Array(a.Methods.Select(m => (JsonNode?)ProtocolNames.Of(m.Method))),
            ["trade_off"] = a.TradeOff,
            ["lambda_schedule"] = ProtocolNames.Of(a.LambdaSchedule),
        };
        foreach (MethodSpec m in a.Methods)
        {
            var settings = new JsonObject();
            if (m.Method is not (TrainingMethod.AdaBn or TrainingMethod.Shot))
            {
                settings["trade_off"] = m.TradeOff;
            }

            switch (m.Method)
            {
                case TrainingMethod.Dann:
                    settings["discriminator_width"] = m.DiscriminatorWidth;
                    break;
                case TrainingMethod.Cdan or TrainingMethod.CdanE:
                    settings["discriminator_width"] = m.DiscriminatorWidth;
                    settings["randomized_dim"] = m.RandomizedDimension;
                    break;
                case TrainingMethod.Dan or TrainingMethod.Jan:
                    settings["kernel_alphas"] = Array(m.KernelAlphas.Select(v => (JsonNode?)v));
                    break;
                case TrainingMethod.Mcc:
                    settings["temperature"] = m.Temperature;
                    break;
                case TrainingMethod.Shot:
                    settings["beta"] = m.ShotBeta;
                    break;
            }

            tree[ProtocolNames.Of(m.Method)] = settings;
        }

        return tree;
    }

    private static JsonArray Array(IEnumerable<JsonNode?> items) => [.. items];

    private static void WriteYaml(StringBuilder text, JsonObject tree, int indent)
    {
        string pad = new(' ', indent);
        foreach ((string key, JsonNode? value) in tree)
        {
            text.Append(pad).Append(key).Append(':');
            if (value is JsonObject child && child.Count > 0)
            {
                text.Append('\n');
                WriteYaml(text, child, indent + 2);
            }
            else
            {
                text.Append(' ').Append(Inline(value)).Append('\n');
            }
        }
    }

    private static string Inline(JsonNode? value) => value switch
    {
        null => "null",
        JsonObject => "{}",
        JsonArray a => "[" + string.Join(", ", a.Select(Inline)) + "]",
        JsonValue v when v.TryGetValue(out string? s) => Quote(s),
        JsonValue v when v.TryGetValue(out bool b) => b ? "true" : "false",
        JsonValue v when v.TryGetValue(out double d) => d.ToString("R", CultureInfo.InvariantCulture),
        JsonValue v when v.TryGetValue(out float f) => ((double)f).ToString("R", CultureInfo.InvariantCulture),
        _ => value.ToJsonString(),
    };

    // Names and paths print plain; anything else (spaces, YAML keywords, numbers-as-text) double-quoted, whose escaping
    // is JSON's.
    private static string Quote(string s) =>
        PlainScalar().IsMatch(s) && s is not ("true" or "false" or "null" or "yes" or "no" or "on" or "off") ? s : JsonSerializer.Serialize(s, s_quoting);

    [GeneratedRegex("^[A-Za-z_./][A-Za-z0-9_./+-]*(:[A-Za-z0-9_./+-]+)?$")]
    private static partial Regex PlainScalar();

    /// <summary>
    /// The ONNX backbone's fields (and provenance and candidates), present only when used, so protocols without them
    /// keep the hash they always had; the file's SHA-256 is part of the hash, so other weights make another protocol.
    /// </summary>
    private static JsonObject WithOnnxBackbone(ModelSpec m, JsonObject model)
    {
        if (m.BackbonePath is { } path)
        {
            model["backbone"] = path;
            model["backbone_sha256"] = m.BackboneSha256;
            model["feature_node"] = m.FeatureNode;
            model["input"] = m.Input is { } i
                ? new JsonObject
                {
                    ["channels"] = i.Channels,
                    ["range"] = new JsonArray(i.RangeMin, i.RangeMax),
                    ["mean"] = new JsonArray([.. i.Mean.Select(v => (JsonNode?)v)]),
                    ["std"] = new JsonArray([.. i.Std.Select(v => (JsonNode?)v)]),
                    ["bgr"] = i.Bgr,
                }
                : null;
        }

        if (m.Provenance.Length > 0)
        {
            model["provenance"] = m.Provenance;
        }

        if (m.Candidates.Count > 0)
        {
            model["candidates"] = new JsonArray([.. m.Candidates.Select(c => (JsonNode?)(c.Backbone + "@" + c.Cut))]);
            model["validate_top"] = m.ValidateTop;
        }

        return model;
    }
}
