using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MedTransfer.Training.Backbones;

/// <summary>
/// What a backbone expects as input: <see cref="Channels"/> channels whose values span
/// [<see cref="RangeMin"/>, <see cref="RangeMax"/>] before per-channel standardisation (x − mean) / std, with mean
/// and std in the units of that range. The images MedTransfer feeds are the normalization recipe's output in [0, 1]
/// (grey, or grey replicated to RGB): <see cref="ConventionPreprocess"/> maps them onto this convention.
/// Examples: torchvision's ImageNet models are 3 channels, [0, 1], mean (0.485, 0.456, 0.406), std (0.229, 0.224,
/// 0.225); TorchXRayVision's are 1 channel, [−1024, 1024], mean 0, std 1.
/// </summary>
/// <param name="Channels">1 or 3.</param>
/// <param name="RangeMin">The value a black pixel has.</param>
/// <param name="RangeMax">The value a white pixel has.</param>
/// <param name="Mean">Subtracted per channel (one value, or one per channel), in range units.</param>
/// <param name="Std">Divides per channel (one value, or one per channel), in range units.</param>
/// <param name="Bgr">Three channels in blue-green-red order (Caffe-style exports).</param>
public sealed record InputConvention(int Channels, double RangeMin, double RangeMax, IReadOnlyList<double> Mean, IReadOnlyList<double> Std, bool Bgr = false)
{
    /// <summary>The metadata_props key MedTransfer reads (and writes) a convention under, as JSON: {"channels", "range", "mean", "std", "bgr"}.</summary>
    public const string MetadataKey = "medtransfer.input";

