using MedTransfer.Dicom;

namespace MedTransfer.Imaging.Tests.Images;

/// <summary>Small greyscale DICOM files written with the project's own DICOM writer.</summary>
internal static class DicomTestFiles
{
    public static DicomDataset Dataset(int columns, int rows, ushort[] stored, string photometric, double[]? spacing = null, int bitsStored = 16, (double Center, double Width)? window = null)
    {
        var ds = new DicomDataset();
        ds.Set(new DicomTag(0x0008, 0x0016), DicomVR.UI, "1.2.840.10008.5.1.4.1.1.1.1");
        ds.Set(new DicomTag(0x0008, 0x0018), DicomVR.UI, "2.25.4242424242");
        ds.Set(new DicomTag(0x0008, 0x0060), DicomVR.CS, "DX");
        ds.SetNumbers(new DicomTag(0x0028, 0x0002), DicomVR.US, 1);
        ds.Set(new DicomTag(0x0028, 0x0004), DicomVR.CS, photometric);
        ds.SetNumbers(Tag.Rows, DicomVR.US, rows);
        ds.SetNumbers(Tag.Columns, DicomVR.US, columns);
        ds.SetNumbers(Tag.BitsAllocated, DicomVR.US, 16);
        ds.SetNumbers(Tag.BitsStored, DicomVR.US, bitsStored);
        ds.SetNumbers(Tag.HighBit, DicomVR.US, bitsStored - 1);
        ds.SetNumbers(new DicomTag(0x0028, 0x0103), DicomVR.US, 0);
        if (spacing is not null)
        {
            ds.SetNumbers(Tag.PixelSpacing, DicomVR.DS, spacing);
        }

        if (window is { } w)
        {
            ds.SetNumbers(new DicomTag(0x0028, 0x1050), DicomVR.DS, w.Center);
            ds.SetNumbers(new DicomTag(0x0028, 0x1051), DicomVR.DS, w.Width);
        }

        var bytes = new byte[stored.Length * 2];
        for (int i = 0; i < stored.Length; i++)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(i * 2), stored[i]);
        }

        ds.SetBytes(DicomTag.PixelData, DicomVR.OW, bytes);
        return ds;
    }

    public static void Write(string path, int columns, int rows, ushort[] stored, string photometric, double[]? spacing = null, int bitsStored = 16, (double Center, double Width)? window = null) =>
        new DicomFile(Dataset(columns, rows, stored, photometric, spacing, bitsStored, window), TransferSyntax.ExplicitVRLittleEndian).Save(path);
}
