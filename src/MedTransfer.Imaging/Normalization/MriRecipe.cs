namespace MedTransfer.Imaging.Normalization;

/// <summary>How the head/body foreground of an MR volume is separated from the background.</summary>
public enum ForegroundMethod
{
    /// <summary>Otsu (1979): the threshold maximising the between-class variance of a 256-bin histogram over [min, max]; foreground = voxels above it.</summary>
    Otsu,

    /// <summary>Foreground = voxels above the mean of all finite voxels (a crude but robust air/tissue split).</summary>
    Mean,
}

/// <summary>Intensity standardisation of an MR volume.</summary>
public enum IntensityStandardization
{
    /// <summary>Every voxel becomes (v − μ)/σ with μ, σ the foreground mean and population standard deviation.</summary>
    ZScore,

    /// <summary>Nyúl &amp; Udupa (2000) piecewise-linear histogram standardisation with a fitted <see cref="NyulModel"/>.</summary>
    Nyul,
}

/// <summary>Which axis slices are cut across, in RAS voxel order (after <see cref="MriRecipe.ReorientToRas"/>): i = R, j = A, k = S.</summary>
public enum SliceAxis
{
    /// <summary>Slices across k (S): planes of i × j; rows follow j, columns follow i.</summary>
    Axial,

    /// <summary>Slices across j (A): planes of i × k; rows follow k, columns follow i.</summary>
    Coronal,

    /// <summary>Slices across i (R): planes of j × k; rows follow k, columns follow j.</summary>
    Sagittal,
}

/// <summary>Voxel spacing in millimetres along the volume's i, j, k axes.</summary>
/// <param name="X">Along i.</param>
/// <param name="Y">Along j.</param>
/// <param name="Z">Along k.</param>
public sealed record VoxelSpacing(double X, double Y, double Z);

/// <summary>
/// Slices (or slabs) cut for a 2-D backbone: slab thickness T gives T channels, the slices c − ⌊T/2⌋ … c + ⌈T/2⌉ − 1
/// around each chosen centre c (indices clamped at the volume's ends, so edge slabs repeat the edge slice).
/// </summary>
/// <param name="Axis">Slicing axis.</param>
/// <param name="Count">Number of slab centres evenly spread over the axis (centre m at round((m + ½)·N/Count − ½)), or null for every slice.</param>
/// <param name="SlabThickness">Adjacent slices per slab = channels (1 = single slices; 3 = the usual 2.5-D input).</param>
public sealed record SliceOptions(SliceAxis Axis = SliceAxis.Axial, int? Count = null, int SlabThickness = 3);

/// <summary>
/// A fitted Nyúl–Udupa standard scale: landmark percentiles of the foreground and the standard-scale value of each
/// (the mean over the training volumes of their landmarks mapped linearly so that the first landmark goes to
/// <see cref="ScaleMin"/> and the last to <see cref="ScaleMax"/>).
/// </summary>
/// <param name="Percentiles">Landmark percentiles, strictly increasing (e.g. 1, 10, 20, …, 90, 99).</param>
/// <param name="StandardLandmarks">Standard-scale value per landmark.</param>
/// <param name="ScaleMin">s1 of the paper.</param>
/// <param name="ScaleMax">s2 of the paper.</param>
/// <param name="Foreground">Mask used to take the percentiles.</param>
public sealed record NyulModel(IReadOnlyList<double> Percentiles, IReadOnlyList<double> StandardLandmarks, double ScaleMin, double ScaleMax, ForegroundMethod Foreground);

/// <summary>
/// The MRI preprocessing recipe: volume in RAS → optional resample → foreground z-score or Nyúl
/// standardisation → slices or slabs. Serializable; <see cref="ComputeHash"/> covers every parameter including a
/// fitted <see cref="NyulModel"/>.
/// </summary>
public sealed record MriRecipe
{
    /// <summary>Version of the recipe's meaning; part of the hash.</summary>
    public const int FormatVersion = 1;

    /// <summary>Permute/flip voxel axes so i, j, k run closest to +R, +A, +S (the affine is updated; no interpolation).</summary>
    public bool ReorientToRas { get; init; } = true;

    /// <summary>Trilinear resampling to this spacing, or null (the default) to keep the acquired grid.</summary>
    public VoxelSpacing? ResampleSpacing { get; init; }

    /// <summary>Foreground mask for the statistics.</summary>
    public ForegroundMethod Foreground { get; init; } = ForegroundMethod.Otsu;

    /// <summary>Intensity standardisation.</summary>
    public IntensityStandardization Standardize { get; init; } = IntensityStandardization.ZScore;

    /// <summary>The fitted standard scale; required when <see cref="Standardize"/> is <see cref="IntensityStandardization.Nyul"/>.</summary>
    public NyulModel? Nyul { get; init; }

    /// <summary>Slicing.</summary>
    public SliceOptions Slices { get; init; } = new();

    /// <summary>The canonical JSON text the hash is computed from.</summary>
    public string ToCanonicalJson() => RecipeJson.Canonical(this, "mri", FormatVersion);

    /// <summary>SHA-256 (lower-case hex) of <see cref="ToCanonicalJson"/>.</summary>
    public string ComputeHash() => RecipeJson.Hash(ToCanonicalJson());

    /// <summary>The recipe as JSON.</summary>
    public string ToJson() => RecipeJson.Serialize(this);

    /// <summary>Reads a recipe written by <see cref="ToJson"/>.</summary>
    /// <exception cref="System.Text.Json.JsonException">The text is not a valid recipe.</exception>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public static MriRecipe FromJson(string json)
    {
        MriRecipe recipe = RecipeJson.Deserialize<MriRecipe>(json);
        recipe.Validate();
        return recipe;
    }

    /// <summary>Checks every parameter's range.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        if (Slices is null || Slices.SlabThickness < 1 || Slices.Count is <= 0 || !Enum.IsDefined(Slices.Axis))
        {
            throw new ArgumentException("Slices need a defined axis, SlabThickness >= 1 and Count null or > 0.");
        }

        if (ResampleSpacing is { } s && !(s.X > 0 && s.Y > 0 && s.Z > 0 && double.IsFinite(s.X + s.Y + s.Z)))
        {
            throw new ArgumentException("ResampleSpacing must be finite and positive.");
        }

        if (!Enum.IsDefined(Foreground) || !Enum.IsDefined(Standardize))
        {
            throw new ArgumentException("Foreground and Standardize must be defined values.");
        }

        if (Standardize == IntensityStandardization.Nyul)
        {
            if (Nyul is null)
            {
                throw new ArgumentException("Nyul standardisation needs a fitted NyulModel (NyulStandardizer.Fit).");
            }

            NyulStandardizer.Validate(Nyul);
        }
    }
}
