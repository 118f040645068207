using System.Text;
using System.Text.Json;

namespace MedTransfer.Pipeline.Diagnose;

/// <summary>What a journal belongs to: a resumed run must match it exactly.</summary>
/// <param name="Model">SHA-256 of the model file.</param>
/// <param name="KeyFingerprint">The pseudonym key's fingerprint.</param>
/// <param name="Shard">"all" or "i/n".</param>
/// <param name="Identifiers">Whether Study Instance UIDs are kept.</param>
internal sealed record JournalHeader(string Model, string KeyFingerprint, string Shard, bool Identifiers)
{
    /// <summary>The journal format tag.</summary>
    public const string Format = "medtransfer-diagnose-journal/1";

    /// <summary>The format tag of this header.</summary>
    public string Journal { get; init; } = Format;

    /// <summary>
    /// The input the results come from: its kind and a keyed hash of where it is ("folder:" + hash of the folder's
    /// full path, "dicomweb:" + hash of the service root), so that a resume with another input is refused instead of
    /// merging two inputs' results; keyed because a path may name a patient. Null in journals written before it was
    /// recorded (those are not checked).
    /// </summary>
    public string? Input { get; init; }

    /// <summary>True when <paramref name="other"/> is the same run setting (model, key, shard, identifiers), the input aside.</summary>
    internal bool SameRunAs(JournalHeader other) =>
        Model == other.Model && KeyFingerprint == other.KeyFingerprint && Shard == other.Shard && Identifiers == other.Identifiers && Journal == other.Journal;
}

/// <summary>
/// The batch-diagnosis journal, <c>journal.jsonl</c>, which makes a run resumable after <c>kill -9</c>: a header line, then one JSON line per finished
/// study, appended only after the study's result (and its copy in the PACS, if asked for) is complete, with one
/// write, a flush and an fsync per line. A study is done if and only if its line is in the journal. After
/// <c>kill -9</c> the last line may be torn: opening the journal cuts the file back to the last complete line, and the
/// study that was in flight is simply done again (every step is idempotent: results stored back to the PACS carry
/// UIDs derived from the study and the model, so storing twice replaces rather than duplicates). Damage anywhere else
/// (a line broken in the middle, a study written twice, as two runs writing one folder at once used to leave) is
/// <see cref="DiagnosisError.JournalCorrupt"/>; opening with <c>repair</c> keeps the header and every intact first
/// record of a study, saves the original beside it and redoes the rest (see <see cref="JournalRepair"/>).
/// </summary>
internal sealed class DiagnosisJournal : IDisposable
{
    /// <summary>The journal's file name in the output folder.</summary>
    public const string FileName = "journal.jsonl";

    /// <summary>Fault injection for crash tests: when set to N, the process writes half of the (N+1)-th record of a run
    /// and dies at once (as <c>kill -9</c> mid-write would). Never set in production.</summary>
    public const string FaultVariable = "MEDTRANSFER_DIAGNOSE_CRASH_AFTER";

    private static readonly int? _crashAfter = int.TryParse(Environment.GetEnvironmentVariable(FaultVariable), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) ? n : null;
    private int _appended;

    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly FileStream _stream;
    private readonly bool _fsync;
    private readonly List<DiagnosisRecord> _records;

    private DiagnosisJournal(FileStream stream, bool fsync, List<DiagnosisRecord> records, int repairedBytes)
    {
        _stream = stream;
        _fsync = fsync;
        _records = records;
        RepairedBytes = repairedBytes;
    }

    /// <summary>The records in the journal, in the order they were written (including those appended since opening).</summary>
    public IReadOnlyList<DiagnosisRecord> Records => _records;

    /// <summary>Bytes of a torn last line that were cut off when the journal was opened (0 when it ended cleanly).</summary>
    public int RepairedBytes { get; }

    /// <summary>Lines dropped by a repair when the journal was opened (damaged lines and repeated studies).</summary>
    public int RepairedLines { get; private set; }

    /// <summary>Opens (creating or resuming) the journal in <paramref name="folder"/>.</summary>
    /// <param name="folder">The output folder.</param>
    /// <param name="header">What this run is; a journal of another run is refused.</param>
    /// <param name="fsync">fsync after each line (off only in tests and benchmarks).</param>
    /// <param name="repair">First drop damaged lines and repeated studies (see <see cref="JournalRepair"/>).</param>
    /// <exception cref="DiagnosisException">The journal belongs to another run or input, or is corrupt before its last line (and <paramref name="repair"/> is off).</exception>
    public static DiagnosisJournal Open(string folder, JournalHeader header, bool fsync = true, bool repair = false)
    {
        ArgumentNullException.ThrowIfNull(header);
        string path = Path.Combine(folder, FileName);
        int repaired = repair ? JournalRepair.Repair(folder) : 0;
        DiagnosisJournal journal = Open(path, folder, header, fsync);
        journal.RepairedLines = repaired;
        return journal;
    }

