using System.Collections.Concurrent;
using System.Globalization;
using MedTransfer.Dicom;
using MedTransfer.Imaging;
using MedTransfer.Imaging.Index;
using MedTransfer.Imaging.Normalization;
using MedTransfer.Imaging.Resampling;
using MedTransfer.Imaging.Volumes;
using MedTransfer.Pipeline.Protocols;

namespace MedTransfer.Pipeline.Runs;

/// <summary>
/// Turns the MR rows of a manifest (one DICOM file per slice) into the 2-D model inputs of <c>medtransfer run</c>:
/// one <c>size × size</c> single-channel image with values in [0, 1] per manifest row.
/// </summary>
/// <remarks>
/// <para>
/// <b>Per series.</b> Rows are grouped by (root, Series Instance UID). The files are scanned with
/// <see cref="SeriesScanner.ScanFiles"/> and each stack is assembled with <see cref="VolumeAssembler"/> (slices
/// sorted along the slice normal, modality LUT applied, geometry checked). The volume is standardised with
/// <see cref="MriNormalizer"/>: foreground mask (<see cref="MriRecipe.Foreground"/>) and foreground z-score, one
/// mean and standard deviation per volume.
/// </para>
/// <para>
/// <b>Which slice a row gets: its own acquired slice.</b> A row's image is the z-scored slice of its own file, in
/// the acquisition plane, so the per-slice label of the row stays attached to the pixels it was given for. The
/// volume is NOT resliced: reorientation to RAS (<see cref="MriRecipe.ReorientToRas"/>) only permutes and flips
/// voxels, which cannot change a foreground z-score (the Otsu histogram, the mean and the standard deviation do not
/// depend on voxel order), so the statistics are computed on the volume in its acquired grid and each slice keeps
/// its acquired plane. Reslicing a sagittal series (site C of the sample data) axially would put every sagittal
/// file's centre into the same axial slice and lose the file-to-slice mapping, so
/// <see cref="SliceOptions.Axis"/> is not used: axial series give axial images, sagittal series sagittal images.
/// The file's slice index in the volume is found the way the assembler sorts: by the projection of its Image
/// Position (Patient) on the slice normal (then Instance Number, then path); the first file of that order must sit
/// at the volume's origin, or the series is quarantined.
/// </para>
/// <para>
/// <b>Display orientation.</b> Each slice is transposed and/or flipped (never interpolated) so that, for the plane
/// its normal is closest to, columns run towards patient Left (axial, coronal) or Posterior (sagittal) and rows
/// towards Posterior (axial) or Inferior (coronal, sagittal): the usual radiological display. The in-plane axis
/// each image direction is closest to decides, so oblique acquisitions get the nearest such orientation.
/// </para>
/// <para>
/// <b>Intensities and size.</b> z is clipped to [−<see cref="ZClip"/>, <see cref="ZClip"/>] and mapped linearly to
/// [0, 1] by (z + 3) / 6; non-finite voxels become 0. Non-square pixels are first resized to square pixels (area
/// method); the slice is then resized with the area method, aspect preserved, into the square (see
/// <see cref="ImageResizer.ToSquare"/>), padded with the mapped value of the volume's smallest z (its air).
/// </para>
/// <para>
/// <b>Failures.</b> A series with a missing, unreadable or geometrically unusable file, a failed assembly, a gap in
/// its slice positions (a slice missing inside the stack, e.g. a file the indexer could not read; the per-volume
/// statistics would be off; a slice missing at either end cannot be detected), duplicate slice positions
/// (file-to-slice mapping ambiguous), multi-frame or mosaic files (a file is not one slice), or a
/// foreground without spread is put in the quarantine as one entry naming its folder, the row count and the
/// reason (no values from the files); its rows get no image. Rows that are not DICOM or have no series are
/// quarantined one by one. Only cancellation and recipe refusals throw.
/// </para>
/// </remarks>
public static class MriSlices
{
    /// <summary>z-scores are clipped to ±this before mapping to [0, 1].</summary>
    public const float ZClip = 3f;

    private static readonly DicomReaderOptions s_headerOnly = new() { PixelData = PixelDataLoading.Skip, StopAtPixelData = true };

