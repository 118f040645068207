using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MedTransfer.Evaluation.Diagnostics;
using MedTransfer.Imaging.Index;
using MedTransfer.Imaging.Normalization;
using MedTransfer.Pipeline.Diagnose;
using MedTransfer.Pipeline.Ingest;
using MedTransfer.Training.Adaptation;
using MedTransfer.Training.Checkpoints;
using MedTransfer.Training.Configuration;
using MedTransfer.Training.Data;
using MedTransfer.Training.Export;
using MedTransfer.Training.FineTuning;
using MedTransfer.Training.Models;
using MedTransfer.Training.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace MedTransfer.Pipeline.Runs;

/// <summary>What <c>medtransfer adapt</c> does.</summary>
/// <param name="ModelRun">A finished run folder: its selected model is the starting point.</param>
/// <param name="TargetFolder">The target site's images (DICOM, PNG, …; scanned like <c>ingest</c>); no labels are read.</param>
/// <param name="OutputDirectory">Where the adapted model goes (a folder <c>diagnose --model</c> accepts).</param>
/// <param name="Iterations">SHOT steps; null = the run's own training length.</param>
/// <param name="Beta">SHOT's pseudo-label weight β.</param>
/// <param name="Device">cpu, cuda or auto (null = auto).</param>
/// <param name="KeyFile">Pseudonym key for the failures it lists (else MEDTRANSFER_PSEUDONYM_KEY, else one generated in private/).</param>
/// <param name="Overwrite">Replace a folder that holds something else.</param>
/// <param name="CodeVersion">Version recorded in the outputs.</param>
public sealed record AdaptOptions(string ModelRun, string TargetFolder, string OutputDirectory, int? Iterations = null, double Beta = 0.3, string? Device = null, string? KeyFile = null, bool Overwrite = false, string CodeVersion = "unknown");

/// <summary>What an adaptation found and wrote.</summary>
/// <param name="OutputDirectory">The output folder.</param>
/// <param name="Images">Target images adapted on.</param>
/// <param name="Quarantined">Target files that could not be used (by keyed pseudonym), with reasons.</param>
/// <param name="Before">Label-free statistics of the starting model on the target images.</param>
/// <param name="After">The same for the adapted model.</param>
/// <param name="Steps">SHOT steps run.</param>
/// <param name="Warnings">Things the user should know.</param>
public sealed record AdaptOutcome(string OutputDirectory, int Images, IReadOnlyList<string> Quarantined, TargetStatistics Before, TargetStatistics After, long Steps, IReadOnlyList<string> Warnings);

/// <summary>Label-free statistics of a model's predictions on unlabelled images.</summary>
/// <param name="InformationMaximization">Entropy of the mean prediction minus mean entropy (higher: confident and diverse).</param>
/// <param name="MeanEntropy">Mean prediction entropy (nats).</param>
/// <param name="PositiveRate">Share of images scored ≥ 0.5 for the positive class.</param>
public sealed record TargetStatistics(double InformationMaximization, double MeanEntropy, double PositiveRate);

/// <summary>
/// Source-free adaptation at a site that holds a trained model but not the source images (<c>medtransfer adapt</c>):
/// the selected model of a finished run is adapted with SHOT to an unlabelled folder of target images and exported
/// as a complete folder that <c>diagnose --model</c> accepts. The images are normalized with the recipe the model was
/// trained with; no label and no source image is read. The exported model's shift monitor is refitted on the
/// adapted target features, so at this site it flags images unlike the images it was adapted on.
/// </summary>
public static class SourceFreeAdaptation
{
    /// <summary>Adapts <see cref="AdaptOptions.ModelRun"/>'s selected model to <see cref="AdaptOptions.TargetFolder"/>.</summary>
    /// <exception cref="RunFolderException">The model run is unfinished or changed, or the output folder is in use or holds something else.</exception>
    /// <exception cref="ModelLoadException">The run's model or its metadata is unusable (or is not an X-ray model).</exception>
    /// <exception cref="ArgumentException">The target folder gives fewer than 2 usable images, or an option is out of range.</exception>
    /// <exception cref="TorchUnavailableException">libtorch cannot run here, or the device asked for is absent.</exception>
    public static AdaptOutcome Run(AdaptOptions options, IProgress<RunProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Iterations is < 1 || !(options.Beta >= 0) || !double.IsFinite(options.Beta))
        {
            throw new ArgumentException("--iterations must be ≥ 1 and --beta a finite number ≥ 0.");
        }

        if (!Directory.Exists(options.TargetFolder))
        {
            throw new ArgumentException($"The target folder '{options.TargetFolder}' does not exist.");
        }

        var wall = Stopwatch.StartNew();
        ModelDescriptor descriptor;
        using (DiagnosisModel source = DiagnosisModel.Load(options.ModelRun))
        {
            descriptor = source.Descriptor;
        }