    private static DiagnosisJournal Open(string path, string folder, JournalHeader header, bool fsync)
    {
        FileStream stream;
        try
        {
            Directory.CreateDirectory(folder);
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DiagnosisException(DiagnosisError.OutputNotWritable, $"cannot open {FileName}: {IoCause.Of(ex)}", ex);
        }

        try
        {
            if (stream.Length == 0)
            {
                var journal = new DiagnosisJournal(stream, fsync, [], 0);
                journal.WriteLine(JsonSerializer.Serialize(header, JsonOptions));
                return journal;
            }

            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            (JournalHeader? existing, List<DiagnosisRecord> records, int validLength) = Parse(bytes, tolerateTornTail: true);
            if (existing is null)
            {
                // Not even the header survived: start again.
                stream.SetLength(0);
                var fresh = new DiagnosisJournal(stream, fsync, [], bytes.Length);
                fresh.WriteLine(JsonSerializer.Serialize(header, JsonOptions));
                return fresh;
            }

            if (!existing.SameRunAs(header))
            {
                throw new DiagnosisException(DiagnosisError.JournalMismatch, $"the output folder's journal is from another run (model, pseudonym key, shard or --include-identifiers differ); use a new --out folder");
            }

            if (existing.Input is not null && existing.Input != header.Input)
            {
                throw new DiagnosisException(DiagnosisError.InputMismatch, "the output folder holds results of another --input; resume with the input it was started with, or use a new --out folder");
            }

            if (validLength < bytes.Length)
            {
                stream.SetLength(validLength);
                stream.Flush(flushToDisk: true);
            }

            stream.Seek(0, SeekOrigin.End);
            return new DiagnosisJournal(stream, fsync, records, bytes.Length - validLength);
        }
        catch
        {
            Close(stream);
            throw;
        }
    }

    /// <summary>Reads a finished journal (for merging): header and records; a torn tail is an error here.</summary>
    /// <exception cref="DiagnosisException">The journal is missing or damaged.</exception>
    public static (JournalHeader Header, IReadOnlyList<DiagnosisRecord> Records) ReadFinished(string folder)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(Path.Combine(folder, FileName));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DiagnosisException(DiagnosisError.IncompleteShards, "a shard folder has no readable journal", ex);
        }

        (JournalHeader? header, List<DiagnosisRecord> records, _) = Parse(bytes, tolerateTornTail: false);
        return header is null ? throw new DiagnosisException(DiagnosisError.JournalCorrupt, "a shard journal has no header") : (header, records);
    }

    /// <summary>Appends one record: a single write of the whole line, flushed and (by default) fsynced.</summary>
    public void Append(DiagnosisRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (_appended == _crashAfter)
        {
            byte[] line = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(record, JsonOptions));
            _stream.Write(line, 0, line.Length / 2);
            _stream.Flush(flushToDisk: true);
            Environment.FailFast("fault injected for a crash-and-resume test");
        }

        _appended++;
        WriteLine(JsonSerializer.Serialize(record, JsonOptions));
        _records.Add(record);
    }

    /// <inheritdoc />
    public void Dispose() => Close(_stream);

    private static void Close(FileStream stream)
    {
        try
        {
            stream.Dispose();
        }
        catch (IOException)
        {
            // A write that failed (a full disk) left bytes in the buffer; the failure was reported where it happened,
            // and every complete line is on disk already.
        }
    }

    private void WriteLine(string json)
    {
        byte[] line = Encoding.UTF8.GetBytes(json + "\n");
        try
        {
            _stream.Write(line);
            _stream.Flush(flushToDisk: _fsync);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The study in flight is not done: a resume (once there is room) does it again; a torn line is cut off then.
            throw new DiagnosisException(DiagnosisError.OutputNotWritable, $"cannot write {FileName}: {IoCause.Of(ex)}", ex);
        }
    }

    internal static (JournalHeader? Header, List<DiagnosisRecord> Records, int ValidLength) Parse(byte[] bytes, bool tolerateTornTail)
    {
        var records = new List<DiagnosisRecord>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        JournalHeader? header = null;
        int position = 0;
        while (position < bytes.Length)
        {
            int end = Array.IndexOf(bytes, (byte)'\n', position);
            bool complete = end >= 0;
            int lineEnd = complete ? end : bytes.Length;
            try
            {
                if (!complete)
                {
                    throw new JsonException("no line end");
                }

                ReadOnlySpan<byte> line = bytes.AsSpan(position, lineEnd - position);
                if (header is null)
                {
                    header = JsonSerializer.Deserialize<JournalHeader>(line, JsonOptions);
                    if (header is null || header.Journal != JournalHeader.Format)
                    {
                        throw new DiagnosisException(DiagnosisError.JournalCorrupt, "the journal's first line is not a diagnosis journal header");
                    }
                }
                else
                {
                    DiagnosisRecord record = JsonSerializer.Deserialize<DiagnosisRecord>(line, JsonOptions) ?? throw new JsonException("null record");
                    if (!keys.Add(record.Key))
                    {
                        // A run appends each study once; a repeat means two writers shared the folder.
                        throw new DiagnosisException(DiagnosisError.JournalCorrupt, $"study {record.Key} is in the journal twice; run again with --repair");
                    }

                    records.Add(record);
                }
            }
            catch (JsonException ex)
            {
                // Only the last line can be torn by a crash; anything earlier is damage we must not paper over.
                if (!tolerateTornTail || complete)
                {
                    throw new DiagnosisException(DiagnosisError.JournalCorrupt, "a journal line is unreadable; run again with --repair to set the damaged lines aside and redo their studies", ex);
                }

                return (header, records, position);
            }

            position = lineEnd + 1;
        }

        return (header, records, bytes.Length);
    }
}
