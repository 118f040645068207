namespace MedTransfer.Dicom.Deidentification;

/// <summary>One file written by <see cref="Deidentifier.DeidentifyFile"/> or <see cref="Deidentifier.DeidentifyFolder"/>.</summary>
/// <param name="OutputPath">The full path written (inside the output root for a folder run).</param>
/// <param name="InputPath">
/// The input path. Always set by <see cref="Deidentifier.DeidentifyFile"/>; set by a folder run only when
/// <see cref="DeidentificationOptions.RecordMapping"/> is on, because input names often carry patient names.
/// </param>
/// <param name="Result">What was done to the data set.</param>
public sealed record DeidentifiedFile(string OutputPath, string? InputPath, DeidentificationResult Result)
{
    /// <summary>The output path only: the input path may identify a patient.</summary>
    public override string ToString() => OutputPath;
}

/// <summary>Why a file of a folder run produced no output.</summary>
public enum DeidentificationFailureKind
{
    /// <summary>The input is not DICOM or is malformed; <see cref="DeidentificationFailure.Reason"/> holds the reader's code.</summary>
    InvalidDicom,

    /// <summary>The output could not be written (I/O error, or the data set cannot be encoded in its transfer syntax).</summary>
    WriteFailed,

    /// <summary>Another input of the same run has the same SOP Instance UID; the first one was kept, nothing was overwritten.</summary>
    DuplicateSopInstanceUid,

    /// <summary>The data set has no SOP Instance UID (0008,0018): it is not a storable instance, and the output is named after that UID.</summary>
    NoSopInstanceUid,

    /// <summary>A DICOMDIR (media storage directory): it indexes original file names and identities, and is not de-identified; rebuild it from the output instead.</summary>
    MediaDirectorySkipped,

    /// <summary>Any other error; <see cref="DeidentificationFailure.Detail"/> names the error type only.</summary>
    Unexpected,
}

/// <summary>
/// A file of a folder run that produced no output. <see cref="Detail"/> holds reason codes, tags and
/// offsets only (never values from the file). <see cref="RelativeInputPath"/> is the caller's own file
/// name, needed to find the file again; it may itself identify a patient, so treat it as confidential.
/// </summary>
/// <param name="RelativeInputPath">The input file, relative to the input root.</param>
/// <param name="Kind">Why it failed.</param>
/// <param name="Reason">The reader's reason code for <see cref="DeidentificationFailureKind.InvalidDicom"/>, else null.</param>
/// <param name="Detail">A short description without patient data.</param>
public sealed record DeidentificationFailure(string RelativeInputPath, DeidentificationFailureKind Kind, DicomErrorCode? Reason, string Detail)
{
    /// <summary>Kind, reason and detail only: the input path stays out of anything that gets logged by accident.</summary>
    public override string ToString() => Reason is { } reason ? $"{Kind} ({reason}): {Detail}" : $"{Kind}: {Detail}";
}

/// <summary>Progress of a folder run (counts only: file names can identify patients).</summary>
/// <param name="Completed">Files handled so far, failed ones included.</param>
/// <param name="Total">Files found.</param>
/// <param name="Failed">Files that produced no output so far.</param>
public readonly record struct DeidentificationProgress(int Completed, int Total, int Failed);

/// <summary>The outcome of <see cref="Deidentifier.DeidentifyFolder"/>: every input file is either in <see cref="Files"/> or in <see cref="Failures"/>.</summary>
public sealed record DeidentificationBatchResult
{
    /// <summary>Files written, in input order.</summary>
    public IReadOnlyList<DeidentifiedFile> Files { get; init; } = [];

    /// <summary>Files that produced no output, in input order.</summary>
    public IReadOnlyList<DeidentificationFailure> Failures { get; init; } = [];

    /// <summary>Files written whose pixel data may still hold burned-in text (see <see cref="DeidentificationResult.BurnedInAnnotationUnverified"/>).</summary>
    public int BurnedInAnnotationUnverifiedCount => Files.Count(f => f.Result.BurnedInAnnotationUnverified);
}