    /// <summary>Normalizes the MR rows: one <paramref name="size"/>² image (row-major, values in [0, 1]) per row id (see the class remarks).</summary>
    /// <param name="rows">Manifest rows (DICOM MR slices); rows of one series are normalized together.</param>
    /// <param name="roots">The scanned roots, indexed by <see cref="ManifestRow.Root"/>.</param>
    /// <param name="recipe">The MRI recipe: z-score standardisation, slab 1, no resampling, no slice count.</param>
    /// <param name="size">Side of the output square, pixels.</param>
    /// <param name="progress">Receives (rows done, rows in total) after each series.</param>
    /// <param name="quarantine">Receives one entry per rejected series or row; written under a lock, so any collection works.</param>
    /// <param name="ct">Cancels between series.</param>
    /// <returns>Images by <see cref="ManifestRow.Id"/>; quarantined rows are absent.</returns>
    /// <exception cref="ProtocolException">The recipe asks for something this cannot do (Nyúl standardisation without fitted
    /// landmarks, slabs of more than one slice, resampling, a slice count); the error names the protocol field.</exception>
    /// <exception cref="ArgumentException">The recipe is invalid (<see cref="MriRecipe.Validate"/>).</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    /// <param name="resize">How slices are resized into the square (after pixels are made square with the area method).</param>
    /// <param name="safeName">Names a row in quarantine entries (a keyed pseudonym of its id: paths can hold patient names).</param>
    public static Dictionary<string, float[]> Normalize(IReadOnlyList<ManifestRow> rows, IReadOnlyList<string> roots, MriRecipe recipe, int size, ResizeMethod resize, Func<ManifestRow, string> safeName, IProgress<(int Done, int Total)>? progress, ICollection<string> quarantine, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(roots);
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentNullException.ThrowIfNull(quarantine);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        CheckRecipe(recipe);

        var sink = new object();
        void Reject(string entry)
        {
            lock (sink)
            {
                quarantine.Add(entry);
            }
        }

        int total = rows.Count;
        int done = 0;
        var groups = new List<List<ManifestRow>>();
        foreach (var group in rows.GroupBy(r => (r.Root, r.Series)).OrderBy(g => g.Key.Root).ThenBy(g => g.Key.Series, StringComparer.Ordinal))
        {
            List<ManifestRow> members = [.. group];
            string? reason =
                group.Key.Root < 0 || group.Key.Root >= roots.Count ? "the row's root index is out of range"
                : group.Key.Series.Length == 0 ? "no Series Instance UID: a slice cannot be normalized without its volume"
                : members.Any(r => r.Format != SampleFormat.Dicom) ? "not a DICOM series (only DICOM MR series become slices)"
                : null;
            if (reason is null)
            {
                groups.Add(members);
                continue;
            }

            foreach (ManifestRow r in members)
            {
                Reject($"mri: image {safeName(r)}: {reason}");
            }

            done += members.Count;
        }

        var result = new ConcurrentDictionary<string, float[]>(StringComparer.Ordinal);
        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount), CancellationToken = ct };
        Parallel.ForEach(groups, options, members =>
        {
            try
            {
                foreach ((string id, float[] image) in NormalizeSeries(members, roots, recipe, size, resize, ct))
                {
                    result[id] = image;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
            {
                string why = ex is SeriesRejectedException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
                Reject(string.Create(CultureInfo.InvariantCulture, $"mri: series of image {safeName(members[0])} ({members.Count} rows): {why}"));
            }

            int n = Interlocked.Add(ref done, members.Count);
            progress?.Report((n, total));
        });
        ct.ThrowIfCancellationRequested();
        return new Dictionary<string, float[]>(result, StringComparer.Ordinal);
    }

    /// <summary>Maps a z-score to [0, 1]: clip to [−3, 3], then (z + 3) / 6; non-finite values give 0.</summary>
    public static float MapZ(float z) => float.IsFinite(z) ? (Math.Clamp(z, -ZClip, ZClip) + ZClip) / (2 * ZClip) : 0f;

    private static void CheckRecipe(MriRecipe recipe)
    {
        recipe.Validate();
        var errors = new List<ProtocolError>();
        if (recipe.Standardize != IntensityStandardization.ZScore)
        {
            errors.Add(Error("preprocessing.mri.standardize", "Nyúl standardisation needs landmarks fitted on the training volumes, which `medtransfer run` does not fit; use 'zscore'."));
        }

        if (recipe.Slices.SlabThickness != 1)
        {
            errors.Add(Error("preprocessing.mri.slab", "`medtransfer run` feeds one single-channel slice per manifest row; set slab: 1."));
        }

        if (recipe.ResampleSpacing is not null)
        {
            errors.Add(Error("preprocessing.mri.resample", "each manifest row becomes its own acquired slice, so volumes are not resampled; remove resample."));
        }

        if (recipe.Slices.Count is not null)
        {
            errors.Add(Error("preprocessing.mri.slices", "every labelled manifest row becomes one image; slices cannot subsample them; remove slices."));
        }

        if (errors.Count > 0)
        {
            throw new ProtocolException(errors);
        }
    }

    private static ProtocolError Error(string field, string message) => new("protocol", 0, 0, field, message);

    private static List<(string Id, float[] Image)> NormalizeSeries(List<ManifestRow> members, IReadOnlyList<string> roots, MriRecipe recipe, int size, ResizeMethod resize, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var byPath = new Dictionary<string, ManifestRow>(StringComparer.Ordinal);
        int missing = 0;
        foreach (ManifestRow row in members)
        {
            string path = Path.GetFullPath(Manifest.ResolvePath(row, roots));
            if (!byPath.TryAdd(path, row))
            {
                throw new SeriesRejectedException("two rows name the same file");
            }

            if (!File.Exists(path))
            {
                missing++;
            }
        }

        if (missing > 0)
        {
            throw new SeriesRejectedException(Invariant($"{missing} of {members.Count} file(s) are missing: the volume is incomplete"));
        }

        string root = roots[members[0].Root];
        SeriesScanResult scan = SeriesScanner.ScanFiles([.. byPath.Keys.Order(StringComparer.Ordinal)], root, null, ct);
        if (scan.Failures.Count > 0)
        {
            string reasons = string.Join(", ", scan.Failures.Select(f => f.DicomError is { } e ? $"{f.Reason} ({e})" : f.Reason.ToString()).Distinct().Order(StringComparer.Ordinal));
            throw new SeriesRejectedException(Invariant($"{scan.Failures.Count} of {members.Count} file(s) unusable ({reasons}): the volume is incomplete"));
        }

        var images = new List<(string, float[])>(members.Count);
        var normalizeRecipe = recipe with { ReorientToRas = false, ResampleSpacing = null, Slices = new SliceOptions(SliceAxis.Axial, 1, 1) };
        foreach (SliceStack stack in scan.Series.SelectMany(s => s.Stacks))
        {
            IReadOnlyList<string> files = stack.Files;
            if (stack.ImageCount != files.Count)
            {
                throw new SeriesRejectedException("multi-frame or mosaic files hold several slices; a manifest row must be one slice");
            }

            AssembledVolume assembled = VolumeAssembler.Assemble(stack, null, ct);
            if ((assembled.Report.Flags & GeometryFlags.DuplicatePositions) != 0)
            {
                throw new SeriesRejectedException("two or more slices share a position: which file is which slice is ambiguous");
            }

            if ((assembled.Report.Flags & GeometryFlags.MissingSlices) != 0)
            {
                throw new SeriesRejectedException(Invariant($"about {assembled.Report.MissingSliceEstimate} slice(s) are missing inside the stack: the volume is incomplete"));
            }

            MriNormalization normalized = MriNormalizer.Normalize(assembled.Volume, normalizeRecipe);
            if (normalized.Report.Has(NormalizationWarningCode.ZeroSpread))
            {
                throw new SeriesRejectedException("the foreground has zero spread: the volume has no contrast to standardise");
            }

            Volume v = normalized.Volume;
            string[] order = SliceOrder(files, v.Affine, ct);
            float pad = MapZ(Minimum(v.Voxels));
            int plane = v.NX * v.NY;
            for (int k = 0; k < order.Length; k++)
            {
                float[] slice = new float[plane];
                ReadOnlySpan<float> source = v.Voxels.AsSpan(k * plane, plane);
                for (int p = 0; p < plane; p++)
                {
                    slice[p] = MapZ(source[p]);
                }

                ImageF display = Display(slice, v.NX, v.NY, v.Affine);
                images.Add((byPath[order[k]].Id, ToSquare(display, size, pad, resize)));
            }
        }

        return images;
    }

    /// <summary>The files in the volume's slice order (k = 0 first), sorted as the assembler sorts; checked against the volume's origin.</summary>
    private static string[] SliceOrder(IReadOnlyList<string> files, double[] affine, CancellationToken ct)
    {
        double[] a = [affine[0], affine[4], affine[8]];
        double[] b = [affine[1], affine[5], affine[9]];
        double[] normal = Cross(a, b);
        var keys = new List<(string Path, double Along, int Instance, double[] Ras)>(files.Count);
        foreach (string path in files)
        {
            ct.ThrowIfCancellationRequested();
            DicomDataset ds = DicomFile.Open(path, s_headerOnly).Dataset;
            double[] ipp = ds.GetDoubles(Tag.ImagePositionPatient);
            if (ipp.Length < 3)
            {
                throw new SeriesRejectedException("a file has no Image Position (Patient)");
            }

            double[] ras = [-ipp[0], -ipp[1], ipp[2]];
            keys.Add((path, Dot(ras, normal), ds.GetInt32(Tag.InstanceNumber) ?? int.MaxValue, ras));
        }

        var sorted = keys.OrderBy(k => k.Along).ThenBy(k => k.Instance).ThenBy(k => k.Path, StringComparer.Ordinal).ToList();
        double[] origin = [affine[3], affine[7], affine[11]];
        double[] first = sorted[0].Ras;
        double offset = Math.Sqrt(Dot([first[0] - origin[0], first[1] - origin[1], first[2] - origin[2]], [first[0] - origin[0], first[1] - origin[1], first[2] - origin[2]]));
        if (!(offset < 0.01))
        {
            throw new SeriesRejectedException("the files' slice order does not match the assembled volume");
        }

        return [.. sorted.Select(k => k.Path)];
    }

    /// <summary>Transposes/flips a slice (i across, j down) to the radiological display orientation of its plane (see the class remarks).</summary>
    private static ImageF Display(float[] slice, int nx, int ny, double[] affine)
    {
        double[] a = [affine[0], affine[4], affine[8]];
        double[] b = [affine[1], affine[5], affine[9]];
        double[] n = Cross(a, b);
        int d = Math.Abs(n[2]) >= Math.Abs(n[1]) && Math.Abs(n[2]) >= Math.Abs(n[0]) ? 2 : Math.Abs(n[1]) >= Math.Abs(n[0]) ? 1 : 0;

        // Target axes in RAS, both towards the negative direction: Left/Posterior (axial), Left/Inferior (coronal), Posterior/Inferior (sagittal).
        (int tx, int ty) = d switch { 2 => (0, 1), 1 => (0, 2), _ => (1, 2) };
        bool transpose = Math.Abs(a[tx]) + Math.Abs(b[ty]) < Math.Abs(a[ty]) + Math.Abs(b[tx]);
        double[] u = transpose ? b : a;
        double[] w = transpose ? a : b;
        bool flipX = u[tx] > 0;
        bool flipY = w[ty] > 0;
        int width = transpose ? ny : nx;
        int height = transpose ? nx : ny;
        var pixels = new float[slice.Length];
        for (int y = 0; y < height; y++)
        {
            int sy = flipY ? height - 1 - y : y;
            for (int x = 0; x < width; x++)
            {
                int sx = flipX ? width - 1 - x : x;
                (int i, int j) = transpose ? (sy, sx) : (sx, sy);
                pixels[(y * width) + x] = slice[(j * nx) + i];
            }
        }

        double spacingX = Math.Sqrt(Dot(u, u));
        double spacingY = Math.Sqrt(Dot(w, w));
        return new ImageF(width, height, pixels, spacingX, spacingY);
    }

    private static float[] ToSquare(ImageF image, int size, float pad, ResizeMethod resize)
    {
        double sx = image.SpacingX;
        double sy = image.SpacingY;
        if (sx > 0 && sy > 0 && double.IsFinite(sx + sy) && Math.Abs(sx - sy) > 1e-3 * Math.Max(sx, sy))
        {
            double unit = Math.Min(sx, sy);
            int width = Math.Max(1, (int)Math.Round(image.Width * sx / unit, MidpointRounding.AwayFromZero));
            int height = Math.Max(1, (int)Math.Round(image.Height * sy / unit, MidpointRounding.AwayFromZero));
            image = ImageResizer.Resize(image, width, height, ResizeMethod.Area);
        }

        float[] pixels = ImageResizer.ToSquare(image, size, resize, pad).Pixels;
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = Math.Clamp(pixels[i], 0f, 1f);
        }

        return pixels;
    }

    private static float Minimum(float[] values)
    {
        float min = float.PositiveInfinity;
        foreach (float v in values)
        {
            if (v < min)
            {
                min = v;
            }
        }

        return float.IsFinite(min) ? min : -ZClip;
    }

    private static double[] Cross(double[] a, double[] b) =>
        [(a[1] * b[2]) - (a[2] * b[1]), (a[2] * b[0]) - (a[0] * b[2]), (a[0] * b[1]) - (a[1] * b[0])];

    private static double Dot(double[] a, double[] b) => (a[0] * b[0]) + (a[1] * b[1]) + (a[2] * b[2]);

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>A series that cannot become slices; the message is the quarantine reason (no values from the files).</summary>
    private sealed class SeriesRejectedException(string message) : Exception(message);
}
