namespace MedTransfer.Imaging.Resampling;

/// <summary>Trilinear resampling of a <see cref="Volume"/> to a new voxel spacing.</summary>
internal static class VolumeResampler
{
    /// <summary>
    /// Resamples to spacing (<paramref name="spacingX"/>, <paramref name="spacingY"/>, <paramref name="spacingZ"/>) mm along
    /// i, j, k. The first voxel centre stays where it was; the new size along an axis is max(1, round(n·old/new)); output
    /// voxel i′ samples the input at continuous index i′·new/old with trilinear interpolation, clamped at the edges. The
    /// affine's columns are scaled by new/old (directions kept). Trilinear interpolation does not low-pass, so strong
    /// downsampling aliases; it is meant for spacing harmonisation, not for large reductions.
    /// </summary>
    public static Volume Resample(Volume volume, double spacingX, double spacingY, double spacingZ)
    {
        ArgumentNullException.ThrowIfNull(volume);
        (double ox, double oy, double oz) = volume.Spacing;
        double fx = Factor(spacingX, ox);
        double fy = Factor(spacingY, oy);
        double fz = Factor(spacingZ, oz);
        int nx = NewSize(volume.NX, fx);
        int ny = NewSize(volume.NY, fy);
        int nz = NewSize(volume.NZ, fz);
        long total = checked((long)nx * ny * nz);
        if (total > Array.MaxLength)
        {
            throw new ArgumentException("The resampled volume would exceed the largest array.");
        }

        (int[] x0, float[] tx) = Taps(nx, fx, volume.NX);
        (int[] y0, float[] ty) = Taps(ny, fy, volume.NY);
        (int[] z0, float[] tz) = Taps(nz, fz, volume.NZ);
        var voxels = new float[total];
        float[] src = volume.Voxels;
        int sx = volume.NX;
        long sxy = (long)volume.NX * volume.NY;
        long at = 0;
        for (int k = 0; k < nz; k++)
        {
            int zA = z0[k];
            int zB = Math.Min(zA + 1, volume.NZ - 1);
            for (int j = 0; j < ny; j++)
            {
                int yA = y0[j];
                int yB = Math.Min(yA + 1, volume.NY - 1);
                long r00 = (zA * sxy) + ((long)yA * sx);
                long r01 = (zA * sxy) + ((long)yB * sx);
                long r10 = (zB * sxy) + ((long)yA * sx);
                long r11 = (zB * sxy) + ((long)yB * sx);
                for (int i = 0; i < nx; i++)
                {
                    int xA = x0[i];
                    int xB = Math.Min(xA + 1, volume.NX - 1);
                    float u = tx[i];
                    float c00 = Lerp(src[r00 + xA], src[r00 + xB], u);
                    float c01 = Lerp(src[r01 + xA], src[r01 + xB], u);
                    float c10 = Lerp(src[r10 + xA], src[r10 + xB], u);
                    float c11 = Lerp(src[r11 + xA], src[r11 + xB], u);
                    voxels[at++] = Lerp(Lerp(c00, c01, ty[j]), Lerp(c10, c11, ty[j]), tz[k]);
                }
            }
        }

        double[] a = (double[])volume.Affine.Clone();
        double[] factors = [fx, fy, fz];
        for (int r = 0; r < 3; r++)
        {
            for (int c = 0; c < 3; c++)
            {
                a[(r * 4) + c] *= factors[c];
            }
        }

        return new Volume(nx, ny, nz, voxels, a);
    }

    private static double Factor(double target, double old)
    {
        if (!(target > 0) || !double.IsFinite(target) || !(old > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(target), target, "Spacings must be finite and positive.");
        }

        return target / old;
    }

    private static int NewSize(int n, double factor) => Math.Max(1, (int)Math.Round(n / factor, MidpointRounding.AwayFromZero));

    private static (int[] Index, float[] Fraction) Taps(int outSize, double factor, int inSize)
    {
        var index = new int[outSize];
        var fraction = new float[outSize];
        for (int o = 0; o < outSize; o++)
        {
            double position = Math.Clamp(o * factor, 0, inSize - 1);
            int i = Math.Min((int)Math.Floor(position), inSize - 1);
            index[o] = i;
            fraction[o] = (float)(position - i);
        }

        return (index, fraction);
    }

    private static float Lerp(float a, float b, float t) => a + ((b - a) * t);
}
