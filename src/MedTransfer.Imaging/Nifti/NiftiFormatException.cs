namespace MedTransfer.Imaging.Nifti;

/// <summary>Why a NIfTI stream was rejected. Stable codes: scripts and quarantine records key on them.</summary>
internal enum NiftiErrorCode
{
    /// <summary>sizeof_hdr is neither 348 (NIfTI-1) nor 540 (NIfTI-2) in either byte order, or the magic is wrong.</summary>
    NotNifti,

    /// <summary>The stream ended before the header or the voxel data it announces.</summary>
    Truncated,

    /// <summary>dim[] is out of range: dim[0] outside 1..7, a used dimension below 1, or the product overflows.</summary>
    InvalidDimensions,

    /// <summary>The voxel data would exceed <see cref="NiftiReadOptions.MaxVoxels"/>.</summary>
    TooLarge,

    /// <summary>A datatype code the reader does not support (complex, RGB, unknown), or bitpix disagrees with it.</summary>
    UnsupportedDatatype,

    /// <summary>vox_offset is negative, inside the header, not finite, or past the end of the data.</summary>
    InvalidOffset,

    /// <summary>The geometry fields (pixdim, quaternion, srow) are not finite.</summary>
    InvalidGeometry,

    /// <summary>The gzip stream of a .nii.gz file is corrupt.</summary>
    InvalidGzip,

    /// <summary>The file could not be read (I/O), or it is a directory.</summary>
    Unreadable,
}

/// <summary>A malformed or hostile NIfTI input, with a reason code. Messages name header fields, never image content.</summary>
internal sealed class NiftiFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public NiftiFormatException(NiftiErrorCode reason, string detail, Exception? inner = null)
        : base($"{reason}: {detail}", inner)
    {
        Reason = reason;
    }

    /// <summary>The stable reason code.</summary>
    public NiftiErrorCode Reason { get; }
}
