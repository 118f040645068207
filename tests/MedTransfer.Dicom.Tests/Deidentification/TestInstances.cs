namespace MedTransfer.Dicom.Tests.Deidentification;

/// <summary>Small generated instances (a 2×2 CT-like image) for the de-identification tests.</summary>
internal static class TestInstances
{
    public const string CtImageStorage = "1.2.840.10008.5.1.4.1.1.2";

    public static readonly DicomTag StudyInstanceUid = new(0x0020, 0x000D);
    public static readonly DicomTag SeriesInstanceUid = new(0x0020, 0x000E);
    public static readonly DicomTag FrameOfReferenceUid = new(0x0020, 0x0052);
    public static readonly DicomTag StudyDate = new(0x0008, 0x0020);
    public static readonly DicomTag StudyTime = new(0x0008, 0x0030);
    public static readonly DicomTag ContentDate = new(0x0008, 0x0023);
    public static readonly DicomTag AcquisitionDateTime = new(0x0008, 0x002A);
    public static readonly DicomTag InstanceCreationDate = new(0x0008, 0x0012);
    public static readonly DicomTag InstanceCreationTime = new(0x0008, 0x0013);
    public static readonly DicomTag PatientBirthDate = new(0x0010, 0x0030);
    public static readonly DicomTag PatientSex = new(0x0010, 0x0040);
    public static readonly DicomTag PatientAge = new(0x0010, 0x1010);
    public static readonly DicomTag StationName = new(0x0008, 0x1010);
    public static readonly DicomTag DeviceSerialNumber = new(0x0018, 0x1000);
    public static readonly DicomTag InstitutionName = new(0x0008, 0x0080);
    public static readonly DicomTag ReferencedImageSequence = new(0x0008, 0x1140);
    public static readonly DicomTag ReferencedSopClassUid = new(0x0008, 0x1150);
    public static readonly DicomTag ReferencedSopInstanceUid = new(0x0008, 0x1155);
    public static readonly DicomTag Modality = new(0x0008, 0x0060);
    public static readonly DicomTag Rows = new(0x0028, 0x0010);
    public static readonly DicomTag Columns = new(0x0028, 0x0011);

    public static DicomDataset Image(
        string patientId = "PAT-001",
        string patientName = "Doe^Jane",
        string studyUid = "1.2.3.100",
        string seriesUid = "1.2.3.100.1",
        string sopUid = "1.2.3.100.1.1",
        string studyDate = "20200115",
        bool pixels = true)
    {
        var ds = new DicomDataset();
        ds.Set(new DicomTag(0x0008, 0x0016), DicomVR.UI, CtImageStorage);
        ds.Set(new DicomTag(0x0008, 0x0018), DicomVR.UI, sopUid);
        ds.Set(StudyDate, DicomVR.DA, studyDate);
        ds.Set(StudyTime, DicomVR.TM, "101530.25");
        ds.Set(ContentDate, DicomVR.DA, studyDate);
        ds.Set(Modality, DicomVR.CS, "CT");
        ds.Set(InstitutionName, DicomVR.LO, "General Hospital");
        ds.Set(StationName, DicomVR.SH, "CTSTATION1");
        ds.Set(new DicomTag(0x0010, 0x0010), DicomVR.PN, patientName);
        ds.Set(new DicomTag(0x0010, 0x0020), DicomVR.LO, patientId);
        ds.Set(PatientBirthDate, DicomVR.DA, "19700101");
        ds.Set(PatientSex, DicomVR.CS, "F");
        ds.Set(PatientAge, DicomVR.AS, "050Y");
        ds.Set(DeviceSerialNumber, DicomVR.LO, "SN-12345");
        ds.Set(StudyInstanceUid, DicomVR.UI, studyUid);
        ds.Set(SeriesInstanceUid, DicomVR.UI, seriesUid);
        ds.Set(FrameOfReferenceUid, DicomVR.UI, studyUid + ".9");
        if (pixels)
        {
            ds.SetNumbers(new DicomTag(0x0028, 0x0002), DicomVR.US, 1);
            ds.Set(new DicomTag(0x0028, 0x0004), DicomVR.CS, "MONOCHROME2");
            ds.SetNumbers(Rows, DicomVR.US, 2);
            ds.SetNumbers(Columns, DicomVR.US, 2);
            ds.SetNumbers(new DicomTag(0x0028, 0x0100), DicomVR.US, 16);
            ds.SetNumbers(new DicomTag(0x0028, 0x0101), DicomVR.US, 12);
            ds.SetNumbers(new DicomTag(0x0028, 0x0102), DicomVR.US, 11);
            ds.SetNumbers(new DicomTag(0x0028, 0x0103), DicomVR.US, 0);
            ds.SetBytes(DicomTag.PixelData, DicomVR.OW, new byte[] { 1, 0, 2, 0, 3, 0, 4, 0 });
        }

        return ds;
    }

    public static DicomDataset ReferenceItem(string sopUid)
    {
        var item = new DicomDataset();
        item.Set(ReferencedSopClassUid, DicomVR.UI, CtImageStorage);
        item.Set(ReferencedSopInstanceUid, DicomVR.UI, sopUid);
        return item;
    }

    public static string Save(DicomDataset ds, string path)
    {
        new DicomFile(ds).Save(path);
        return path;
    }
}
