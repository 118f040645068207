using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MedTransfer.Pipeline.Diagnose;

/// <summary>
/// <c>diagnose --repair</c>: the way out of a journal damaged in the middle (a line broken by a crash of the disk or
/// of another writer, or a study written twice, as two runs sharing one folder used to leave). A study is done if and
/// only if its line is in the journal, so dropping a line only means its study is done again: the repair keeps the
/// header and the first intact record of each study, drops everything else, and keeps the original byte for byte as
/// <c>journal.damaged-N.jsonl</c> beside the repaired one. A journal whose header is damaged cannot be repaired: it
/// can no longer be told which model, key and input its results belong to.
/// </summary>
internal static class JournalRepair
{
    /// <summary>Repairs the journal in <paramref name="folder"/>, if there is one; returns the number of lines dropped (0: nothing to do, nothing written).</summary>
    /// <exception cref="DiagnosisException">The header is damaged, or the folder cannot be written.</exception>
    public static int Repair(string folder)
    {
        string path = Path.Combine(folder, DiagnosisJournal.FileName);
        if (!File.Exists(path))
        {
            return 0;
        }

        byte[] bytes = File.ReadAllBytes(path);
        string[] lines = Encoding.UTF8.GetString(bytes).Split('\n');
        if (lines[0].Length == 0 || !IsHeader(lines[0]))
        {
            throw new DiagnosisException(DiagnosisError.JournalCorrupt, "the journal's header line is damaged, so its results cannot be matched to a model, key and input: use a new --out folder");
        }

        var kept = new StringBuilder(lines[0]).Append('\n');
        var keys = new HashSet<string>(StringComparer.Ordinal);
        int dropped = 0;
        // The text after the last newline is a torn tail (or nothing): the journal cuts that off itself on opening.
        for (int i = 1; i < lines.Length - 1; i++)
        {
            DiagnosisRecord? record = TryRecord(lines[i]);
            if (record is not null && keys.Add(record.Key))
            {
                kept.Append(lines[i]).Append('\n');
            }
            else
            {
                dropped++;
            }
        }

        if (dropped == 0)
        {
            return 0;
        }

        string saved = FreeName(folder);
        File.Copy(path, saved);
        DiagnosisOutputs.WriteAtomically(path, kept.ToString());
        return dropped;
    }

    private static bool IsHeader(string line)
    {
        try
        {
            return JsonSerializer.Deserialize<JournalHeader>(line, DiagnosisJournal.JsonOptions) is { Journal: JournalHeader.Format };
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static DiagnosisRecord? TryRecord(string line)
    {
        try
        {
            return JsonSerializer.Deserialize<DiagnosisRecord>(line, DiagnosisJournal.JsonOptions);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string FreeName(string folder)
    {
        for (int n = 1; ; n++)
        {
            string candidate = Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"journal.damaged-{n}.jsonl"));
            if (!File.Exists(candidate))
            {
                return candidate;
            }
        }
    }
}
