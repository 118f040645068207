namespace MedTransfer.Imaging.Volumes;

/// <summary>The geometry and grouping attributes of one image (a file, one frame of a multi-frame file, or a whole mosaic).</summary>
internal sealed record SliceHeader
{
    private readonly (int Rows, int Columns)? _mosaicGrid;

    public required string Path { get; init; }

    /// <summary>Frame index in the file (0 for single-frame files).</summary>
    public int Frame { get; init; }

    /// <summary>Image Position (Patient), LPS mm, of the first transmitted pixel.</summary>
    public required double[] Position { get; init; }

    /// <summary>Image Orientation (Patient): row direction cosine then column direction cosine.</summary>
    public required double[] Orientation { get; init; }

    /// <summary>Pixel Spacing value 1: the distance between rows (adjacent pixels along a column), mm.</summary>
    public double RowSpacing { get; init; }

    /// <summary>Pixel Spacing value 2: the distance between columns (adjacent pixels along a row), mm.</summary>
    public double ColumnSpacing { get; init; }

    public int Rows { get; init; }

    public int Columns { get; init; }

    public int? EchoNumber { get; init; }

    public double? EchoTime { get; init; }

    public int? AcquisitionNumber { get; init; }

    public int? InstanceNumber { get; init; }

    public int? TemporalPosition { get; init; }

    public string? StackId { get; init; }

    public double? SpacingBetweenSlices { get; init; }

    public double? SliceThickness { get; init; }

    /// <summary>Rescale from an enhanced frame's Pixel Value Transformation; null uses the data set's modality LUT.</summary>
    public double? Slope { get; init; }

    public double? Intercept { get; init; }

    /// <summary>Number of images in a mosaic (Siemens MOSAIC or UIH VFRAME); 0 when the image is not a mosaic.</summary>
    public int MosaicImages { get; init; }

    /// <summary>Tiles down and across the mosaic: UIH ⌈n / ⌈√n⌉⌉ × ⌈√n⌉ (set by the scanner); otherwise Siemens' ⌈√n⌉ × ⌈√n⌉.</summary>
    public (int Rows, int Columns) MosaicGrid
    {
        get
        {
            if (_mosaicGrid is { } grid)
            {
                return grid;
            }

            int tiles = (int)Math.Ceiling(Math.Sqrt(MosaicImages));
            return (tiles, tiles);
        }

        init => _mosaicGrid = value;
    }

    /// <summary>The CSA SliceNormalVector of a mosaic, or null.</summary>
    public double[]? MosaicSliceNormal { get; init; }

    /// <summary>Image Position (Patient) of each tile when the file gives one per tile (UIH VFRAME), else null.</summary>
    public double[][]? TilePositions { get; init; }

    /// <summary>Acquisition time (seconds, any origin) of each tile of a mosaic, when the file gives plausible ones, else null.</summary>
    public double[]? TileTimes { get; init; }

    /// <summary>True when the file gave per-tile times that were left out because they span a repetition time or more.</summary>
    public bool TileTimesImplausible { get; init; }

    /// <summary>The diffusion weighting of the image, when its header states one.</summary>
    public DiffusionWeighting? Diffusion { get; init; }

    /// <summary>Philips MR Scale Slope (2005,xx0E, creator "Philips MR Imaging DD 001") of a Philips image, or null.</summary>
    public double? PhilipsScaleSlope { get; init; }

    /// <summary>True when the position was computed from the file's one position and its slice spacing (classic multi-frame).</summary>
    public bool PositionDerived { get; init; }

    /// <summary>Order of discovery (file order, then frame), for stable sorting.</summary>
    public int Order { get; init; }

    public double[] Normal => Geometry.Cross(Orientation.AsSpan(0, 3), Orientation.AsSpan(3, 3));
}
