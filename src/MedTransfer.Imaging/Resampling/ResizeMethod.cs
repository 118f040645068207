namespace MedTransfer.Imaging.Resampling;

/// <summary>The interpolation of a 2-D resize. Both are separable and anti-aliased.</summary>
public enum ResizeMethod
{
    /// <summary>
    /// Area averaging along every axis that shrinks: each output pixel is the mean of the input over its exact footprint
    /// (a box filter; partially covered input pixels weigh by their covered fraction). Axes that grow use Lanczos-3.
    /// </summary>
    Area,

    /// <summary>
    /// Lanczos-3 along both axes, L(x) = sinc(x)·sinc(x/3) for |x| &lt; 3; when shrinking, the kernel is stretched by the
    /// scale factor so it low-passes before sampling. Weights are normalised to sum to 1; edges replicate.
    /// </summary>
    Lanczos3,
}
