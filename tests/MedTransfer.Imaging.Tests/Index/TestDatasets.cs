using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using MedTransfer.Dicom;

namespace MedTransfer.Imaging.Tests.Index;

/// <summary>Small generated datasets for the index, split and CLI tests: no patient data (ids are TEST-nnn).</summary>
internal static class TestDatasets
{
    /// <summary>One generated image: its path, SOP Instance UID and patient.</summary>
    internal sealed record Written(string Path, string Sop, string Patient, string Site);

    /// <summary>
    /// Two sites (folders siteA and siteB, InstitutionName "Hospital A"/"Hospital B"), <paramref name="patientsPerSite"/>
    /// patients each with <paramref name="imagesPerPatient"/> images: root/siteX/Pnnn/img-k.dcm.
    /// </summary>
    public static List<Written> TwoSites(string root, int patientsPerSite = 3, int imagesPerPatient = 2)
    {
        var written = new List<Written>();
        foreach ((string folder, string institution, int offset) in new[] { ("siteA", "Hospital A", 0), ("siteB", "Hospital B", 100) })
        {
            for (int p = 0; p < patientsPerSite; p++)
            {
                string patient = string.Create(CultureInfo.InvariantCulture, $"TEST-{offset + p:D3}");
                for (int k = 0; k < imagesPerPatient; k++)
                {
                    string sop = string.Create(CultureInfo.InvariantCulture, $"1.2.826.0.1.3680043.10.1.{offset + p}.{k + 1}");
                    string path = Path.Combine(root, folder, patient, string.Create(CultureInfo.InvariantCulture, $"img-{k}.dcm"));
                    WriteDicom(path, sop, patient, institution, age: "067Y", seed: (offset + p) * 10 + k);
                    written.Add(new Written(path, sop, patient, folder));
                }
            }
        }

        return written;
    }

    public static void WriteDicom(string path, string sop, string? patient, string institution = "Hospital A", string age = "045Y", int seed = 0, bool image = true)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var ds = new DicomDataset();
        ds.Set(Tag.SOPClassUID, DicomVR.UI, "1.2.840.10008.5.1.4.1.1.1");
        ds.Set(Tag.SOPInstanceUID, DicomVR.UI, sop);
        ds.Set(Tag.Modality, DicomVR.CS, "CR");
        ds.Set(Tag.Manufacturer, DicomVR.LO, "ACME");
        ds.Set(Tag.InstitutionName, DicomVR.LO, institution);
        ds.Set(Tag.ManufacturerModelName, DicomVR.LO, "Model 9");
        if (patient is not null)
        {
            ds.Set(Tag.PatientID, DicomVR.LO, patient);
        }

        ds.Set(Tag.PatientSex, DicomVR.CS, seed % 2 == 0 ? "F" : "M");
        ds.Set(Tag.PatientAge, DicomVR.AS, age);
        ds.Set(Tag.ViewPosition, DicomVR.CS, "PA");
        ds.Set(Tag.StudyInstanceUID, DicomVR.UI, sop + ".100");
        ds.Set(Tag.SeriesInstanceUID, DicomVR.UI, sop + ".200");
        if (image)
        {
            ds.SetNumbers(Tag.SamplesPerPixel, DicomVR.US, 1);
            ds.Set(Tag.PhotometricInterpretation, DicomVR.CS, "MONOCHROME2");
            ds.SetNumbers(Tag.Rows, DicomVR.US, 4);
            ds.SetNumbers(Tag.Columns, DicomVR.US, 6);
            ds.SetNumbers(Tag.BitsAllocated, DicomVR.US, 16);
            ds.SetNumbers(Tag.BitsStored, DicomVR.US, 12);
            ds.SetNumbers(Tag.HighBit, DicomVR.US, 11);
            ds.SetNumbers(Tag.PixelRepresentation, DicomVR.US, 0);
            byte[] pixels = new byte[4 * 6 * 2];
            for (int i = 0; i < pixels.Length; i += 2)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(pixels.AsSpan(i), (ushort)((seed * 37 + i) % 4096));
            }

            ds.SetBytes(DicomTag.PixelData, DicomVR.OW, pixels);
        }

        new DicomFile(ds, TransferSyntax.ExplicitVRLittleEndian).Save(path);
    }

    /// <summary>A PNG header (signature + IHDR) of the given size; pixels are never read by the indexer.</summary>
    public static byte[] Png(int width, int height)
    {
        var bytes = new byte[33];
        new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }.CopyTo(bytes, 0);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), 13);
        "IHDR"u8.CopyTo(bytes.AsSpan(12));
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(16), width);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(20), height);
        bytes[24] = 8;
        return bytes;
    }

    /// <summary>SOI, an APP0 segment, then SOF0 with the given size.</summary>
    public static byte[] Jpeg(int width, int height)
    {
        var bytes = new List<byte> { 0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x06, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0xFF, 0xC0, 0x00, 0x0B, 8 };
        bytes.AddRange([(byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, 1, 1, 0x11, 0]);
        bytes.AddRange([0xFF, 0xD9]);
        return [.. bytes];
    }

    /// <summary>A little-endian TIFF with one IFD holding ImageWidth and ImageLength.</summary>
    public static byte[] Tiff(int width, int height)
    {
        var bytes = new byte[8 + 2 + (2 * 12) + 4];
        "II*\0"u8.CopyTo(bytes);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 8);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), 2);
        WriteEntry(bytes.AsSpan(10), 256, width);
        WriteEntry(bytes.AsSpan(22), 257, height);
        return bytes;

        static void WriteEntry(Span<byte> span, ushort tag, int value)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(span, tag);
            BinaryPrimitives.WriteUInt16LittleEndian(span[2..], 4);
            BinaryPrimitives.WriteUInt32LittleEndian(span[4..], 1);
            BinaryPrimitives.WriteUInt32LittleEndian(span[8..], (uint)value);
        }
    }

    /// <summary>A NIfTI-1 single file (header, 4 bytes extension flag, float voxels).</summary>
    public static byte[] Nifti(int nx, int ny, int nz, bool gzip)
    {
        var bytes = new byte[352 + (nx * ny * nz * 4)];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, 348);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(40), 3);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(42), (short)nx);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(44), (short)ny);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(46), (short)nz);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(70), 16);
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(108), 352);
        "n+1\0"u8.CopyTo(bytes.AsSpan(344));
        if (!gzip)
        {
            return bytes;
        }

        using var output = new MemoryStream();
        using (var zip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            zip.Write(bytes);
        }

        return output.ToArray();
    }
}
