using System.Globalization;
using MedTransfer.Evaluation.Metrics;

namespace MedTransfer.Evaluation.Diagnostics;

/// <summary>What a masked region is filled with.</summary>
public enum MaskFill
{
    /// <summary>Each image's own mean, per channel (the default).</summary>
    ImageMean,

    /// <summary>The mean over all images, per channel: the fill then carries no information about the image (use when image brightness differs by class).</summary>
    DatasetMean,
}

/// <summary>Options of <see cref="ShortcutCheck"/>.</summary>
public sealed record ShortcutCheckOptions
{
    /// <summary>Width of the masked border ring as a fraction of each dimension per side, in (0, 0.5). Default 0.1.</summary>
    public double BorderFraction { get; init; } = 0.10;

    /// <summary>Fill of masked pixels. Default <see cref="MaskFill.ImageMean"/>.</summary>
    public MaskFill Fill { get; init; } = MaskFill.ImageMean;

    /// <summary>Occlusion grid: <c>OcclusionGrid × OcclusionGrid</c> cells (at least 3, so there is a centre). Default 8.</summary>
    public int OcclusionGrid { get; init; } = 8;

    /// <summary>Images used for the occlusion map (evenly spaced through the list); the scorer sees this many images per cell. Default 64.</summary>
    public int OcclusionImages { get; init; } = 64;

    /// <summary>Smallest AUROC drop under border masking that counts as reliance on the borders. Default 0.05.</summary>
    public double MinimumDrop { get; init; } = 0.05;

    /// <summary>
    /// The occlusion map flags border reliance when the ring's share of the sensitivity mass is at least this multiple of
    /// its share of the area (and above one half). Default 1.5.
    /// </summary>
    public double OcclusionBorderRatio { get; init; } = 1.5;

    /// <summary>Bootstrap settings (resamples, confidence, seed); the confidence level is also used for DeLong intervals.</summary>
    public BootstrapOptions Bootstrap { get; init; } = new();
}

/// <summary>AUROC under one masking condition and its paired difference from the unmasked AUROC.</summary>
/// <param name="Condition">"border" or "centre".</param>
/// <param name="Auroc">AUROC with the region masked.</param>
/// <param name="Difference">AUROC(masked) − AUROC(unmasked) with its confidence interval (negative = masking hurts).</param>
/// <param name="MaskedPixelFraction">Fraction of each image's pixels masked.</param>
public sealed record MaskedAuroc(string Condition, double Auroc, Estimate Difference, double MaskedPixelFraction);

/// <summary>The occlusion sensitivity summary.</summary>
/// <param name="Grid">Cells per side.</param>
/// <param name="Sensitivity">Mean |score(occluded) − score| per cell, row-major (Grid × Grid): a coarse heat map.</param>
/// <param name="BorderMass">Share of the total sensitivity in the outer ring of cells (NaN when occlusion never changed a score).</param>
/// <param name="CentreMass">Share in the inner cells (1 − <paramref name="BorderMass"/>).</param>
/// <param name="BorderArea">Share of the image area in the outer ring of cells.</param>
/// <param name="Images">Images the map was computed on.</param>
public sealed record OcclusionSummary(int Grid, double[] Sensitivity, double BorderMass, double CentreMass, double BorderArea, int Images);

/// <summary>The result of <see cref="ShortcutCheck.Run"/>.</summary>
/// <param name="Auroc">Unmasked AUROC.</param>
/// <param name="BorderMasked">With the border ring masked.</param>
/// <param name="CentreMasked">With a centred box of the same area masked.</param>
/// <param name="Occlusion">Occlusion sensitivity.</param>
/// <param name="BorderReliance">Masking the borders lowers AUROC by at least the minimum drop, with the interval clear of zero.</param>
/// <param name="OcclusionFlag">The occlusion map puts a disproportionate share of the sensitivity in the border ring.</param>
/// <param name="Finding">One plain-language paragraph.</param>
public sealed record ShortcutCheckResult(
    double Auroc,
    MaskedAuroc BorderMasked,
    MaskedAuroc CentreMasked,
    OcclusionSummary Occlusion,
    bool BorderReliance,
    bool OcclusionFlag,
    string Finding)
{
    /// <summary>True when either signal says the model relies on the image borders (a shortcut risk: markers, collimation, text).</summary>
    public bool ShortcutRisk => BorderReliance || OcclusionFlag;
}

