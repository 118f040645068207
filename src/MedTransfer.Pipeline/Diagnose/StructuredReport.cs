using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using MedTransfer.Dicom;

namespace MedTransfer.Pipeline.Diagnose;

/// <summary>
/// The result of one study as a DICOM Basic Text SR (PS3.3 A.35.1; SOP class 1.2.840.10008.5.1.4.1.1.88.11) in the
/// source study: patient and general study modules copied from one of the study's images, a new SR series, and a
/// CONTAINER root whose TEXT items give the score, label, shift flag and model. Series and instance UIDs are
/// derived from the study and the model hash (2.25 UIDs, PS3.5 B.2), so storing a result twice replaces it.
/// </summary>
internal static class StructuredReport
{
    /// <summary>Basic Text SR Storage.</summary>
    public const string BasicTextSrClass = "1.2.840.10008.5.1.4.1.1.88.11";

    private static readonly DicomTag[] _copied =
    [
        Tag.SpecificCharacterSet, Tag.PatientName, Tag.PatientID, Tag.PatientBirthDate, Tag.PatientSex,
        Tag.StudyInstanceUID, Tag.StudyDate, Tag.StudyTime, Tag.ReferringPhysicianName, Tag.StudyID, Tag.AccessionNumber,
    ];

    /// <summary>The SR as Part 10 bytes.</summary>
    /// <param name="source">The data set of one of the study's images.</param>
    /// <param name="record">The study's result (not quarantined).</param>
    /// <param name="model">The model that produced it.</param>
    /// <param name="now">Content date and time.</param>
    public static byte[] Build(DicomDataset source, DiagnosisRecord record, ModelDescriptor model, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(model);
        string studyUid = source.GetString(Tag.StudyInstanceUID)?.Trim() ?? throw new ArgumentException("The source has no Study Instance UID.", nameof(source));
        var sr = new DicomDataset();
        foreach (DicomTag tag in _copied)
        {
            if (source.TryGetElement(tag, out DicomElement? element))
            {
                sr.Set(element);
            }
        }

        string instanceUid = DerivedUid("instance", studyUid, model.Sha256);
        sr.Set(Tag.SOPClassUID, DicomVR.UI, BasicTextSrClass);
        sr.Set(Tag.SOPInstanceUID, DicomVR.UI, instanceUid);
        sr.Set(Tag.Modality, DicomVR.CS, "SR");
        sr.Set(Tag.SeriesInstanceUID, DicomVR.UI, DerivedUid("series", studyUid, model.Sha256));
        sr.Set(Tag.SeriesNumber, DicomVR.IS, "9001");
        sr.Set(Tag.InstanceNumber, DicomVR.IS, "1");
        sr.Set(Tag.Manufacturer, DicomVR.LO, "MedTransfer");
        sr.Set(Tag.ContentDate, DicomVR.DA, now.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture));
        sr.Set(Tag.ContentTime, DicomVR.TM, now.UtcDateTime.ToString("HHmmss", CultureInfo.InvariantCulture));
        sr.Set(Tag.ValueType, DicomVR.CS, "CONTAINER");
        sr.SetSequence(Tag.ConceptNameCodeSequence, [Code("MTDX", "MedTransfer AI diagnosis")]);
        sr.Set(Tag.ContinuityOfContent, DicomVR.CS, "SEPARATE");
        sr.Set(Tag.CompletionFlag, DicomVR.CS, "COMPLETE");
        sr.Set(Tag.VerificationFlag, DicomVR.CS, "UNVERIFIED");
        var items = new List<DicomDataset>
        {
            Text("MTSCORE", "Score", string.Create(CultureInfo.InvariantCulture, $"{record.Score:F6} (probability of '{model.Classes[model.PositiveClass]}', maximum over {record.Images} image(s))")),
            Text("MTLABEL", "Label", record.Label ?? string.Empty),
            Text("MTSHIFT", "Shift flag", record.ShiftFlag switch
            {
                true => string.Create(CultureInfo.InvariantCulture, $"FLAGGED: unlike the training data (shift score {record.ShiftScore:F4})"),
                false => string.Create(CultureInfo.InvariantCulture, $"not flagged (shift score {record.ShiftScore:F4})"),
                null => "no shift monitor in this model",
            }),
            Text("MTMODEL", "Model", "sha256 " + model.Sha256),
            Text("MTSTATUS", "Status", record.Status == StudyStatus.Ok ? "all images scored" : "some images could not be read: " + record.Reason),
        };
        sr.SetSequence(Tag.ContentSequence, items);
        var meta = new DicomDataset();
        meta.Set(Tag.MediaStorageSOPClassUID, DicomVR.UI, BasicTextSrClass);
        meta.Set(Tag.MediaStorageSOPInstanceUID, DicomVR.UI, instanceUid);
        using var stream = new MemoryStream();
        new DicomFile(sr, TransferSyntax.ExplicitVRLittleEndian, meta).Save(stream);
        return stream.ToArray();
    }

    /// <summary>A 2.25 UID from a SHA-256 of the parts (the first 128 bits as an unsigned decimal, PS3.5 B.2).</summary>
    public static string DerivedUid(params string[] parts)
    {
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes("medtransfer-diagnose:" + string.Join('\u001f', parts)));
        var value = new BigInteger(hash.AsSpan(0, 16), isUnsigned: true, isBigEndian: true);
        return "2.25." + value.ToString(CultureInfo.InvariantCulture);
    }

    private static DicomDataset Code(string value, string meaning)
    {
        var code = new DicomDataset();
        code.Set(Tag.CodeValue, DicomVR.SH, value);
        code.Set(Tag.CodingSchemeDesignator, DicomVR.SH, "99MEDTRANSFER");
        code.Set(Tag.CodeMeaning, DicomVR.LO, meaning);
        return code;
    }

    private static DicomDataset Text(string code, string meaning, string text)
    {
        var item = new DicomDataset();
        item.Set(Tag.RelationshipType, DicomVR.CS, "CONTAINS");
        item.Set(Tag.ValueType, DicomVR.CS, "TEXT");
        item.SetSequence(Tag.ConceptNameCodeSequence, [Code(code, meaning)]);
        item.Set(Tag.TextValue, DicomVR.UT, text);
        return item;
    }
}
