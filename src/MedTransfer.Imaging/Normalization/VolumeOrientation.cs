namespace MedTransfer.Imaging.Normalization;

/// <summary>
/// Reorientation of a <see cref="Volume"/> to the closest canonical RAS voxel order by permuting and flipping axes only
/// (no interpolation, so voxel values are kept exactly; an oblique volume stays oblique by the residual rotation).
/// </summary>
internal static class VolumeOrientation
{
    /// <summary>
    /// The orientation code of the voxel axes: for i, j, k the world direction each runs closest to, as one of
    /// R/L, A/P, S/I (nibabel's <c>aff2axcodes</c> convention; "RAS" is canonical).
    /// </summary>
    public static string AxisCodes(Volume volume)
    {
        ArgumentNullException.ThrowIfNull(volume);
        (int[] worldOfAxis, int[] sign) = Assign(volume.Affine);
        var codes = new char[3];
        for (int c = 0; c < 3; c++)
        {
            codes[c] = (worldOfAxis[c], sign[c] > 0) switch
            {
                (0, true) => 'R',
                (0, false) => 'L',
                (1, true) => 'A',
                (1, false) => 'P',
                (2, true) => 'S',
                _ => 'I',
            };
        }

        return new string(codes);
    }

    /// <summary>
    /// A copy of <paramref name="volume"/> whose i, j, k axes run closest to +R, +A, +S. Each voxel axis is matched to
    /// the world axis of its largest affine component (greedily by magnitude, so the match is a permutation); flipped
    /// axes move the origin to the other end. The world position of every voxel is unchanged: A′·(i′,j′,k′,1) = A·(i,j,k,1).
    /// </summary>
    /// <exception cref="ArgumentException">The affine's 3×3 part is singular.</exception>
    public static Volume ToRas(Volume volume)
    {
        ArgumentNullException.ThrowIfNull(volume);
        double[] a = volume.Affine;
        (int[] worldOfAxis, int[] sign) = Assign(a);
        int[] n = [volume.NX, volume.NY, volume.NZ];
        long[] stride = [1, volume.NX, (long)volume.NX * volume.NY];
        var axisOfWorld = new int[3];
        for (int c = 0; c < 3; c++)
        {
            axisOfWorld[worldOfAxis[c]] = c;
        }

        var affine = new double[16];
        affine[15] = 1;
        var step = new long[3];
        long start = 0;
        for (int r = 0; r < 3; r++)
        {
            affine[(r * 4) + 3] = a[(r * 4) + 3];
        }

        for (int w = 0; w < 3; w++)
        {
            int c = axisOfWorld[w];
            int s = sign[c];
            step[w] = s * stride[c];
            if (s < 0)
            {
                start += (n[c] - 1) * stride[c];
            }

            for (int r = 0; r < 3; r++)
            {
                affine[(r * 4) + w] = s * a[(r * 4) + c];
                if (s < 0)
                {
                    affine[(r * 4) + 3] += (n[c] - 1) * a[(r * 4) + c];
                }
            }
        }

        int nx = n[axisOfWorld[0]];
        int ny = n[axisOfWorld[1]];
        int nz = n[axisOfWorld[2]];
        var voxels = new float[volume.Voxels.Length];
        float[] source = volume.Voxels;
        long at = 0;
        for (int k = 0; k < nz; k++)
        {
            for (int j = 0; j < ny; j++)
            {
                long s = start + (k * step[2]) + (j * step[1]);
                for (int i = 0; i < nx; i++)
                {
                    voxels[at++] = source[s + (i * step[0])];
                }
            }
        }

        return new Volume(nx, ny, nz, voxels, affine);
    }

    private static (int[] WorldOfAxis, int[] Sign) Assign(double[] a)
    {
        var entries = new List<(double Magnitude, int World, int Axis)>(9);
        for (int r = 0; r < 3; r++)
        {
            for (int c = 0; c < 3; c++)
            {
                entries.Add((Math.Abs(a[(r * 4) + c]), r, c));
            }
        }

        // Highest magnitude first; ties broken by position so the result is deterministic.
        entries.Sort((x, y) => y.Magnitude != x.Magnitude ? y.Magnitude.CompareTo(x.Magnitude) : (x.World * 3) + x.Axis - ((y.World * 3) + y.Axis));
        int[] worldOfAxis = [-1, -1, -1];
        var worldUsed = new bool[3];
        var sign = new int[3];
        foreach ((double magnitude, int world, int axis) in entries)
        {
            if (worldOfAxis[axis] < 0 && !worldUsed[world])
            {
                if (!(magnitude > 0) || !double.IsFinite(magnitude))
                {
                    throw new ArgumentException("The affine's rotation/scale part is singular or not finite.", nameof(a));
                }

                worldOfAxis[axis] = world;
                worldUsed[world] = true;
                sign[axis] = a[(world * 4) + axis] > 0 ? 1 : -1;
            }
        }

        return (worldOfAxis, sign);
    }
}