/// <summary>
/// The shortcut check of the evaluation: does the model's performance depend on the image border and corners
/// (burned-in markers, collimation, text, scanner-specific frames) rather than on the anatomy? It compares AUROC
/// unmasked, with a border ring masked, and with a centred box of the same area masked (paired intervals: patient
/// bootstrap when patients are given, DeLong otherwise), and summarises occlusion sensitivity on a coarse grid. The
/// model is any scorer delegate (images → positive-class scores); nothing here knows about the training framework.
/// </summary>
public static class ShortcutCheck
{
    /// <summary>Runs the check.</summary>
    /// <param name="images">One C×H×W array (channel-major) per sample.</param>
    /// <param name="channels">C.</param>
    /// <param name="height">H.</param>
    /// <param name="width">W.</param>
    /// <param name="labels">0/1 per sample; both classes must be present.</param>
    /// <param name="scorer">Positive-class score of each image in a batch; called with batches of the given images and masked copies (never modifies them).</param>
    /// <param name="patients">Patient per sample for a patient-level bootstrap, or null for DeLong intervals.</param>
    /// <param name="options">Options; defaults when null.</param>
    /// <exception cref="ArgumentException">Mismatched sizes, labels other than 0/1, or an option out of range.</exception>
    /// <exception cref="InvalidOperationException">The scorer returned the wrong number of scores or a non-finite score.</exception>
    /// <exception cref="MetricUndefinedException">A class is missing (AUROC undefined).</exception>
    public static ShortcutCheckResult Run(
        IReadOnlyList<float[]> images,
        int channels,
        int height,
        int width,
        IReadOnlyList<int> labels,
        Func<IReadOnlyList<float[]>, double[]> scorer,
        IReadOnlyList<string>? patients = null,
        ShortcutCheckOptions? options = null)
    {
        options ??= new ShortcutCheckOptions();
        Validate(images, channels, height, width, labels, scorer, patients, options);
        var shape = new Shape(channels, height, width);
        double[] fill = options.Fill == MaskFill.DatasetMean ? DatasetMean(images, shape) : [];

        double[] scores = Score(scorer, images);
        double auroc = Metrics.Auroc.Compute(scores, [.. labels]);

        int bh = Math.Clamp((int)Math.Round(height * options.BorderFraction, MidpointRounding.AwayFromZero), 1, (height - 1) / 2);
        int bw = Math.Clamp((int)Math.Round(width * options.BorderFraction, MidpointRounding.AwayFromZero), 1, (width - 1) / 2);
        bool InBorder(int y, int x) => y < bh || y >= height - bh || x < bw || x >= width - bw;
        double ringFraction = 1 - ((double)(height - (2 * bh)) * (width - (2 * bw)) / ((double)height * width));

        // A centred box with (as nearly as the pixel grid allows) the ring's area and the image's aspect.
        double side = Math.Sqrt(ringFraction);
        int ch = Math.Clamp((int)Math.Round(height * side, MidpointRounding.AwayFromZero), 1, height);
        int cw = Math.Clamp((int)Math.Round(width * side, MidpointRounding.AwayFromZero), 1, width);
        int cy = (height - ch) / 2;
        int cx = (width - cw) / 2;
        bool InCentre(int y, int x) => y >= cy && y < cy + ch && x >= cx && x < cx + cw;

        double[] borderScores = Score(scorer, [.. images.Select(im => Masked(im, shape, InBorder, fill))]);
        double[] centreScores = Score(scorer, [.. images.Select(im => Masked(im, shape, InCentre, fill))]);
        MaskedAuroc border = Compare("border", borderScores, scores, labels, patients, options, ringFraction);
        MaskedAuroc centre = Compare("centre", centreScores, scores, labels, patients, options, (double)ch * cw / ((double)height * width));

        OcclusionSummary occlusion = Occlude(images, shape, scores, scorer, fill, options);
        bool reliance = border.Difference.Upper < 0 && -border.Difference.Value >= options.MinimumDrop;
        bool occlusionFlag = double.IsFinite(occlusion.BorderMass) && occlusion.BorderMass > 0.5
            && occlusion.BorderMass >= options.OcclusionBorderRatio * occlusion.BorderArea;
        return new ShortcutCheckResult(auroc, border, centre, occlusion, reliance, occlusionFlag, Describe(auroc, border, centre, occlusion, reliance, occlusionFlag));
    }

    private readonly record struct Shape(int Channels, int Height, int Width)
    {
        internal int Plane => Height * Width;

        internal int Length => Channels * Plane;
    }

