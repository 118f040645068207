using static TorchSharp.torch;

namespace MedTransfer.Training.Data;

/// <summary>
/// Normalized single-channel images held in memory (S×S floats in [0, 1], the recipe's output before
/// channel replication) with label, domain (site) and group (patient) per image. Batches are
/// N×1×S×S tensors; the backbone replicates the channel.
/// </summary>
public sealed class ImageSet : ISampleSource
{
    private readonly List<float[]> _pixels = [];
    private readonly List<int> _labels = [];
    private readonly List<string> _domains = [];
    private readonly List<string> _groups = [];
    private readonly List<string> _ids = [];
    private readonly List<string?> _contentKeys = [];

    /// <summary>Creates an empty set of S×S images.</summary>
    public ImageSet(int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 8);
        Size = size;
    }

    /// <summary>Side length.</summary>
    public int Size { get; }

    /// <summary>Number of images.</summary>
    public int Count => _pixels.Count;

    /// <summary>Labels (class indices; −1 = unlabelled).</summary>
    public IReadOnlyList<int> Labels => _labels;

    /// <summary>Domain (site) of each image.</summary>
    public IReadOnlyList<string> Domains => _domains;

    /// <summary>Group (patient) of each image, for patient-level resampling.</summary>
    public IReadOnlyList<string> Groups => _groups;

    /// <summary>Sample ids.</summary>
    public IReadOnlyList<string> Ids => _ids;

    /// <summary>
    /// What each image's pixels are a function of (e.g. its file's SHA-256 and the normalization recipe), or null
    /// when unknown: the key under which an <see cref="FineTuning.IActivationStore"/> keeps its activations.
    /// </summary>
    public IReadOnlyList<string?> ContentKeys => _contentKeys;

    /// <summary>The pixels of image <paramref name="index"/> (row-major S×S).</summary>
    public ReadOnlySpan<float> Pixels(int index) => _pixels[index];

    /// <summary>Adds an image.</summary>
    /// <param name="id">Sample id.</param>
    /// <param name="pixels">Row-major S×S pixels (kept, not copied).</param>
    /// <param name="label">Class index (−1 = unlabelled).</param>
    /// <param name="domain">Site.</param>
    /// <param name="group">Patient.</param>
    /// <param name="contentKey">What the pixels are a function of (see <see cref="ContentKeys"/>), or null.</param>
    /// <exception cref="ArgumentException">Wrong pixel count or non-finite values.</exception>
    public void Add(string id, float[] pixels, int label, string domain, string group, string? contentKey = null)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.Length != Size * Size)
        {
            throw new ArgumentException($"Image '{id}' has {pixels.Length} pixels; {Size}×{Size} expected.", nameof(pixels));
        }

        foreach (float v in pixels)
        {
            if (!float.IsFinite(v))
            {
                throw new ArgumentException($"Image '{id}' holds a non-finite value.", nameof(pixels));
            }
        }

        _pixels.Add(pixels);
        _labels.Add(label);
        _domains.Add(domain);
        _groups.Add(group);
        _ids.Add(id);
        _contentKeys.Add(contentKey);
    }

    /// <summary>Images as an N×1×S×S float32 tensor on <paramref name="device"/>.</summary>
    public Tensor Images(IReadOnlyList<int> indices, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(indices);
        int per = Size * Size;
        var data = new float[indices.Count * per];
        for (int i = 0; i < indices.Count; i++)
        {
            _pixels[indices[i]].CopyTo(data, i * per);
        }

        Tensor t = tensor(data, [indices.Count, 1, Size, Size]);
        if (device is null || device.type == TorchSharp.DeviceType.CPU)
        {
            return t;
        }

        using (t)
        {
            return t.to(device);
        }
    }

    /// <inheritdoc/>
    Tensor ISampleSource.Inputs(IReadOnlyList<int> indices, Device? device) => Images(indices, device);

    /// <summary>Labels as an int64 tensor.</summary>
    public Tensor LabelTensor(IReadOnlyList<int> indices, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(indices);
        long[] labels = [.. indices.Select(i => (long)_labels[i])];
        return tensor(labels, device: device);
    }
}
