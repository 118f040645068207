namespace MedTransfer.Imaging.Nifti;

/// <summary>
/// A NIfTI-1 or NIfTI-2 image as read: its dimensions, its voxels as floats with scl_slope/scl_inter applied,
/// and the voxel→RAS affine chosen as the standard says (sform when sform_code &gt; 0, else qform when
/// qform_code &gt; 0, else pixdim).
/// </summary>
internal sealed class NiftiImage
{
    internal NiftiImage(int version, long[] dimensions, float[] data, double[] affine, NiftiAffineSource affineSource, NiftiDataType dataType,
        double scaleSlope, double scaleIntercept, int qformCode, int sformCode, int xyztUnits, double[] pixdim)
    {
        Version = version;
        Dimensions = dimensions;
        Data = data;
        Affine = affine;
        AffineSource = affineSource;
        DataType = dataType;
        ScaleSlope = scaleSlope;
        ScaleIntercept = scaleIntercept;
        QformCode = qformCode;
        SformCode = sformCode;
        XyztUnits = xyztUnits;
        PixDim = pixdim;
    }

    /// <summary>1 for NIfTI-1 (348-byte header), 2 for NIfTI-2 (540-byte header).</summary>
    public int Version { get; }

    /// <summary>The used dimensions dim[1..dim[0]] (at least three: missing spatial ones are 1).</summary>
    public IReadOnlyList<long> Dimensions { get; }

    /// <summary>The voxels as stored order (i fastest), scaled by scl_slope/scl_inter when the slope is non-zero and finite.</summary>
    public float[] Data { get; }

    /// <summary>Row-major 4×4 voxel index → RAS millimetres.</summary>
    public IReadOnlyList<double> Affine { get; }

    /// <summary>Which header fields gave <see cref="Affine"/>.</summary>
    public NiftiAffineSource AffineSource { get; }

    /// <summary>The stored datatype.</summary>
    public NiftiDataType DataType { get; }

    /// <summary>scl_slope as stored (0 means no scaling).</summary>
    public double ScaleSlope { get; }

    /// <summary>scl_inter as stored.</summary>
    public double ScaleIntercept { get; }

    /// <summary>qform_code.</summary>
    public int QformCode { get; }

    /// <summary>sform_code.</summary>
    public int SformCode { get; }

    /// <summary>xyzt_units (bits 0-2 spatial, 3-5 temporal; 2 = millimetres, 8 = seconds).</summary>
    public int XyztUnits { get; }

    /// <summary>pixdim[0..7] as stored (pixdim[0] is qfac).</summary>
    public IReadOnlyList<double> PixDim { get; }

    /// <summary>Number of 3-D volumes (the product of dim[4..]).</summary>
    public long VolumeCount
    {
        get
        {
            long n = 1;
            for (int d = 3; d < Dimensions.Count; d++)
            {
                n *= Dimensions[d];
            }

            return n;
        }
    }

    /// <summary>The 3-D volume at index <paramref name="index"/> along the dimensions above the third (time, …), with <see cref="Affine"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is outside 0..<see cref="VolumeCount"/>−1.</exception>
    public Volume ToVolume(long index = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, VolumeCount);
        int nx = (int)Dimensions[0];
        int ny = (int)Dimensions[1];
        int nz = (int)Dimensions[2];
        long size = (long)nx * ny * nz;
        var voxels = new float[size];
        Array.Copy(Data, index * size, voxels, 0, size);
        return new Volume(nx, ny, nz, voxels, [.. Affine]);
    }
}
