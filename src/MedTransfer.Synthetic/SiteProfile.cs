namespace MedTransfer.Synthetic;

/// <summary>The size of a generated sample set.</summary>
public enum SampleDataScale
{
    /// <summary>The committed set: 350 radiographs of 160–256 px and 33 small MRI series (8 patients per site, 48² slices), under 25 MB.</summary>
    Small,

    /// <summary>Four times the images at twice the resolution, for benchmarks.</summary>
    Medium,

    /// <summary>Ten times the images at four times the resolution, for benchmarks.</summary>
    Large,
}

/// <summary>
/// One synthetic hospital: its vendor tags and how its chest radiographs and brain MRI series differ from the
/// other sites' (the domain shift). All values describe the <see cref="SampleDataScale.Small"/> set; larger scales
/// multiply image counts and resolution.
/// </summary>
/// <param name="Id">One letter, used in patient IDs (SYN-A-0001) and paths.</param>
/// <param name="Role">"source" or "target" (the site a model is adapted to).</param>
/// <param name="Manufacturer">Manufacturer (0008,0070), fictitious.</param>
/// <param name="InstitutionName">Institution Name (0008,0080), fictitious.</param>
/// <param name="Radiograph">How the site's chest radiographs look.</param>
/// <param name="Mri">How the site's brain MRI series look.</param>
public sealed record SiteProfile(string Id, string Role, string Manufacturer, string InstitutionName, RadiographProfile Radiograph, MriProfile Mri)
{
    /// <summary>The three built-in sites: A and B are source-like, C is the shifted target.</summary>
    public static IReadOnlyList<SiteProfile> Defaults { get; } =
    [
        new SiteProfile(
            "A",
            "source",
            "SYNTHETICA IMAGING",
            "SYNTHETIC GENERAL HOSPITAL A",
            new RadiographProfile(
                Modality: "CR", ModelName: "PHANTOMCR 500", StationName: "SYNA-CR01", Images: 130, Size: 256, PixelSpacingMm: 1.6,
                BitsStored: 12, Photometric: "MONOCHROME2", RescaleSlope: 1.0, RescaleIntercept: 0.0, Gamma: 1.0, Contrast: 1.0,
                WhiteNoise: 0.002, CorrelatedNoise: 0.0, LineNoise: 0.0, Collimation: 0.0, Marker: null, ShortcutMarker: null,
                TransferSyntaxUid: "1.2.840.10008.1.2.4.70", Prevalence: 0.5),
            new MriProfile(
                ModelName: "PHANTOMR 15", StationName: "SYNA-MR01", Series: 11, Weighting: "T1", Orientation: "AXIAL", Matrix: 48,
                PixelSpacingMm: 4.5, Slices: 20, SliceThicknessMm: 5.0, SpacingBetweenSlicesMm: 5.5, FieldStrengthT: 1.5,
                BiasField: 0.05, NoiseSd: 0.02, TransferSyntaxUid: "1.2.840.10008.1.2.4.70", Prevalence: 0.5)),
        new SiteProfile(
            "B",
            "source",
            "FICTIVE MEDICAL SYSTEMS",
            "SYNTHETIC UNIVERSITY CLINIC B",
            new RadiographProfile(
                Modality: "DX", ModelName: "FAUXDR 7", StationName: "SYNB-DX02", Images: 120, Size: 176, PixelSpacingMm: 2.4,
                BitsStored: 16, Photometric: "MONOCHROME2", RescaleSlope: 0.25, RescaleIntercept: -512.0, Gamma: 0.8, Contrast: 1.15,
                WhiteNoise: 0.002, CorrelatedNoise: 0.012, LineNoise: 0.0, Collimation: 0.03, Marker: "L", ShortcutMarker: "AP",
                TransferSyntaxUid: "1.2.840.10008.1.2.1", Prevalence: 0.35),
            new MriProfile(
                ModelName: "FAUXMR 3T", StationName: "SYNB-MR02", Series: 11, Weighting: "T2", Orientation: "AXIAL", Matrix: 48,
                PixelSpacingMm: 4.5, Slices: 24, SliceThicknessMm: 4.0, SpacingBetweenSlicesMm: 4.5, FieldStrengthT: 3.0,
                BiasField: 0.15, NoiseSd: 0.03, TransferSyntaxUid: "1.2.840.10008.1.2.1", Prevalence: 0.5)),
        new SiteProfile(
            "C",
            "target",
            "IMAGINARY DEVICES",
            "SYNTHETIC COMMUNITY HOSPITAL C",
            new RadiographProfile(
                Modality: "CR", ModelName: "MOCKREADER 10", StationName: "SYNC-CR03", Images: 100, Size: 160, PixelSpacingMm: 2.5,
                BitsStored: 10, Photometric: "MONOCHROME1", RescaleSlope: 4.0, RescaleIntercept: 0.0, Gamma: 1.5, Contrast: 0.8,
                WhiteNoise: 0.012, CorrelatedNoise: 0.0, LineNoise: 0.006, Collimation: 0.08, Marker: "SYN-C", ShortcutMarker: null,
                TransferSyntaxUid: "1.2.840.10008.1.2.5", Prevalence: 0.2),
            new MriProfile(
                ModelName: "MOCKMR 1", StationName: "SYNC-MR03", Series: 11, Weighting: "T2", Orientation: "SAGITTAL", Matrix: 48,
                PixelSpacingMm: 5.0, Slices: 18, SliceThicknessMm: 6.0, SpacingBetweenSlicesMm: 7.0, FieldStrengthT: 1.0,
                BiasField: 0.35, NoiseSd: 0.05, TransferSyntaxUid: "1.2.840.10008.1.2.5", Prevalence: 0.5)),
    ];
}

