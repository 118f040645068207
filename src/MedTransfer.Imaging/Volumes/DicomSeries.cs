using MedTransfer.Dicom;

namespace MedTransfer.Imaging.Volumes;

/// <summary>
/// One DICOM series (files sharing a Series Instance UID) found by <see cref="SeriesScanner"/>, split into
/// <see cref="Stacks"/> that can each become one <see cref="Volume"/>.
/// </summary>
/// <param name="SeriesInstanceUid">Series Instance UID (0020,000E).</param>
/// <param name="StudyInstanceUid">Study Instance UID (0020,000D), empty when absent.</param>
/// <param name="SeriesNumber">Series Number (0020,0011), or null.</param>
/// <param name="Modality">Modality (0008,0060), empty when absent.</param>
/// <param name="SeriesDescription">Series Description (0008,103E), empty when absent. It is free text: it may hold anything an operator typed.</param>
/// <param name="Files">The files of the series (full paths, ordinal order).</param>
/// <param name="Stacks">The stacks: one per orientation, image size, echo, acquisition or repeated position set.</param>
public sealed record DicomSeries(
    string SeriesInstanceUid,
    string StudyInstanceUid,
    int? SeriesNumber,
    string Modality,
    string SeriesDescription,
    IReadOnlyList<string> Files,
    IReadOnlyList<SliceStack> Stacks);

/// <summary>Why a series was split into several stacks: what distinguishes a stack from its siblings.</summary>
[Flags]
public enum StackSplitReason
{
    /// <summary>The series is one stack.</summary>
    None = 0,

    /// <summary>Rows × Columns, or Pixel Spacing, differ.</summary>
    ImageSize = 1,

    /// <summary>Image Orientation (Patient) differs (beyond 1e-3 in a direction cosine).</summary>
    Orientation = 2,

    /// <summary>Echo Numbers (0018,0086), or the Effective Echo Time of an enhanced MR frame, differ.</summary>
    Echo = 4,

    /// <summary>Acquisition Number (0020,0012) differs and each acquisition is a complete stack (e.g. fMRI time points, one mosaic per volume).</summary>
    Acquisition = 8,

    /// <summary>Temporal Position Identifier (0020,0100) or Temporal Position Index (0020,9128) differs.</summary>
    TemporalPosition = 16,

    /// <summary>Positions repeat and no attribute tells the repeats apart: the n-th occurrence of each position (in Instance Number order) forms stack n.</summary>
    RepeatedPosition = 32,

    /// <summary>Enhanced multi-frame Stack ID (0020,9056) differs.</summary>
    StackId = 64,

    /// <summary>Positions repeat and the diffusion weighting (b-value, gradient direction) tells the repeats apart.</summary>
    Diffusion = 128,
}

/// <summary>
/// A set of slices with one orientation and image size that <see cref="VolumeAssembler"/> turns into a volume.
/// A mosaic (Siemens MOSAIC, UIH VFRAME) is a stack of one file whose tiles are the slices.
/// </summary>
public sealed class SliceStack
{
    internal SliceStack(IReadOnlyList<SliceHeader> slices, StackSplitReason reason, string label)
    {
        Slices = slices;
        Reason = reason;
        Label = label;
    }

    /// <summary>What distinguishes this stack from the other stacks of its series (<see cref="StackSplitReason.None"/> when it is the only one).</summary>
    public StackSplitReason Reason { get; }

    /// <summary>A short description of the stack built from header numbers only (size, echo, acquisition …), e.g. "64x64 echo 2".</summary>
    public string Label { get; }

    /// <summary>Number of images (frames of multi-frame files counted one by one; a mosaic counts as one).</summary>
    public int ImageCount => Slices.Count;

    /// <summary>True when the stack is one mosaic file (Siemens: ImageType contains MOSAIC; UIH: VFRAME).</summary>
    public bool IsMosaic => Slices.Count == 1 && Slices[0].MosaicImages > 0;

    /// <summary>The files the stack reads (full paths, distinct, ordinal order).</summary>
    public IReadOnlyList<string> Files => [.. Slices.Select(s => s.Path).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    internal IReadOnlyList<SliceHeader> Slices { get; }
}

/// <summary>The outcome of <see cref="SeriesScanner.Scan"/>: the series found, and the files that could not be used.</summary>
/// <param name="Series">Series ordered by Series Number, then UID.</param>
/// <param name="Failures">Files skipped, each with a reason (a batch never stops on one bad file).</param>
public sealed record SeriesScanResult(IReadOnlyList<DicomSeries> Series, IReadOnlyList<SeriesScanFailure> Failures);

/// <summary>Why a file was left out of every series.</summary>
public enum SeriesScanFailureReason
{
    /// <summary>Not readable as DICOM (see <see cref="SeriesScanFailure.DicomError"/>).</summary>
    Unreadable,

    /// <summary>No image: no Pixel Data / Rows / Columns (e.g. a structured report, a DICOMDIR).</summary>
    NotAnImage,

    /// <summary>No Series Instance UID.</summary>
    MissingSeriesUid,

    /// <summary>No Image Position / Orientation (Patient) or Pixel Spacing, in the data set or its functional groups.</summary>
    MissingGeometry,

    /// <summary>The geometry values are not finite, or the direction cosines are not unit length and orthogonal.</summary>
    InvalidGeometry,

    /// <summary>Another file of the same series carries the same SOP Instance UID (a copy); the first file read is used.</summary>
    DuplicateInstance,

    /// <summary>An image the volume builder does not handle (colour, multi-frame without per-frame positions or spacing, a mosaic without an image count).</summary>
    UnsupportedImage,
}

/// <summary>A file that was skipped while scanning.</summary>
/// <param name="Path">The path relative to the scanned folder.</param>
/// <param name="Reason">Why.</param>
/// <param name="DicomError">The DICOM reader's reason code for <see cref="SeriesScanFailureReason.Unreadable"/>.</param>
/// <param name="Detail">A message naming tags and codes only (never values from the file).</param>
public sealed record SeriesScanFailure(string Path, SeriesScanFailureReason Reason, DicomErrorCode? DicomError, string Detail);

/// <summary>Scan progress: files looked at so far out of the total found.</summary>
/// <param name="Scanned">Files read so far.</param>
/// <param name="Failed">Of those, files skipped.</param>
/// <param name="Total">Files found in the folder.</param>
public sealed record SeriesScanProgress(int Scanned, int Failed, int Total);
