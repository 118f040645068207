using System.Globalization;

namespace MedTransfer.Imaging.Volumes;

/// <summary>
/// Splits the images of one series into stacks that can each become a volume, by the rules in the remarks of
/// <see cref="SeriesScanner"/>: image size, pixel spacing, orientation, echo and Stack ID; then, where positions
/// repeat, by acquisition, temporal position, diffusion weighting or occurrence. Mosaics are one stack each.
/// </summary>
internal static class StackSplitter
{
    /// <summary>Splits one series' images into stacks (see the class remarks).</summary>
    internal static IReadOnlyList<SliceStack> Split(IReadOnlyList<SliceHeader> slices)
    {
        var groups = new List<Group> { new([.. slices.OrderBy(s => s.Order)], StackSplitReason.None, []) };
        groups = SplitBy(groups, s => (s.Rows * 1e6) + s.Columns, StackSplitReason.ImageSize, s => string.Create(CultureInfo.InvariantCulture, $"{s.Columns}x{s.Rows}"));
        groups = SplitByText(groups, s => string.Create(CultureInfo.InvariantCulture, $"{s.RowSpacing:0.####}\\{s.ColumnSpacing:0.####}"), StackSplitReason.ImageSize,
            s => string.Create(CultureInfo.InvariantCulture, $"{s.RowSpacing:0.####}x{s.ColumnSpacing:0.####}mm"));
        groups = SplitByOrientation(groups);
        groups = SplitBy(groups, s => s.EchoNumber ?? s.EchoTime, StackSplitReason.Echo, s => s.EchoNumber is { } e
            ? string.Create(CultureInfo.InvariantCulture, $"echo {e}")
            : s.EchoTime is { } te ? string.Create(CultureInfo.InvariantCulture, $"TE {te:0.###}") : "echo ?");
        groups = SplitByText(groups, s => s.StackId, StackSplitReason.StackId, s => $"stack {s.StackId}");

        var final = new List<Group>();
        foreach (Group g in groups)
        {
            if (g.Slices.Any(s => s.MosaicImages > 0))
            {
                if (g.Slices.Count == 1)
                {
                    final.Add(g);
                    continue;
                }

                // Each mosaic is a whole volume (one per acquisition / time point).
                bool byAcquisition = g.Slices.Select(s => s.AcquisitionNumber).Distinct().Count() == g.Slices.Count;
                var sorted = g.Slices.OrderBy(s => s.AcquisitionNumber ?? int.MaxValue).ThenBy(s => s.InstanceNumber ?? int.MaxValue).ThenBy(s => s.Order).ToList();
                for (int i = 0; i < sorted.Count; i++)
                {
                    SliceHeader s = sorted[i];
                    string label = byAcquisition && s.AcquisitionNumber is { } a
                        ? string.Create(CultureInfo.InvariantCulture, $"acquisition {a}")
                        : string.Create(CultureInfo.InvariantCulture, $"volume {i + 1}");
                    final.Add(new Group([s], g.Reason | (byAcquisition ? StackSplitReason.Acquisition : StackSplitReason.RepeatedPosition), [.. g.Label, label]));
                }

                continue;
            }

            if (!HasRepeatedPositions(g.Slices))
            {
                final.Add(g);
                continue;
            }

            List<Group> split = SplitBy([g], s => s.AcquisitionNumber, StackSplitReason.Acquisition, s => $"acquisition {s.AcquisitionNumber}");
            if (split.Count == 1 || split.Any(x => HasRepeatedPositions(x.Slices)))
            {
                split = SplitBy([g], s => s.TemporalPosition, StackSplitReason.TemporalPosition, s => $"time {s.TemporalPosition}");
            }

            if (split.Count == 1 || split.Any(x => HasRepeatedPositions(x.Slices)))
            {
                List<Group> byDiffusion = SplitByDiffusion(g);
                // Volumes in acquisition order (first Instance Number), as a 4-D series is read.
                split = byDiffusion.Count > 1
                    ? [.. byDiffusion.SelectMany(x => HasRepeatedPositions(x.Slices) ? SplitByOccurrence(x) : [x])
                        .OrderBy(x => x.Slices.Min(s => s.InstanceNumber ?? int.MaxValue)).ThenBy(x => x.Slices.Min(s => s.Order))]
                    : SplitByOccurrence(g);
            }

            final.AddRange(split);
        }

        bool several = final.Count > 1;
        return [.. final.Select(g => new SliceStack(g.Slices, several ? g.Reason : StackSplitReason.None, g.Label.Count > 0 ? string.Join(' ', g.Label) : "all"))];
    }

    private static List<Group> SplitBy(List<Group> groups, Func<SliceHeader, double?> key, StackSplitReason reason, Func<SliceHeader, string> label)
    {
        var result = new List<Group>();
        foreach (Group g in groups)
        {
            var parts = g.Slices.GroupBy(key).OrderBy(p => p.Key ?? double.MaxValue).ToList();
            if (parts.Count == 1)
            {
                result.Add(g);
                continue;
            }

            result.AddRange(parts.Select(p => new Group([.. p], g.Reason | reason, [.. g.Label, label(p.First())])));
        }

        return result;
    }