    private static MaskedAuroc Compare(string condition, double[] masked, double[] unmasked, IReadOnlyList<int> labels, IReadOnlyList<string>? patients, ShortcutCheckOptions options, double fraction)
    {
        int[] y = [.. labels];
        double value = Metrics.Auroc.Compute(masked, y);
        Estimate difference;
        if (patients is not null)
        {
            difference = PatientBootstrap.PairedDifference(masked, unmasked, labels, patients, (s, l) => Metrics.Auroc.Compute(s, l), options.Bootstrap);
        }
        else if (y.Count(v => v == 1) >= 2 && y.Count(v => v == 0) >= 2)
        {
            difference = DeLong.Compare(masked, unmasked, y, options.Bootstrap.Confidence).Difference;
        }
        else
        {
            double d = value - Metrics.Auroc.Compute(unmasked, y);
            difference = new Estimate(d, double.NaN, double.NaN, options.Bootstrap.Confidence, "none (fewer than two samples in a class)");
        }

        return new MaskedAuroc(condition, value, difference, fraction);
    }

    private static OcclusionSummary Occlude(IReadOnlyList<float[]> images, Shape shape, double[] scores, Func<IReadOnlyList<float[]>, double[]> scorer, double[] fill, ShortcutCheckOptions options)
    {
        int g = options.OcclusionGrid;
        int n = Math.Min(options.OcclusionImages, images.Count);
        int[] chosen = [.. Enumerable.Range(0, n).Select(i => (int)((long)i * images.Count / n))];
        var heat = new double[g * g];
        double borderMass = 0;
        double total = 0;
        double borderArea = 0;
        for (int r = 0; r < g; r++)
        {
            int y0 = r * shape.Height / g;
            int y1 = (r + 1) * shape.Height / g;
            for (int c = 0; c < g; c++)
            {
                int x0 = c * shape.Width / g;
                int x1 = (c + 1) * shape.Width / g;
                bool InCell(int y, int x) => y >= y0 && y < y1 && x >= x0 && x < x1;
                double[] occluded = Score(scorer, [.. chosen.Select(i => Masked(images[i], shape, InCell, fill))]);
                double sum = 0;
                for (int k = 0; k < n; k++)
                {
                    sum += Math.Abs(occluded[k] - scores[chosen[k]]);
                }

                double mean = sum / n;
                heat[(r * g) + c] = mean;
                total += mean;
                if (r == 0 || c == 0 || r == g - 1 || c == g - 1)
                {
                    borderMass += mean;
                    borderArea += (double)(y1 - y0) * (x1 - x0);
                }
            }
        }

        double share = total > 0 ? borderMass / total : double.NaN;
        return new OcclusionSummary(g, heat, share, total > 0 ? 1 - share : double.NaN, borderArea / shape.Plane, n);
    }

    private static float[] Masked(float[] image, Shape shape, Func<int, int, bool> inside, double[] datasetFill)
    {
        float[] copy = (float[])image.Clone();
        for (int ch = 0; ch < shape.Channels; ch++)
        {
            int offset = ch * shape.Plane;
            float value = (float)(datasetFill.Length > 0 ? datasetFill[ch] : Mean(image.AsSpan(offset, shape.Plane)));
            for (int y = 0; y < shape.Height; y++)
            {
                for (int x = 0; x < shape.Width; x++)
                {
                    if (inside(y, x))
                    {
                        copy[offset + (y * shape.Width) + x] = value;
                    }
                }
            }
        }

        return copy;
    }

    private static double Mean(ReadOnlySpan<float> values)
    {
        double sum = 0;
        foreach (float v in values)
        {
            sum += v;
        }

        return sum / values.Length;
    }

    private static double[] DatasetMean(IReadOnlyList<float[]> images, Shape shape)
    {
        var mean = new double[shape.Channels];
        foreach (float[] image in images)
        {
            for (int ch = 0; ch < shape.Channels; ch++)
            {
                mean[ch] += Mean(image.AsSpan(ch * shape.Plane, shape.Plane)) / images.Count;
            }
        }

        return mean;
    }

