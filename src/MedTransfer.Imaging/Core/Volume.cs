namespace MedTransfer.Imaging;

/// <summary>
/// A 3-D single-channel float volume with its geometry: voxel (i, j, k) is at <c>Voxels[(k * NY + j) * NX + i]</c>
/// (i fastest, as in NIfTI), and <see cref="Affine"/> maps the voxel index (i, j, k, 1) to RAS+ world
/// coordinates in millimetres (the NIfTI convention: +x Right, +y Anterior, +z Superior). DICOM's patient
/// coordinates are LPS+, so a volume built from DICOM negates the first two rows of the DICOM affine.
/// </summary>
public sealed class Volume
{
    /// <summary>Creates a volume over <paramref name="voxels"/> (not copied).</summary>
    /// <param name="nx">Voxels along i.</param>
    /// <param name="ny">Voxels along j.</param>
    /// <param name="nz">Voxels along k.</param>
    /// <param name="voxels">NX·NY·NZ values, i fastest.</param>
    /// <param name="affine">Row-major 4×4 voxel-to-RAS matrix (16 values; the last row 0 0 0 1).</param>
    /// <exception cref="ArgumentException">Sizes or the affine do not match.</exception>
    public Volume(int nx, int ny, int nz, float[] voxels, double[] affine)
    {
        ArgumentNullException.ThrowIfNull(voxels);
        ArgumentNullException.ThrowIfNull(affine);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(nx);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ny);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(nz);
        if ((long)nx * ny * nz != voxels.Length)
        {
            throw new ArgumentException($"A {nx}x{ny}x{nz} volume needs {(long)nx * ny * nz} voxels, not {voxels.Length}.", nameof(voxels));
        }

        if (affine.Length != 16)
        {
            throw new ArgumentException("The affine needs 16 values (row-major 4x4).", nameof(affine));
        }

        NX = nx;
        NY = ny;
        NZ = nz;
        Voxels = voxels;
        Affine = (double[])affine.Clone();
    }

    /// <summary>Voxels along i.</summary>
    public int NX { get; }

    /// <summary>Voxels along j.</summary>
    public int NY { get; }

    /// <summary>Voxels along k.</summary>
    public int NZ { get; }

    /// <summary>The voxels, i fastest then j then k.</summary>
    public float[] Voxels { get; }

    /// <summary>Row-major 4×4 voxel-index → RAS millimetres.</summary>
    public double[] Affine { get; }

    /// <summary>Voxel spacing along i, j, k: the lengths of the affine's first three columns.</summary>
    public (double X, double Y, double Z) Spacing => (ColumnLength(0), ColumnLength(1), ColumnLength(2));

    /// <summary>The voxel at (i, j, k).</summary>
    public float this[int i, int j, int k]
    {
        get => Voxels[(((long)k * NY) + j) * NX + i];
        set => Voxels[(((long)k * NY) + j) * NX + i] = value;
    }

    private double ColumnLength(int c) =>
        Math.Sqrt((Affine[c] * Affine[c]) + (Affine[4 + c] * Affine[4 + c]) + (Affine[8 + c] * Affine[8 + c]));
}
