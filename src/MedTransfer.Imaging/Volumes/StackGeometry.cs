using System.Globalization;

namespace MedTransfer.Imaging.Volumes;

/// <summary>
/// The slice step of a stack measured from its slice positions (sorted along the normal), with what is irregular
/// about it flagged: duplicate positions, missing slices (a gap over 1.5 × the median), uneven spacing (over 1 %
/// from the median), and a step that leaves the normal (gantry tilt or shear). A regular stack steps by
/// (last − first) / (n − 1); an irregular one by the per-axis median of the neighbour steps; a stack whose slices all
/// share one position by the header spacing.
/// </summary>
internal static class StackGeometry
{
    public static StackMeasurement Measure(IReadOnlyList<double[]> sorted, double[] normal, SliceHeader first, bool derived, GeometryFlags flags, List<string> warnings)
    {
        int n = sorted.Count;
        var gaps = new List<double>();
        var steps = new List<double[]>();
        int duplicates = 0;
        for (int i = 1; i < n; i++)
        {
            double[] step = Geometry.Subtract(sorted[i], sorted[i - 1]);
            if (Geometry.Norm(step) < SeriesScanner.SamePositionTolerance)
            {
                duplicates++;
                continue;
            }

            gaps.Add(Geometry.Dot(step, normal));
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
                if (g > VolumeAssembler.MissingGapFactor * median)
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

        if (maxDeviation > VolumeAssembler.UnevenTolerance)
        {
            flags |= GeometryFlags.UnevenSpacing;
            warnings.Add(Invariant($"uneven slice spacing: {gaps.Min():0.###}..{gaps.Max():0.###} mm, up to {maxDeviation * 100:0.##} % from the median {median:0.###} mm"));
        }

        double[] sliceStep;
        SliceSpacingSource source;
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
            sliceStep = Geometry.Scale(Geometry.Subtract(sorted[^1], sorted[0]), 1.0 / (n - 1));
            source = derived ? SliceSpacingSource.SpacingBetweenSlices : SliceSpacingSource.Positions;
            flags |= derived ? GeometryFlags.SpacingFromHeader : GeometryFlags.None;
        }
        else
        {
            sliceStep = [Geometry.Median([.. steps.Select(s => s[0])]), Geometry.Median([.. steps.Select(s => s[1])]), Geometry.Median([.. steps.Select(s => s[2])])];
            source = derived ? SliceSpacingSource.SpacingBetweenSlices : SliceSpacingSource.Positions;
        }

        double tilt = AngleDegrees(sliceStep, normal);
        if (tilt > VolumeAssembler.TiltToleranceDegrees)
        {
            flags |= GeometryFlags.GantryTilt;
            warnings.Add(Invariant($"slices are offset along the image plane (gantry tilt or shear of {tilt:0.###} degrees): the affine is sheared, the voxels are not resampled"));
        }

        return new StackMeasurement(
            sliceStep,
            flags,
            source,
            gaps.Count > 0 ? gaps.Min() : double.NaN,
            median,
            gaps.Count > 0 ? gaps.Max() : double.NaN,
            maxDeviation,
            missing,
            duplicates,
            tilt);
    }

    /// <summary>Spacing Between Slices, else Slice Thickness, else 1 mm.</summary>
    public static (double Spacing, SliceSpacingSource Source) HeaderSpacing(SliceHeader s) =>
        s.SpacingBetweenSlices is { } between ? (between, SliceSpacingSource.SpacingBetweenSlices)
        : s.SliceThickness is { } thickness ? (thickness, SliceSpacingSource.SliceThickness)
        : (1.0, SliceSpacingSource.Assumed);

    public static double AngleDegrees(double[] a, double[] b)
    {
        double cos = Geometry.Dot(a, b) / (Geometry.Norm(a) * Geometry.Norm(b));
        return Math.Acos(Math.Clamp(cos, -1, 1)) * 180 / Math.PI;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>What <see cref="StackGeometry.Measure"/> found.</summary>
internal sealed record StackMeasurement(
    double[] SliceStep,
    GeometryFlags Flags,
    SliceSpacingSource Source,
    double MinGap,
    double MedianGap,
    double MaxGap,
    double MaxRelativeDeviation,
    int MissingSlices,
    int Duplicates,
    double TiltDegrees);
