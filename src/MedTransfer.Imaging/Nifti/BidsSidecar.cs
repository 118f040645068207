using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using MedTransfer.Dicom;
using MedTransfer.Imaging.Volumes;

namespace MedTransfer.Imaging.Nifti;

/// <summary>
/// The BIDS JSON sidecar of a NIfTI written from DICOM, with the key names dcm2niix uses (BIDS times in seconds):
/// acquisition parameters from the header of the series' first file, the slice timing when the files give it, and
/// the intensity scaling (for Philips: PhilipsRescaleSlope, PhilipsRescaleIntercept, PhilipsScaleSlope and
/// UsePhilipsFloatNotDisplayScaling, as dcm2niix). No patient attribute, date, time of day, free text (series
/// description, protocol name, comments) or site identifier (institution, station, serial number) is copied.
/// </summary>
public static class BidsSidecar
{
    // Indented, and without HTML-safe escaping: the file is read by BIDS tools, never embedded in a page.
    private static readonly JsonSerializerOptions s_options = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The sidecar text (indented JSON, invariant numbers) for <paramref name="volumes"/> of one NIfTI.</summary>
    /// <param name="header">A header of the series (e.g. its first file, read without pixels).</param>
    /// <param name="volumes">The volumes in the NIfTI, in order.</param>
    /// <param name="conversionSoftwareVersion">The version recorded as ConversionSoftwareVersion.</param>
    public static string Json(DicomDataset header, IReadOnlyList<AssembledVolume> volumes, string conversionSoftwareVersion)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(volumes);
        ArgumentNullException.ThrowIfNull(conversionSoftwareVersion);
        var json = new JsonObject();
        Text(json, "Modality", header, Tag.Modality);
        Number(json, "MagneticFieldStrength", header, Tag.MagneticFieldStrength);
        // MHz by the standard; some scanners write Hz, which is left out rather than guessed at.
        if (Numbers(header, Tag.ImagingFrequency) is [var mhz, ..] && mhz > 0 && mhz < 1000)
        {
            json["ImagingFrequency"] = mhz;
        }

        Text(json, "Manufacturer", header, Tag.Manufacturer);
        Text(json, "ManufacturersModelName", header, Tag.ManufacturerModelName);
        Text(json, "BodyPart", header, Tag.BodyPartExamined);
        Text(json, "PatientPosition", header, Tag.PatientPosition);
        Text(json, "SoftwareVersions", header, Tag.SoftwareVersions);
        Text(json, "MRAcquisitionType", header, Tag.MRAcquisitionType);
        Text(json, "ScanningSequence", header, Tag.ScanningSequence);
        Text(json, "SequenceVariant", header, Tag.SequenceVariant);
        Text(json, "ScanOptions", header, Tag.ScanOptions);
        Text(json, "SequenceName", header, Tag.SequenceName);
        string[] imageType = Strings(header, Tag.ImageType);
        if (imageType.Length > 0)
        {
            json["ImageType"] = new JsonArray([.. imageType.Select(v => (JsonNode)JsonValue.Create(v))]);
        }

        Number(json, "SeriesNumber", header, Tag.SeriesNumber);
        Number(json, "SliceThickness", header, Tag.SliceThickness);
        Number(json, "SpacingBetweenSlices", header, Tag.SpacingBetweenSlices);
        Number(json, "EchoTime", header, Tag.EchoTime, 0.001);
        Number(json, "RepetitionTime", header, Tag.RepetitionTime, 0.001);
        Number(json, "InversionTime", header, Tag.InversionTime, 0.001);
        Number(json, "FlipAngle", header, Tag.FlipAngle);
        Number(json, "EchoTrainLength", header, Tag.EchoTrainLength);
        Number(json, "PixelBandwidth", header, Tag.PixelBandwidth);
        Text(json, "InPlanePhaseEncodingDirectionDICOM", header, Tag.InPlanePhaseEncodingDirection);
        double[] orientation = Numbers(header, Tag.ImageOrientationPatient);
        if (orientation.Length == 6)
        {
            json["ImageOrientationPatientDICOM"] = new JsonArray([.. orientation.Select(v => (JsonNode)JsonValue.Create(v))]);
        }

        if (volumes.Count > 0 && volumes[0].SliceTiming is { } timing)
        {
            json["SliceTiming"] = new JsonArray([.. timing.Select(v => (JsonNode)JsonValue.Create(v))]);
        }

        VolumeScaling scaling = volumes.Count > 0 ? volumes[0].Scaling : VolumeScaling.Modality;
        if (scaling.Scale != IntensityScale.Modality)
        {
            Value(json, "PhilipsRescaleSlope", scaling.RescaleSlope);
            Value(json, "PhilipsRescaleIntercept", scaling.RescaleIntercept);
            Value(json, "PhilipsScaleSlope", scaling.PhilipsScaleSlope);
            json["UsePhilipsFloatNotDisplayScaling"] = scaling.Scale == IntensityScale.PhilipsFloat ? 1 : 0;
        }

        json["IntensityScaling"] = Name(scaling.Scale);
        json["ConversionSoftware"] = "MedTransfer";
        json["ConversionSoftwareVersion"] = conversionSoftwareVersion;
        return json.ToJsonString(s_options) + "\n";
    }

    /// <summary>"modality", "philips-float" or "philips-display": how the sidecar and the NIfTI description name the scaling.</summary>
    public static string Name(IntensityScale scale) => scale switch
    {
        IntensityScale.PhilipsFloat => "philips-float",
        IntensityScale.PhilipsDisplay => "philips-display",
        _ => "modality",
    };

    private static void Text(JsonObject json, string key, DicomDataset ds, DicomTag tag)
    {
        string[] values = Strings(ds, tag);
        if (values.Length > 0 && values[0].Length > 0)
        {
            json[key] = values[0];
        }
    }

    private static void Number(JsonObject json, string key, DicomDataset ds, DicomTag tag, double factor = 1)
    {
        double[] values = Numbers(ds, tag);
        if (values.Length > 0 && double.IsFinite(values[0]))
        {
            // Round away the binary noise of the unit change (ms to s) at the precision DS text carries.
            json[key] = factor == 1 ? values[0] : Math.Round(values[0] * factor, 9);
        }
    }

    private static void Value(JsonObject json, string key, double? value)
    {
        if (value is { } v && double.IsFinite(v))
        {
            json[key] = v;
        }
    }

    private static string[] Strings(DicomDataset ds, DicomTag tag)
    {
        try
        {
            return [.. ds.GetStrings(tag).Select(v => v.Trim())];
        }
        catch (DicomFormatException)
        {
            return [];
        }
    }

    private static double[] Numbers(DicomDataset ds, DicomTag tag)
    {
        try
        {
            return ds.GetDoubles(tag);
        }
        catch (DicomFormatException)
        {
            return [];
        }
    }
}
