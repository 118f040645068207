using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using MedTransfer.Evaluation.Diagnostics;
using MedTransfer.Imaging.Normalization;
using Microsoft.ML.OnnxRuntime;

namespace MedTransfer.Pipeline.Diagnose;

/// <summary>What a model file says about itself (the <c>medtransfer.model</c> metadata, format medtransfer-model/1).</summary>
/// <param name="Classes">Class names, index = logit column.</param>
/// <param name="PositiveClass">Index of the class whose probability is the score.</param>
/// <param name="Recipe">The X-ray preprocessing recipe the model was trained with.</param>
/// <param name="ShiftMonitor">The shift monitor over the model's features, or null when the model has none.</param>
/// <param name="Sha256">SHA-256 (lower-case hex) of the model file.</param>
public sealed record ModelDescriptor(IReadOnlyList<string> Classes, int PositiveClass, XrayRecipe Recipe, ShiftMonitor? ShiftMonitor, string Sha256);

/// <summary>Scores of one image.</summary>
/// <param name="Score">Softmax probability of the positive class.</param>
/// <param name="Label">Name of the class with the largest logit.</param>
/// <param name="ShiftScore">Shift monitor score of the features, or NaN without a monitor.</param>
/// <param name="Shifted">True when the shift score is above the monitor's threshold.</param>
public readonly record struct ImageScore(double Score, string Label, double ShiftScore, bool Shifted);

/// <summary>
/// A diagnosis model run with ONNX Runtime (CPU). Contract: input <c>image</c> float32 [N, C, S, S] holding
/// <see cref="XrayNormalizer"/> outputs (C = recipe channels, S = recipe size); outputs <c>logits</c> [N, K] and
/// <c>features</c> [N, D]; metadata key <c>medtransfer.model</c> with the JSON descriptor. Thread-safe for scoring.
/// </summary>
public sealed class DiagnosisModel : IDisposable
{
    /// <summary>The metadata key holding the descriptor.</summary>
    public const string MetadataKey = "medtransfer.model";

    /// <summary>The descriptor format this reader understands.</summary>
    public const string Format = "medtransfer-model/1";

    private readonly InferenceSession _session;

    private DiagnosisModel(InferenceSession session, ModelDescriptor descriptor)
    {
        _session = session;
        Descriptor = descriptor;
    }

    /// <summary>The model's descriptor.</summary>
    public ModelDescriptor Descriptor { get; }

    /// <summary>Floats per image: C × S × S.</summary>
    public int ImageLength => Descriptor.Recipe.Channels * Descriptor.Recipe.Resize.Size * Descriptor.Recipe.Resize.Size;

    /// <summary>The model file a --model argument names: the file itself, or RUN_DIR/model/model.onnx for a run folder.</summary>
    public static string ResolvePath(string runDirOrFile)
    {
        ArgumentNullException.ThrowIfNull(runDirOrFile);
        return Directory.Exists(runDirOrFile) ? Path.Combine(runDirOrFile, "model", "model.onnx") : runDirOrFile;
    }

    /// <summary>Loads a model file or a run folder's model.</summary>
    /// <param name="runDirOrFile">RUN_DIR or MODEL.onnx. A run folder must hold a complete run, and its model must be the one the run finished with.</param>
    /// <param name="threads">ONNX Runtime intra-op threads (≥ 1).</param>
    /// <exception cref="ModelLoadException">The file is missing, not ONNX, or breaks the contract.</exception>
    /// <exception cref="Runs.RunFolderException">A run folder whose run did not finish (killed, or still going), or whose model was replaced after it finished.</exception>
    public static DiagnosisModel Load(string runDirOrFile, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(runDirOrFile);
        bool runFolder = Directory.Exists(runDirOrFile);
        if (runFolder)
        {
            // Before reading the model: an unfinished run may still hold the model of an earlier run of the folder.
            Runs.RunFolder.RequireComplete(runDirOrFile);
        }

        string path = ResolvePath(runDirOrFile);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException(ModelLoadError.NotFound, $"no readable model file at '{path}'", ex);
        }

        string sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (runFolder)
        {
            Runs.CompletedRun.RequireOutput(runDirOrFile, "model/model.onnx", sha256);
        }

        InferenceSession session;
        try
        {
            using var options = new SessionOptions
            {
                IntraOpNumThreads = Math.Max(1, threads),
                InterOpNumThreads = 1,
                ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            };
            session = new InferenceSession(bytes, options);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelLoadException(ModelLoadError.InvalidOnnx, "ONNX Runtime cannot load the model file", ex);
        }

