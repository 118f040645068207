using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MedTransfer.Evaluation.Metrics;
using MedTransfer.Imaging.Index;
using MedTransfer.Pipeline.Diagnose;
using MedTransfer.Pipeline.Evaluate;
using MedTransfer.Pipeline.Ingest;
using MedTransfer.Imaging.Normalization;
using MedTransfer.Training.Configuration;
using MedTransfer.Training.Data;
using MedTransfer.Training.Export;
using MedTransfer.Training.FineTuning;
using MedTransfer.Training.Models;
using MedTransfer.Training.Runtime;
using static TorchSharp.torch;

namespace MedTransfer.Pipeline.Train;

/// <summary>Why the inputs of <see cref="ManifestTraining.Run"/> cannot be used.</summary>
public enum TrainingInputError
{
    /// <summary>The manifest file does not exist.</summary>
    ManifestMissing,

    /// <summary>The manifest is not a valid manifest file.</summary>
    ManifestInvalid,

    /// <summary>No row is assigned to a partition, or the train partition is empty or smaller than one batch.</summary>
    NoTrainRows,

    /// <summary>A train, validation or test row has no label.</summary>
    LabelsMissing,

    /// <summary>A label is not 0 or 1.</summary>
    LabelNotBinary,

    /// <summary>The images cannot be found under the roots given.</summary>
    ImagesMissing,

    /// <summary>The output folder already holds a run and resuming was not asked for.</summary>
    RunFolderInUse,

    /// <summary>Resuming was asked for, but the run folder was trained with another configuration.</summary>
    ConfigurationMismatch,
}

/// <summary>
/// The inputs of a training run are unusable; the message says what to change. Messages never carry
/// identifiers or paths from the manifest (paths can hold patient names), only counts and label values.
/// </summary>
public sealed class TrainingInputException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TrainingInputException(TrainingInputError reason, string message, Exception? inner = null)
        : base(message, inner)
    {
        Reason = reason;
    }

    /// <summary>The reason code.</summary>
    public TrainingInputError Reason { get; }
}

/// <summary>Options of <see cref="ManifestTraining.Run"/>.</summary>
/// <param name="ManifestPath">A manifest written by <c>medtransfer ingest</c> with labels and a patient-level split.</param>
/// <param name="OutputDirectory">The run folder.</param>
/// <param name="Roots">The folders the manifest's paths are relative to (those given to ingest, in order); empty = the manifest's folder.</param>
/// <param name="Config">The fine-tuning configuration (image size, strategy, optimizer, seed...).</param>
/// <param name="Device">"auto", "cpu", "cuda" or "cuda:N".</param>
/// <param name="Resume">Continue from <c>checkpoints/last.ckpt</c>; without it an existing run folder is refused.</param>
/// <param name="CodeVersion">MedTransfer version/commit recorded in the outputs.</param>
/// <param name="KeyFile">The pseudonym key file; null = the MEDTRANSFER_PSEUDONYM_KEY variable, else a key generated in the folder's private/ part.</param>
public sealed record ManifestTrainingOptions(
    string ManifestPath,
    string OutputDirectory,
    IReadOnlyList<string> Roots,
    FineTuneConfig Config,
    string Device = "auto",
    bool Resume = false,
    string CodeVersion = "unknown",
    string? KeyFile = null);

