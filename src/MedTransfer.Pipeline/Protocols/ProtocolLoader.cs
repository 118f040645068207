using System.Text.RegularExpressions;
using MedTransfer.Imaging.Index;
using MedTransfer.Imaging.Normalization;
using MedTransfer.Imaging.Resampling;
using MedTransfer.Training.Backbones;
using MedTransfer.Training.Configuration;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace MedTransfer.Pipeline.Protocols;

/// <summary>Options of <see cref="ProtocolLoader"/>.</summary>
public sealed record ProtocolLoadOptions
{
    /// <summary>Check that data sources and label files exist (default true). Off for checking a protocol's shape on another machine.</summary>
    public bool CheckFiles { get; init; } = true;
}

/// <summary>
/// Reads and validates experiment protocols (YAML, schema in protocols/README.md). Validation is strict: unknown keys,
/// keys given twice, wrong types, out-of-range numbers, unknown names, missing files, empty or overlapping site lists
/// are each reported once, with the file, line, column and dotted field (<see cref="ProtocolError"/>); every problem
/// of a file is collected before <see cref="ProtocolException"/> is thrown. Relative paths resolve against the
/// protocol file's folder.
/// </summary>
public static partial class ProtocolLoader
{
    /// <summary>Largest protocol file read (1 MiB): a protocol is a page of settings, not data.</summary>
    public const int MaxFileBytes = 1 << 20;

    private static readonly string[] s_top = ["schema", "name", "description", "seeds", "data", "preprocessing", "model", "training", "adaptation", "baselines", "selection", "evaluation", "report", "device"];

    /// <summary>Loads and validates a protocol file.</summary>
    /// <exception cref="ProtocolException">The file is missing, unreadable, too large, not YAML, or breaks the schema.</exception>
    public static ExperimentProtocol Load(string path, ProtocolLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string name = System.IO.Path.GetFileName(path);
        string text;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw Single(name, "no such protocol file");
            }

