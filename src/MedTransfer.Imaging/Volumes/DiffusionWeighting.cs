using MedTransfer.Dicom;

namespace MedTransfer.Imaging.Volumes;

/// <summary>The diffusion weighting of one volume: b-value and gradient direction.</summary>
/// <param name="BValue">Diffusion b-value in s/mm².</param>
/// <param name="Gradient">
/// The gradient direction as a unit vector in the patient coordinate system of DICOM (LPS: x to the patient's left,
/// y to posterior, z to head), or (0, 0, 0) when the image has none (b = 0, or an isotropic trace image).
/// </param>
public sealed record DiffusionWeighting(double BValue, IReadOnlyList<double> Gradient)
{
    /// <summary>True when a direction is given (not the zero vector).</summary>
    public bool HasDirection => Gradient.Any(v => v != 0);
}

/// <summary>
/// Reads b-value and gradient direction from the places scanners put them: the MR Diffusion Sequence (0018,9117) of
/// an enhanced frame (PS3.3 C.8.13.5.9) or the same attributes at the top level of a classic image (Diffusion
/// b-value (0018,9087), Diffusion Gradient Orientation (0018,9089), patient frame); the Siemens CSA image header
/// (B_value, DiffusionGradientDirection, patient frame); UIH's private BActualValue (0065,xx09) and
/// MRDiffusionGradOrientation (0065,xx37) of creator "Image Private Header", which dcm2niix reads in the image
/// frame (row, column, slice normal) and so do we.
/// </summary>
/// <remarks>GE's and older Philips' private diffusion tags are not read: their conventions differ by software version.</remarks>
internal static class DiffusionHeader
{
    private const string UihCreator = "Image Private Header";

    public static DiffusionWeighting? Read(DicomDataset ds, DicomDataset? frameDiffusion, Dictionary<string, string[]>? csa, double[] orientation)
    {
        if (frameDiffusion is not null && Standard(frameDiffusion) is { } enhanced)
        {
            return enhanced;
        }

        if (Standard(ds) is { } classic)
        {
            return classic;
        }

        if (SiemensCsaHeader.Number(csa, "B_value") is { } siemensB)
        {
            double[] g = [.. Enumerable.Range(0, 3).Select(i => SiemensCsaHeader.Number(csa, "DiffusionGradientDirection", i) ?? double.NaN)];
            return new DiffusionWeighting(siemensB, Unit(g.All(double.IsFinite) ? g : [0, 0, 0]));
        }

        return Uih(ds, orientation);
    }

    private static DiffusionWeighting? Standard(DicomDataset item)
    {
        double? b = Number(item, Tag.DiffusionBValue);
        if (b is not { } value)
        {
            return null;
        }

        double[] gradient = Vector(item, Tag.DiffusionGradientOrientation);
        if (gradient.Length == 0 && item.GetSequence(Tag.DiffusionGradientDirectionSequence) is { Count: > 0 } directions)
        {
            gradient = Vector(directions[0], Tag.DiffusionGradientOrientation);
        }

        return new DiffusionWeighting(value, Unit(gradient.Length == 3 ? gradient : [0, 0, 0]));
    }

    private static DiffusionWeighting? Uih(DicomDataset ds, double[] orientation)
    {
        if (PrivateTags.Find(ds, 0x0065, UihCreator, 0x09) is not { } bTag || Number(ds, bTag) is not { } b)
        {
            return null;
        }

        double[] image = PrivateTags.Find(ds, 0x0065, UihCreator, 0x37) is { } gTag ? Vector(ds, gTag) : [];
        if (image.Length != 3 || orientation.Length != 6)
        {
            return new DiffusionWeighting(b, [0, 0, 0]);
        }

        double[] row = orientation[..3];
        double[] column = orientation[3..];
        double[] normal = Geometry.Cross(row, column);
        double[] patient = Geometry.Add(Geometry.Add(Geometry.Scale(row, image[0]), Geometry.Scale(column, image[1])), Geometry.Scale(normal, image[2]));
        return new DiffusionWeighting(b, Unit(patient));
    }

    private static double[] Unit(double[] v)
    {
        double length = Geometry.Norm(v);
        return length > 1e-6 ? Geometry.Scale(v, 1 / length) : [0, 0, 0];
    }

    private static double? Number(DicomDataset ds, DicomTag tag)
    {
        try
        {
            return ds.GetDouble(tag) is { } v && double.IsFinite(v) ? v : null;
        }
        catch (DicomFormatException)
        {
            return null;
        }
    }

    private static double[] Vector(DicomDataset ds, DicomTag tag)
    {
        try
        {
            double[] values = ds.GetDoubles(tag);
            return values.Length >= 3 && values.Take(3).All(double.IsFinite) ? values[..3] : [];
        }
        catch (DicomFormatException)
        {
            return [];
        }
    }
}
