using MedTransfer.Dicom;
using MedTransfer.Dicom.Pixels;
using MedTransfer.Synthetic.Codecs;

namespace MedTransfer.Synthetic.Output;

/// <summary>The tags every generated file shares, and pixel encoding in the site's transfer syntax.</summary>
internal static class DicomOutput
{
    /// <summary>The fixed date written as the instance creation date: never the clock.</summary>
    public const string CreationDate = "20250101";

    public static DicomDataset Common(StudyPlan study, string sopClassUid, string sopInstanceUid, string modality, string manufacturer, string model, string station)
    {
        PatientPlan patient = study.Patient;
        string date = study.Date.ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture);
        var ds = new DicomDataset();
        ds.Set(Tag.SpecificCharacterSet, DicomVR.CS, "ISO_IR 192");
        ds.Set(Tag.InstanceCreationDate, DicomVR.DA, CreationDate);
        ds.Set(Tag.SOPClassUID, DicomVR.UI, sopClassUid);
        ds.Set(Tag.SOPInstanceUID, DicomVR.UI, sopInstanceUid);
        ds.Set(Tag.StudyDate, DicomVR.DA, date);
        ds.Set(Tag.SeriesDate, DicomVR.DA, date);
        ds.Set(Tag.ContentDate, DicomVR.DA, date);
        ds.Set(Tag.StudyTime, DicomVR.TM, study.Time);
        ds.Set(Tag.SeriesTime, DicomVR.TM, study.Time);
        ds.Set(Tag.ContentTime, DicomVR.TM, study.Time);
        ds.Set(Tag.AccessionNumber, DicomVR.SH, study.Accession);
        ds.Set(Tag.Modality, DicomVR.CS, modality);
        ds.Set(Tag.Manufacturer, DicomVR.LO, manufacturer);
        ds.Set(Tag.InstitutionName, DicomVR.LO, patient.Site.InstitutionName);
        ds.Set(Tag.ReferringPhysicianName, DicomVR.PN, string.Empty);
        ds.Set(Tag.StationName, DicomVR.SH, station);
        ds.Set(Tag.ManufacturerModelName, DicomVR.LO, model);
        ds.Set(Tag.PatientName, DicomVR.PN, patient.Name);
        ds.Set(Tag.PatientID, DicomVR.LO, patient.Id);
        ds.Set(Tag.PatientBirthDate, DicomVR.DA, string.Empty);
        ds.Set(Tag.PatientSex, DicomVR.CS, patient.Sex);
        ds.Set(Tag.PatientAge, DicomVR.AS, patient.AgeText);
        ds.Set(Tag.PatientIdentityRemoved, DicomVR.CS, "YES");
        ds.Set(Tag.DeidentificationMethod, DicomVR.LO, "SYNTHETIC PHANTOM - NO PATIENT DATA");
        ds.Set(Tag.DeviceSerialNumber, DicomVR.LO, "DEV" + patient.Site.Id + "00417");
        ds.Set(Tag.SoftwareVersions, DicomVR.LO, "MEDTRANSFER SYNTHETIC 1");
        ds.Set(Tag.StudyInstanceUID, DicomVR.UI, study.StudyUid);
        ds.Set(Tag.SeriesInstanceUID, DicomVR.UI, study.SeriesUid);
        ds.Set(Tag.StudyID, DicomVR.SH, study.Index.ToString(System.Globalization.CultureInfo.InvariantCulture));
        ds.SetNumbers(Tag.SeriesNumber, DicomVR.IS, 1);
        return ds;
    }

    /// <summary>Stores a little-endian 16-bit frame as native OW, RLE fragments or lossless JPEG fragments.</summary>
    public static TransferSyntax SetPixels(DicomDataset ds, PixelModule module, byte[] frame, string transferSyntaxUid)
    {
        TransferSyntax syntax = TransferSyntax.Lookup(transferSyntaxUid);
        if (transferSyntaxUid == TransferSyntax.RleLossless.Uid)
        {
            ds.SetFragments(DicomTag.PixelData, DicomVR.OB, new DicomFragments([], [RleEncoder.EncodeFrame(module, frame)]));
        }
        else if (transferSyntaxUid == TransferSyntax.JpegLosslessFirstOrder.Uid)
        {
            ds.SetFragments(DicomTag.PixelData, DicomVR.OB, new DicomFragments([], [JpegLosslessEncoder.EncodeFrame(module, frame)]));
        }
        else if (!syntax.IsEncapsulated)
        {
            ds.SetBytes(DicomTag.PixelData, DicomVR.OW, frame);
        }
        else
        {
            throw new ArgumentException($"The generator cannot encode transfer syntax {transferSyntaxUid}.", nameof(transferSyntaxUid));
        }

        return syntax;
    }

    public static void Save(DicomDataset ds, TransferSyntax syntax, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        new DicomFile(ds, syntax).Save(path, new DicomWriteOptions { TransferSyntax = syntax });
    }

    public static byte[] ToBytes(ushort[] values)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            bytes[2 * i] = (byte)values[i];
            bytes[(2 * i) + 1] = (byte)(values[i] >> 8);
        }

        return bytes;
    }
}
