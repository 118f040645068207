using System.Globalization;
using MedTransfer.Synthetic.Phantoms;
using MedTransfer.Synthetic.Randomness;

namespace MedTransfer.Synthetic.Output;

/// <summary>A fictitious patient.</summary>
internal sealed record PatientPlan(SiteProfile Site, string Id, string Name, string Sex, int Age, bool Positive, string Split)
{
    public string AgeText => Age.ToString("D3", CultureInfo.InvariantCulture) + "Y";

    public string AgeBand => Age switch
    {
        < 40 => "18-39",
        < 60 => "40-59",
        < 80 => "60-79",
        _ => "80+",
    };
}

/// <summary>The identity of one study/series shared by its files.</summary>
internal sealed record StudyPlan(PatientPlan Patient, int Index, string StudyUid, string SeriesUid, string FrameOfReferenceUid, DateOnly Date, string Time, string Accession, bool Label);

/// <summary>One radiograph to write.</summary>
internal sealed record RadiographPlan(StudyPlan Study, string SopUid, string RelativePath, ChestFinding Finding, bool Shortcut, string RandomKey);

/// <summary>One MRI series to write (one file per slice).</summary>
internal sealed record MriPlan(StudyPlan Study, IReadOnlyList<string> SopUids, IReadOnlyList<string> RelativePaths, string RandomKey);

/// <summary>
/// Who is in the sample set: patients per site with sex, age, label and a patient-level split, and their studies,
/// drawn only from named sub-streams of the seed so that the plan (and every UID) is the same on every run.
/// </summary>
internal sealed class SamplePlan
{
    private static readonly DateOnly s_firstStudyDay = new(2024, 3, 1);

    public SamplePlan(IReadOnlyList<SiteProfile> sites, SampleDataScale scale, SeededRandom root)
    {
        (int counts, int resolution) = Factors(scale);
        CountFactor = counts;
        ResolutionFactor = resolution;
        var uids = new UidFactory(root);
        var radiographs = new List<RadiographPlan>();
        var mri = new List<MriPlan>();
        foreach (SiteProfile site in sites)
        {
            radiographs.AddRange(PlanRadiographs(site, site.Radiograph.Images * counts, root.Derive($"plan/{site.Id}/cxr"), uids));
            mri.AddRange(PlanMri(site, site.Mri.Series * counts, root.Derive($"plan/{site.Id}/mri"), uids));
        }

        Radiographs = radiographs;
        Mri = mri;
    }

    public int CountFactor { get; }

    public int ResolutionFactor { get; }

    public IReadOnlyList<RadiographPlan> Radiographs { get; }

    public IReadOnlyList<MriPlan> Mri { get; }

    public static (int Counts, int Resolution) Factors(SampleDataScale scale) => scale switch
    {
        SampleDataScale.Small => (1, 1),
        SampleDataScale.Medium => (4, 2),
        SampleDataScale.Large => (10, 4),
        _ => throw new ArgumentOutOfRangeException(nameof(scale), scale, "Unknown scale."),
    };

    private static List<RadiographPlan> PlanRadiographs(SiteProfile site, int images, SeededRandom r, UidFactory uids)
    {
        // Patients have 1 (70%), 2 (20%) or 3 (10%) radiographs until the site's count is reached.
        var perPatient = new List<int>();
        int total = 0;
        while (total < images)
        {
            double u = r.NextDouble();
            int n = Math.Min(u < 0.7 ? 1 : u < 0.9 ? 2 : 3, images - total);
            perPatient.Add(n);
            total += n;
        }

        List<PatientPlan> patients = Patients(site, perPatient.Count, 1, site.Radiograph.Prevalence, r);
        var plans = new List<RadiographPlan>();
        for (int p = 0; p < patients.Count; p++)
        {
            PatientPlan patient = patients[p];
            DateOnly date = s_firstStudyDay.AddDays(r.NextInt(540));
            ChestFinding finding = !patient.Positive ? ChestFinding.None : r.NextDouble() < 0.55 ? ChestFinding.Focal : ChestFinding.Diffuse;
            for (int k = 0; k < perPatient[p]; k++)
            {
                string key = string.Create(CultureInfo.InvariantCulture, $"{site.Id}/cxr/{patient.Id}/{k + 1}");
                StudyPlan study = Study(patient, k + 1, date, key, patient.Positive, r, uids);
                double shortcutRate = patient.Positive ? 0.6 : 0.15;
                bool shortcut = site.Radiograph.ShortcutMarker is not null && r.NextDouble() < shortcutRate;
                string path = string.Create(CultureInfo.InvariantCulture, $"cxr/{site.Id}/{patient.Id}/study-{k + 1}.dcm");
                plans.Add(new RadiographPlan(study, uids.Create(key + "/sop"), path, finding, shortcut, key));
                date = date.AddDays(3 + r.NextInt(120));
            }
        }

        return plans;
    }