            if (info.Length > MaxFileBytes)
            {
                throw Single(name, FormattableString.Invariant($"the file is {info.Length} bytes; a protocol is at most {MaxFileBytes}"));
            }

            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Single(name, "cannot be read (" + ex.GetType().Name + ")");
        }

        return Parse(text, System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!, name, options);
    }

    /// <summary>Parses and validates protocol text; relative paths resolve against <paramref name="baseDirectory"/>.</summary>
    /// <param name="yaml">The YAML text.</param>
    /// <param name="baseDirectory">Folder relative paths are resolved against (the protocol file's folder).</param>
    /// <param name="fileName">Name used in error messages.</param>
    /// <param name="options">Options.</param>
    /// <exception cref="ProtocolException">The text breaks the schema.</exception>
    public static ExperimentProtocol Parse(string yaml, string baseDirectory, string fileName = "protocol", ProtocolLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(baseDirectory);
        options ??= new ProtocolLoadOptions();
        var errors = new YamlErrors(fileName);
        YamlNode? root = null;
        try
        {
            // The representation model builds nested nodes recursively; the event parser does not. Measure the
            // nesting first so that hostile input ("[[[[…") is refused instead of exhausting the stack.
            if (FindDeepNesting(yaml) is { } deep)
            {
                errors.Add(deep, string.Empty, FormattableString.Invariant($"nested deeper than {MaxNesting} levels"));
                throw new ProtocolException(errors.All);
            }

            var stream = new YamlStream();
            stream.Load(new StringReader(yaml));
            if (stream.Documents.Count > 1)
            {
                errors.Add(stream.Documents[1].RootNode, string.Empty, "a protocol file holds one YAML document");
            }

            root = stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode;
        }
        catch (YamlException ex) when (ex.Start.Index < yaml.TrimEnd().Length)
        {
            // YamlDotNet's message text describes the syntax problem only (it echoes no values beyond a key).
            errors.Add(ex.Start, string.Empty, "not valid YAML: " + FirstSentence(ex.Message));
            throw new ProtocolException(errors.All);
        }
        catch (Exception ex) when (ex is YamlException or InvalidOperationException)
        {
            // The text ended too early. YamlDotNet then points past the last line, or (for "seeds: [1, 2, 3" followed
            // by more lines) its scanner throws InvalidOperationException instead of a YamlException: name the
            // bracket that was never closed, or else the end of the text.
            (Mark where, string what) = WhereTheTextBreaks(yaml, ex as YamlException);
            errors.Add(where, string.Empty, "not valid YAML: " + what);
            throw new ProtocolException(errors.All);
        }

        if (root is null || YamlFields.IsNull(root))
        {
            throw Single(fileName, "the protocol is empty");
        }

        YamlFields? top = YamlFields.Of(root, string.Empty, errors, s_top);
        if (top is null)
        {
            throw new ProtocolException(errors.All);
        }

        ExperimentProtocol? protocol = new Builder(top, errors, baseDirectory, options).Build();
        if (errors.Count > 0 || protocol is null)
        {
            throw new ProtocolException(errors.All);
        }

        return protocol with { Locations = new ProtocolLocations(errors.File, new Dictionary<string, (int, int)>(errors.Locations, StringComparer.Ordinal)) };
    }

    /// <summary>Deepest mapping/sequence nesting accepted (the schema itself needs 4).</summary>
    public const int MaxNesting = 32;

    private static Mark? FindDeepNesting(string yaml)
    {
        var parser = new Parser(new StringReader(yaml));
        int depth = 0;
        while (parser.MoveNext())
        {
            switch (parser.Current)
            {
                case MappingStart or SequenceStart:
                    if (++depth > MaxNesting)
                    {
                        return parser.Current.Start;
                    }

                    break;
                case MappingEnd or SequenceEnd:
                    depth--;
                    break;
            }
        }

        return null;
    }

    private static (Mark Where, string What) WhereTheTextBreaks(string yaml, YamlException? reported)
    {
        var open = new Stack<NodeEvent>();
        var parser = new Parser(new StringReader(yaml));
        try
        {
            while (parser.MoveNext())
            {
                switch (parser.Current)
                {
                    case SequenceStart { Style: SequenceStyle.Flow } or MappingStart { Style: MappingStyle.Flow }:
                        open.Push((NodeEvent)parser.Current);
                        break;
                    case SequenceEnd or MappingEnd when open.Count > 0:
                        open.Pop();
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or YamlException)
        {
            // Expected: the same failure as the first pass; the stack now holds what was still open.
        }

        if (open.TryPeek(out NodeEvent? unclosed))
        {
            string bracket = unclosed is SequenceStart ? "'['" : "'{'";
            return (unclosed.Start, $"the {bracket} opened here is never closed (the text ends first)");
        }

        if (reported is not null)
        {
            return (reported.Start, FirstSentence(reported.Message));
        }

        string[] lines = yaml.Split('\n');
        return (new Mark(yaml.Length, lines.Length, lines[^1].Length + 1), "the text ends in the middle of a value");
    }

    private static ProtocolException Single(string file, string message) => new([new ProtocolError(file, 0, 0, string.Empty, message)]);

    private static string FirstSentence(string message)
    {
        int paren = message.IndexOf("): ", StringComparison.Ordinal);
        string text = paren >= 0 ? message[(paren + 3)..] : message;
        return text.Trim();
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^(auto|cpu|cuda|cuda:[0-9]{1,2})$")]
    private static partial Regex DevicePattern();

    private sealed class Builder(YamlFields top, YamlErrors errors, string baseDirectory, ProtocolLoadOptions options)
    {
        private static readonly TrainingMethod[] s_baselines = [TrainingMethod.SourceOnly, TrainingMethod.TargetOnly, TrainingMethod.Scratch];

        public ExperimentProtocol? Build()
        {
            if (top.Has("schema") && top.Int("schema", ExperimentProtocol.CurrentSchema, 1, int.MaxValue) != ExperimentProtocol.CurrentSchema)
            {
                top.Error("schema", FormattableString.Invariant($"this MedTransfer reads schema {ExperimentProtocol.CurrentSchema} only"));
            }

            string? name = top.String("name", required: true);
            if (name is not null && !NamePattern().IsMatch(name))
            {
                top.Error("name", "use 1 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit (it names work items and folders)");
            }

            DataSpec? data = Data();
            ProtocolModality modality = data?.Modality ?? ProtocolModality.Xray;
            var protocol = new ExperimentProtocol
            {
                Name = name ?? string.Empty,
                Description = top.String("description", string.Empty) ?? string.Empty,
                Seeds = Seeds(),
                Data = data ?? new DataSpec { Modality = modality, Sources = [], SourceSites = [], TargetSites = [] },
                Preprocessing = Preprocessing(modality),
                Model = Model(),
                Training = Training(),
                Adaptation = Adaptation(),
                Selection = top.Enum("selection", SelectionRule.SourceVal),
                Evaluation = Evaluation(),
                Report = Report(),
                Device = Device(),
            };
            protocol = protocol with { Baselines = Baselines(protocol.Adaptation) };
            CheckCombinations(protocol);
            return data is null || name is null ? null : protocol;
        }

        // Settings that are valid alone but contradict each other; each error sits at the field to change.
        private void CheckCombinations(ExperimentProtocol p)
        {
            bool frozen = p.Model.Strategy == FineTuningStrategy.FeatureExtraction || p.Model.TrainableFrom == TrainableStage.Head;
            TrainingMethod[] aligning = [TrainingMethod.Dann, TrainingMethod.Cdan, TrainingMethod.CdanE, TrainingMethod.Dan, TrainingMethod.Jan, TrainingMethod.Coral, TrainingMethod.Shot];
            string[] named = [.. p.Adaptation.Methods.Where(m => aligning.Contains(m.Method)).Select(m => ProtocolNames.Of(m.Method))];
            if (frozen && p.Model.Head == HeadKind.Linear && named.Length > 0)
            {
                errors.AddAt("model.head", $"{string.Join(", ", named)} align features, but a frozen backbone with a linear head has no trainable features: use head: bottleneck, or train backbone stages (trainable_from)");
            }

            if (p.Model.BackbonePath is not null && p.Baselines.Contains(TrainingMethod.Scratch))
            {
                errors.AddAt("baselines", "scratch trains the ResNet-18 from random weights, which says nothing about an ONNX backbone: leave it out with backbone: PATH.onnx");
            }
        }

        private IReadOnlyList<int> Seeds()
        {
            IReadOnlyList<YamlNode>? items = top.List("seeds", scalarAsList: true);
            if (items is null)
            {
                return [1];
            }

            if (items.Count == 0)
            {
                top.Error("seeds", "give at least one seed");
            }

            var seeds = new List<int>();
            for (int i = 0; i < items.Count; i++)
            {
                int? seed = top.IntAt(items[i], top.Item("seeds", i), null, 0, int.MaxValue);
                if (seed is { } s)
                {
                    if (seeds.Contains(s))
                    {
                        errors.Add(items[i], top.Item("seeds", i), "the seed is listed twice");
                    }
                    else
                    {
                        seeds.Add(s);
                    }
                }
            }

            return seeds;
        }

        private DataSpec? Data()
        {
            if (!top.Has("data"))
            {
                errors.Add(top.Raw("data") ?? top.Node, "data", "required: the data sources, labels and sites");
                return null;
            }

            YamlFields? d = YamlFields.Of(top.Raw("data"), "data", errors, "modality", "source", "labels", "label_key", "label_column", "site", "patient_folder", "source_sites", "target_sites", "split");
            if (d is null)
            {
                return null;
            }

            if (!d.Has("modality"))
            {
                d.Error("modality", "required: xray or mri");
            }

            ProtocolModality modality = d.Enum("modality", ProtocolModality.Xray);
            var sources = new List<DataSource>();
            IReadOnlyList<YamlNode>? sourceNodes = d.List("source", scalarAsList: true);
            if (sourceNodes is null || sourceNodes.Count == 0)
            {
                d.Error("source", "required: a folder to scan or a manifest (.csv/.json) from `medtransfer ingest`, or a list of them");
            }
            else
            {
                for (int i = 0; i < sourceNodes.Count; i++)
                {
                    string field = sourceNodes.Count == 1 && d.Raw("source") is YamlScalarNode ? d.Field("source") : d.Item("source", i);
                    if (sourceNodes[i] is YamlScalarNode { Value: { Length: > 0 } written } && !YamlFields.IsNull(sourceNodes[i]))
                    {
                        DataSource? source = Source(sourceNodes[i], field, written);
                        if (source is not null)
                        {
                            sources.Add(source);
                        }
                    }
                    else
                    {
                        errors.Add(sourceNodes[i], field, "expected a path");
                    }
                }
            }

            LabelsSpec? labels = null;
            string[]? header = null;
            string? labelsPath = d.String("labels");
            if (labelsPath is not null)
            {
                string full = Resolve(labelsPath);
                if (options.CheckFiles && !File.Exists(full))
                {
                    d.Error("labels", Directory.Exists(full) ? $"'{labelsPath}' is a folder; expected a CSV file" : $"no such file: '{labelsPath}' (relative paths start at the protocol's folder)");
                }

                labels = new LabelsSpec(Normalize(labelsPath), full, d.Enum("label_key", LabelKey.Id), d.String("label_column", "label") ?? "label");
                header = options.CheckFiles && File.Exists(full) ? Header(d, full) : null;
                if (header is not null)
                {
                    string keyColumn = labels.Key switch { LabelKey.Path => "path", LabelKey.Patient => "patient", LabelKey.SopInstanceUid => "sop", _ => "id" };
                    if (!header.Contains(keyColumn, StringComparer.OrdinalIgnoreCase))
                    {
                        d.Error(d.Has("label_key") ? "label_key" : "labels", $"the label CSV has no '{keyColumn}' key column (label_key {ProtocolNames.Of(labels.Key)})");
                    }

                    if (!header.Contains(labels.Column, StringComparer.OrdinalIgnoreCase))
                    {
                        d.Error(d.Has("label_column") ? "label_column" : "labels", $"the label CSV has no '{labels.Column}' column");
                    }
                }
            }
            else
            {
                foreach (string key in new[] { "label_key", "label_column" }.Where(d.Has))
                {
                    d.Error(key, "only meaningful with data.labels");
                }

                if (sources.Any(s => s.Kind == DataSourceKind.Folder))
                {
                    d.Error("labels", "required when a source is a folder: scanned images carry no labels (give a CSV keyed by id, path, patient or sop)");
                }
            }

            SiteRule site = SiteRule.FromFolder(1);
            string? siteText = d.String("site");
            if (siteText is not null)
            {
                try
                {
                    site = SiteRule.Parse(siteText);
                }
                catch (ArgumentException)
                {
                    d.Error("site", $"'{siteText}' is not a site rule: expected tag:KEYWORD (a DICOM keyword), folder:N (N ≥ 1) or column:NAME");
                }

                if (site.Source == SiteSource.None)
                {
                    d.Error("site", "a domain-adaptation protocol needs sites: expected tag:KEYWORD, folder:N or column:NAME");
                }
                else if (site.Source == SiteSource.CsvColumn && labels is null)
                {
                    d.Error("site", "column:NAME reads the label CSV: give data.labels");
                }
                else if (site.Source == SiteSource.CsvColumn && header is not null && !header.Contains(site.Name, StringComparer.OrdinalIgnoreCase))
                {
                    d.Error("site", $"the label CSV has no '{site.Name}' column");
                }
            }

            IReadOnlyList<string> sourceSites = Sites(d, "source_sites");
            IReadOnlyList<string> targetSites = Sites(d, "target_sites");
            foreach (string overlap in sourceSites.Intersect(targetSites, StringComparer.Ordinal))
            {
                d.Error("target_sites", $"site '{overlap}' is both a source and a target site; the lists must be disjoint");
            }

            return new DataSpec
            {
                Modality = modality,
                Sources = sources,
                Labels = labels,
                Site = site,
                PatientFolder = d.OptionalInt("patient_folder", 1, 64),
                SourceSites = sourceSites,
                TargetSites = targetSites,
                Split = Split(d),
            };
        }

        private string[]? Header(YamlFields d, string path)
        {
            try
            {
                using var reader = new StreamReader(path);
                foreach (CsvTable.Record record in CsvTable.Read(reader))
                {
                    return [.. record.Fields.Select(f => f.Trim())];
                }

                d.Error("labels", "the label CSV is empty (a header row is required)");
            }
            catch (ManifestException)
            {
                d.Error("labels", "the label CSV's header row is not valid CSV");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                d.Error("labels", "the label CSV cannot be read (" + ex.GetType().Name + ")");
            }

            return null;
        }

        private DataSource? Source(YamlNode node, string field, string written)
        {
            string full = Resolve(written);
            DataSourceKind kind = Directory.Exists(full) ? DataSourceKind.Folder : DataSourceKind.Manifest;
            if (!options.CheckFiles)
            {
                kind = written.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) || written.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? DataSourceKind.Manifest : DataSourceKind.Folder;
            }
            else if (kind == DataSourceKind.Manifest && !File.Exists(full))
            {
                errors.Add(node, field, $"no such file or folder: '{written}' (relative paths start at the protocol's folder)");
                return null;
            }
            else if (kind == DataSourceKind.Manifest && !(full.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) || full.EndsWith(".json", StringComparison.OrdinalIgnoreCase)))
            {
                errors.Add(node, field, $"'{written}' is a file but not a manifest: expected a folder, or a .csv/.json manifest from `medtransfer ingest`");
                return null;
            }

            return new DataSource(Normalize(written), full, kind);
        }

        private IReadOnlyList<string> Sites(YamlFields d, string key)
        {
            IReadOnlyList<string>? sites = d.StringList(key, scalarAsList: true);
            if (sites is null || sites.Count == 0)
            {
                d.Error(key, "required: at least one site name");
                return [];
            }

            var distinct = new List<string>();
            foreach (string s in sites)
            {
                if (distinct.Contains(s, StringComparer.Ordinal))
                {
                    d.Error(key, $"site '{s}' is listed twice");
                }
                else
                {
                    distinct.Add(s);
                }
            }

            return distinct;
        }

        private SplitSpec Split(YamlFields d)
        {
            YamlFields? s = YamlFields.Of(d.Raw("split"), "data.split", errors, "train", "val", "test", "by", "stratify", "seed");
            if (s is null)
            {
                return new SplitSpec();
            }

            if (s.String("by", "patient") is { } by && by != "patient")
            {
                s.Error("by", "only 'patient' is supported: no patient may be in two partitions, or the test metrics would be inflated by images the model has seen");
            }

            var split = new SplitSpec
            {
                Train = s.Double("train", 0.7, 0, 1, minExclusive: true),
                Val = s.Double("val", 0.15, 0, 1),
                Test = s.Double("test", 0.15, 0, 1, minExclusive: true),
                Stratify = s.Enum("stratify", SplitStratification.Label),
                Seed = s.Int("seed", 42, 0, int.MaxValue),
            };
            double sum = split.Train + split.Val + split.Test;
            if (Math.Abs(sum - 1) > 1e-6)
            {
                errors.Add(s.Node, "data.split", FormattableString.Invariant($"train + val + test must be 1 (they sum to {sum:0.######})"));
            }

            return split;
        }

        private PreprocessingSpec Preprocessing(ProtocolModality modality)
        {
            YamlFields? p = YamlFields.Of(top.Raw("preprocessing"), "preprocessing", errors, "xray", "mri");
            string own = modality == ProtocolModality.Xray ? "xray" : "mri";
            string other = modality == ProtocolModality.Xray ? "mri" : "xray";
            if (p is not null && p.Has(other))
            {
                errors.Add(p.KeyNodeOr(other), p.Field(other), $"data.modality is {own}: only preprocessing.{own} applies");
            }

            return modality == ProtocolModality.Xray ? new PreprocessingSpec { Xray = Xray(p?.Raw("xray")) } : Mri(p?.Raw("mri"));
        }

        private XrayRecipe Xray(YamlNode? node)
        {
            var recipe = new XrayRecipe();
            YamlFields? x = YamlFields.Of(node, "preprocessing.xray", errors, "voi", "clip", "size", "resize", "padding", "channels", "crop_collimation");
            if (x is null)
            {
                return recipe;
            }

            PercentileClip clip = recipe.Clip;
            if (x.List("clip") is { } c)
            {
                if (c.Count != 2)
                {
                    x.Error("clip", "expected [low, high] percentiles, e.g. [0.5, 99.5]");
                }
                else
                {
                    double low = x.DoubleAt(c[0], x.Item("clip", 0), 0.5, 0, 100, maxExclusive: true);
                    double high = x.DoubleAt(c[1], x.Item("clip", 1), 99.5, 0, 100, minExclusive: true);
                    if (low >= high)
                    {
                        x.Error("clip", "the low percentile must be below the high one");
                    }
                    else
                    {
                        clip = new PercentileClip(low, high);
                    }
                }
            }

            int channels = x.Int("channels", 3, 1, 3);
            if (channels == 2)
            {
                x.Error("channels", "expected 1 or 3");
            }

            return recipe with
            {
                Voi = x.Enum("voi", VoiMode.UseFileWindow),
                Clip = clip,
                Resize = new ResizeOptions(x.Int("size", recipe.Resize.Size, 16, 2048), x.Enum("resize", ResizeMethod.Area), (float)x.Double("padding", 0, 0, 1)),
                Channels = channels == 2 ? 3 : channels,
                CropCollimation = x.Bool("crop_collimation", false) ? new CollimationCrop() : null,
            };
        }

        private PreprocessingSpec Mri(YamlNode? node)
        {
            var recipe = new MriRecipe();
            YamlFields? m = YamlFields.Of(node, "preprocessing.mri", errors, "reorient_ras", "resample", "foreground", "standardize", "slice_axis", "slices", "slab", "size", "resize");
            if (m is null)
            {
                return new PreprocessingSpec { Mri = recipe };
            }

            VoxelSpacing? spacing = null;
            if (m.List("resample") is { } r)
            {
                if (r.Count != 3)
                {
                    m.Error("resample", "expected [x, y, z] voxel spacing in millimetres");
                }
                else
                {
                    double[] v = [.. r.Select((n, i) => m.DoubleAt(n, m.Item("resample", i), 1, 0, 100, minExclusive: true))];
                    spacing = new VoxelSpacing(v[0], v[1], v[2]);
                }
            }

            IntensityStandardization standardize = m.Enum("standardize", IntensityStandardization.ZScore);
            if (standardize == IntensityStandardization.Nyul)
            {
                m.Error("standardize", "nyul needs landmarks fitted on the source training data, which protocols cannot carry yet: use zscore");
            }

            return new PreprocessingSpec
            {
                Mri = recipe with
                {
                    ReorientToRas = m.Bool("reorient_ras", true),
                    ResampleSpacing = spacing,
                    Foreground = m.Enum("foreground", ForegroundMethod.Otsu),
                    Standardize = IntensityStandardization.ZScore,
                    Slices = new SliceOptions(m.Enum("slice_axis", SliceAxis.Axial), m.OptionalInt("slices", 1, 4096), m.Int("slab", 3, 1, 15)),
                },
                MriSliceSize = m.Int("size", 128, 16, 2048),
                MriResize = m.Enum("resize", ResizeMethod.Area),
            };
        }

        private ModelSpec Model()
        {
            var model = new ModelSpec();
            YamlFields? m = YamlFields.Of(top.Raw("model"), "model", errors, "backbone", "backbone_sha256", "feature_node", "input", "provenance", "candidates", "validate_top", "head", "bottleneck_width", "strategy", "trainable_from", "head_lr_multiplier", "discriminative_lr_decay", "unfreeze_every", "l2sp_alpha", "l2sp_beta", "classes");
            if (m is null)
            {
                return model;
            }

            (string? onnxPath, string? onnxSha) = OnnxBackbone(m);
            var spec = new ModelSpec
            {
                Backbone = onnxPath is null ? m.Enum("backbone", model.Backbone) : model.Backbone,
                BackbonePath = onnxPath,
                BackboneSha256 = onnxSha,
                FeatureNode = m.String("feature_node"),
                Input = InputOf(m),
                Provenance = m.String("provenance", string.Empty) ?? string.Empty,
                Candidates = CandidatesOf(m),
                ValidateTop = m.Int("validate_top", 0, 0, 100),
                Head = m.Enum("head", model.Head),
                BottleneckWidth = m.Int("bottleneck_width", model.BottleneckWidth, 8, 8192),
                Strategy = m.Enum("strategy", model.Strategy),
                TrainableFrom = m.Has("trainable_from") ? m.Enum("trainable_from", TrainableStage.Stem) : null,
                HeadLrMultiplier = m.Double("head_lr_multiplier", model.HeadLrMultiplier, 0, 1000, minExclusive: true),
                DiscriminativeLrDecay = m.Double("discriminative_lr_decay", model.DiscriminativeLrDecay, 0, 1, minExclusive: true),
                UnfreezeEvery = m.Int("unfreeze_every", model.UnfreezeEvery, 1, 1_000_000),
                L2SpAlpha = m.Double("l2sp_alpha", model.L2SpAlpha, 0, 100),
                L2SpBeta = m.Double("l2sp_beta", model.L2SpBeta, 0, 100),
                Classes = m.Int("classes", model.Classes, 2, 1000),
            };
            if (spec.Classes != 2)
            {
                m.Error("classes", "runs and their evaluation are binary (labels 0 and 1): only 2 classes are supported");
            }

            if (spec.Strategy == FineTuningStrategy.FeatureExtraction && spec.TrainableFrom is { } from && from != TrainableStage.Head)
            {
                m.Error("trainable_from", $"feature-extraction freezes the whole backbone, so it cannot train from {ProtocolNames.Of(from)}: leave trainable_from out, or choose strategy full, discriminative, gradual-unfreezing or l2sp");
            }
            else if (spec.Strategy != FineTuningStrategy.FeatureExtraction && spec.TrainableFrom == TrainableStage.Head)
            {
                m.Error("trainable_from", $"head freezes the whole backbone: use strategy feature-extraction instead of {ProtocolNames.Of(spec.Strategy)}");
            }

            if (spec.ValidateTop > spec.Candidates.Count)
            {
                m.Error("validate_top", $"trains the top {spec.ValidateTop} of model.candidates, which lists {spec.Candidates.Count} (backbone, cut) pair(s)");
            }

            if (onnxPath is null)
            {
                foreach (string key in new[] { "backbone_sha256", "feature_node", "input" })
                {
                    if (m.Has(key))
                    {
                        m.Error(key, "applies only to an ONNX backbone (backbone: PATH.onnx); the built-in ResNet-18 keeps its own preprocessing and features");
                    }
                }
            }

            return spec;
        }

        /// <summary>
        /// <c>backbone: PATH.onnx</c>: the file must exist; its SHA-256 becomes part of the protocol, so a changed file
        /// is a different protocol (a run folder never resumes with other weights), and <c>backbone_sha256</c> pins it.
        /// </summary>
        private (string? Path, string? Sha256) OnnxBackbone(YamlFields m)
        {
            string? written = m.Raw("backbone") is YamlScalarNode { Value: { } v } ? v : null;
            if (written is null || !BackboneNames.IsOnnxFile(written))
            {
                return (null, null);
            }

            string path = Resolve(written);
            if (!options.CheckFiles)
            {
                return (path, null);
            }

            if (!File.Exists(path))
            {
                m.Error("backbone", $"ONNX file not found: {path}");
                return (path, null);
            }

            string sha;
            try
            {
                using FileStream stream = File.OpenRead(path);
                sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                m.Error("backbone", $"cannot read {path}: {ex.Message}");
                return (path, null);
            }

            if (m.String("backbone_sha256") is { } pinned && !string.Equals(pinned, sha, StringComparison.OrdinalIgnoreCase))
            {
                m.Error("backbone_sha256", $"the file's SHA-256 is {sha}, not the pinned {pinned}: the backbone file changed");
            }

            return (path, sha);
        }

        /// <summary><c>candidates: [resnet18-imagenet, path/a.onnx@stage3,head, …]</c>; each ONNX file must exist.</summary>
        private IReadOnlyList<RankCandidate> CandidatesOf(YamlFields m)
        {
            IReadOnlyList<string>? written = m.StringList("candidates");
            if (written is null)
            {
                return [];
            }

            var all = new List<RankCandidate>();
            for (int i = 0; i < written.Count; i++)
            {
                try
                {
                    IReadOnlyList<RankCandidate> parsed = BackboneCandidates.Parse([written[i]], baseDirectory);
                    if (options.CheckFiles && parsed.FirstOrDefault(c => BackboneNames.IsOnnxFile(c.Backbone) && !File.Exists(c.Backbone)) is { } missing)
                    {
                        errors.Add(m.List("candidates")![i], m.Item("candidates", i), $"ONNX file not found: {missing.Backbone}");
                    }

                    all.AddRange(parsed);
                }
                catch (ArgumentException ex)
                {
                    errors.Add(m.List("candidates")![i], m.Item("candidates", i), ex.Message);
                }
            }

            return all;
        }

        /// <summary><c>input: {channels: 1|3, range: [low, high], mean: [...], std: [...], bgr: false}</c>.</summary>
        private InputConvention? InputOf(YamlFields m)
        {
            YamlFields? f = YamlFields.Of(m.Raw("input"), m.Field("input"), errors, "channels", "range", "mean", "std", "bgr");
            if (f is null)
            {
                return null;
            }

            int channels = f.Int("channels", 3, 1, 3);
            double[] range = Numbers(f, "range") ?? [0, 1];
            double[] mean = Numbers(f, "mean") ?? [0];
            double[] std = Numbers(f, "std") ?? [1];
            var convention = new InputConvention(channels, range.Length == 2 ? range[0] : double.NaN, range.Length == 2 ? range[1] : double.NaN, mean, std, f.Bool("bgr", false));
            try
            {
                convention.Validate();
            }
            catch (ArgumentException ex)
            {
                m.Error("input", ex.Message);
                return null;
            }

            return convention;
        }

        private double[]? Numbers(YamlFields f, string key)
        {
            IReadOnlyList<YamlNode>? items = f.List(key);
            if (items is null)
            {
                return null;
            }

            var values = new double[items.Count];
            for (int i = 0; i < items.Count; i++)
            {
                values[i] = f.DoubleAt(items[i], f.Item(key, i), double.NaN, -1e6, 1e6);
            }

            return values;
        }

        private TrainingSpec Training()
        {
            var t = new TrainingSpec();
            YamlFields? f = YamlFields.Of(top.Raw("training"), "training", errors, "optimizer", "lr", "momentum", "weight_decay", "batch_size", "iterations", "epochs", "schedule", "dann_gamma", "label_smoothing", "class_weighting", "balanced_sampling", "early_stopping", "augmentation");
            if (f is null)
            {
                return t;
            }

            if (f.Has("iterations") && f.Has("epochs"))
            {
                errors.Add(f.KeyNodeOr("epochs"), f.Field("epochs"), "give iterations or epochs, not both");
            }

            int? epochs = f.OptionalInt("epochs", 1, 100_000);
            int? iterations = f.OptionalInt("iterations", 1, 10_000_000);
            var spec = new TrainingSpec
            {
                Optimizer = f.Enum("optimizer", t.Optimizer),
                Lr = f.Double("lr", t.Lr, 0, 10, minExclusive: true),
                Momentum = f.Double("momentum", t.Momentum, 0, 1, maxExclusive: true),
                WeightDecay = f.Double("weight_decay", t.WeightDecay, 0, 1),
                BatchSize = f.Int("batch_size", t.BatchSize, 2, 4096),
                Iterations = epochs is null ? iterations ?? t.Iterations : null,
                Epochs = epochs,
                Schedule = f.Enum("schedule", t.Schedule),
                DannGamma = f.Double("dann_gamma", t.DannGamma, 0, 1_000_000, minExclusive: true),
                LabelSmoothing = f.Double("label_smoothing", 0, 0, 1, maxExclusive: true),
                ClassWeighting = f.Enum("class_weighting", t.ClassWeighting),
                BalancedSampling = f.Bool("balanced_sampling", false),
                EarlyStopping = EarlyStopping(f.Raw("early_stopping")),
                Augmentation = Augmentation(f.Raw("augmentation")),
            };
            if (f.Has("dann_gamma") && spec.Schedule != LrSchedule.Dann)
            {
                f.Error("dann_gamma", $"only the dann schedule uses dann_gamma; this protocol's schedule is {ProtocolNames.Of(spec.Schedule)}");
            }

            return spec;
        }

        private EarlyStoppingSpec? EarlyStopping(YamlNode? node)
        {
            if (node is YamlScalarNode { Style: ScalarStyle.Plain, Value: "false" })
            {
                return null;
            }

            YamlFields? e = YamlFields.Of(node, "training.early_stopping", errors, "signal", "patience", "every");
            return e is null ? null : new EarlyStoppingSpec(e.Enum("signal", EarlyStoppingSignal.SourceValAuroc), e.Int("patience", 5, 1, 10_000), e.Int("every", 50, 1, 1_000_000));
        }

        private AugmentationConfig Augmentation(YamlNode? node)
        {
            YamlFields? a = YamlFields.Of(node, "training.augmentation", errors, "rotation_deg", "scale", "translate", "brightness", "contrast", "gamma", "noise", "hflip");
            return a is null ? new AugmentationConfig() : new AugmentationConfig
            {
                RotationDegrees = a.Double("rotation_deg", 0, 0, 180),
                Scale = a.Double("scale", 0, 0, 1, maxExclusive: true),
                Translate = a.Double("translate", 0, 0, 0.5),
                Brightness = a.Double("brightness", 0, 0, 1),
                Contrast = a.Double("contrast", 0, 0, 1, maxExclusive: true),
                Gamma = a.Double("gamma", 0, 0, 1, maxExclusive: true),
                Noise = a.Double("noise", 0, 0, 1),
                HorizontalFlip = a.Bool("hflip", false),
            };
        }

        private AdaptationSpec Adaptation()
        {
            string[] methodKeys = [.. ProtocolNames.All<TrainingMethod>().Where(n => !s_baselines.Select(ProtocolNames.Of).Contains(n))];
            YamlFields? a = YamlFields.Of(top.Raw("adaptation"), "adaptation", errors, ["methods", "trade_off", "lambda_schedule", .. methodKeys]);
            if (a is null)
            {
                return new AdaptationSpec();
            }

            double tradeOff = a.Double("trade_off", 1.0, 0, 100);
            var methods = new List<MethodSpec>();
            IReadOnlyList<YamlNode> names = a.List("methods", scalarAsList: true) ?? [];
            for (int i = 0; i < names.Count; i++)
            {
                string field = a.Item("methods", i);
                TrainingMethod method = a.EnumAt(names[i], field, TrainingMethod.SourceOnly);
                if (names[i] is not YamlScalarNode { Value: { } text } || !ProtocolNames.TryParse(text, out TrainingMethod _))
                {
                    continue;
                }

                if (s_baselines.Contains(method))
                {
                    errors.Add(names[i], field, $"'{text}' is a baseline: list it under baselines");
                }
                else if (methods.Any(m => m.Method == method))
                {
                    errors.Add(names[i], field, $"'{text}' is listed twice");
                }
                else
                {
                    methods.Add(MethodSettings(a, method, tradeOff));
                }
            }

            foreach (string key in methodKeys.Where(a.Has))
            {
                if (!methods.Any(m => ProtocolNames.Of(m.Method) == key))
                {
                    errors.Add(a.KeyNodeOr(key), a.Field(key), $"settings for '{key}', which is not in adaptation.methods");
                }
            }

            return new AdaptationSpec { Methods = methods, TradeOff = tradeOff, LambdaSchedule = a.Enum("lambda_schedule", LambdaSchedule.Paper) };
        }

        private MethodSpec MethodSettings(YamlFields a, TrainingMethod method, double tradeOff)
        {
            string key = ProtocolNames.Of(method);
            string[] allowed = method switch
            {
                TrainingMethod.Dann => ["trade_off", "discriminator_width"],
                TrainingMethod.Cdan or TrainingMethod.CdanE => ["trade_off", "discriminator_width", "randomized_dim"],
                TrainingMethod.Dan or TrainingMethod.Jan => ["trade_off", "kernel_alphas"],
                TrainingMethod.Mcc => ["trade_off", "temperature"],
                TrainingMethod.AdaBn => [],
                TrainingMethod.Shot => ["beta"],
                _ => ["trade_off"],
            };
            var spec = new MethodSpec { Method = method, TradeOff = tradeOff };
            YamlFields? s = YamlFields.Of(a.Raw(key), "adaptation." + key, errors, allowed);
            if (s is null)
            {
                return spec;
            }

            IReadOnlyList<double> alphas = spec.KernelAlphas;
            if (s.List("kernel_alphas") is { } k)
            {
                alphas = k.Count == 0 ? alphas : [.. k.Select((n, i) => s.DoubleAt(n, s.Item("kernel_alphas", i), 1, 0, 1000, minExclusive: true))];
                if (k.Count == 0)
                {
                    s.Error("kernel_alphas", "give at least one multiplier");
                }
            }

            return spec with
            {
                TradeOff = s.Double("trade_off", tradeOff, 0, 100),
                DiscriminatorWidth = s.Int("discriminator_width", spec.DiscriminatorWidth, 8, 16384),
                RandomizedDimension = s.Int("randomized_dim", spec.RandomizedDimension, 8, 65536),
                Temperature = s.Double("temperature", spec.Temperature, 0, 100, minExclusive: true),
                KernelAlphas = alphas,
                ShotBeta = s.Double("beta", spec.ShotBeta, 0, 100),
            };
        }

        private IReadOnlyList<TrainingMethod> Baselines(AdaptationSpec adaptation)
        {
            IReadOnlyList<YamlNode>? items = top.List("baselines", scalarAsList: true);
            if (items is null)
            {
                return [TrainingMethod.SourceOnly];
            }

            var baselines = new List<TrainingMethod>();
            for (int i = 0; i < items.Count; i++)
            {
                string field = top.Item("baselines", i);
                string text = items[i] is YamlScalarNode { Value: { } t } ? t : string.Empty;
                if (!ProtocolNames.TryParse(text, out TrainingMethod method) || !s_baselines.Contains(method))
                {
                    errors.Add(items[i], field, $"'{text}' is not a baseline; expected one of: {string.Join(", ", s_baselines.Select(ProtocolNames.Of))}");
                }
                else if (baselines.Contains(method))
                {
                    errors.Add(items[i], field, $"'{text}' is listed twice");
                }
                else
                {
                    baselines.Add(method);
                }
            }

            if (adaptation.Methods.Count > 0 && !baselines.Contains(TrainingMethod.SourceOnly))
            {
                top.Error("baselines", "include source-only: every adapted model is reported beside the source-only baseline, or negative transfer cannot be measured");
            }

            if (adaptation.Methods.Count == 0 && baselines.Count == 0)
            {
                top.Error("baselines", "the protocol runs nothing: give adaptation.methods or at least one baseline");
            }

            return baselines;
        }

        private EvaluationSpec Evaluation()
        {
            YamlFields? e = YamlFields.Of(top.Raw("evaluation"), "evaluation", errors, "bootstrap", "ci", "subgroups", "per_site", "target", "operating_sensitivity");
            if (e is null)
            {
                return new EvaluationSpec();
            }

            IReadOnlyList<string> subgroups = e.StringList("subgroups", scalarAsList: true) ?? [];
            IReadOnlyList<YamlNode> nodes = e.List("subgroups", scalarAsList: true) ?? [];
            for (int i = 0; i < subgroups.Count && i < nodes.Count; i++)
            {
                if (!EvaluationSpec.SubgroupColumns.Contains(subgroups[i], StringComparer.Ordinal))
                {
                    errors.Add(nodes[i], e.Item("subgroups", i), $"'{subgroups[i]}' is not a subgroup column; expected one of: {string.Join(", ", EvaluationSpec.SubgroupColumns)} (manifest columns)");
                }
            }

            return new EvaluationSpec
            {
                Bootstrap = e.Int("bootstrap", 1000, 100, 1_000_000),
                Ci = e.Double("ci", 0.95, 0.5, 1, minExclusive: true, maxExclusive: true),
                Subgroups = subgroups,
                PerSite = e.Bool("per_site", true),
                Target = e.Enum("target", TargetEvaluation.Test),
                OperatingSensitivity = e.Has("operating_sensitivity") ? e.Double("operating_sensitivity", 0.9, 0.5, 1, maxExclusive: true) : null,
            };
        }

        private ReportSpec Report()
        {
            YamlFields? r = YamlFields.Of(top.Raw("report"), "report", errors, "html", "embeddings", "intended_use", "out_of_scope_use", "limitations");
            return r is null ? new ReportSpec() : new ReportSpec
            {
                Html = r.Bool("html", true),
                Embeddings = r.Enum("embeddings", EmbeddingPlot.Pca),
                IntendedUse = r.String("intended_use", string.Empty) ?? string.Empty,
                OutOfScopeUse = r.String("out_of_scope_use", string.Empty) ?? string.Empty,
                Limitations = r.StringList("limitations", scalarAsList: true) ?? [],
            };
        }

        private string Device()
        {
            string device = top.String("device", "auto") ?? "auto";
            if (!DevicePattern().IsMatch(device))
            {
                top.Error("device", $"'{device}' is not a device; expected auto, cpu, cuda or cuda:N");
                return "auto";
            }

            return device;
        }

        private string Resolve(string written) => System.IO.Path.GetFullPath(System.IO.Path.Combine(baseDirectory, written));

        private static string Normalize(string written) => written.Replace('\\', '/');
    }
}
