using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using MedTransfer.Dicom;
using MedTransfer.Imaging.Images;
using MedTransfer.Imaging.Resampling;

namespace MedTransfer.Imaging.Normalization;

/// <summary>The output of <see cref="XrayNormalizer"/>: a CHW tensor in [0, 1] and what was done to get it.</summary>
/// <param name="Tensor">Channels × Height × Width floats, channel-major (CHW).</param>
/// <param name="Channels">Channels (identical copies of the greyscale plane).</param>
/// <param name="Height">Rows.</param>
/// <param name="Width">Columns.</param>
/// <param name="ClipLow">Input value mapped to 0.</param>
/// <param name="ClipHigh">Input value mapped to 1.</param>
/// <param name="Placement">Where the image sits in the canvas.</param>
/// <param name="Report">Input-range findings.</param>
public sealed record XrayTensor(float[] Tensor, int Channels, int Height, int Width, double ClipLow, double ClipHigh, SquarePlacement Placement, NormalizationReport Report);

/// <summary>Applies an <see cref="XrayRecipe"/> to a radiograph.</summary>
public static class XrayNormalizer
{
    private const double HeavyClippingFraction = 0.20;
    internal const int MinimumLevels = 16;

    /// <summary>Reads a PNG, JPEG, TIFF or DICOM file and normalises it.</summary>
    /// <exception cref="ImageFormatException">The file is not a readable image.</exception>
    public static XrayTensor NormalizeFile(string path, XrayRecipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        return Normalize(RasterImageReader.Read(path, recipe.Voi == VoiMode.UseFileWindow), recipe);
    }

