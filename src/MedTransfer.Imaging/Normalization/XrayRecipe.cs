using MedTransfer.Imaging.Resampling;

namespace MedTransfer.Imaging.Normalization;

/// <summary>Whether the X-ray recipe applies the DICOM file's own VOI (window or VOI LUT).</summary>
public enum VoiMode
{
    /// <summary>Apply the file's first VOI LUT or window (PS3.3 C.11.2) when it has one; otherwise the modality values are used.</summary>
    UseFileWindow,

    /// <summary>Ignore any VOI in the file; the percentile clip alone sets the intensity range.</summary>
    None,
}

/// <summary>The robust intensity clip: values below/above these percentiles (NumPy linear definition) saturate.</summary>
/// <param name="LowPercent">Lower percentile in [0, 100).</param>
/// <param name="HighPercent">Upper percentile in (LowPercent, 100].</param>
public sealed record PercentileClip(double LowPercent = 0.5, double HighPercent = 99.5);

/// <summary>Aspect-preserving resize into a square canvas (<see cref="SquarePlacement"/>).</summary>
/// <param name="Size">Canvas side in pixels.</param>
/// <param name="Method">Interpolation (<see cref="ResizeMethod"/>).</param>
/// <param name="PaddingValue">Value of the canvas outside the image, on the [0, 1] output scale.</param>
public sealed record ResizeOptions(int Size = 224, ResizeMethod Method = ResizeMethod.Area, float PaddingValue = 0f);

/// <summary>
/// Cropping of uniform borders (collimation, detector edges, burned-in frames). Working inward from each edge on the
/// clipped [0, 1] image, a row (then a column, over the remaining rows) is border when its standard deviation is below
/// <paramref name="MaxStdDev"/> and its mean is within <paramref name="ExtremeMargin"/> of 0 or of 1; cropping stops at
/// the first non-border line and never removes more than <paramref name="MaxCropFraction"/> of a dimension per side.
/// The percentile clip is then recomputed on the cropped region.
/// </summary>
/// <param name="MaxStdDev">Largest standard deviation of a border line on the [0, 1] scale.</param>
/// <param name="ExtremeMargin">How close to 0 or 1 a border line's mean must be.</param>
/// <param name="MaxCropFraction">Largest fraction of the width or height removed from one side.</param>
public sealed record CollimationCrop(double MaxStdDev = 0.02, double ExtremeMargin = 0.05, double MaxCropFraction = 0.25);

/// <summary>
/// The X-ray preprocessing recipe: stored values → modality LUT → VOI
/// (<see cref="Voi"/>) → MONOCHROME1 inversion (always, by the DICOM layer) → optional collimation crop → percentile
/// clip → [0, 1] → aspect-preserving resize with padding → <see cref="Channels"/> identical channels (CHW). The
/// backbone's own normalization is not part of it. Serializable (<see cref="ToJson"/>); <see cref="ComputeHash"/> is
/// the cache key of its outputs.
/// </summary>
public sealed record XrayRecipe
{
    /// <summary>Version of the recipe's meaning; part of the hash. Bump it when the same parameters start to give different tensors.</summary>
    public const int FormatVersion = 1;

    /// <summary>VOI policy for DICOM input.</summary>
    public VoiMode Voi { get; init; } = VoiMode.UseFileWindow;

    /// <summary>The robust percentile clip.</summary>
    public PercentileClip Clip { get; init; } = new();

    /// <summary>The resize.</summary>
    public ResizeOptions Resize { get; init; } = new();

    /// <summary>Collimation/border crop, or null (the default) for none.</summary>
    public CollimationCrop? CropCollimation { get; init; }

    /// <summary>Output channels: 1, or 3 (the greyscale plane replicated, for ImageNet backbones).</summary>
    public int Channels { get; init; } = 3;

    /// <summary>The canonical JSON text the hash is computed from (see <see cref="ComputeHash"/>).</summary>
    public string ToCanonicalJson() => RecipeJson.Canonical(this, "xray", FormatVersion);

    /// <summary>SHA-256 (lower-case hex) of <see cref="ToCanonicalJson"/>: stable across runs, machines and cultures.</summary>
    public string ComputeHash() => RecipeJson.Hash(ToCanonicalJson());

    /// <summary>The recipe as JSON (camelCase, enums by name).</summary>
    public string ToJson() => RecipeJson.Serialize(this);

    /// <summary>Reads a recipe written by <see cref="ToJson"/>; missing members take their defaults.</summary>
    /// <exception cref="System.Text.Json.JsonException">The text is not a valid recipe.</exception>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public static XrayRecipe FromJson(string json)
    {
        XrayRecipe recipe = RecipeJson.Deserialize<XrayRecipe>(json);
        recipe.Validate();
        return recipe;
    }

    /// <summary>Checks every parameter's range.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        if (Clip is null || Resize is null)
        {
            throw new ArgumentException("Clip and Resize are required.");
        }

        if (!(Clip.LowPercent >= 0 && Clip.LowPercent < Clip.HighPercent && Clip.HighPercent <= 100))
        {
            throw new ArgumentException("The clip needs 0 <= LowPercent < HighPercent <= 100.");
        }

        if (Resize.Size is < 1 or > 8192 || !float.IsFinite(Resize.PaddingValue) || !Enum.IsDefined(Resize.Method))
        {
            throw new ArgumentException("Resize needs a size in [1, 8192], a defined method and a finite padding value.");
        }

        if (Channels is not (1 or 3) || !Enum.IsDefined(Voi))
        {
            throw new ArgumentException("Channels must be 1 or 3 and Voi a defined mode.");
        }

        if (CropCollimation is { } c && !(c.MaxStdDev >= 0 && c.ExtremeMargin is >= 0 and < 0.5 && c.MaxCropFraction is >= 0 and < 0.5))
        {
            throw new ArgumentException("CropCollimation needs MaxStdDev >= 0, ExtremeMargin in [0, 0.5) and MaxCropFraction in [0, 0.5).");
        }
    }
}