    private static double[] Score(Func<IReadOnlyList<float[]>, double[]> scorer, IReadOnlyList<float[]> batch)
    {
        double[] scores = scorer(batch) ?? throw new InvalidOperationException("The scorer returned no scores.");
        if (scores.Length != batch.Count)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"The scorer returned {scores.Length} scores for {batch.Count} images."));
        }

        if (scores.Any(s => !double.IsFinite(s)))
        {
            throw new InvalidOperationException("The scorer returned a non-finite score.");
        }

        return scores;
    }

    private static void Validate(
        IReadOnlyList<float[]> images,
        int channels,
        int height,
        int width,
        IReadOnlyList<int> labels,
        Func<IReadOnlyList<float[]>, double[]> scorer,
        IReadOnlyList<string>? patients,
        ShortcutCheckOptions options)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentNullException.ThrowIfNull(options);
        if (channels < 1 || height < 3 || width < 3 || (long)channels * height * width > Array.MaxLength)
        {
            throw new ArgumentException("Images need at least one channel and at least 3×3 pixels.", nameof(images));
        }

        if (images.Count == 0 || images.Count != labels.Count || (patients is not null && patients.Count != images.Count))
        {
            throw new ArgumentException("images, labels (and patients, when given) need one entry per sample, and at least one sample.", nameof(labels));
        }

        long length = (long)channels * height * width;
        if (images.Any(im => im is null || im.Length != length))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Every image must hold {channels}×{height}×{width} = {length} values."), nameof(images));
        }

        if (labels.Any(l => l is not (0 or 1)))
        {
            throw new ArgumentException("Labels must be 0 or 1.", nameof(labels));
        }

        if (!(options.BorderFraction > 0 && options.BorderFraction < 0.5) || options.OcclusionGrid < 3 || options.OcclusionGrid > Math.Min(height, width)
            || options.OcclusionImages < 1 || !(options.MinimumDrop >= 0) || !(options.OcclusionBorderRatio > 0) || options.Bootstrap is null)
        {
            throw new ArgumentException("Options need BorderFraction in (0, 0.5), OcclusionGrid in [3, min(H, W)], OcclusionImages ≥ 1, MinimumDrop ≥ 0, OcclusionBorderRatio > 0 and bootstrap options.", nameof(options));
        }
    }

    private static string Describe(double auroc, MaskedAuroc border, MaskedAuroc centre, OcclusionSummary occlusion, bool reliance, bool occlusionFlag)
    {
        var text = new System.Text.StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Masking the borders ({Percent(border.MaskedPixelFraction)} of the pixels) {Change(auroc, border)}; ");
        text.Append(CultureInfo.InvariantCulture, $"masking a centred box of the same area {Change(auroc, centre)}. ");
        if (double.IsFinite(occlusion.BorderMass))
        {
            text.Append(CultureInfo.InvariantCulture, $"Occlusion ({occlusion.Grid}×{occlusion.Grid} grid, {occlusion.Images} images): {Percent(occlusion.BorderMass)} of the sensitivity lies in the border ring, which is {Percent(occlusion.BorderArea)} of the image. ");
        }
        else
        {
            text.Append(CultureInfo.InvariantCulture, $"Occluding any cell of the {occlusion.Grid}×{occlusion.Grid} grid never changed a score. ");
        }

        if (reliance || occlusionFlag)
        {
            text.Append("The model relies on image borders — shortcut risk: check for burned-in markers, text, collimation or scanner frames that differ by class or site.");
        }
        else
        {
            text.Append("No sign that the model relies on image borders.");
        }

        return text.ToString();
    }

    private static string Change(double auroc, MaskedAuroc m)
    {
        string verb = m.Difference.Value < 0 ? "drops" : m.Difference.Value > 0 ? "raises" : "leaves";
        string interval = double.IsFinite(m.Difference.Lower)
            ? string.Create(CultureInfo.InvariantCulture, $", {Percent(m.Difference.Confidence)} CI {Signed(m.Difference.Lower)} to {Signed(m.Difference.Upper)}")
            : string.Empty;
        return verb == "leaves"
            ? string.Create(CultureInfo.InvariantCulture, $"leaves AUROC at {auroc:F2} (Δ 0{interval})")
            : string.Create(CultureInfo.InvariantCulture, $"{verb} AUROC from {auroc:F2} to {m.Auroc:F2} (Δ {Signed(m.Difference.Value)}{interval})");
    }

    private static string Percent(double fraction) => string.Create(CultureInfo.InvariantCulture, $"{fraction * 100:F0}%");

    private static string Signed(double v) => v < 0
        ? string.Create(CultureInfo.InvariantCulture, $"−{-v:F2}")
        : string.Create(CultureInfo.InvariantCulture, $"+{v:F2}");
}