    /// <summary>Normalises frame <paramref name="frame"/> of a DICOM file.</summary>
    /// <exception cref="ImageFormatException">The image is not greyscale or cannot be decoded.</exception>
    public static XrayTensor Normalize(DicomFile file, XrayRecipe recipe, int frame = 0)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        SourceImage source = DicomSourceReader.Read(file, frame, recipe.Voi == VoiMode.UseFileWindow);
        return Normalize(source, recipe);
    }

    /// <summary>Normalises a decoded image. The source pixels are not modified.</summary>
    public static XrayTensor Normalize(SourceImage source, XrayRecipe recipe)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(recipe);
        recipe.Validate();
        var warnings = new List<NormalizationWarning>();
        if (source.WasMonochrome1)
        {
            warnings.Add(new(NormalizationWarningCode.Monochrome1, "The image was MONOCHROME1; it was inverted so that bright means dense."));
        }

        if (source.VoiWarnings.Count > 0)
        {
            string outcome = source.VoiApplied ? "the next VOI source of the file was used" : "modality values were used";
            warnings.Add(new(NormalizationWarningCode.InvalidFileWindow, $"The file's VOI attributes are not all valid ({string.Join("; ", source.VoiWarnings)}); {outcome}."));
        }
        else if (source.Format == SourceImageFormat.Dicom && recipe.Voi == VoiMode.UseFileWindow && !source.VoiApplied)
        {
            warnings.Add(new(NormalizationWarningCode.NoFileWindow, "The recipe asked for the file's VOI window but the file has none; modality values were used."));
        }

        foreach (string recovered in source.ReaderWarnings)
        {
            warnings.Add(new(NormalizationWarningCode.ReaderRecovered, "The DICOM reader recovered: " + recovered + "."));
        }

        if (source.ConvertedFromColour)
        {
            warnings.Add(new(NormalizationWarningCode.ColourConverted, "Colour samples were reduced to BT.601 luma."));
        }

        if (source.Indexed is { } indexed && recipe.CropCollimation is null)
        {
            return NormalizeIndexed(indexed, recipe, warnings, source);
        }

        ImageF image = source.Image;
        var region = new PixelRegion(0, 0, image.Width, image.Height);
        double[] bounds = Percentiles.Compute(image.Pixels, [recipe.Clip.LowPercent, recipe.Clip.HighPercent]);
        if (recipe.CropCollimation is { } crop)
        {
            PixelRegion cropped = CollimationDetector.Detect(image, IntensityMap.ClipToUnit(bounds[0], bounds[1]), crop);
            if (cropped != region)
            {
                warnings.Add(new(NormalizationWarningCode.BordersCropped, string.Create(CultureInfo.InvariantCulture, $"Uniform borders were cropped to {cropped.Width}x{cropped.Height} at ({cropped.X}, {cropped.Y}).")));
                region = cropped;
                bounds = Percentiles.Compute(CopyRegion(image, region), [recipe.Clip.LowPercent, recipe.Clip.HighPercent]);
            }
        }

        InputStatistics stats = InputStatistics.Measure(image, region, bounds[0], bounds[1]);
        AddRangeWarnings(source, stats, warnings);
        var rows = new FloatRows(image.Pixels, image.Width, IntensityMap.ClipToUnit(bounds[0], bounds[1]));
        return Finish(rows, region, bounds[0], bounds[1], recipe, warnings);
    }

    /// <summary>
    /// The exact fast path for an indexed image: a counting histogram of the indices gives every order statistic (and the
    /// sanity statistics) of the presentation values without touching a float per pixel; the clip is then folded into
    /// the value table, so the resize reads each pixel once through one lookup. Same bits as the float path.
    /// </summary>
    private static XrayTensor NormalizeIndexed(IndexedImage image, XrayRecipe recipe, List<NormalizationWarning> warnings, SourceImage source)
    {
        var distribution = ValueDistribution.Of(image);
        double low = distribution.Percentile(recipe.Clip.LowPercent);
        double high = distribution.Percentile(recipe.Clip.HighPercent);
        AddRangeWarnings(source, distribution.Statistics(low, high), warnings);
        IntensityMap map = IntensityMap.ClipToUnit(low, high);
        var mapped = new float[image.Values.Length];
        for (int k = 0; k < mapped.Length; k++)
        {
            mapped[k] = map.Apply(image.Values[k]);
        }

        var rows = new IndexedRows(image.Indices, image.Width, mapped);
        return Finish(rows, new PixelRegion(0, 0, image.Width, image.Height), low, high, recipe, warnings);
    }

    private static XrayTensor Finish<TRows>(TRows rows, PixelRegion region, double low, double high, XrayRecipe recipe, List<NormalizationWarning> warnings)
        where TRows : struct, IRowSource
    {
        int size = recipe.Resize.Size;
        SquarePlacement placement = SquarePlacement.For(region.Width, region.Height, size);
        long plane = (long)size * size;
        var tensor = new float[plane * recipe.Channels];
        if (recipe.Resize.PaddingValue != 0f)
        {
            tensor.AsSpan(0, (int)plane).Fill(recipe.Resize.PaddingValue);
        }

        SeparableResampler.Resize(rows, region, tensor, size, placement.OffsetX, placement.OffsetY, placement.Width, placement.Height, recipe.Resize.Method);
        ClampToUnit(tensor.AsSpan(0, (int)plane), placement, size);
        for (int c = 1; c < recipe.Channels; c++)
        {
            tensor.AsSpan(0, (int)plane).CopyTo(tensor.AsSpan((int)(c * plane), (int)plane));
        }

        return new XrayTensor(tensor, recipe.Channels, size, size, low, high, placement, new NormalizationReport(warnings));
    }

    // Lanczos overshoot at edges can leave [0, 1] slightly; the contract promises [0, 1] inside the image.
    private static void ClampToUnit(Span<float> plane, SquarePlacement p, int size)
    {
        for (int y = p.OffsetY; y < p.OffsetY + p.Height; y++)
        {
            Span<float> row = plane.Slice((y * size) + p.OffsetX, p.Width);
            for (int x = 0; x < row.Length; x++)
            {
                row[x] = Math.Clamp(row[x], 0f, 1f);
            }
        }
    }

    private static void AddRangeWarnings(SourceImage source, InputStatistics stats, List<NormalizationWarning> warnings)
    {
        if (stats.Finite == 0 || stats.Min == stats.Max)
        {
            warnings.Add(new(NormalizationWarningCode.ConstantImage, "Every pixel has the same value; the output is blank."));
            return;
        }

        if (!source.VoiApplied && stats.Min >= 0 && stats.Max <= 1)
        {
            string what = source.Format == SourceImageFormat.Dicom ? "modality values" : $"{source.BitsPerSample}-bit samples";
            warnings.Add(new(NormalizationWarningCode.AlreadyNormalized, $"The {what} all lie in [0, 1]: the input looks already normalised."));
        }

        if (stats.Levels < MinimumLevels)
        {
            warnings.Add(new(NormalizationWarningCode.LowDynamicRange, string.Create(CultureInfo.InvariantCulture, $"Only {stats.Levels} distinct intensity levels (fewer than {MinimumLevels}).")));
        }

        double clipped = (double)stats.Saturated / stats.Finite;
        if (clipped > HeavyClippingFraction)
        {
            warnings.Add(new(NormalizationWarningCode.HeavyClipping, string.Create(CultureInfo.InvariantCulture, $"{clipped:P0} of the pixels end at 0 or 1 after the clip (more than {HeavyClippingFraction:P0}).")));
        }
    }

    private static float[] CopyRegion(ImageF image, PixelRegion r)
    {
        var copy = new float[(long)r.Width * r.Height];
        for (int y = 0; y < r.Height; y++)
        {
            image.Pixels.AsSpan(((r.Y + y) * image.Width) + r.X, r.Width).CopyTo(copy.AsSpan(y * r.Width, r.Width));
        }

        return copy;
    }

    /// <summary>One pass over the region: range and saturated count (vectorised), distinct levels up to the threshold.</summary>
    internal readonly record struct InputStatistics(long Finite, float Min, float Max, long Saturated, int Levels)
    {
        internal static InputStatistics Measure(ImageF image, PixelRegion r, double low, double high)
        {
            long finite = 0;
            long saturated = 0;
            float min = float.PositiveInfinity;
            float max = float.NegativeInfinity;
            var levels = new HashSet<float>();
            for (int y = 0; y < r.Height; y++)
            {
                ReadOnlySpan<float> row = image.Pixels.AsSpan(((r.Y + y) * image.Width) + r.X, r.Width);
                (long f, long s, float mn, float mx) = RowStatistics(row, (float)low, (float)high);
                finite += f;
                saturated += s;
                min = Math.Min(min, mn);
                max = Math.Max(max, mx);
                for (int x = 0; x < row.Length && levels.Count < MinimumLevels; x++)
                {
                    if (float.IsFinite(row[x]))
                    {
                        levels.Add(row[x]);
                    }
                }
            }

            return new InputStatistics(finite, min, max, Math.Min(saturated, finite), levels.Count);
        }

        // Saturated: finite values at or beyond a clip bound (they end at exactly 0 or 1), plus every non-finite value.
        private static (long Finite, long Saturated, float Min, float Max) RowStatistics(ReadOnlySpan<float> row, float low, float high)
        {
            long finite = 0;
            long saturated = 0;
            float min = float.PositiveInfinity;
            float max = float.NegativeInfinity;
            int i = 0;
            if (Vector.IsHardwareAccelerated && row.Length >= Vector<float>.Count)
            {
                var vMin = new Vector<float>(float.PositiveInfinity);
                var vMax = new Vector<float>(float.NegativeInfinity);
                var vLow = new Vector<float>(low);
                var vHigh = new Vector<float>(high);
                Vector<int> finiteCount = Vector<int>.Zero;
                Vector<int> saturatedCount = Vector<int>.Zero;
                ReadOnlySpan<Vector<float>> vs = MemoryMarshal.Cast<float, Vector<float>>(row);
                foreach (Vector<float> x in vs)
                {
                    Vector<int> isFinite = Vector.Equals(x - x, Vector<float>.Zero);
                    Vector<int> atBound = Vector.BitwiseOr(Vector.LessThanOrEqual(x, vLow), Vector.GreaterThanOrEqual(x, vHigh));
                    finiteCount -= isFinite;
                    saturatedCount -= Vector.BitwiseOr(Vector.BitwiseAnd(isFinite, atBound), Vector.OnesComplement(isFinite));
                    vMin = Vector.Min(vMin, Vector.ConditionalSelect(isFinite, x, new Vector<float>(float.PositiveInfinity)));
                    vMax = Vector.Max(vMax, Vector.ConditionalSelect(isFinite, x, new Vector<float>(float.NegativeInfinity)));
                }

                finite = Vector.Sum(finiteCount);
                saturated = Vector.Sum(saturatedCount);
                for (int k = 0; k < Vector<float>.Count; k++)
                {
                    min = Math.Min(min, vMin[k]);
                    max = Math.Max(max, vMax[k]);
                }

                i = vs.Length * Vector<float>.Count;
            }

            for (; i < row.Length; i++)
            {
                float v = row[i];
                if (!float.IsFinite(v))
                {
                    saturated++;
                    continue;
                }

                finite++;
                min = Math.Min(min, v);
                max = Math.Max(max, v);
                if (v <= low || v >= high)
                {
                    saturated++;
                }
            }

            return (finite, saturated, min, max);
        }
    }
}
