using System.Globalization;
using MedTransfer.Dicom;

namespace MedTransfer.Imaging.Volumes;

/// <summary>
/// Turns a <see cref="SliceStack"/> into a <see cref="Volume"/>: slices sorted by the projection of Image Position
/// (Patient) on the slice normal (row cosine × column cosine), the modality LUT applied per slice (and for Philips MR
/// the chosen <see cref="PhilipsScaling"/>), and the voxel→RAS affine built from the DICOM geometry (PS3.3
/// C.7.6.2.1.1) with LPS turned into RAS by negating the first two rows. Irregular geometry is measured and reported
/// in a <see cref="GeometryReport"/>, never resampled.
/// </summary>
/// <remarks>
/// Voxel (i, j, k) is column i, row j of slice k. The affine's columns are the row cosine × column spacing, the
/// column cosine × row spacing, the slice step (from positions: (last − first) / (n − 1) for a regular stack, the
/// per-axis median of neighbour steps otherwise, so a tilted stack gets a sheared affine) and the first slice's
/// position. A Siemens mosaic is cut into ⌈√n⌉ × ⌈√n⌉ tiles; its position is moved from the mosaic's corner to the
/// first tile's (IPP + R·(mosaic columns − tile columns)/2·Δc + C·(mosaic rows − tile rows)/2·Δr) and its slices step
/// along the CSA SliceNormalVector (else row × column) by Spacing Between Slices. A UIH VFRAME mosaic is cut into
/// its grid of tiles, each at the position its private item gives, and measured like a stack of slices.
/// </remarks>
public static class VolumeAssembler
{
    /// <summary>Relative spacing deviation above which spacing is flagged uneven.</summary>
    public const double UnevenTolerance = 0.01;

    /// <summary>A gap larger than this multiple of the median spacing is flagged as missing slices.</summary>
    public const double MissingGapFactor = 1.5;

    /// <summary>Slice-step angle from the normal (degrees) above which gantry tilt is flagged.</summary>
    public const double TiltToleranceDegrees = 0.05;

    private const double OrientationWarnTolerance = 1e-4;

    /// <summary>Assembles one stack.</summary>
    /// <exception cref="VolumeAssemblyException">The stack is empty, inconsistent, too large, or not greyscale.</exception>
    /// <exception cref="DicomFormatException">A file cannot be read or decoded.</exception>
    /// <exception cref="CodecUnavailableException">A codec's native library is missing.</exception>
    /// <exception cref="OperationCanceledException">Cancelled between slices.</exception>
    public static AssembledVolume Assemble(SliceStack stack, VolumeAssemblyOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stack);
        options ??= VolumeAssemblyOptions.Default;
        if (stack.Slices.Count == 0)
        {
            throw new VolumeAssemblyException(VolumeErrorCode.EmptyStack, "the stack has no images");
        }

        if (!stack.IsMosaic)
        {
            return AssembleSlices(stack.Slices, options, cancellationToken);
        }

