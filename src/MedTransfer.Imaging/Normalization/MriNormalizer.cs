using System.Globalization;
using MedTransfer.Imaging.Resampling;

namespace MedTransfer.Imaging.Normalization;

/// <summary>One slab cut from a volume: <see cref="Channels"/> adjacent slices in CHW order.</summary>
/// <param name="SliceIndex">Index of the centre slice along the slicing axis.</param>
/// <param name="Tensor">Channels × Height × Width floats, channel-major; channel c is slice SliceIndex − ⌊T/2⌋ + c (clamped).</param>
/// <param name="Channels">Slices per slab.</param>
/// <param name="Height">Rows of a slice.</param>
/// <param name="Width">Columns of a slice.</param>
public sealed record MriSlab(int SliceIndex, float[] Tensor, int Channels, int Height, int Width);

/// <summary>The output of <see cref="MriNormalizer.Normalize"/>.</summary>
/// <param name="Volume">The standardised volume (reoriented/resampled as the recipe says).</param>
/// <param name="Slabs">The slabs for a 2-D backbone.</param>
/// <param name="Report">Findings.</param>
public sealed record MriNormalization(Volume Volume, IReadOnlyList<MriSlab> Slabs, NormalizationReport Report);

/// <summary>Applies an <see cref="MriRecipe"/> to a volume.</summary>
public static class MriNormalizer
{
    /// <summary>Runs the recipe: reorient → resample → standardise → slice. The input is not modified.</summary>
    /// <exception cref="ArgumentException">The recipe is invalid.</exception>
    public static MriNormalization Normalize(Volume volume, MriRecipe recipe)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentNullException.ThrowIfNull(recipe);
        recipe.Validate();
        var warnings = new List<NormalizationWarning>();
        Volume v = recipe.ReorientToRas ? VolumeOrientation.ToRas(volume) : Copy(volume);
        if (recipe.ResampleSpacing is { } s)
        {
            v = VolumeResampler.Resample(v, s.X, s.Y, s.Z);
        }

        if (recipe.Standardize == IntensityStandardization.ZScore)
        {
            ZScore(v.Voxels, recipe.Foreground, warnings);
        }
        else
        {
            _ = ForegroundValues(v.Voxels, recipe.Foreground, out bool empty);
            if (empty)
            {
                warnings.Add(new(NormalizationWarningCode.EmptyForeground, "The foreground mask was empty; landmarks were taken over the whole volume."));
            }

            NyulStandardizer.Apply(v.Voxels, recipe.Nyul!);
        }

        return new MriNormalization(v, ExtractSlabs(v, recipe.Slices), new NormalizationReport(warnings));
    }

    /// <summary>
    /// Foreground z-score in place: every voxel becomes (v − μ)/σ with μ and σ (population) over the foreground.
    /// When the mask is empty the whole volume is used; when σ = 0 only μ is subtracted. Both cases are reported.
    /// </summary>
    public static NormalizationReport ZScore(Span<float> voxels, ForegroundMethod foreground)
    {
        var warnings = new List<NormalizationWarning>();
        ZScore(voxels, foreground, warnings);
        return new NormalizationReport(warnings);
    }

    /// <summary>Cuts slabs as <paramref name="options"/> says (see <see cref="SliceOptions"/>).</summary>
    public static IReadOnlyList<MriSlab> ExtractSlabs(Volume volume, SliceOptions options)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.SlabThickness, 1);
        (int n, int height, int width) = options.Axis switch
        {
            SliceAxis.Axial => (volume.NZ, volume.NY, volume.NX),
            SliceAxis.Coronal => (volume.NY, volume.NZ, volume.NX),
            _ => (volume.NX, volume.NZ, volume.NY),
        };
        int count = options.Count is int c && c < n ? c : n;
        int thickness = options.SlabThickness;
        var slabs = new List<MriSlab>(count);
        for (int m = 0; m < count; m++)
        {
            int centre = count == n ? m : Math.Clamp((int)Math.Round(((m + 0.5) * n / count) - 0.5, MidpointRounding.AwayFromZero), 0, n - 1);
            var tensor = new float[(long)thickness * height * width];
            for (int t = 0; t < thickness; t++)
            {
                int slice = Math.Clamp(centre - (thickness / 2) + t, 0, n - 1);
                CopySlice(volume, options.Axis, slice, tensor.AsSpan(t * height * width, height * width));
            }

            slabs.Add(new MriSlab(centre, tensor, thickness, height, width));
        }

        return slabs;
    }

    internal static float[] ForegroundValues(ReadOnlySpan<float> voxels, ForegroundMethod method, out bool empty)
    {
        bool[] mask = ForegroundMask.Compute(voxels, method);
        int n = mask.Count(m => m);
        empty = n == 0;
        if (empty)
        {
            return voxels.ToArray();
        }

        var values = new float[n];
        int at = 0;
        for (int i = 0; i < voxels.Length; i++)
        {
            if (mask[i])
            {
                values[at++] = voxels[i];
            }
        }

        return values;
    }

    private static void ZScore(Span<float> voxels, ForegroundMethod foreground, List<NormalizationWarning> warnings)
    {
        float[] values = ForegroundValues(voxels, foreground, out bool empty);
        if (empty)
        {
            warnings.Add(new(NormalizationWarningCode.EmptyForeground, "The foreground mask was empty; statistics were taken over the whole volume."));
        }

        double sum = 0;
        long n = 0;
        foreach (float v in values)
        {
            if (float.IsFinite(v))
            {
                sum += v;
                n++;
            }
        }

        double mean = n > 0 ? sum / n : 0;
        double squares = 0;
        foreach (float v in values)
        {
            if (float.IsFinite(v))
            {
                squares += (v - mean) * (v - mean);
            }
        }

        double sd = n > 0 ? Math.Sqrt(squares / n) : 0;
        if (!(sd > 0))
        {
            warnings.Add(new(NormalizationWarningCode.ZeroSpread, string.Create(CultureInfo.InvariantCulture, $"The foreground has zero spread over {n} voxels; only the mean was subtracted.")));
            sd = 1;
        }

        for (int i = 0; i < voxels.Length; i++)
        {
            voxels[i] = (float)((voxels[i] - mean) / sd);
        }
    }

    private static void CopySlice(Volume v, SliceAxis axis, int slice, Span<float> destination)
    {
        float[] src = v.Voxels;
        long plane = (long)v.NX * v.NY;
        switch (axis)
        {
            case SliceAxis.Axial:
                src.AsSpan((int)(slice * plane), (int)plane).CopyTo(destination);
                break;
            case SliceAxis.Coronal:
                for (int k = 0; k < v.NZ; k++)
                {
                    src.AsSpan((int)((k * plane) + ((long)slice * v.NX)), v.NX).CopyTo(destination.Slice(k * v.NX, v.NX));
                }

                break;
            default:
                for (int k = 0; k < v.NZ; k++)
                {
                    for (int j = 0; j < v.NY; j++)
                    {
                        destination[(k * v.NY) + j] = src[(k * plane) + ((long)j * v.NX) + slice];
                    }
                }

                break;
        }
    }

    private static Volume Copy(Volume v) => new(v.NX, v.NY, v.NZ, (float[])v.Voxels.Clone(), v.Affine);
}
