namespace MedTransfer.Pipeline.Diagnose;

/// <summary>Why a diagnosis run or merge cannot go on.</summary>
public enum DiagnosisError
{
    /// <summary>The output folder holds a journal of another run (other model, key, shard or identifier setting).</summary>
    JournalMismatch,

    /// <summary>A journal line in the middle of the file is unreadable, or a study is in it twice (a torn last line is cut off on resume, not an error; <c>--repair</c> handles the rest).</summary>
    JournalCorrupt,

    /// <summary>The output folder cannot be written.</summary>
    OutputNotWritable,

    /// <summary>A shard folder has no finished run (no summary.json) or shards are missing from the merge.</summary>
    IncompleteShards,

    /// <summary>Shards disagree: other model, key, shard count, input, or two different results for one study.</summary>
    ShardConflict,

    /// <summary>The output folder is in use by another diagnose or merge (its lock file names the process).</summary>
    OutputLocked,

    /// <summary>The output folder's journal is from another input than this run's --input (a usage error).</summary>
    InputMismatch,
}

/// <summary>A batch-diagnosis run or merge that cannot proceed; the message says why without identifiers.</summary>
public sealed class DiagnosisException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DiagnosisException(DiagnosisError reason, string message, Exception? innerException = null)
        : base($"{reason}: {message}", innerException) => Reason = reason;

    /// <summary>Creates the exception with <see cref="DiagnosisError.JournalCorrupt"/>.</summary>
    public DiagnosisException()
        : this(DiagnosisError.JournalCorrupt, "the diagnosis cannot proceed")
    {
    }

    /// <summary>Creates the exception with <see cref="DiagnosisError.JournalCorrupt"/>.</summary>
    public DiagnosisException(string message)
        : this(DiagnosisError.JournalCorrupt, message)
    {
    }

    /// <summary>Creates the exception with <see cref="DiagnosisError.JournalCorrupt"/>.</summary>
    public DiagnosisException(string message, Exception innerException)
        : this(DiagnosisError.JournalCorrupt, message, innerException)
    {
    }

    /// <summary>The reason code.</summary>
    public DiagnosisError Reason { get; }
}