    private static List<MriPlan> PlanMri(SiteProfile site, int series, SeededRandom r, UidFactory uids)
    {
        // Patients have one series, or two (a follow-up) when the count allows: every third patient.
        var perPatient = new List<int>();
        int total = 0;
        while (total < series)
        {
            int n = Math.Min(perPatient.Count % 3 == 1 ? 2 : 1, series - total);
            perPatient.Add(n);
            total += n;
        }

        List<PatientPlan> patients = Patients(site, perPatient.Count, 1001, site.Mri.Prevalence, r);
        var plans = new List<MriPlan>();
        for (int p = 0; p < patients.Count; p++)
        {
            PatientPlan patient = patients[p];
            DateOnly date = s_firstStudyDay.AddDays(r.NextInt(540));
            for (int k = 0; k < perPatient[p]; k++)
            {
                string key = string.Create(CultureInfo.InvariantCulture, $"{site.Id}/mri/{patient.Id}/{k + 1}");
                StudyPlan study = Study(patient, k + 1, date, key, patient.Positive, r, uids);
                var sops = new List<string>();
                var paths = new List<string>();
                for (int s = 0; s < site.Mri.Slices; s++)
                {
                    sops.Add(uids.Create(string.Create(CultureInfo.InvariantCulture, $"{key}/sop/{s + 1}")));
                    paths.Add(string.Create(CultureInfo.InvariantCulture, $"mri/{site.Id}/{patient.Id}/series-{k + 1}/slice-{s + 1:D3}.dcm"));
                }

                plans.Add(new MriPlan(study, sops, paths, key));
                date = date.AddDays(60 + r.NextInt(300));
            }
        }

        return plans;
    }

    private static List<PatientPlan> Patients(SiteProfile site, int count, int firstNumber, double prevalence, SeededRandom r)
    {
        // Exactly round(prevalence × patients) positives, chosen by a seeded shuffle; splits are drawn per label
        // stratum (60/20/20 by patient), so a patient's images never straddle two splits.
        int positives = (int)Math.Round(prevalence * count, MidpointRounding.AwayFromZero);
        int[] order = Shuffle(count, r);
        var positive = new bool[count];
        for (int i = 0; i < positives; i++)
        {
            positive[order[i]] = true;
        }

        var split = new string[count];
        foreach (bool stratum in new[] { true, false })
        {
            int[] members = [.. Shuffle(count, r).Where(i => positive[i] == stratum)];
            for (int j = 0; j < members.Length; j++)
            {
                double at = (j + 0.5) / members.Length;
                split[members[j]] = at < 0.6 ? "train" : at < 0.8 ? "val" : "test";
            }
        }

        var patients = new List<PatientPlan>(count);
        for (int i = 0; i < count; i++)
        {
            int number = firstNumber + i;
            string sex = r.NextDouble() < 0.5 ? "F" : "M";
            int age = 18 + (int)(74 * DeterministicMath.Pow(r.NextDouble(), 0.8));
            string id = string.Create(CultureInfo.InvariantCulture, $"SYN-{site.Id}-{number:D4}");
            string name = string.Create(CultureInfo.InvariantCulture, $"SYNTH^{site.Id}{number:D4}");
            patients.Add(new PatientPlan(site, id, name, sex, age, positive[i], split[i]));
        }

        return patients;
    }

    private static StudyPlan Study(PatientPlan patient, int index, DateOnly date, string key, bool label, SeededRandom r, UidFactory uids)
    {
        int seconds = (8 * 3600) + r.NextInt(10 * 3600);
        string time = string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600:D2}{seconds / 60 % 60:D2}{seconds % 60:D2}");
        string accession = string.Create(CultureInfo.InvariantCulture, $"SYN{patient.Site.Id}{r.NextInt(100_000_000):D8}");
        return new StudyPlan(patient, index, uids.Create(key + "/study"), uids.Create(key + "/series"), uids.Create(key + "/frame-of-reference"), date, time, accession, label);
    }

    private static int[] Shuffle(int count, SeededRandom r)
    {
        int[] order = [.. Enumerable.Range(0, count)];
        for (int i = count - 1; i > 0; i--)
        {
            int j = r.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }

        return order;
    }
}
