namespace MedTransfer.Imaging.Nifti;

/// <summary>NIfTI datatype codes (nifti1.h, <c>NIFTI_TYPE_*</c>) the reader understands; the values are the header codes.</summary>
public enum NiftiDataType : short
{
    /// <summary>Unsigned 8-bit (2).</summary>
    UInt8 = 2,

    /// <summary>Signed 16-bit (4).</summary>
    Int16 = 4,

    /// <summary>Signed 32-bit (8).</summary>
    Int32 = 8,

    /// <summary>IEEE 32-bit float (16).</summary>
    Float32 = 16,

    /// <summary>IEEE 64-bit float (64).</summary>
    Float64 = 64,

    /// <summary>Signed 8-bit (256).</summary>
    Int8 = 256,

    /// <summary>Unsigned 16-bit (512).</summary>
    UInt16 = 512,

    /// <summary>Unsigned 32-bit (768).</summary>
    UInt32 = 768,

    /// <summary>Signed 64-bit (1024).</summary>
    Int64 = 1024,

    /// <summary>Unsigned 64-bit (1280).</summary>
    UInt64 = 1280,
}

/// <summary>Which header fields gave <see cref="NiftiImage.Affine"/> (NIfTI-1 "methods" 3, 2 and 1).</summary>
internal enum NiftiAffineSource
{
    /// <summary>sform_code &gt; 0: the srow_x/y/z rows.</summary>
    Sform,

    /// <summary>qform_code &gt; 0: the quaternion, qfac (pixdim[0]), pixdim and qoffset.</summary>
    Qform,

    /// <summary>Neither code set: a diagonal of pixdim[1..3] (the "ANALYZE 7.5" method).</summary>
    Pixdim,
}
