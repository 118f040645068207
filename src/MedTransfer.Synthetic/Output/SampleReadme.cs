using System.Globalization;
using System.Text;

namespace MedTransfer.Synthetic.Output;

/// <summary>The README.md written into a generated folder: what it is, how to regenerate it, the site table.</summary>
internal static class SampleReadme
{
    public static string Render(IReadOnlyList<SiteProfile> sites, SampleDataScale scale, ulong seed, SamplePlan plan, IReadOnlyList<SiteSummary> summaries, int dicomFiles, long dicomBytes)
    {
        var s = new StringBuilder();
        string scaleName = scale.ToString().ToLowerInvariant();
        int rf = plan.ResolutionFactor;
        void Line(string text = "") => s.Append(text).Append('\n');
        string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

        Line("# MedTransfer synthetic sample data");
        Line();
        Line("**Everything here is synthetic. It contains no patient data**: the images are mathematical phantoms, the");
        Line("people are invented (names `SYNTH^A0001`, IDs `SYN-A-0001`, random sex and age), the hospitals, vendors and");
        Line("devices are fictitious, dates are fixed synthetic dates, and every UID is derived from the seed under the");
        Line("`2.25` root. It exists so that the sample protocols, the tests and newcomers have realistic multi-site DICOM");
        Line("data with a real, documented domain shift, and so that anyone can check that it is ours and reproducible.");
        Line();
        Line("## How it was generated");
        Line();
        Line("```bash");
        Line(F($"medtransfer sample-data generate --out sample-data --scale {scaleName} --seed {seed}"));
        Line("```");
        Line();
        Line(F($"Scale `{scaleName}`, seed `{seed}`: {dicomFiles} DICOM files, {dicomBytes / 1e6:F1} MB of DICOM. The bytes depend"));
        Line("only on the seed and the scale (not on the time, culture, machine or thread timing), so the command above");
        Line("rewrites this folder bit for bit; the test `CommittedSampleData_IsReproducibleBitForBit` regenerates it into");
        Line("a temporary folder and compares every file. `sha256sum -c SHA256SUMS` checks a copy.");
        Line("`--scale medium` (4× the images at 2× the resolution) and `--scale large` (10× at 4×) are for benchmarks.");
        Line();
        Line("## Layout");
        Line();
        Line("| path | what |");
        Line("|---|---|");
        Line("| `cxr/<site>/<patient>/study-<n>.dcm` | one chest radiograph (CR or DX), one study per file; some patients have 2–3 studies |");
        Line("| `mri/<site>/<patient>/series-<n>/slice-<nnn>.dcm` | one brain MR slice; a series is one folder, ordered by InstanceNumber |");
        Line("| `manifest.csv` | one row per DICOM file (columns below) |");
        Line("| `SHA256SUMS` | `sha256sum` format, sorted by path, every other file |");
        Line("| `.gitattributes` | `* -text`: Git must not touch line endings of these byte-checked files |");
        Line();
        Line("Manifest columns: `id` (SOPInstanceUID), `path` (relative, `/`), `patient`, `study` (StudyInstanceUID),");
        Line("`series` (SeriesInstanceUID), `site`, `site_role` (source/target), `modality` (CR/DX/MR), `label` (1 = finding:");
        Line("lung opacity on a radiograph, a lesion anywhere in an MR series — MR rows carry their series' label),");
        Line("`finding` (none/focal/diffuse/lesion), `sex`, `age`, `age_band` (18-39, 40-59, 60-79, 80+), `split_suggestion`");
        Line("(train/val/test, assigned **per patient**, 60/20/20 within each label stratum and site, so a patient's images");
        Line("never straddle two splits), `instance` (InstanceNumber), `transfer_syntax`.");
        Line();
        Line("## Sites");
        Line();
        Line("A and B are source-like sites; C is the target with a clear shift. The differences are those real hospitals");
        Line("show: detector and LUT response, noise, resolution, bit depth, photometric interpretation, rescale,");
        Line("collimation, burned-in markers, transfer syntax, vendor tags and label prevalence.");
        Line();
        Line("### Chest radiographs");
        Line();
        Line("| | " + string.Join(" | ", sites.Select(x => F($"site {x.Id} ({x.Role})"))) + " |");
        Line("|---|" + string.Concat(sites.Select(_ => "---|")));
        Row("Modality / SOP class", x => x.Radiograph.Modality == "DX" ? "DX (Digital X-Ray, for presentation)" : "CR (Computed Radiography)");
        Row("Manufacturer", x => x.Manufacturer);
        Row("ManufacturerModelName", x => x.Radiograph.ModelName);
        Row("InstitutionName", x => x.InstitutionName);
        Row("StationName", x => x.Radiograph.StationName);
        Row("Rows × Columns", x => F($"{x.Radiograph.Size * rf} × {x.Radiograph.Size * rf}"));
        Row("Pixel spacing (mm)", x => F($"{x.Radiograph.PixelSpacingMm / rf:0.###}"));
        Row("Bits stored / allocated", x => F($"{x.Radiograph.BitsStored} / 16"));
        Row("Photometric", x => x.Radiograph.Photometric);
        Row("Rescale slope / intercept", x => F($"{x.Radiograph.RescaleSlope:0.###} / {x.Radiograph.RescaleIntercept:0.###}"));
        Row("LUT response: contrast, gamma", x => F($"{x.Radiograph.Contrast:0.##}, {x.Radiograph.Gamma:0.##}"));
        Row("Noise: white / blotchy / line (σ, fraction of full scale)", x => F($"{x.Radiograph.WhiteNoise:0.####} / {x.Radiograph.CorrelatedNoise:0.####} / {x.Radiograph.LineNoise:0.####}"));
        Row("Collimation border (mean fraction per side)", x => x.Radiograph.Collimation == 0 ? "none" : F($"{x.Radiograph.Collimation:0.##} (unexposed, bright)"));
        Row("Burned-in marker (always)", x => x.Radiograph.Marker is { } m ? F($"\"{m}\", top right") : "none");
        Row("Burned-in marker tied to the label", x => x.Radiograph.ShortcutMarker is { } m ? F($"\"{m}\" top left, ViewPosition AP: 60% of positive vs 15% of negative images") : "none");
        Row("Transfer syntax", x => SyntaxName(x.Radiograph.TransferSyntaxUid));
        Row("Patient prevalence (configured)", x => F($"{x.Radiograph.Prevalence * 100:0}%"));
        Line();
        Line("### Brain MRI");
        Line();
        Line("| | " + string.Join(" | ", sites.Select(x => F($"site {x.Id} ({x.Role})"))) + " |");
        Line("|---|" + string.Concat(sites.Select(_ => "---|")));
        Row("Contrast", x => x.Mri.Weighting == "T1" ? "T1-like (TR 500, TE 12)" : "T2-like (TR 4000, TE 100)");
        Row("Orientation", x => x.Mri.Orientation == "AXIAL" ? "axial" : "sagittal");
        Row("Field strength (T)", x => F($"{x.Mri.FieldStrengthT:0.0}"));
        Row("ManufacturerModelName / StationName", x => x.Mri.ModelName + " / " + x.Mri.StationName);
        Row("Matrix / pixel spacing (mm)", x => F($"{x.Mri.Matrix * rf} / {x.Mri.PixelSpacingMm / rf:0.###}"));
        Row("Slices × thickness / spacing (mm)", x => F($"{x.Mri.Slices} × {x.Mri.SliceThicknessMm:0.#} / {x.Mri.SpacingBetweenSlicesMm:0.#}"));
        Row("Bias field amplitude", x => F($"{x.Mri.BiasField:0.##}"));
        Row("Noise σ (Rician)", x => F($"{x.Mri.NoiseSd:0.###}"));
        Row("Transfer syntax", x => SyntaxName(x.Mri.TransferSyntaxUid));
        Line();
        Line("An MR patient has one series, every third patient a second (follow-up) series with the same label. The");
        Line("MR patients per site (below) are what a patient-level train/val/test split divides: `protocols/mri-contrast-shift.yaml`");
        Line("splits them 60/20/20 by label, so its test partitions hold only a few patients per site.");
        Line();
        Line("### What was generated (prevalence per site)");
        Line();
        Line("| site | role | radiographs | patients | positive radiographs | prevalence | MR patients | MR series | MR slices | series with lesion |");
        Line("|---|---|---|---|---|---|---|---|---|---|");
        foreach (SiteSummary x in summaries)
        {
            Line(F($"| {x.SiteId} | {x.Role} | {x.Radiographs} | {x.RadiographPatients} | {x.RadiographPositives} | {SampleDataGenerator.Percent(x.RadiographPositives, x.Radiographs)} | {x.MriPatients} | {x.MriSeries} | {x.MriSlices} | {x.MriPositives} |"));
        }

        Line();
        Line("## The phantoms");
        Line();
        Line("**Chest radiographs** (PA, or AP where the portable marker is burned in): body outline with neck and shoulders,");
        Line("two lung fields cut by the diaphragm domes, heart and mediastinum with the spine, ten rib pairs and the clavicles,");
        Line("soft-tissue texture and lung markings that fan out from the hila. Each patient has a body size, heart size and");
        Line("lung width; each image its own rotation, position and depth of inspiration. The finding is a pneumonia-like");
        Line("opacity inside a lung: focal (round, radius 18–38 mm) or diffuse (patchy, 40–65 mm, confined to the lung), of");
        Line("varying density. A positive patient shows it on each of their images at the same place, its size and density");
        Line("changing a little between studies.");
        Line();
        Line("**Brain MRI**: an ellipsoidal head with scalp fat, skull, CSF, a folded grey-matter cortex, white matter and");
        Line("lateral ventricles (larger with age), and in positive series a spherical lesion (6–13 mm) in the white matter,");
        Line("dark on T1 and bright on T2. Slices average three samples across their thickness (partial volume); a smooth");
        Line("multiplicative bias field and Rician noise follow the site. Geometry tags are complete and consistent:");
        Line("ImagePositionPatient steps along the normal of ImageOrientationPatient by SpacingBetweenSlices, with one");
        Line("FrameOfReferenceUID and SeriesInstanceUID per series.");
        Line();
        Line("## Shortcuts to be aware of");
        Line();
        Line("Like real multi-site data, this set contains signals a model can exploit instead of the anatomy: the site can");
        Line("be read from the borders, the noise, the burned-in text and the grey-level response, and prevalence differs by");
        Line("site, so a model that recognises the site also learns a prior on the label. At site B the burned-in \"AP\"");
        Line("marker (portable films) is much more frequent in positive images. These are deliberate: they are what domain");
        Line("adaptation and shortcut diagnostics are for.");
        return s.ToString();

        void Row(string name, Func<SiteProfile, string> value) => Line("| " + name + " | " + string.Join(" | ", sites.Select(value)) + " |");
    }

    private static string SyntaxName(string uid) => uid switch
    {
        "1.2.840.10008.1.2.1" => "Explicit VR Little Endian (uncompressed)",
        "1.2.840.10008.1.2.5" => "RLE Lossless",
        "1.2.840.10008.1.2.4.70" => "JPEG Lossless, first-order prediction (SV1)",
        _ => uid,
    };
}
