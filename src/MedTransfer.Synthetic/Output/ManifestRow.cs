using System.Globalization;
using System.Text;

namespace MedTransfer.Synthetic.Output;

/// <summary>One line of manifest.csv: one DICOM file.</summary>
internal sealed record ManifestRow(
    string Id,
    string Path,
    string Patient,
    string Study,
    string Series,
    string Site,
    string SiteRole,
    string Modality,
    int Label,
    string Finding,
    string Sex,
    int Age,
    string AgeBand,
    string Split,
    int Instance,
    string TransferSyntax)
{
    public const string Header = "id,path,patient,study,series,site,site_role,modality,label,finding,sex,age,age_band,split_suggestion,instance,transfer_syntax";

    public static ManifestRow For(StudyPlan study, string sop, string path, string modality, string finding, int instance, string syntax)
    {
        PatientPlan p = study.Patient;
        return new ManifestRow(sop, path, p.Id, study.StudyUid, study.SeriesUid, p.Site.Id, p.Site.Role, modality, study.Label ? 1 : 0, finding, p.Sex, p.Age, p.AgeBand, p.Split, instance, syntax);
    }

    public void AppendTo(StringBuilder csv)
    {
        // No field can hold a comma, quote or newline (UIDs, fixed words, generated IDs), so no quoting is needed.
        csv.Append(CultureInfo.InvariantCulture, $"{Id},{Path},{Patient},{Study},{Series},{Site},{SiteRole},{Modality},{Label},{Finding},{Sex},{Age},{AgeBand},{Split},{Instance},{TransferSyntax}\n");
    }
}
