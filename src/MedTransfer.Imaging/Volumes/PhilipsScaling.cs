using System.Buffers.Binary;
using MedTransfer.Dicom;

namespace MedTransfer.Imaging.Volumes;

/// <summary>
/// Which intensities a Philips MR volume holds. Philips stores a display scaling in Rescale Slope / Intercept
/// (0028,1053/1052) and a second, private scale slope, MR Scale Slope (2005,100E): the "floating-point" values
/// FP = DV / (RS × SS), with DV = SV × RS + RI the display value of stored value SV, are the ones that keep their
/// meaning across acquisitions (quantitative maps, ASL). dcm2niix writes FP by default
/// ("UsePhilipsFloatNotDisplayScaling": 1 in its BIDS sidecar).
/// </summary>
public enum PhilipsScaling
{
    /// <summary>FP = (SV × RS + RI) / (RS × SS): dcm2niix's default. Images without MR Scale Slope keep their display values.</summary>
    Float,

    /// <summary>DV = SV × RS + RI: the modality LUT of the standard, as every other vendor's images.</summary>
    Display,
}

/// <summary>What intensities an assembled volume holds.</summary>
public enum IntensityScale
{
    /// <summary>Modality values: the standard's Rescale Slope / Intercept or Modality LUT.</summary>
    Modality,

    /// <summary>Philips floating-point values FP = DV / (RS × SS).</summary>
    PhilipsFloat,

    /// <summary>Philips display values DV = SV × RS + RI (MR Scale Slope present and not applied).</summary>
    PhilipsDisplay,
}

/// <summary>The intensity scaling of an assembled volume and the factors behind it (those of its first slice).</summary>
/// <param name="Scale">What the voxels hold.</param>
/// <param name="RescaleSlope">Rescale Slope (0028,1053) or the frame's, when present.</param>
/// <param name="RescaleIntercept">Rescale Intercept (0028,1052) or the frame's, when present.</param>
/// <param name="PhilipsScaleSlope">Philips MR Scale Slope, when present.</param>
public sealed record VolumeScaling(IntensityScale Scale, double? RescaleSlope = null, double? RescaleIntercept = null, double? PhilipsScaleSlope = null)
{
    /// <summary>Modality values without recorded factors.</summary>
    public static VolumeScaling Modality { get; } = new(IntensityScale.Modality);
}

/// <summary>Reads Philips' MR Scale Slope, from an enhanced frame's private item or the data set.</summary>
internal static class PhilipsScaleSlope
{
    private const string Creator = "Philips MR Imaging DD 001";
    private const string FrameCreator = "Philips MR Imaging DD 005";

    /// <summary>The MR Scale Slope of a Philips image (finite, not zero), or null for other vendors and when absent.</summary>
    public static double? Read(DicomDataset ds, DicomDataset? perFrame)
    {
        string manufacturer = ds.GetString(Tag.Manufacturer) ?? string.Empty;
        if (!manufacturer.Contains("philips", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        // Enhanced Philips images keep the per-frame value in the private functional group (2005,xx0F) of each frame.
        if (perFrame is not null && PrivateTags.Find(perFrame, 0x2005, FrameCreator, 0x0F) is { } group
            && perFrame.GetSequence(group) is { Count: > 0 } items && Value(items[0]) is { } frameValue)
        {
            return frameValue;
        }

        return Value(ds);
    }

    private static double? Value(DicomDataset item)
    {
        if (PrivateTags.Find(item, 0x2005, Creator, 0x0E) is not { } tag)
        {
            return null;
        }

        try
        {
            // FL by the Philips dictionary; a file relayed in implicit VR carries it as 4 bytes of UN.
            double? value = item.TryGetElement(tag, out DicomElement? e) && e.VR == DicomVR.UN && e.Value.Length == 4
                ? BinaryPrimitives.ReadSingleLittleEndian(e.Value.Span)
                : item.GetDouble(tag);
            return value is { } v && double.IsFinite(v) && v != 0 ? v : null;
        }
        catch (DicomFormatException)
        {
            return null;
        }
    }
}