        (string method, int seed, long step, string protocolHash) = Selected(options.ModelRun);
        string checkpoint = Path.Combine(options.ModelRun, RunFolder.CheckpointFolder, string.Create(CultureInfo.InvariantCulture, $"{method}.seed-{seed}"), "candidates", string.Create(CultureInfo.InvariantCulture, $"snapshot-{step:D8}.ckpt"));
        if (!File.Exists(checkpoint))
        {
            throw new RunFolderException(RunFolderError.Incomplete, $"the run in {options.ModelRun} no longer holds the weights of its selected model ({method}, seed {seed}, step {step}); run the protocol again into that folder.");
        }

        TorchRuntime.EnsureAvailable();
        Device device = TorchRuntime.SelectDevice(options.Device ?? "auto");
        string identity = Hash($"{descriptor.Sha256}|{Path.GetFullPath(options.TargetFolder)}|{options.Iterations}|{options.Beta.ToString("R", CultureInfo.InvariantCulture)}");
        using RunFolder folder = RunFolder.Open(options.OutputDirectory, identity, options.CodeVersion, options.Overwrite);
        StudyPseudonyms pseudonyms = StudyPseudonyms.Resolve(options.KeyFile, folder.Private, out string? keyWarning);
        var warnings = new List<string>();
        if (keyWarning is not null)
        {
            warnings.Add(keyWarning);
        }

        (ImageSet target, List<string> quarantine) = Images(options.TargetFolder, descriptor.Recipe, pseudonyms, progress, cancellationToken);
        Checkpoint start = CheckpointFile.Load(checkpoint);
        FineTuneConfig trained = FineTuneConfig.FromJson(start.ConfigJson);
        EarlyStoppingConfig? early = trained.EarlyStopping is { Signal: SignalNames.Im or SignalNames.Snd } e ? e : null;
        if (trained.EarlyStopping is not null && early is null)
        {
            warnings.Add($"the run early-stopped on {trained.EarlyStopping.Signal}, which needs source validation images: adaptation runs its full length instead");
        }

        FineTuneConfig config = trained with
        {
            Adaptation = trained.Adaptation with { Method = AdaptationMethods.Shot, ShotBeta = options.Beta },
            Iterations = options.Iterations ?? trained.Iterations,
            EarlyStopping = early,
        };
        using TransferModel model = TransferModel.Create(config);
        try
        {
            TrainedState.Restore(model, start.Model);
        }
        finally
        {
            foreach (Tensor t in start.Model.Values)
            {
                t.Dispose();
            }
        }

        model.to(device);
        TargetStatistics before = Statistics(ModelScoring.Score(model, target, device, channelsLast: config.ChannelsLast), descriptor.PositiveClass);
        var relay = new Relay<TrainingEvent>(ev =>
        {
            if (ev.Phase == "train" && (ev.Step % 25 == 0 || ev.Step == ev.TotalSteps))
            {
                progress?.Report(new RunProgress("adapt", (int)ev.Step, (int)ev.TotalSteps, string.Create(CultureInfo.InvariantCulture, $"SHOT step {ev.Step}/{ev.TotalSteps}, loss {ev.Loss:F3}")));
            }
        });
        AdaptOutcome result;
        TrainingOutcome outcome = new TransferTrainer(config, device, relay).Fit(model, new TrainingData(target, null, target), new CheckpointPolicy(Path.Combine(folder.Checkpoints, "work"), Every: Math.Clamp(config.Iterations / 10, 1, 50), MinimumSeconds: 20), cancellationToken);
        try
        {
            ModelOutputs after = ModelScoring.Score(model, target, device, withFeatures: true, channelsLast: config.ChannelsLast);
            TargetStatistics afterStats = Statistics(after, descriptor.PositiveClass);
            double[][] features = after.Features!;
            ShiftMonitor monitor = ShiftMonitor.Fit([.. features.Where((_, i) => i % 2 == 0)], [.. features.Where((_, i) => i % 2 == 1)]);
            var metadata = new ExportMetadata(descriptor.Classes, descriptor.PositiveClass, "xray", descriptor.Recipe.ToJson(), monitor.ToJson(), protocolHash, seed, options.CodeVersion);
            string modelPath = Path.Combine(folder.Root, "model", "model.onnx");
            ModelExporter.Save(model, metadata, modelPath, channels: descriptor.Recipe.Channels);

            var summary = new JsonObject
            {
                ["method"] = "shot",
                ["source"] = new JsonObject { ["modelSha256"] = descriptor.Sha256, ["protocolHash"] = protocolHash, ["method"] = method, ["seed"] = seed, ["checkpoint"] = step },
                ["images"] = target.Count,
                ["quarantined"] = quarantine.Count,
                ["steps"] = outcome.StepsRun,
                ["stoppedEarly"] = outcome.StoppedEarly,
                ["beta"] = options.Beta,
                ["before"] = JsonSerializer.SerializeToNode(before),
                ["after"] = JsonSerializer.SerializeToNode(afterStats),
                ["shiftMonitor"] = "refitted on the adapted target features (alternate images as its held-out half)",
                ["device"] = device.ToString(),
                ["seconds"] = Math.Round(wall.Elapsed.TotalSeconds, 1),
                ["warnings"] = new JsonArray([.. warnings.Select(w => (JsonNode?)w)]),
            };
            string summaryPath = folder.WriteText("adaptation.json", summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            if (quarantine.Count > 0)
            {
                folder.WriteText("quarantine.txt", string.Join('\n', quarantine) + "\n");
            }

            folder.MarkComplete(identity, new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["model/model.onnx"] = Hash(File.ReadAllBytes(modelPath)),
                ["adaptation.json"] = Hash(File.ReadAllBytes(summaryPath)),
            });
            result = new AdaptOutcome(folder.Root, target.Count, quarantine, before, afterStats, outcome.StepsRun, warnings);
        }
        finally
        {
            outcome.Snapshots.Delete();
            outcome.Snapshots.Dispose();
        }