/// <summary>What <see cref="ManifestTraining.Run"/> did and wrote.</summary>
/// <param name="Outcome">The trainer's account: curves, candidates with their validation signals, device, throughput.</param>
/// <param name="KeptStep">The step of the weights kept and exported (best validation AUROC among the candidates).</param>
/// <param name="TrainCount">Images trained on.</param>
/// <param name="ValidationCount">Images used for early stopping.</param>
/// <param name="TestCount">Images of the test partition.</param>
/// <param name="TestAuroc">AUROC on the test partition; null when it is empty or holds one class.</param>
/// <param name="TestAccuracy">Accuracy at the argmax on the test partition; null when it is empty.</param>
/// <param name="Skipped">Images that could not be read: pseudonymous id and error type, never a path.</param>
/// <param name="ManifestHash">The manifest's data hash (provenance).</param>
/// <param name="OutputDirectory">The run folder.</param>
/// <param name="Seconds">Wall-clock time of the whole run.</param>
public sealed record ManifestTrainingResult(
    TrainingOutcome Outcome,
    long KeptStep,
    int TrainCount,
    int ValidationCount,
    int TestCount,
    double? TestAuroc,
    double? TestAccuracy,
    IReadOnlyList<string> Skipped,
    string ManifestHash,
    string OutputDirectory,
    double Seconds);

/// <summary>
/// Fine-tuning from a manifest (<c>medtransfer train</c>): normalizes the radiographs of the train, validation and
/// test partitions with the X-ray recipe at the configured size, fine-tunes with the one trainer
/// (<see cref="TransferTrainer"/>, the same as <c>medtransfer run</c>'s), keeps the candidate checkpoint with the best
/// validation AUROC, scores the validation and test rows and writes <c>model.onnx</c>, <c>checkpoints/</c> (exact
/// resume), <c>config.json</c>, <c>predictions.csv</c> and <c>training.json</c> into the run folder. Outputs name
/// images and patients by keyed pseudonyms (HMAC), never by their identifiers.
/// </summary>
public static class ManifestTraining
{
    /// <summary>The file names written into the run folder.</summary>
    public const string ModelFile = "model.onnx";

    /// <summary>The configuration (<see cref="FineTuneConfig.ToJson"/>).</summary>
    public const string ConfigFile = "config.json";

    /// <summary>Validation and test scores.</summary>
    public const string PredictionsFile = "predictions.csv";

    /// <summary>Losses, learning rates, validations, device and throughput.</summary>
    public const string TrainingFile = "training.json";

