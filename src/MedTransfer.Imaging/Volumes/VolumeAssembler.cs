using System.Globalization;
using MedTransfer.Dicom;
using MedTransfer.Dicom.Pixels;

namespace MedTransfer.Imaging.Volumes;

/// <summary>
/// Turns a <see cref="SliceStack"/> into a <see cref="Volume"/>: slices sorted by the projection of Image Position
/// (Patient) on the slice normal (row cosine × column cosine), the modality LUT applied per slice, and the
/// voxel→RAS affine built from the DICOM geometry (PS3.3 C.7.6.2.1.1) with LPS turned into RAS by negating the
/// first two rows. Irregular geometry is measured and reported in a <see cref="GeometryReport"/>, never resampled.
/// </summary>
/// <remarks>
/// Voxel (i, j, k) is column i, row j of slice k. The affine's columns are the row cosine × column spacing, the
/// column cosine × row spacing, the slice step (from positions: (last − first) / (n − 1) for a regular stack, the
/// per-axis median of neighbour steps otherwise, so a tilted stack gets a sheared affine) and the first slice's
/// position. A Siemens mosaic is cut into ceil(√n) × ceil(√n) tiles; its position is moved from the mosaic's corner
/// to the first tile's (IPP + R·(mosaic columns − tile columns)/2·Δc + C·(mosaic rows − tile rows)/2·Δr) and its
/// slices step along the CSA SliceNormalVector (else row × column) by Spacing Between Slices.
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

        return stack.IsMosaic ? AssembleMosaic(stack.Slices[0], options) : AssembleSlices(stack.Slices, options, cancellationToken);
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
        double[] normal = Geometry.Cross(row, column);
        normal = Geometry.Scale(normal, 1 / Geometry.Norm(normal));
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

        var gaps = new List<double>();
        var steps = new List<double[]>();
        int duplicates = 0;
        for (int i = 1; i < n; i++)
        {
            double[] step = Geometry.Subtract(sorted[i].Position, sorted[i - 1].Position);
            double gap = Geometry.Dot(step, normal);
            if (Geometry.Norm(step) < SeriesScanner.SamePositionTolerance)
            {
                duplicates++;
                continue;
            }

            gaps.Add(gap);
            steps.Add(step);
        }

        double median = gaps.Count > 0 ? Geometry.Median(gaps) : double.NaN;
        int missing = 0;
        double maxDeviation = 0;
        if (gaps.Count > 0 && median > 0)
        {
            foreach (double g in gaps)
            {
                maxDeviation = Math.Max(maxDeviation, Math.Abs(g - median) / median);
                if (g > MissingGapFactor * median)
                {
                    missing += Math.Max(1, (int)Math.Round(g / median) - 1);
                }
            }
        }

        if (duplicates > 0)
        {
            flags |= GeometryFlags.DuplicatePositions;
            warnings.Add(Invariant($"{duplicates} slice(s) share a position with a neighbour; they are kept in Instance Number order"));
        }

        if (missing > 0)
        {
            flags |= GeometryFlags.MissingSlices;
            warnings.Add(Invariant($"about {missing} slice(s) missing: largest gap {gaps.Max():0.###} mm vs median spacing {median:0.###} mm"));
        }

        if (maxDeviation > UnevenTolerance)
        {
            flags |= GeometryFlags.UnevenSpacing;
            warnings.Add(Invariant($"uneven slice spacing: {gaps.Min():0.###}..{gaps.Max():0.###} mm, up to {maxDeviation * 100:0.##} % from the median {median:0.###} mm"));
        }

        double[] sliceStep;
        SliceSpacingSource source;
        bool derived = sorted.All(s => s.PositionDerived);
        if (gaps.Count == 0)
        {
            (double spacing, source) = HeaderSpacing(first);
            sliceStep = Geometry.Scale(normal, spacing);
            flags |= GeometryFlags.SpacingFromHeader | (n == 1 ? GeometryFlags.SingleSlice : GeometryFlags.None);
            if (n > 1)
            {
                warnings.Add("all slices share one position: the slice spacing comes from the header");
            }
        }
        else if ((flags & (GeometryFlags.MissingSlices | GeometryFlags.UnevenSpacing | GeometryFlags.DuplicatePositions)) == GeometryFlags.None)
        {
            sliceStep = Geometry.Scale(Geometry.Subtract(sorted[^1].Position, sorted[0].Position), 1.0 / (n - 1));
            source = derived ? SliceSpacingSource.SpacingBetweenSlices : SliceSpacingSource.Positions;
            flags |= derived ? GeometryFlags.SpacingFromHeader : GeometryFlags.None;
        }
        else
        {
            sliceStep = [Geometry.Median([.. steps.Select(s => s[0])]), Geometry.Median([.. steps.Select(s => s[1])]), Geometry.Median([.. steps.Select(s => s[2])])];
            source = derived ? SliceSpacingSource.SpacingBetweenSlices : SliceSpacingSource.Positions;
        }

        double tilt = AngleDegrees(sliceStep, normal);
        if (tilt > TiltToleranceDegrees)
        {
            flags |= GeometryFlags.GantryTilt;
            warnings.Add(Invariant($"slices are offset along the image plane (gantry tilt or shear of {tilt:0.###} degrees): the affine is sheared, the voxels are not resampled"));
        }

        var voxels = new float[planeSize * n];
        var reader = new FrameReader();
        for (int k = 0; k < n; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            SliceHeader s = sorted[k];
            (Array stored, ModalityLut lut) = reader.Read(s);
            if (stored.Length != planeSize)
            {
                throw new VolumeAssemblyException(VolumeErrorCode.InconsistentSlices, "a decoded frame does not have Rows × Columns samples");
            }

            Fill(stored, lut, voxels.AsSpan((int)(k * planeSize), (int)planeSize));
        }

        double[] affine = RasAffine(row, column, first.ColumnSpacing, first.RowSpacing, sliceStep, sorted[0].Position);
        var report = new GeometryReport
        {
            Flags = flags,
            SliceCount = n,
            RowSpacing = first.RowSpacing,
            ColumnSpacing = first.ColumnSpacing,
            SliceSpacing = Geometry.Norm(sliceStep),
            SpacingSource = source,
            MinGap = gaps.Count > 0 ? gaps.Min() : double.NaN,
            MedianGap = median,
            MaxGap = gaps.Count > 0 ? gaps.Max() : double.NaN,
            MaxRelativeDeviation = maxDeviation,
            MissingSliceEstimate = missing,
            DuplicatePositionCount = duplicates,
            MaxOrientationDeviation = orientationDeviation,
            TiltDegrees = tilt,
            Warnings = warnings,
        };
        return new AssembledVolume(new Volume(first.Columns, first.Rows, n, voxels, affine), report);
    }

    private static AssembledVolume AssembleMosaic(SliceHeader mosaic, VolumeAssemblyOptions options)
    {
        int count = mosaic.MosaicImages;
        int tiles = (int)Math.Ceiling(Math.Sqrt(count));
        if (tiles < 1 || mosaic.Rows % tiles != 0 || mosaic.Columns % tiles != 0)
        {
            throw new VolumeAssemblyException(VolumeErrorCode.UnsupportedPixels, "the mosaic size is not a whole number of tiles");
        }

        int tileRows = mosaic.Rows / tiles;
        int tileColumns = mosaic.Columns / tiles;
        long planeSize = (long)tileRows * tileColumns;
        CheckSize(planeSize, count, options);

        double[] row = mosaic.Orientation[..3];
        double[] column = mosaic.Orientation[3..];
        double[] crossNormal = Geometry.Cross(row, column);
        crossNormal = Geometry.Scale(crossNormal, 1 / Geometry.Norm(crossNormal));
        double[] normal = mosaic.MosaicSliceNormal ?? crossNormal;

        // The mosaic's Image Position (Patient) is the corner of the whole mosaic; move it to the corner of one tile.
        double[] position = Geometry.Add(mosaic.Position, Geometry.Add(
            Geometry.Scale(row, (mosaic.Columns - tileColumns) / 2.0 * mosaic.ColumnSpacing),
            Geometry.Scale(column, (mosaic.Rows - tileRows) / 2.0 * mosaic.RowSpacing)));
        (double spacing, SliceSpacingSource source) = HeaderSpacing(mosaic);
        double[] sliceStep = Geometry.Scale(normal, spacing);

        var flags = GeometryFlags.SpacingFromHeader;
        var warnings = new List<string>();
        double tilt = Math.Min(AngleDegrees(normal, crossNormal), AngleDegrees(Geometry.Scale(normal, -1), crossNormal));
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

        (Array stored, ModalityLut lut) = new FrameReader().Read(mosaic);
        if (stored.Length != (long)mosaic.Rows * mosaic.Columns)
        {
            throw new VolumeAssemblyException(VolumeErrorCode.InconsistentSlices, "the decoded mosaic does not have Rows × Columns samples");
        }

        var whole = new float[stored.Length];
        Fill(stored, lut, whole);
        var voxels = new float[planeSize * count];
        for (int k = 0; k < count; k++)
        {
            int tileRow = k / tiles;
            int tileColumn = k % tiles;
            for (int j = 0; j < tileRows; j++)
            {
                int from = (((tileRow * tileRows) + j) * mosaic.Columns) + (tileColumn * tileColumns);
                Array.Copy(whole, from, voxels, (k * planeSize) + ((long)j * tileColumns), tileColumns);
            }
        }

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
        return new AssembledVolume(new Volume(tileColumns, tileRows, count, voxels, affine), report);
    }

    private static (double Spacing, SliceSpacingSource Source) HeaderSpacing(SliceHeader s) =>
        s.SpacingBetweenSlices is { } between ? (between, SliceSpacingSource.SpacingBetweenSlices)
        : s.SliceThickness is { } thickness ? (thickness, SliceSpacingSource.SliceThickness)
        : (1.0, SliceSpacingSource.Assumed);

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

    private static double AngleDegrees(double[] a, double[] b)
    {
        double cos = Geometry.Dot(a, b) / (Geometry.Norm(a) * Geometry.Norm(b));
        return Math.Acos(Math.Clamp(cos, -1, 1)) * 180 / Math.PI;
    }

    private static void CheckSize(long planeSize, long slices, VolumeAssemblyOptions options)
    {
        if (planeSize <= 0 || slices <= 0 || planeSize > options.MaxVoxels / slices || planeSize * slices > Array.MaxLength)
        {
            throw new VolumeAssemblyException(VolumeErrorCode.TooLarge, Invariant($"{planeSize} × {slices} voxels exceed the limit of {options.MaxVoxels}"));
        }
    }

    private static void Fill(Array stored, ModalityLut lut, Span<float> target)
    {
        switch (stored)
        {
            case byte[] u8:
                for (int i = 0; i < target.Length; i++)
                {
                    target[i] = (float)lut.Apply(u8[i]);
                }

                break;
            case sbyte[] s8:
                for (int i = 0; i < target.Length; i++)
                {
                    target[i] = (float)lut.Apply(s8[i]);
                }

                break;
            case ushort[] u16:
                for (int i = 0; i < target.Length; i++)
                {
                    target[i] = (float)lut.Apply(u16[i]);
                }

                break;
            case short[] s16:
                for (int i = 0; i < target.Length; i++)
                {
                    target[i] = (float)lut.Apply(s16[i]);
                }

                break;
            case uint[] u32:
                for (int i = 0; i < target.Length; i++)
                {
                    target[i] = (float)lut.Apply(u32[i]);
                }

                break;
            case int[] s32:
                for (int i = 0; i < target.Length; i++)
                {
                    target[i] = (float)lut.Apply(s32[i]);
                }

                break;
            default:
                throw new VolumeAssemblyException(VolumeErrorCode.UnsupportedPixels, "the stored values have an unsupported sample type");
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>Opens each file once (lazily, pixel data read on demand) while consecutive slices come from it.</summary>
    private sealed class FrameReader
    {
        private static readonly DicomReaderOptions s_lazy = new() { PixelData = PixelDataLoading.Lazy };

        private string? _path;
        private DicomImage? _image;

        public (Array Stored, ModalityLut Lut) Read(SliceHeader slice)
        {
            if (_image is null || !string.Equals(_path, slice.Path, StringComparison.Ordinal))
            {
                DicomFile file = DicomFile.Open(slice.Path, s_lazy);
                _image = DicomImage.Create(file, PixelValidationMode.Tolerant);
                _path = slice.Path;
            }

            PixelModule module = _image.Module;
            if (module.SamplesPerPixel != 1 || !module.IsMonochrome)
            {
                throw new VolumeAssemblyException(VolumeErrorCode.UnsupportedPixels, "only single-sample greyscale images become volumes");
            }

            if (module.Rows != slice.Rows || module.Columns != slice.Columns || slice.Frame >= module.NumberOfFrames)
            {
                throw new VolumeAssemblyException(VolumeErrorCode.InconsistentSlices, "a file changed between scanning and assembly");
            }

            ModalityLut lut = slice.Slope is not null || slice.Intercept is not null
                ? ModalityLut.Rescale(slice.Slope ?? 1, slice.Intercept ?? 0)
                : _image.Modality;
            return (_image.StoredValues(slice.Frame), lut);
        }
    }
}
