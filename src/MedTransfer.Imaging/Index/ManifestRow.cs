namespace MedTransfer.Imaging.Index;

/// <summary>The container a sample was recognised as, by its leading bytes (never by its file extension).</summary>
public enum SampleFormat
{
    /// <summary>DICOM Part 10 (preamble + "DICM") or a bare data set the DICOM reader accepts.</summary>
    Dicom,

    /// <summary>NIfTI-1 or NIfTI-2, single file (.nii), optionally gzip-compressed (.nii.gz).</summary>
    Nifti,

    /// <summary>PNG (ISO/IEC 15948).</summary>
    Png,

    /// <summary>JPEG (ITU-T T.81, JFIF/EXIF).</summary>
    Jpeg,

    /// <summary>TIFF (baseline, little or big endian).</summary>
    Tiff,
}

/// <summary>Quality flags of a manifest row: the sample is usable, but something about it needs attention.</summary>
[Flags]
public enum QualityFlags
{
    /// <summary>Nothing to report.</summary>
    None = 0,

    /// <summary>No patient identifier: the sample is its own patient for splitting, which cannot rule out leakage.</summary>
    MissingPatientId = 1 << 0,

    /// <summary>A DICOM file without Study Instance UID (0020,000D).</summary>
    MissingStudy = 1 << 1,

    /// <summary>Another file of the scan has the same SOP Instance UID; the first (by path) keeps the bare UID as id.</summary>
    DuplicateSop = 1 << 2,

    /// <summary>Another file of the scan has byte-identical content (same SHA-256).</summary>
    DuplicateContent = 1 << 3,

    /// <summary>The site rule gave no value for this sample.</summary>
    MissingSite = 1 << 4,

    /// <summary>A label table was given but has no row (or only an empty label) for this sample.</summary>
    Unlabeled = 1 << 5,

    /// <summary>The tolerant DICOM reader recovered from deviations in the header.</summary>
    ReaderWarnings = 1 << 6,

    /// <summary>
    /// No longer set: a label table that gives one key two different labels is refused when it is read (file, line and
    /// column). Kept so that manifests written by earlier versions, which kept the first label and set this flag, still load.
    /// </summary>
    ConflictingLabels = 1 << 7,
}

/// <summary>The partition a sample belongs to (patient-level: all samples of a patient share it).</summary>
public enum Partition
{
    /// <summary>Not assigned.</summary>
    None,

    /// <summary>Training data.</summary>
    Train,

    /// <summary>Validation data (model selection, thresholds, early stopping).</summary>
    Validation,

    /// <summary>Held-out test data.</summary>
    Test,
}

/// <summary>
/// One sample of a dataset index: a file, who and what it shows, where it comes from, and its SHA-256 (so a report can say exactly which data it used).
/// Text fields are empty (never null) when unknown. <see cref="Path"/> is relative to root number <see cref="Root"/>
/// of the scan, with '/' separators, and never leaves that root.
/// </summary>
public sealed record ManifestRow
{
    /// <summary>Stable sample id: the SOP Instance UID for DICOM ("UID#2", "#3"... for later duplicates), else "f-" + 16 hex digits of SHA-256 over "root/path".</summary>
    public required string Id { get; init; }

    /// <summary>Index of the scanned root folder (0 for the first) that <see cref="Path"/> is relative to.</summary>
    public int Root { get; init; }

    /// <summary>Path relative to the root, '/'-separated.</summary>
    public required string Path { get; init; }

    /// <summary>The container format.</summary>
    public SampleFormat Format { get; init; }

    /// <summary>Patient identifier (DICOM PatientID, or from the label table / folder rule for other formats).</summary>
    public string Patient { get; init; } = string.Empty;

    /// <summary>Study Instance UID.</summary>
    public string Study { get; init; } = string.Empty;

    /// <summary>Series Instance UID.</summary>
    public string Series { get; init; } = string.Empty;

    /// <summary>Modality (CR, DX, MR...).</summary>
    public string Modality { get; init; } = string.Empty;

    /// <summary>Manufacturer (0008,0070).</summary>
    public string Manufacturer { get; init; } = string.Empty;

    /// <summary>Manufacturer's Model Name (0008,1090).</summary>
    public string Model { get; init; } = string.Empty;

    /// <summary>Site / domain, as the <see cref="SiteRule"/> of the scan defines it.</summary>
    public string Site { get; init; } = string.Empty;

    /// <summary>The label joined from the label table.</summary>
    public string Label { get; init; } = string.Empty;

    /// <summary>Patient's Sex (M, F, O).</summary>
    public string Sex { get; init; } = string.Empty;

    /// <summary>Age band from Patient's Age (0010,1010) by <see cref="AgeBands"/> (default "18-39", "40-59", "60-79", "80+"; "unknown" when absent).</summary>
    public string AgeBand { get; init; } = string.Empty;

    /// <summary>View Position (0018,5101) for radiographs; otherwise Sequence Name (0018,0024), else Scanning Sequence (0018,0020).</summary>
    public string View { get; init; } = string.Empty;

    /// <summary>Columns (pixels), 0 when unknown.</summary>
    public int Width { get; init; }

    /// <summary>Rows (pixels), 0 when unknown.</summary>
    public int Height { get; init; }

    /// <summary>Frames or slices (1 for a 2-D image), 0 when unknown.</summary>
    public int Depth { get; init; }

    /// <summary>File size in bytes.</summary>
    public long SizeBytes { get; init; }

    /// <summary>SHA-256 of the whole file, 64 lowercase hex digits.</summary>
    public required string Sha256 { get; init; }

    /// <summary>Quality flags.</summary>
    public QualityFlags Flags { get; init; }

    /// <summary>The partition, once split.</summary>
    public Partition Split { get; init; }
}