    /// <summary>The checkpoint folder.</summary>
    public const string CheckpointFolder = "checkpoints";

    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Checks the inputs, trains, evaluates and writes the run folder.</summary>
    /// <exception cref="TrainingInputException">The manifest, labels, split, images or run folder cannot be used (a usage error).</exception>
    /// <exception cref="TorchUnavailableException">libtorch cannot run, or CUDA was asked for and is absent.</exception>
    /// <exception cref="FormatException">The configuration or the pseudonym key is invalid (names the field or the key's source).</exception>
    public static ManifestTrainingResult Run(ManifestTrainingOptions options, IProgress<TrainingEvent>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var wall = Stopwatch.StartNew();
        FineTuneConfig config = options.Config;
        config.Validate();
        string folder = Path.GetFullPath(options.OutputDirectory);
        string checkpoints = Path.Combine(folder, CheckpointFolder);
        CheckRunFolder(folder, checkpoints, config, options.Resume);

        Manifest manifest = Load(options.ManifestPath);
        IReadOnlyList<ManifestRow> rows = Select(manifest, config.BatchSize);
        IReadOnlyList<string> roots = options.Roots.Count > 0 ? options.Roots : [Path.GetDirectoryName(Path.GetFullPath(options.ManifestPath))!];

        int outside = rows.Count(r => r.Root < 0 || r.Root >= roots.Count);
        if (outside > 0)
        {
            throw new TrainingInputException(TrainingInputError.ImagesMissing, string.Create(CultureInfo.InvariantCulture,
                $"{outside} row(s) are relative to root folder number {rows.Max(r => r.Root) + 1} but {roots.Count} root(s) were given: pass every folder given to ingest with --root, in order."));
        }

        TorchRuntime.EnsureAvailable();
        Device device = TorchRuntime.SelectDevice(options.Device);
        Directory.CreateDirectory(folder);
        StudyPseudonyms pseudonyms = StudyPseudonyms.Resolve(options.KeyFile, Path.Combine(folder, "private"), out _);

        XrayRecipe recipe = RecipeFor(config);
        var skipped = new List<string>();
        Dictionary<string, float[]> images = Normalize(rows, roots, recipe, pseudonyms, skipped, cancellationToken);
        (ImageSet train, ImageSet validation, ImageSet test) = BuildSets(rows, images, config);
        if (train.Count < config.BatchSize)
        {
            throw new TrainingInputException(TrainingInputError.NoTrainRows, string.Create(CultureInfo.InvariantCulture,
                $"only {train.Count} training image(s) could be read ({skipped.Count} skipped), fewer than one batch ({config.BatchSize}): lower --batch or fix the images."));
        }

        Directory.CreateDirectory(checkpoints);
        File.WriteAllText(Path.Combine(folder, ConfigFile), config.ToJson());

        using TransferModel model = TransferModel.Create(config);
        var trainer = new TransferTrainer(config, device, progress);
        var policy = new CheckpointPolicy(checkpoints, Every: Math.Clamp(config.Iterations / 10, 1, 50), Resume: options.Resume);
        TrainingOutcome outcome = trainer.Fit(model, new TrainingData(train, validation.Count > 0 ? validation : null), policy, cancellationToken);
        long kept;
        try
        {
            // The candidate with the best validation AUROC (the early-stopping best when early stopping is on).
            kept = outcome.BestStep
                ?? outcome.Candidates.Where(c => c.ValidationAuroc is not null).OrderByDescending(c => c.ValidationAuroc).ThenBy(c => c.Step).Select(c => (long?)c.Step).FirstOrDefault()
                ?? outcome.StepsRun;
            outcome.Snapshots.Restore(kept, model);
        }
        finally
        {
            outcome.Snapshots.Dispose();
        }

        ModelOutputs? validationOutputs = validation.Count > 0 ? ModelScoring.Score(model, validation, device, channelsLast: config.ChannelsLast) : null;
        ModelOutputs? testOutputs = test.Count > 0 ? ModelScoring.Score(model, test, device, channelsLast: config.ChannelsLast) : null;
        (double? auroc, double? accuracy) = Metrics(test, testOutputs);

        var metadata = new ExportMetadata(["negative", "positive"], 1, "xray", recipe.ToJson(), null, null, config.Seed, options.CodeVersion);
        ModelExporter.Save(model, metadata, Path.Combine(folder, ModelFile), channels: recipe.Channels);
        var predictionRows = new List<PredictionRow>();
        predictionRows.AddRange(Rows(rows, validation, validationOutputs, "val", pseudonyms));
        predictionRows.AddRange(Rows(rows, test, testOutputs, "test", pseudonyms));
        WriteAtomically(Path.Combine(folder, PredictionsFile), PredictionTable.Format(predictionRows));

        var result = new ManifestTrainingResult(outcome, kept, train.Count, validation.Count, test.Count, auroc, accuracy,
            [.. skipped.Order(StringComparer.Ordinal)], manifest.ManifestHash, folder, wall.Elapsed.TotalSeconds);
        if (outcome.ResumedFromStep == outcome.StepsRun && PreviousThroughput(Path.Combine(folder, TrainingFile)) is { } previous)
        {
            // A finished run resumed: no step ran in this process, so the recorded throughput stays the one measured.
            result = result with { Outcome = outcome with { ImagesPerSecond = previous } };
        }

        WriteAtomically(Path.Combine(folder, TrainingFile), TrainingJson(result, config, options.CodeVersion));
        return result;
    }

    /// <summary>The X-ray recipe used for a configuration: the default recipe at the configured image size, three channels.</summary>
    public static XrayRecipe RecipeFor(FineTuneConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new XrayRecipe { Resize = new ResizeOptions(config.ImageSize), Channels = 3 };
    }

