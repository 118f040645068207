namespace MedTransfer.Imaging.Volumes;

/// <summary>What <see cref="VolumeAssembler"/> found wrong or unusual in a stack's geometry (flagged, never silently resampled: the user must know the volume is irregular).</summary>
[Flags]
public enum GeometryFlags
{
    /// <summary>A regular stack.</summary>
    None = 0,

    /// <summary>A gap between neighbouring slices is larger than 1.5 × the median spacing.</summary>
    MissingSlices = 1,

    /// <summary>Some spacing deviates from the median by more than 1 %.</summary>
    UnevenSpacing = 2,

    /// <summary>Two or more slices share a position (kept, in Instance Number order).</summary>
    DuplicatePositions = 4,

    /// <summary>Direction cosines differ between slices by more than 1e-4 (but less than the 1e-3 that splits stacks).</summary>
    MixedOrientation = 8,

    /// <summary>The slice positions do not step along the slice normal (gantry tilt or shear): the affine is sheared, not resampled.</summary>
    GantryTilt = 16,

    /// <summary>One slice only: the slice spacing comes from the header, not from positions.</summary>
    SingleSlice = 32,

    /// <summary>The slice spacing comes from Spacing Between Slices or Slice Thickness, not from slice positions (mosaics, classic multi-frame, single slices).</summary>
    SpacingFromHeader = 64,
}

/// <summary>Where the slice spacing in the affine came from.</summary>
public enum SliceSpacingSource
{
    /// <summary>The slice positions (Image Position (Patient)).</summary>
    Positions,

    /// <summary>Spacing Between Slices (0018,0088).</summary>
    SpacingBetweenSlices,

    /// <summary>Slice Thickness (0018,0050), for lack of anything better.</summary>
    SliceThickness,

    /// <summary>Nothing was available: 1 mm was assumed.</summary>
    Assumed,
}

/// <summary>The geometry of an assembled volume and the irregularities found, with the numbers behind each flag.</summary>
public sealed record GeometryReport
{
    /// <summary>What was found.</summary>
    public required GeometryFlags Flags { get; init; }

    /// <summary>Slices in the volume.</summary>
    public required int SliceCount { get; init; }

    /// <summary>Distance between rows (Pixel Spacing value 1), mm.</summary>
    public required double RowSpacing { get; init; }

    /// <summary>Distance between columns (Pixel Spacing value 2), mm.</summary>
    public required double ColumnSpacing { get; init; }

    /// <summary>The slice step length in the affine, mm.</summary>
    public required double SliceSpacing { get; init; }

    /// <summary>Where <see cref="SliceSpacing"/> came from.</summary>
    public required SliceSpacingSource SpacingSource { get; init; }

    /// <summary>Smallest distance between neighbouring slices along the normal, mm (NaN with fewer than two positions).</summary>
    public double MinGap { get; init; } = double.NaN;

    /// <summary>Median distance between neighbouring slices along the normal, mm.</summary>
    public double MedianGap { get; init; } = double.NaN;

    /// <summary>Largest distance between neighbouring slices along the normal, mm.</summary>
    public double MaxGap { get; init; } = double.NaN;

    /// <summary>Largest |gap − median| / median over the gaps.</summary>
    public double MaxRelativeDeviation { get; init; }

    /// <summary>Slices estimated missing: the sum over large gaps of round(gap / median) − 1.</summary>
    public int MissingSliceEstimate { get; init; }

    /// <summary>Slices at the same position as their neighbour.</summary>
    public int DuplicatePositionCount { get; init; }

    /// <summary>Largest direction-cosine difference from the first slice.</summary>
    public double MaxOrientationDeviation { get; init; }

    /// <summary>Angle between the slice step and the slice normal, degrees (0 for an orthogonal stack).</summary>
    public double TiltDegrees { get; init; }

    /// <summary>True for a mosaic (Siemens MOSAIC, UIH VFRAME) unpacked into slices.</summary>
    public bool IsMosaic { get; init; }

    /// <summary>One sentence per flag, with its numbers (no patient data), for logs and the CLI.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>True when nothing was flagged except how the spacing was obtained.</summary>
    public bool IsRegular => (Flags & ~(GeometryFlags.SpacingFromHeader | GeometryFlags.SingleSlice)) == GeometryFlags.None;
}

/// <summary>A volume and the report of how its geometry was derived.</summary>
/// <param name="Volume">The voxels (modality LUT applied, and for Philips the chosen scaling) and the voxel→RAS affine.</param>
/// <param name="Report">The geometry report.</param>
public sealed record AssembledVolume(Volume Volume, GeometryReport Report)
{
    /// <summary>What the voxel values are (modality values, or Philips floating-point or display values).</summary>
    public VolumeScaling Scaling { get; init; } = VolumeScaling.Modality;

    /// <summary>The diffusion weighting, when the images state one (the same for every slice), else null.</summary>
    public DiffusionWeighting? Diffusion { get; init; }

    /// <summary>
    /// When each slice was acquired, in seconds from the first one, in the volume's slice order (k), when the files
    /// say (UIH per-slice acquisition times, Siemens MosaicRefAcqTimes); else null.
    /// </summary>
    public IReadOnlyList<double>? SliceTiming { get; init; }
}

/// <summary>Why a stack could not become a volume.</summary>
public enum VolumeErrorCode
{
    /// <summary>The stack is empty.</summary>
    EmptyStack,

    /// <summary>The slices disagree in size, or a decoded frame does not have the declared size.</summary>
    InconsistentSlices,

    /// <summary>The pixels are not single-sample greyscale, or a mosaic does not tile.</summary>
    UnsupportedPixels,

    /// <summary>The volume would exceed <see cref="VolumeAssemblyOptions.MaxVoxels"/>.</summary>
    TooLarge,
}

/// <summary>A stack that cannot be assembled. DICOM reading and decoding errors surface as the DICOM layer's own exceptions.</summary>
public sealed class VolumeAssemblyException : Exception
{
    /// <summary>Creates the exception; <paramref name="detail"/> must not contain values from the files.</summary>
    public VolumeAssemblyException(VolumeErrorCode reason, string detail)
        : base($"{reason}: {detail}")
    {
        Reason = reason;
    }

    /// <summary>The stable reason code.</summary>
    public VolumeErrorCode Reason { get; }
}

/// <summary>Options for <see cref="VolumeAssembler"/>.</summary>
public sealed record VolumeAssemblyOptions
{
    /// <summary>The defaults.</summary>
    public static VolumeAssemblyOptions Default { get; } = new();

    private readonly long _maxVoxels = 1L << 28;

    /// <summary>Which intensities Philips MR images give (default <see cref="Volumes.PhilipsScaling.Float"/>, as dcm2niix).</summary>
    public PhilipsScaling PhilipsScaling { get; init; } = PhilipsScaling.Float;

    /// <summary>The largest volume accepted (voxels). Default 2^28 (1 GiB of floats).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive.</exception>
    public long MaxVoxels
    {
        get => _maxVoxels;
        init => _maxVoxels = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), "Must be positive.");
    }
}