    private static List<Group> SplitByText(List<Group> groups, Func<SliceHeader, string?> key, StackSplitReason reason, Func<SliceHeader, string> label)
    {
        var result = new List<Group>();
        foreach (Group g in groups)
        {
            var parts = g.Slices.GroupBy(key, StringComparer.Ordinal).OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
            if (parts.Count == 1)
            {
                result.Add(g);
                continue;
            }

            result.AddRange(parts.Select(p => new Group([.. p], g.Reason | reason, [.. g.Label, label(p.First())])));
        }

        return result;
    }

    private static List<Group> SplitByOrientation(List<Group> groups)
    {
        var result = new List<Group>();
        foreach (Group g in groups)
        {
            var clusters = new List<List<SliceHeader>>();
            foreach (SliceHeader s in g.Slices)
            {
                List<SliceHeader>? home = clusters.FirstOrDefault(c => Geometry.MaxDifference(c[0].Orientation, s.Orientation) <= SeriesScanner.OrientationTolerance);
                if (home is null)
                {
                    clusters.Add([s]);
                }
                else
                {
                    home.Add(s);
                }
            }

            if (clusters.Count == 1)
            {
                result.Add(g);
                continue;
            }

            // Deterministic order whatever the file names: by plane (axial, coronal, sagittal), then by the cosines.
            result.AddRange(clusters
                .OrderBy(c => OrientationRank(c[0].Orientation))
                .ThenBy(c => string.Join(',', c[0].Orientation.Select(v => Math.Round(v, 3).ToString("0.000", CultureInfo.InvariantCulture))), StringComparer.Ordinal)
                .Select(c => new Group(c, g.Reason | StackSplitReason.Orientation, [.. g.Label, OrientationLabel(c[0].Orientation)])));
        }

        return result;
    }

    /// <summary>One group per diffusion weighting (b-value and gradient to 1e-3), in the order the weightings first appear.</summary>
    private static List<Group> SplitByDiffusion(Group g)
    {
        var parts = new List<(string Key, List<SliceHeader> Slices)>();
        foreach (SliceHeader s in g.Slices.OrderBy(s => s.InstanceNumber ?? int.MaxValue).ThenBy(s => s.Order))
        {
            string key = s.Diffusion is { } d
                ? string.Create(CultureInfo.InvariantCulture, $"b={d.BValue:0.###} g=({d.Gradient[0]:0.000},{d.Gradient[1]:0.000},{d.Gradient[2]:0.000})")
                : "no diffusion";
            int at = parts.FindIndex(p => p.Key == key);
            if (at < 0)
            {
                parts.Add((key, [s]));
            }
            else
            {
                parts[at].Slices.Add(s);
            }
        }

        return [.. parts.Select(p => new Group(p.Slices, g.Reason | StackSplitReason.Diffusion, [.. g.Label, p.Key]))];
    }

    private static List<Group> SplitByOccurrence(Group g)
    {
        var seen = new List<(double[] Position, int Count)>();
        var parts = new SortedDictionary<int, List<SliceHeader>>();
        foreach (SliceHeader s in g.Slices.OrderBy(s => s.InstanceNumber ?? int.MaxValue).ThenBy(s => s.Order))
        {
            int index = seen.FindIndex(p => Geometry.Norm(Geometry.Subtract(p.Position, s.Position)) < SeriesScanner.SamePositionTolerance);
            int occurrence;
            if (index < 0)
            {
                seen.Add((s.Position, 1));
                occurrence = 0;
            }
            else
            {
                occurrence = seen[index].Count;
                seen[index] = (seen[index].Position, occurrence + 1);
            }

            if (!parts.TryGetValue(occurrence, out List<SliceHeader>? list))
            {
                list = [];
                parts.Add(occurrence, list);
            }

            list.Add(s);
        }

        return [.. parts.Select(p => new Group(p.Value, g.Reason | StackSplitReason.RepeatedPosition, [.. g.Label, string.Create(CultureInfo.InvariantCulture, $"repeat {p.Key + 1}")]))];
    }

    private static bool HasRepeatedPositions(IReadOnlyList<SliceHeader> slices)
    {
        if (slices.Count < 2)
        {
            return false;
        }

        double[] normal = slices[0].Normal;
        var sorted = slices.OrderBy(s => Geometry.Dot(s.Position, normal)).ToList();
        for (int i = 1; i < sorted.Count; i++)
        {
            if (Geometry.Norm(Geometry.Subtract(sorted[i].Position, sorted[i - 1].Position)) < SeriesScanner.SamePositionTolerance)
            {
                return true;
            }
        }

        return false;
    }

    private static string OrientationLabel(double[] iop) => OrientationRank(iop) switch { 0 => "axial", 1 => "coronal", _ => "sagittal" };

    /// <summary>0 axial, 1 coronal, 2 sagittal: the patient axis the slice normal is closest to.</summary>
    private static int OrientationRank(double[] iop)
    {
        double[] n = Geometry.Cross(iop.AsSpan(0, 3), iop.AsSpan(3, 3));
        return Math.Abs(n[2]) >= Math.Abs(n[1]) && Math.Abs(n[2]) >= Math.Abs(n[0]) ? 0 : Math.Abs(n[1]) >= Math.Abs(n[0]) ? 1 : 2;
    }

    private sealed record Group(List<SliceHeader> Slices, StackSplitReason Reason, List<string> Label);
}
