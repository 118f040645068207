using MedTransfer.Dicom.Pixels;

namespace MedTransfer.Dicom.Tests.Pixels;

/// <summary>Data sets holding only an image pixel module and encapsulated Pixel Data, for the codec and frame tests.</summary>
internal static class EncapsulatedDatasets
{
    /// <summary>The attributes of <paramref name="module"/> (Number of Frames when above 1) and <paramref name="fragments"/> as Pixel Data.</summary>
    public static DicomDataset Create(PixelModule module, DicomFragments fragments)
    {
        var ds = new DicomDataset();
        ds.SetNumbers(new DicomTag(0x0028, 0x0002), DicomVR.US, module.SamplesPerPixel);
        ds.Set(new DicomTag(0x0028, 0x0004), DicomVR.CS, module.PhotometricInterpretation);
        if (module.SamplesPerPixel > 1)
        {
            ds.SetNumbers(new DicomTag(0x0028, 0x0006), DicomVR.US, module.PlanarConfiguration);
        }

        if (module.NumberOfFrames > 1)
        {
            ds.SetNumbers(new DicomTag(0x0028, 0x0008), DicomVR.IS, module.NumberOfFrames);
        }

        ds.SetNumbers(new DicomTag(0x0028, 0x0010), DicomVR.US, module.Rows);
        ds.SetNumbers(new DicomTag(0x0028, 0x0011), DicomVR.US, module.Columns);
        ds.SetNumbers(new DicomTag(0x0028, 0x0100), DicomVR.US, module.BitsAllocated);
        ds.SetNumbers(new DicomTag(0x0028, 0x0101), DicomVR.US, module.BitsStored);
        ds.SetNumbers(new DicomTag(0x0028, 0x0102), DicomVR.US, module.HighBit);
        ds.SetNumbers(new DicomTag(0x0028, 0x0103), DicomVR.US, module.PixelRepresentation);
        ds.SetFragments(DicomTag.PixelData, DicomVR.OB, fragments);
        return ds;
    }

    /// <summary>One frame in one fragment, padded to an even length with a zero as PS3.5 A.4 requires.</summary>
    public static DicomDataset OneFragment(PixelModule module, byte[] stream) =>
        Create(module, new DicomFragments([], [stream.Length % 2 == 0 ? stream : [.. stream, 0]]));
}