        try
        {
            ModelDescriptor descriptor = ReadDescriptor(session, sha256);
            CheckContract(session, descriptor);
            return new DiagnosisModel(session, descriptor);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Scores a batch of normalised images (each <see cref="ImageLength"/> floats, CHW).</summary>
    /// <exception cref="ModelLoadException">ONNX Runtime failed (<see cref="ModelLoadError.InferenceFailed"/>) or the outputs break the contract.</exception>
    public IReadOnlyList<ImageScore> Score(IReadOnlyList<float[]> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0)
        {
            return [];
        }

        int length = ImageLength;
        var batch = new float[(long)images.Count * length];
        for (int i = 0; i < images.Count; i++)
        {
            if (images[i].Length != length)
            {
                throw new ArgumentException("Every image must have the recipe's C × S × S floats.", nameof(images));
            }

            images[i].CopyTo(batch, (long)i * length);
        }

        int size = Descriptor.Recipe.Resize.Size;
        using OrtValue input = OrtValue.CreateTensorValueFromMemory(batch, [images.Count, Descriptor.Recipe.Channels, size, size]);
        using var run = new RunOptions();
        IDisposableReadOnlyCollection<OrtValue> outputs;
        try
        {
            outputs = _session.Run(run, ["image"], [input], ["logits", "features"]);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelLoadException(ModelLoadError.InferenceFailed, "ONNX Runtime failed to run the model", ex);
        }

        using IDisposableReadOnlyCollection<OrtValue> disposeOutputs = outputs;
        ReadOnlySpan<float> logits = outputs[0].GetTensorDataAsSpan<float>();
        ReadOnlySpan<float> features = outputs[1].GetTensorDataAsSpan<float>();
        int k = logits.Length / images.Count;
        int d = features.Length / images.Count;
        if (k != Descriptor.Classes.Count || k * images.Count != logits.Length || d * images.Count != features.Length)
        {
            throw new ModelLoadException(ModelLoadError.ContractMismatch, "the model's outputs do not have the shapes [N, K] and [N, D]");
        }

        var scores = new ImageScore[images.Count];
        ShiftMonitor? monitor = Descriptor.ShiftMonitor;
        for (int i = 0; i < images.Count; i++)
        {
            ReadOnlySpan<float> row = logits.Slice(i * k, k);
            double max = double.NegativeInfinity;
            int best = 0;
            for (int c = 0; c < k; c++)
            {
                if (row[c] > max)
                {
                    max = row[c];
                    best = c;
                }
            }

            double sum = 0;
            for (int c = 0; c < k; c++)
            {
                sum += Math.Exp(row[c] - max);
            }

            double score = Math.Exp(row[Descriptor.PositiveClass] - max) / sum;
            double shift = double.NaN;
            bool shifted = false;
            if (monitor is not null)
            {
                if (d != monitor.Dimension)
                {
                    throw new ModelLoadException(ModelLoadError.ContractMismatch, "the shift monitor's dimension differs from the model's features");
                }

                double[] f = new double[d];
                for (int j = 0; j < d; j++)
                {
                    f[j] = features[(i * d) + j];
                }

                shift = monitor.Score(f);
                shifted = shift > monitor.Threshold;
            }

            scores[i] = new ImageScore(score, Descriptor.Classes[best], shift, shifted);
        }

        return scores;
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();

    private static ModelDescriptor ReadDescriptor(InferenceSession session, string sha256)
    {
        if (!session.ModelMetadata.CustomMetadataMap.TryGetValue(MetadataKey, out string? text))
        {
            throw new ModelLoadException(ModelLoadError.InvalidMetadata, $"the model has no '{MetadataKey}' metadata");
        }

        try
        {
            if (JsonNode.Parse(text) is not JsonObject o || (string?)o["format"] != Format)
            {
                throw new ModelLoadException(ModelLoadError.InvalidMetadata, $"the '{MetadataKey}' metadata is not format {Format}");
            }

            if ((string?)o["modality"] is { } modality && modality != "xray")
            {
                throw new ModelLoadException(ModelLoadError.UnsupportedModality, $"diagnose runs X-ray models; this one is for '{modality}'");
            }

            string[] classes = o["classes"] is JsonArray c ? [.. c.Select(x => (string?)x ?? string.Empty)] : [];
            int positive = (int?)o["positiveClass"] ?? -1;
            if (classes.Length < 2 || classes.Any(string.IsNullOrEmpty) || positive < 0 || positive >= classes.Length)
            {
                throw new ModelLoadException(ModelLoadError.InvalidMetadata, "the model needs at least two named classes and a positiveClass among them");
            }

            if (o["recipe"] is not JsonObject recipe)
            {
                throw new ModelLoadException(ModelLoadError.InvalidMetadata, "the model's metadata has no preprocessing recipe");
            }

            ShiftMonitor? monitor = o["shiftMonitor"] is JsonObject m ? ShiftMonitor.FromJsonNode(m) : null;
            return new ModelDescriptor(classes, positive, XrayRecipe.FromJson(recipe.ToJsonString()), monitor, sha256);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new ModelLoadException(ModelLoadError.InvalidMetadata, $"the '{MetadataKey}' metadata is invalid: {ex.Message}", ex);
        }
    }

    private static void CheckContract(InferenceSession session, ModelDescriptor descriptor)
    {
        int size = descriptor.Recipe.Resize.Size;
        if (!session.InputMetadata.TryGetValue("image", out NodeMetadata? image) || image.ElementType != typeof(float)
            || image.Dimensions.Length != 4
            || !Fits(image.Dimensions[1], descriptor.Recipe.Channels) || !Fits(image.Dimensions[2], size) || !Fits(image.Dimensions[3], size))
        {
            throw new ModelLoadException(ModelLoadError.ContractMismatch, $"the model needs a float input 'image' [N, {descriptor.Recipe.Channels}, {size}, {size}] as its recipe says");
        }

        if (!session.OutputMetadata.TryGetValue("logits", out NodeMetadata? logits) || logits.Dimensions.Length != 2
            || !Fits(logits.Dimensions[1], descriptor.Classes.Count)
            || !session.OutputMetadata.TryGetValue("features", out NodeMetadata? features) || features.Dimensions.Length != 2)
        {
            throw new ModelLoadException(ModelLoadError.ContractMismatch, "the model needs outputs 'logits' [N, K] (K = number of classes) and 'features' [N, D]");
        }
    }

    // A dynamic dimension is reported as -1 (or 0); a fixed one must match.
    private static bool Fits(int declared, int expected) => declared <= 0 || declared == expected;
}