        SliceHeader mosaic = stack.Slices[0];
        return mosaic.TilePositions is null ? AssembleSiemensMosaic(mosaic, options) : AssembleTiledMosaic(mosaic, options);
    }

    /// <summary>Assembles every stack of <paramref name="series"/>, in order.</summary>
    /// <exception cref="VolumeAssemblyException">A stack cannot be assembled.</exception>
    /// <exception cref="DicomFormatException">A file cannot be read or decoded.</exception>
    public static IReadOnlyList<AssembledVolume> Assemble(DicomSeries series, VolumeAssemblyOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(series);
        return [.. series.Stacks.Select(s => Assemble(s, options, cancellationToken))];
    }

    private static AssembledVolume AssembleSlices(IReadOnlyList<SliceHeader> slices, VolumeAssemblyOptions options, CancellationToken cancellationToken)
    {
        SliceHeader first = slices[0];
        if (slices.Any(s => s.Rows != first.Rows || s.Columns != first.Columns))
        {
            throw new VolumeAssemblyException(VolumeErrorCode.InconsistentSlices, "the images of the stack differ in size");
        }

        double[] row = first.Orientation[..3];
        double[] column = first.Orientation[3..];
        double[] normal = Normal(row, column);
        List<SliceHeader> sorted = [.. slices
            .OrderBy(s => Geometry.Dot(s.Position, normal))
            .ThenBy(s => s.InstanceNumber ?? int.MaxValue)
            .ThenBy(s => s.Order)];
        int n = sorted.Count;
        long planeSize = (long)first.Rows * first.Columns;
        CheckSize(planeSize, n, options);

        var flags = GeometryFlags.None;
        var warnings = new List<string>();
        double orientationDeviation = sorted.Max(s => Geometry.MaxDifference(first.Orientation, s.Orientation));
        if (orientationDeviation > OrientationWarnTolerance)
        {
            flags |= GeometryFlags.MixedOrientation;
            warnings.Add(Invariant($"direction cosines differ between slices by up to {orientationDeviation:0.######} (the first slice's orientation is used)"));
        }

        StackMeasurement m = StackGeometry.Measure([.. sorted.Select(s => s.Position)], normal, first, sorted.All(s => s.PositionDerived), flags, warnings);
        var voxels = new float[planeSize * n];
        var reader = new SliceReader(options.PhilipsScaling);
        for (int k = 0; k < n; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            reader.Read(sorted[k], voxels.AsSpan((int)(k * planeSize), (int)planeSize));
        }

        double[] affine = RasAffine(row, column, first.ColumnSpacing, first.RowSpacing, m.SliceStep, sorted[0].Position);
        GeometryReport report = Report(m, n, first, warnings) with { MaxOrientationDeviation = orientationDeviation };
        return new AssembledVolume(new Volume(first.Columns, first.Rows, n, voxels, affine), report)
        {
            Scaling = reader.Scaling(sorted[0]),
            Diffusion = CommonDiffusion(sorted, warnings),
        };
    }

    /// <summary>A UIH VFRAME mosaic: a grid of tiles, each with its own position, measured like a stack of slices.</summary>
    private static AssembledVolume AssembleTiledMosaic(SliceHeader mosaic, VolumeAssemblyOptions options)
    {
        (int tileRows, int tileColumns, float[] whole) = Unpack(mosaic, options, out SliceReader reader);
        double[] row = mosaic.Orientation[..3];
        double[] column = mosaic.Orientation[3..];
        double[] normal = Normal(row, column);
        int[] order = [.. Enumerable.Range(0, mosaic.MosaicImages).OrderBy(k => Geometry.Dot(mosaic.TilePositions![k], normal)).ThenBy(k => k)];
        var warnings = new List<string>();
        StackMeasurement m = StackGeometry.Measure([.. order.Select(k => mosaic.TilePositions![k])], normal, mosaic, derived: false, GeometryFlags.None, warnings);
        float[] voxels = Tiles(whole, mosaic, tileRows, tileColumns, order);
        double[] affine = RasAffine(row, column, mosaic.ColumnSpacing, mosaic.RowSpacing, m.SliceStep, mosaic.TilePositions![order[0]]);
        GeometryReport report = Report(m, order.Length, mosaic, warnings) with { IsMosaic = true };
        return new AssembledVolume(new Volume(tileColumns, tileRows, order.Length, voxels, affine), report)
        {
            Scaling = reader.Scaling(mosaic),
            Diffusion = mosaic.Diffusion,
            SliceTiming = Timing(mosaic, order, warnings),
        };
    }

    private static AssembledVolume AssembleSiemensMosaic(SliceHeader mosaic, VolumeAssemblyOptions options)
    {
        (int tileRows, int tileColumns, float[] whole) = Unpack(mosaic, options, out SliceReader reader);
        int count = mosaic.MosaicImages;
        double[] row = mosaic.Orientation[..3];
        double[] column = mosaic.Orientation[3..];
        double[] crossNormal = Normal(row, column);
        double[] normal = mosaic.MosaicSliceNormal ?? crossNormal;

        // The mosaic's Image Position (Patient) is the corner of the whole mosaic; move it to the corner of one tile.
        double[] position = Geometry.Add(mosaic.Position, Geometry.Add(
            Geometry.Scale(row, (mosaic.Columns - tileColumns) / 2.0 * mosaic.ColumnSpacing),
            Geometry.Scale(column, (mosaic.Rows - tileRows) / 2.0 * mosaic.RowSpacing)));
        (double spacing, SliceSpacingSource source) = StackGeometry.HeaderSpacing(mosaic);
        double[] sliceStep = Geometry.Scale(normal, spacing);

        var flags = GeometryFlags.SpacingFromHeader;
        var warnings = new List<string>();
        double tilt = Math.Min(StackGeometry.AngleDegrees(normal, crossNormal), StackGeometry.AngleDegrees(Geometry.Scale(normal, -1), crossNormal));
        if (tilt > TiltToleranceDegrees)
        {
            flags |= GeometryFlags.GantryTilt;
            warnings.Add(Invariant($"the CSA slice normal is {tilt:0.###} degrees from row × column: the affine is sheared, the voxels are not resampled"));
        }

        if (source != SliceSpacingSource.SpacingBetweenSlices)
        {
            warnings.Add(source == SliceSpacingSource.SliceThickness
                ? "the mosaic has no Spacing Between Slices: Slice Thickness is used (any slice gap is not represented)"
                : "the mosaic has no slice spacing: 1 mm is assumed");
        }

        int[] order = [.. Enumerable.Range(0, count)];
        float[] voxels = Tiles(whole, mosaic, tileRows, tileColumns, order);
        double[] affine = RasAffine(row, column, mosaic.ColumnSpacing, mosaic.RowSpacing, sliceStep, position);
        var report = new GeometryReport
        {
            Flags = flags,
            SliceCount = count,
            RowSpacing = mosaic.RowSpacing,
            ColumnSpacing = mosaic.ColumnSpacing,
            SliceSpacing = spacing,
            SpacingSource = source,
            TiltDegrees = tilt,
            IsMosaic = true,
            Warnings = warnings,
        };
        return new AssembledVolume(new Volume(tileColumns, tileRows, count, voxels, affine), report)
        {
            Scaling = reader.Scaling(mosaic),
            Diffusion = mosaic.Diffusion,
            SliceTiming = Timing(mosaic, order, warnings),
        };
    }

    /// <summary>Decodes a mosaic's one frame; returns the tile size and the whole frame's values.</summary>
    private static (int TileRows, int TileColumns, float[] Whole) Unpack(SliceHeader mosaic, VolumeAssemblyOptions options, out SliceReader reader)
    {
        (int gridRows, int gridColumns) = mosaic.MosaicGrid;
        if (gridRows < 1 || gridColumns < 1 || gridRows * gridColumns < mosaic.MosaicImages || mosaic.Rows % gridRows != 0 || mosaic.Columns % gridColumns != 0)
        {
            throw new VolumeAssemblyException(VolumeErrorCode.UnsupportedPixels, "the mosaic size is not a whole number of tiles");
        }

        int tileRows = mosaic.Rows / gridRows;
        int tileColumns = mosaic.Columns / gridColumns;
        CheckSize((long)tileRows * tileColumns, mosaic.MosaicImages, options);
        reader = new SliceReader(options.PhilipsScaling);
        var whole = new float[(long)mosaic.Rows * mosaic.Columns];
        reader.Read(mosaic, whole);
        return (tileRows, tileColumns, whole);
    }

    /// <summary>The tiles of a mosaic, row by row across the grid, as consecutive slices in <paramref name="order"/>.</summary>
    private static float[] Tiles(float[] whole, SliceHeader mosaic, int tileRows, int tileColumns, int[] order)
    {
        int gridColumns = mosaic.MosaicGrid.Columns;
        long planeSize = (long)tileRows * tileColumns;
        var voxels = new float[planeSize * order.Length];
        for (int k = 0; k < order.Length; k++)
        {
            int tileRow = order[k] / gridColumns;
            int tileColumn = order[k] % gridColumns;
            for (int j = 0; j < tileRows; j++)
            {
                int from = (((tileRow * tileRows) + j) * mosaic.Columns) + (tileColumn * tileColumns);
                Array.Copy(whole, from, voxels, (k * planeSize) + ((long)j * tileColumns), tileColumns);
            }
        }

        return voxels;
    }

    private static GeometryReport Report(StackMeasurement m, int n, SliceHeader first, List<string> warnings) => new()
    {
        Flags = m.Flags,
        SliceCount = n,
        RowSpacing = first.RowSpacing,
        ColumnSpacing = first.ColumnSpacing,
        SliceSpacing = Geometry.Norm(m.SliceStep),
        SpacingSource = m.Source,
        MinGap = m.MinGap,
        MedianGap = m.MedianGap,
        MaxGap = m.MaxGap,
        MaxRelativeDeviation = m.MaxRelativeDeviation,
        MissingSliceEstimate = m.MissingSlices,
        DuplicatePositionCount = m.Duplicates,
        TiltDegrees = m.TiltDegrees,
        Warnings = warnings,
    };

    /// <summary>The slices' diffusion weighting when they all state the same one; null (and a warning) when they disagree.</summary>
    private static DiffusionWeighting? CommonDiffusion(IReadOnlyList<SliceHeader> slices, List<string> warnings)
    {
        DiffusionWeighting? first = slices[0].Diffusion;
        bool same = slices.All(s => (s.Diffusion is null) == (first is null)
            && (first is null || (Math.Abs(s.Diffusion!.BValue - first.BValue) <= 1e-3 && Geometry.MaxDifference([.. s.Diffusion.Gradient], [.. first.Gradient]) <= 1e-3)));
        if (same)
        {
            return first;
        }

        warnings.Add("the slices state different diffusion weightings: none is reported for the volume");
        return null;
    }

    /// <summary>Per-slice acquisition times, in volume order, as seconds after the earliest; null when unknown.</summary>
    private static double[]? Timing(SliceHeader mosaic, int[] order, List<string> warnings)
    {
        double[]? tileTimes = mosaic.TileTimes;
        if (mosaic.TileTimesImplausible)
        {
            warnings.Add("the file's per-slice acquisition times span a repetition time or more (a known multiband fault): no slice timing is reported");
        }

        if (tileTimes is null || tileTimes.Length < order.Length)
        {
            return null;
        }

        double start = order.Min(k => tileTimes[k]);
        return [.. order.Select(k => Math.Round(tileTimes[k] - start, 6))];
    }

    private static double[] Normal(double[] row, double[] column)
    {
        double[] normal = Geometry.Cross(row, column);
        return Geometry.Scale(normal, 1 / Geometry.Norm(normal));
    }

    /// <summary>The voxel→RAS affine: DICOM's LPS affine with its first two rows negated.</summary>
    private static double[] RasAffine(double[] row, double[] column, double columnSpacing, double rowSpacing, double[] sliceStep, double[] origin)
    {
        double[] lps =
        [
            row[0] * columnSpacing, column[0] * rowSpacing, sliceStep[0], origin[0],
            row[1] * columnSpacing, column[1] * rowSpacing, sliceStep[1], origin[1],
            row[2] * columnSpacing, column[2] * rowSpacing, sliceStep[2], origin[2],
            0, 0, 0, 1,
        ];
        for (int i = 0; i < 8; i++)
        {
            lps[i] = -lps[i] + 0.0; // + 0.0 turns −0 into 0, so written headers carry no negative zeros
        }

        return lps;
    }

    private static void CheckSize(long planeSize, long slices, VolumeAssemblyOptions options)
    {
        if (planeSize <= 0 || slices <= 0 || planeSize > options.MaxVoxels / slices || planeSize * slices > Array.MaxLength)
        {
            throw new VolumeAssemblyException(VolumeErrorCode.TooLarge, Invariant($"{planeSize} × {slices} voxels exceed the limit of {options.MaxVoxels}"));
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