    /// <summary>torchvision's ImageNet convention.</summary>
    public static InputConvention ImageNet { get; } = new(3, 0, 1, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]);

    /// <summary>Values in [0, 1], no standardisation.</summary>
    public static InputConvention Plain(int channels) => new(channels, 0, 1, [0], [1]);

    /// <summary>Checks the fields; the message names the field.</summary>
    /// <exception cref="ArgumentException">A field is out of range.</exception>
    public void Validate()
    {
        string? problem = Channels is not (1 or 3) ? "channels must be 1 or 3"
            : !(RangeMax > RangeMin) || !double.IsFinite(RangeMin) || !double.IsFinite(RangeMax) ? "range must be two finite numbers [low, high] with low < high"
            : Mean.Count is not 1 && Mean.Count != Channels ? $"mean needs 1 or {Channels} values"
            : Std.Count is not 1 && Std.Count != Channels ? $"std needs 1 or {Channels} values"
            : Std.Any(s => !(s > 0) || !double.IsFinite(s)) ? "std values must be positive"
            : Mean.Any(m => !double.IsFinite(m)) ? "mean values must be finite"
            : Bgr && Channels != 3 ? "bgr needs 3 channels"
            : null;
        if (problem is not null)
        {
            throw new ArgumentException($"input convention: {problem}.");
        }
    }

    /// <summary>One line for reports: "3 ch, [0, 1], mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225)".</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Channels} ch{(Bgr ? " BGR" : string.Empty)}, [{RangeMin:G6}, {RangeMax:G6}], mean ({string.Join(", ", Mean.Select(v => v.ToString("G6", CultureInfo.InvariantCulture)))}), std ({string.Join(", ", Std.Select(v => v.ToString("G6", CultureInfo.InvariantCulture)))})");

    /// <summary>The convention as the JSON stored under <see cref="MetadataKey"/>.</summary>
    public string ToJson() => new JsonObject
    {
        ["channels"] = Channels,
        ["range"] = new JsonArray(RangeMin, RangeMax),
        ["mean"] = new JsonArray([.. Mean.Select(v => (JsonNode)v)]),
        ["std"] = new JsonArray([.. Std.Select(v => (JsonNode)v)]),
        ["bgr"] = Bgr,
    }.ToJsonString();

    /// <summary>
    /// The convention a model's metadata_props declare: MedTransfer's own key (<see cref="MetadataKey"/>), else the
    /// ONNX image metadata <c>Image.BitmapPixelFormat</c> (Gray8, Rgb8, Bgr8) and <c>Image.NominalPixelRange</c>
    /// (NominalRange_0_255, Normalized_0_1, Normalized_1_1, NominalRange_16_235), which carry no mean or std. Null when
    /// the model declares neither.
    /// </summary>
    /// <exception cref="ArgumentException">The metadata is present but unreadable (the message names the key).</exception>
    public static InputConvention? FromMetadata(IReadOnlyDictionary<string, string> metadata, int channels)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (metadata.TryGetValue(MetadataKey, out string? json))
        {
            try
            {
                JsonNode root = JsonNode.Parse(json) ?? throw new JsonException("empty");
                double[] range = [.. (root["range"]?.AsArray() ?? [0.0, 1.0]).Select(v => v!.GetValue<double>())];
                var c = new InputConvention(
                    root["channels"]?.GetValue<int>() ?? channels,
                    range[0],
                    range[1],
                    [.. (root["mean"]?.AsArray() ?? [0.0]).Select(v => v!.GetValue<double>())],
                    [.. (root["std"]?.AsArray() ?? [1.0]).Select(v => v!.GetValue<double>())],
                    root["bgr"]?.GetValue<bool>() ?? false);
                c.Validate();
                return c;
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or IndexOutOfRangeException)
            {
                throw new ArgumentException($"metadata '{MetadataKey}' is not a readable input convention ({ex.Message}).", ex);
            }
        }

        string? format = Lookup(metadata, "Image.BitmapPixelFormat");
        string? nominal = Lookup(metadata, "Image.NominalPixelRange");
        if (format is null && nominal is null)
        {
            return null;
        }

        (int ch, bool bgr) = format?.ToUpperInvariant() switch
        {
            null => (channels, false),
            "GRAY8" or "GRAY16" => (1, false),
            "RGB8" or "RGBA8" => (3, false),
            "BGR8" or "BGRA8" => (3, true),
            _ => throw new ArgumentException($"metadata 'Image.BitmapPixelFormat' = '{format}' is not a known pixel format."),
        };
        (double lo, double hi) = nominal?.ToUpperInvariant() switch
        {
            null or "NOMINALRANGE_0_255" => (0.0, 255.0),
            "NORMALIZED_0_1" => (0, 1),
            "NORMALIZED_1_1" => (-1, 1),
            "NOMINALRANGE_16_235" => (16, 235),
            _ => throw new ArgumentException($"metadata 'Image.NominalPixelRange' = '{nominal}' is not a known range."),
        };
        return new InputConvention(ch, lo, hi, [0], [1], bgr);
    }

    // The ONNX image metadata keys are case-insensitive.
    private static string? Lookup(IReadOnlyDictionary<string, string> metadata, string key) =>
        metadata.FirstOrDefault(kv => string.Equals(kv.Key, key, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>
    /// The affine map from MedTransfer's [0, 1] images with <paramref name="inputChannels"/> channels onto this
    /// convention, as a 1×1 convolution: weights [C, inputChannels] and bias [C] with
    /// y_c = Σ_k W[c,k]·x_k + b_c. Grey to RGB replicates, RGB to grey averages, BGR reverses the channels.
    /// </summary>
    public (float[] Weights, float[] Bias) AffineFrom(int inputChannels)
    {
        Validate();
        if (inputChannels is not (1 or 3))
        {
            throw new ArgumentOutOfRangeException(nameof(inputChannels), inputChannels, "Images have 1 or 3 channels.");
        }

        var weights = new float[Channels * inputChannels];
        var bias = new float[Channels];
        double span = RangeMax - RangeMin;
        for (int c = 0; c < Channels; c++)
        {
            double mean = Mean.Count == 1 ? Mean[0] : Mean[c];
            double std = Std.Count == 1 ? Std[0] : Std[c];
            double scale = span / std;
            bias[c] = (float)((RangeMin - mean) / std);
            int source = Bgr ? Channels - 1 - c : c;
            if (inputChannels == Channels)
            {
                weights[(c * inputChannels) + source] = (float)scale;
            }
            else if (inputChannels == 1)
            {
                weights[c] = (float)scale;
            }
            else
            {
                for (int k = 0; k < 3; k++)
                {
                    weights[(c * inputChannels) + k] = (float)(scale / 3);
                }
            }
        }

        return (weights, bias);
    }
}

/// <summary>
/// Maps MedTransfer's images (N×1×S×S or N×3×S×S in [0, 1]) onto a backbone's <see cref="InputConvention"/> with one
/// 1×1 convolution, which the export writes as the same ONNX Conv, so ONNX Runtime computes the same values.
/// </summary>
public sealed class ConventionPreprocess : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the module.</summary>
    public ConventionPreprocess(InputConvention convention)
        : base("preprocess")
    {
        ArgumentNullException.ThrowIfNull(convention);
        Convention = convention;
        foreach (int channels in new[] { 1, 3 })
        {
            (float[] w, float[] b) = convention.AffineFrom(channels);
            register_buffer($"weight{channels}", tensor(w, [convention.Channels, channels, 1, 1]));
            register_buffer($"bias{channels}", tensor(b, [convention.Channels]));
        }
    }

    /// <summary>The convention the output follows.</summary>
    public InputConvention Convention { get; }

    /// <summary>The 1×1 convolution's weights and bias for input images of <paramref name="channels"/> channels (1 or 3).</summary>
    public (Tensor Weight, Tensor Bias) Affine(int channels) => (Buffer($"weight{channels}"), Buffer($"bias{channels}"));

    // Looked up per call: to(device) replaces registered buffers.
    private Tensor Buffer(string name) => named_buffers(recurse: false).First(b => b.name == name).buffer;

    /// <inheritdoc/>
    public override Tensor forward(Tensor input)
    {
        int channels = (int)input.shape[1];
        if (channels is not (1 or 3))
        {
            throw new ArgumentException($"Images have 1 or 3 channels, not {channels}.", nameof(input));
        }

        (Tensor w, Tensor b) = Affine(channels);
        return F.conv2d(input, w, b);
    }
}