        // The finished folder keeps the exported model only; the resume checkpoints have served their purpose.
        Directory.Delete(Path.Combine(folder.Checkpoints, "work"), recursive: true);
        return result;
    }

    private static (string Method, int Seed, long Step, string ProtocolHash) Selected(string runFolder)
    {
        string path = Path.Combine(runFolder, "results.json");
        byte[] bytes = File.ReadAllBytes(path);
        CompletedRun.RequireOutput(runFolder, "results.json", Hash(bytes));
        try
        {
            JsonNode run = JsonNode.Parse(bytes)?["run"] ?? throw new FormatException("no 'run' object");
            JsonNode selected = run["selected"] ?? throw new FormatException("no 'run.selected' object");
            return ((string?)selected["method"] ?? throw new FormatException("no selected method"), (int)selected["seed"]!, (long)selected["checkpoint"]!, (string?)run["protocolHash"] ?? string.Empty);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or NullReferenceException)
        {
            throw new RunFolderException(RunFolderError.Incomplete, $"results.json in {runFolder} does not name the selected model ({ex.Message}); it was written by an older version: run the protocol again.");
        }
    }

    /// <summary>Every readable X-ray image below <paramref name="root"/>, normalized with the model's recipe; the rest quarantined by pseudonym.</summary>
    private static (ImageSet Images, List<string> Quarantine) Images(string root, XrayRecipe recipe, StudyPseudonyms pseudonyms, IProgress<RunProgress>? progress, CancellationToken ct)
    {
        var quarantine = new List<string>();
        progress?.Report(new RunProgress("index", 0, 1, "scanning the target folder"));
        DatasetIndex index = new DatasetIndexer().IndexAsync([root], null, ct).GetAwaiter().GetResult();
        foreach (IndexFailure f in index.Failures)
        {
            quarantine.Add($"index: file {pseudonyms.Of("file", f.Path)}: {f}");
        }

        // MR series are not radiographs: this model's recipe does not apply to them.
        ManifestRow[] rows = [.. index.Manifest.Rows.Where(r => r.Modality != "MR").OrderBy(r => r.Id, StringComparer.Ordinal)];
        int mr = index.Manifest.Rows.Count - rows.Length;
        if (mr > 0)
        {
            quarantine.Add(string.Create(CultureInfo.InvariantCulture, $"index: {mr} MR image(s) skipped: the model is an X-ray model"));
        }

        progress?.Report(new RunProgress("index", 1, 1, string.Create(CultureInfo.InvariantCulture, $"{rows.Length} images")));
        (Dictionary<string, float[]> images, _) = XrayInputs.Normalize(rows, [root], recipe, pseudonyms, quarantine,
            new Relay<(int Done, int Total)>(p => progress?.Report(new RunProgress("normalize", p.Done, p.Total, null))), ct);
        var set = new ImageSet(recipe.Resize.Size);
        foreach (ManifestRow row in rows.Where(r => images.ContainsKey(r.Id)))
        {
            // No labels: the source-free trainer never reads them.
            set.Add(pseudonyms.Of("image", row.Id), images[row.Id], -1, row.Site, pseudonyms.Of("patient", row.Patient));
        }

        if (set.Count < 2)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The target folder gave {set.Count} usable X-ray image(s); adaptation needs at least 2 ({quarantine.Count} problem(s); see the quarantine list)."));
        }

        return (set, quarantine);
    }

    private static TargetStatistics Statistics(ModelOutputs outputs, int positive)
    {
        double[][] p = [.. outputs.Logits.Select(ModelOutputs.Softmax)];
        double[] mean = [.. Enumerable.Range(0, p[0].Length).Select(k => p.Average(r => r[k]))];
        double meanEntropy = p.Average(Entropy);
        return new TargetStatistics(Entropy(mean) - meanEntropy, meanEntropy, p.Average(r => r[positive] >= 0.5 ? 1.0 : 0.0));
    }

    private static double Entropy(double[] p) => -p.Sum(v => v > 0 ? v * Math.Log(v) : 0);

    private static string Hash(string text) => Hash(Encoding.UTF8.GetBytes(text));

    private static string Hash(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private sealed class Relay<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