    private static void CheckRunFolder(string folder, string checkpoints, FineTuneConfig config, bool resume)
    {
        bool started = File.Exists(Path.Combine(checkpoints, "last.ckpt"));
        if (started && !resume)
        {
            throw new TrainingInputException(TrainingInputError.RunFolderInUse,
                $"the run folder {folder} already holds a training run (checkpoints/last.ckpt): pass --resume to continue it, or choose another --out folder.");
        }

        string saved = Path.Combine(folder, ConfigFile);
        if (started && File.Exists(saved) && File.ReadAllText(saved) != config.ToJson())
        {
            throw new TrainingInputException(TrainingInputError.ConfigurationMismatch,
                $"the run in {folder} was trained with another configuration (see its {ConfigFile}): resume with the same options, or choose another --out folder.");
        }
    }

    private static Manifest Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new TrainingInputException(TrainingInputError.ManifestMissing, $"the manifest {path} does not exist: write one with `medtransfer ingest DIR --out {Path.GetFileName(path)} --labels L.csv --split 0.7,0.15,0.15`.");
        }

        try
        {
            return ManifestFile.Load(path);
        }
        catch (ManifestException ex)
        {
            throw new TrainingInputException(TrainingInputError.ManifestInvalid, $"the manifest is not valid: {ex.Message}", ex);
        }
    }

    /// <summary>The rows of the three partitions, checked: labelled, binary, a non-empty train partition.</summary>
    internal static IReadOnlyList<ManifestRow> Select(Manifest manifest, int batchSize)
    {
        var rows = manifest.Rows.Where(r => r.Split != Partition.None).ToList();
        if (rows.Count == 0)
        {
            throw new TrainingInputException(TrainingInputError.NoTrainRows, string.Create(CultureInfo.InvariantCulture,
                $"none of the manifest's {manifest.Rows.Count} row(s) is assigned to a partition: write it with `medtransfer ingest ... --split 0.7,0.15,0.15`."));
        }

        int unlabelled = rows.Count(r => r.Label.Length == 0);
        if (unlabelled > 0)
        {
            throw new TrainingInputException(TrainingInputError.LabelsMissing, string.Create(CultureInfo.InvariantCulture,
                $"{unlabelled} of {rows.Count} row(s) in the train, val and test partitions have no label: write the manifest with `medtransfer ingest ... --labels L.csv`."));
        }

        string[] bad = [.. rows.Select(r => r.Label).Where(l => l is not ("0" or "1")).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        if (bad.Length > 0)
        {
            throw new TrainingInputException(TrainingInputError.LabelNotBinary, string.Create(CultureInfo.InvariantCulture,
                $"labels must be 0 or 1; the manifest also holds {string.Join(", ", bad.Take(5).Select(l => "'" + Printable(l) + "'"))}{(bad.Length > 5 ? ", ..." : string.Empty)}: map them to 0/1 in the labels file."));
        }

        int train = rows.Count(r => r.Split == Partition.Train);
        if (train == 0)
        {
            throw new TrainingInputException(TrainingInputError.NoTrainRows, "the manifest has no row in the train partition: re-split it with `medtransfer ingest ... --split`.");
        }

        if (train < batchSize)
        {
            throw new TrainingInputException(TrainingInputError.NoTrainRows, string.Create(CultureInfo.InvariantCulture,
                $"the train partition has {train} image(s), fewer than one batch ({batchSize}): lower --batch."));
        }

        return [.. rows.OrderBy(r => r.Id, StringComparer.Ordinal)];
    }

    private static string Printable(string label) => label.Length > 20 ? label[..20] + "…" : label;

    private static Dictionary<string, float[]> Normalize(IReadOnlyList<ManifestRow> rows, IReadOnlyList<string> roots, XrayRecipe recipe, StudyPseudonyms pseudonyms, List<string> skipped, CancellationToken ct)
    {
        (Dictionary<string, float[]> images, int missing) = XrayInputs.Normalize(rows, roots, recipe, pseudonyms, skipped, null, ct);
        if (images.Count == 0 && missing > 0)
        {
            throw new TrainingInputException(TrainingInputError.ImagesMissing, string.Create(CultureInfo.InvariantCulture,
                $"none of the {rows.Count} image(s) was found under {string.Join(", ", roots)}: pass the folders given to ingest with --root DIR (in order)."));
        }

        return images;
    }

    private static (ImageSet Train, ImageSet Validation, ImageSet Test) BuildSets(IReadOnlyList<ManifestRow> rows, IReadOnlyDictionary<string, float[]> images, FineTuneConfig config)
    {
        ImageSet Make(Partition partition)
        {
            var set = new ImageSet(config.ImageSize);
            foreach (ManifestRow r in rows.Where(r => r.Split == partition && images.ContainsKey(r.Id)))
            {
                set.Add(r.Id, images[r.Id], r.Label == "1" ? 1 : 0, r.Site, r.Patient);
            }

            return set;
        }

        return (Make(Partition.Train), Make(Partition.Validation), Make(Partition.Test));
    }

    private static (double? Auroc, double? Accuracy) Metrics(ImageSet test, ModelOutputs? outputs)
    {
        if (test.Count == 0 || outputs is null)
        {
            return (null, null);
        }

        int[] labels = [.. test.Labels];
        double[] positive = outputs.PositiveScores();
        int correct = Enumerable.Range(0, test.Count).Count(i => (positive[i] > 0.5 ? 1 : 0) == labels[i]);
        double? auroc = labels.Contains(0) && labels.Contains(1) ? Auroc.Compute(positive, labels) : null;
        return (auroc, (double)correct / test.Count);
    }

    private static IEnumerable<PredictionRow> Rows(IReadOnlyList<ManifestRow> rows, ImageSet set, ModelOutputs? outputs, string split, StudyPseudonyms pseudonyms)
    {
        if (outputs is null)
        {
            yield break;
        }

        var byId = rows.ToDictionary(r => r.Id, StringComparer.Ordinal);
        double[] scores = outputs.PositiveScores();
        for (int i = 0; i < set.Count; i++)
        {
            ManifestRow r = byId[set.Ids[i]];
            yield return new PredictionRow(pseudonyms.Of("image", r.Id), pseudonyms.Of("patient", r.Patient), set.Labels[i], scores[i], r.Site, split, new Dictionary<string, string>(StringComparer.Ordinal));
        }
    }

    private static string TrainingJson(ManifestTrainingResult r, FineTuneConfig config, string codeVersion)
    {
        TrainingOutcome o = r.Outcome;
        var document = new
        {
            Format = "medtransfer-training/2",
            CodeVersion = codeVersion,
            r.ManifestHash,
            config.Seed,
            config.Strategy,
            o.TrainableFrom,
            o.Device,
            Deterministic = o.Device.StartsWith("cpu", StringComparison.Ordinal),
            o.ImagesPerSecond,
            o.StepsRun,
            o.ResumedFromStep,
            r.KeptStep,
            o.StoppedEarly,
            o.CachedActivations,
            Images = new { Train = r.TrainCount, Validation = r.ValidationCount, Test = r.TestCount, Skipped = r.Skipped.Count },
            Test = new { Auroc = r.TestAuroc, Accuracy = r.TestAccuracy },
            Losses = o.Curves.Loss,
            LearningRates = o.Curves.LearningRate,
            Candidates = o.Candidates.Select(c => new { c.Step, c.ValidationAuroc, c.ValidationAccuracy, c.ValidationLoss }),
            r.Skipped,
            r.Seconds,
        };
        return JsonSerializer.Serialize(document, s_json);
    }

    private static double? PreviousThroughput(string path)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path));
            return doc.RootElement.TryGetProperty("images_per_second", out JsonElement v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
        }
        catch (Exception ex) when (ex is IOException or JsonException)
        {
            return null;
        }
    }

    private static void WriteAtomically(string path, string text)
    {
        string temp = path + $".tmp-{Environment.ProcessId}";
        File.WriteAllText(temp, text, new UTF8Encoding(false));
        File.Move(temp, path, overwrite: true);
    }
}
