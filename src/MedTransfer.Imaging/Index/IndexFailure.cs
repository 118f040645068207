namespace MedTransfer.Imaging.Index;

/// <summary>Why a file of a scan gave no manifest row. Stable codes: reports and scripts key on them.</summary>
public enum IndexFailureReason
{
    /// <summary>The file has no bytes.</summary>
    Empty,

    /// <summary>The leading bytes match no supported format (DICOM, NIfTI, PNG, JPEG, TIFF): e.g. text, ZIP, ELF.</summary>
    UnknownFormat,

    /// <summary>The format was recognised but its header cannot be read (truncated, malformed); for DICOM the detail holds the reader's reason code.</summary>
    UnreadableHeader,

    /// <summary>A valid DICOM object that is not an image (no Rows/Columns: a structured report, a DICOMDIR...).</summary>
    NonImage,

    /// <summary>The file could not be opened or read.</summary>
    IoError,

    /// <summary>Any other error; the detail names the error type only.</summary>
    Unexpected,

    /// <summary>A named pipe, socket or device: never opened (reading a pipe would wait forever for a writer).</summary>
    NotARegularFile,
}

/// <summary>
/// A file that gave no manifest row (recorded, never stopping the scan: one bad file must not cost the batch). <see cref="Detail"/> holds
/// reason codes and offsets only. <see cref="Path"/> is the caller's own file name relative to its root; it may
/// itself identify a patient, so it is kept out of <see cref="ToString"/>.
/// </summary>
/// <param name="Root">Index of the scanned root.</param>
/// <param name="Path">Path relative to the root, '/'-separated.</param>
/// <param name="Reason">Why.</param>
/// <param name="Detail">A short description without patient data.</param>
public sealed record IndexFailure(int Root, string Path, IndexFailureReason Reason, string Detail)
{
    /// <summary>Reason and detail only.</summary>
    public override string ToString() => $"{Reason}: {Detail}";
}

/// <summary>Progress of a scan (counts only: file names can identify patients).</summary>
/// <param name="Completed">Files handled so far, failed ones included.</param>
/// <param name="Total">Files found.</param>
/// <param name="Failed">Files that gave no row so far.</param>
public readonly record struct IndexProgress(int Completed, int Total, int Failed);

/// <summary>The outcome of <see cref="DatasetIndexer.IndexAsync"/>: every file found is either a row of <see cref="Manifest"/> or in <see cref="Failures"/>.</summary>
public sealed record DatasetIndex
{
    /// <summary>The rows, ordered by root then path (ordinal).</summary>
    public required Manifest Manifest { get; init; }

    /// <summary>Files that gave no row, ordered by root then path.</summary>
    public IReadOnlyList<IndexFailure> Failures { get; init; } = [];

    /// <summary>The label join, when a label table was given.</summary>
    public LabelJoinReport? Labels { get; init; }

    /// <summary>The roots scanned (full paths), in order: <see cref="ManifestRow.Root"/> indexes this list.</summary>
    public IReadOnlyList<string> Roots { get; init; } = [];
}

/// <summary>Options of <see cref="DatasetIndexer"/>.</summary>
public sealed record DatasetIndexOptions
{
    private readonly int _maxDegreeOfParallelism = Math.Clamp(Environment.ProcessorCount, 1, 8);

    /// <summary>Where the site comes from. Default <see cref="SiteRule.None"/>.</summary>
    public SiteRule Site { get; init; } = SiteRule.None;

    /// <summary>A label table to join, or null.</summary>
    public LabelSource? Labels { get; init; }

    /// <summary>The folder level (1 = first folder below the root) that names the patient of samples whose files carry none; null for none.</summary>
    public int? PatientFolderLevel { get; init; }

    /// <summary>The age bands of the manifest's <c>age_band</c> column. Default <see cref="AgeBands.Default"/> (18-39, 40-59, 60-79, 80+, as in the sample data).</summary>
    public AgeBands AgeBands { get; init; } = AgeBands.Default;

    /// <summary>Files read at the same time (each holds one 1 MiB hashing buffer and a header). Default: cores, at most 8.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Less than 1 or more than 64.</exception>
    public int MaxDegreeOfParallelism
    {
        get => _maxDegreeOfParallelism;
        init => _maxDegreeOfParallelism = value is >= 1 and <= 64 ? value : throw new ArgumentOutOfRangeException(nameof(value), "Between 1 and 64.");
    }
}
