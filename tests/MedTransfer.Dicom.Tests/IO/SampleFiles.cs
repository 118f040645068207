namespace MedTransfer.Dicom.Tests.IO;

/// <summary>Generated data sets and files used across the reader, writer and security tests.</summary>
internal static class SampleFiles
{
    public static readonly DicomTag SpecificCharacterSet = new(0x0008, 0x0005);
    public static readonly DicomTag ImageType = new(0x0008, 0x0008);
    public static readonly DicomTag SopClassUid = new(0x0008, 0x0016);
    public static readonly DicomTag SopInstanceUid = new(0x0008, 0x0018);
    public static readonly DicomTag ReferencedSeriesSequence = new(0x0008, 0x1115);
    public static readonly DicomTag ReferencedImageSequence = new(0x0008, 0x1140);
    public static readonly DicomTag ReferencedSopInstanceUid = new(0x0008, 0x1155);
    public static readonly DicomTag PatientName = new(0x0010, 0x0010);
    public static readonly DicomTag PatientId = new(0x0010, 0x0020);
    public static readonly DicomTag SliceThickness = new(0x0018, 0x0050);
    public static readonly DicomTag InstanceNumber = new(0x0020, 0x0013);
    public static readonly DicomTag ImagePosition = new(0x0020, 0x0032);
    public static readonly DicomTag SamplesPerPixel = new(0x0028, 0x0002);
    public static readonly DicomTag Rows = new(0x0028, 0x0010);
    public static readonly DicomTag Columns = new(0x0028, 0x0011);
    public static readonly DicomTag PixelSpacing = new(0x0028, 0x0030);
    public static readonly DicomTag BitsAllocated = new(0x0028, 0x0100);
    public static readonly DicomTag PixelRepresentation = new(0x0028, 0x0103);
    public static readonly DicomTag SignedShort = new(0x0018, 0x9219);
    public static readonly DicomTag RescaleIntercept = new(0x0028, 0x1052);
    public static readonly DicomTag SimpleFrameList = new(0x0008, 0x1161);
    public static readonly DicomTag ReferencedFrameNumber = new(0x0040, 0xA136);
        public static readonly DicomTag FloatValue = new(0x0018, 0x6060);
    public static readonly DicomTag DoubleValue = new(0x0040, 0xA161);
    public static readonly DicomTag SignedLong = new(0x0040, 0xA162);
    public static readonly DicomTag PrivateCreator = new(0x0029, 0x0010);
    public static readonly DicomTag PrivateValue = new(0x0029, 0x1010);
    public static readonly DicomTag TrailingPadding = new(0xFFFC, 0xFFFC);

    /// <summary>A data set with strings, multi-valued strings, every numeric VR, nested and empty sequences and native pixels.</summary>
    public static DicomDataset Rich(int rows = 4, int columns = 6)
    {
        var ds = new DicomDataset();
        ds.Set(SpecificCharacterSet, DicomVR.CS, "ISO_IR 192");
        ds.Set(ImageType, DicomVR.CS, "ORIGINAL", "PRIMARY", "AXIAL");
        ds.Set(SopClassUid, DicomVR.UI, "1.2.840.10008.5.1.4.1.1.7");
        ds.Set(SopInstanceUid, DicomVR.UI, "1.2.3.4.5.6.7");
        ds.Set(PatientName, DicomVR.PN, "Müller^Jürgen");
        ds.Set(PatientId, DicomVR.LO, "ID-1");
        ds.SetNumbers(SliceThickness, DicomVR.DS, 2.5);
        ds.SetNumbers(InstanceNumber, DicomVR.IS, 7);
        ds.SetNumbers(ImagePosition, DicomVR.DS, -125.5, 0.1, 1.0 / 3);
        ds.SetNumbers(SamplesPerPixel, DicomVR.US, 1);
        ds.SetNumbers(Rows, DicomVR.US, rows);
        ds.SetNumbers(Columns, DicomVR.US, columns);
        ds.SetNumbers(PixelSpacing, DicomVR.DS, 0.5, 0.25);
        ds.SetNumbers(BitsAllocated, DicomVR.US, 16);
        ds.SetNumbers(PixelRepresentation, DicomVR.US, 1);
        ds.SetNumbers(SignedShort, DicomVR.SS, -1024);
        ds.SetNumbers(RescaleIntercept, DicomVR.DS, -1024);
        ds.SetNumbers(SimpleFrameList, DicomVR.UL, 1, 2, 4000000000);
        ds.SetNumbers(SignedLong, DicomVR.SL, -70000, 70000);
        ds.SetNumbers(FloatValue, DicomVR.FL, 1.5, -2.25);
        ds.SetNumbers(DoubleValue, DicomVR.FD, Math.PI, -1e300);
        ds.Set(PrivateCreator, DicomVR.LO, "MEDTRANSFER TEST");
        ds.SetBytes(PrivateValue, DicomVR.UN, new byte[] { 1, 2, 3, 4, 5, 6 });

        var inner = new DicomDataset();
        inner.Set(ReferencedSopInstanceUid, DicomVR.UI, "1.2.3.9");
        inner.SetSequence(ReferencedImageSequence, []);
        var emptyItem = new DicomDataset();
        var deep = new DicomDataset();
        deep.Set(ReferencedSopInstanceUid, DicomVR.UI, "1.2.3.10");
        var middle = new DicomDataset();
        middle.SetSequence(ReferencedImageSequence, [deep, emptyItem]);
        ds.SetSequence(ReferencedSeriesSequence, [inner, middle]);

        // Text is encoded with the character set in force when it is set: the item inherits UTF-8 once attached.
        middle.Set(PatientName, DicomVR.PN, "Ñandú");
        ds.SetSequence(ReferencedImageSequence, []);

        byte[] pixels = new byte[rows * columns * 2];
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (byte)(i * 7);
        }

        ds.SetBytes(DicomTag.PixelData, DicomVR.OW, pixels);
        return ds;
    }

    /// <summary>Encapsulated pixel data: a two-entry offset table and three fragments (two frames).</summary>
    public static DicomFragments Fragments() => new(
        [0u, 16u],
        [new byte[] { 0xFF, 0xD8, 1, 2, 3, 4, 0xFF, 0xD9 }, new byte[] { 5, 6 }, new byte[] { 0xFF, 0xD8, 7, 8, 9, 10, 0xFF, 0xD9 }]);

    /// <summary>The rich data set with encapsulated instead of native Pixel Data.</summary>
    public static DicomDataset RichEncapsulated()
    {
        DicomDataset ds = Rich();
        ds.SetFragments(DicomTag.PixelData, DicomVR.OB, Fragments());
        return ds;
    }

    public static byte[] Write(DicomDataset ds, TransferSyntax syntax, SequenceLengthEncoding sequences = SequenceLengthEncoding.Undefined)
    {
        using var ms = new MemoryStream();
        new DicomFile(ds, syntax).Save(ms, new DicomWriteOptions { TransferSyntax = syntax, SequenceLength = sequences });
        return ms.ToArray();
    }

    /// <summary>A Part 10 file in explicit VR little endian whose data set ends with trailing padding after the pixels.</summary>
    public static byte[] RichFile(bool encapsulated = false, SequenceLengthEncoding sequences = SequenceLengthEncoding.Undefined)
    {
        DicomDataset ds = encapsulated ? RichEncapsulated() : Rich();
        return Write(ds, encapsulated ? TransferSyntax.JpegBaseline : TransferSyntax.ExplicitVRLittleEndian, sequences);
    }
}