/// <summary>How one site acquires and stores chest radiographs (2-D, one image per file).</summary>
/// <param name="Modality">CR or DX (the SOP class follows: CR Image Storage or Digital X-Ray For Presentation).</param>
/// <param name="ModelName">Manufacturer's Model Name (0008,1090).</param>
/// <param name="StationName">Station Name (0008,1010).</param>
/// <param name="Images">Radiographs in the small set.</param>
/// <param name="Size">Rows and columns in the small set.</param>
/// <param name="PixelSpacingMm">Pixel spacing (and imager pixel spacing) in mm in the small set.</param>
/// <param name="BitsStored">Bits Stored: 10, 12 or 16 (16 allocated).</param>
/// <param name="Photometric">MONOCHROME2 (bright = dense) or MONOCHROME1 (stored values inverted).</param>
/// <param name="RescaleSlope">Rescale Slope (0028,1053).</param>
/// <param name="RescaleIntercept">Rescale Intercept (0028,1052).</param>
/// <param name="Gamma">Detector/LUT response exponent applied to the processed signal in [0, 1].</param>
/// <param name="Contrast">Contrast gain around mid-grey before the gamma.</param>
/// <param name="WhiteNoise">Standard deviation of pixel-independent noise, as a fraction of full scale.</param>
/// <param name="CorrelatedNoise">Standard deviation of spatially smooth (blotchy) noise, fraction of full scale.</param>
/// <param name="LineNoise">Standard deviation of a per-row offset (reader line artefact), fraction of full scale.</param>
/// <param name="Collimation">Mean width of the unexposed collimation border, as a fraction of the image side.</param>
/// <param name="Marker">Burned-in text always drawn in a top corner (e.g. a lead "L"), or null.</param>
/// <param name="ShortcutMarker">Burned-in text whose presence correlates with the label (portable "AP" films of sicker patients), or null.</param>
/// <param name="TransferSyntaxUid">Explicit VR Little Endian, RLE Lossless, or JPEG Lossless SV1.</param>
/// <param name="Prevalence">Fraction of patients with the finding.</param>
public sealed record RadiographProfile(
    string Modality,
    string ModelName,
    string StationName,
    int Images,
    int Size,
    double PixelSpacingMm,
    int BitsStored,
    string Photometric,
    double RescaleSlope,
    double RescaleIntercept,
    double Gamma,
    double Contrast,
    double WhiteNoise,
    double CorrelatedNoise,
    double LineNoise,
    double Collimation,
    string? Marker,
    string? ShortcutMarker,
    string TransferSyntaxUid,
    double Prevalence);

/// <summary>How one site acquires brain MRI series (3-D, one file per slice).</summary>
/// <param name="ModelName">Manufacturer's Model Name (0008,1090).</param>
/// <param name="StationName">Station Name (0008,1010).</param>
/// <param name="Series">Series in the small set.</param>
/// <param name="Weighting">"T1" (bright white matter, dark CSF, dark lesion) or "T2" (bright CSF and lesion).</param>
/// <param name="Orientation">"AXIAL" or "SAGITTAL" slices.</param>
/// <param name="Matrix">Rows and columns in the small set.</param>
/// <param name="PixelSpacingMm">In-plane spacing in mm in the small set.</param>
/// <param name="Slices">Slices per series.</param>
/// <param name="SliceThicknessMm">Slice Thickness (0018,0050).</param>
/// <param name="SpacingBetweenSlicesMm">Spacing Between Slices (0018,0088), centre to centre.</param>
/// <param name="FieldStrengthT">Magnetic Field Strength (0018,0087) in tesla.</param>
/// <param name="BiasField">Amplitude of the smooth multiplicative intensity inhomogeneity.</param>
/// <param name="NoiseSd">Standard deviation of the complex noise (Rician magnitude), fraction of white-matter signal scale.</param>
/// <param name="TransferSyntaxUid">Explicit VR Little Endian, RLE Lossless, or JPEG Lossless SV1.</param>
/// <param name="Prevalence">Fraction of series with a lesion.</param>
public sealed record MriProfile(
    string ModelName,
    string StationName,
    int Series,
    string Weighting,
    string Orientation,
    int Matrix,
    double PixelSpacingMm,
    int Slices,
    double SliceThicknessMm,
    double SpacingBetweenSlicesMm,
    double FieldStrengthT,
    double BiasField,
    double NoiseSd,
    string TransferSyntaxUid,
    double Prevalence);
