using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MedTransfer.Pipeline.Runs;

/// <summary>Why a run folder cannot be used.</summary>
public enum RunFolderError
{
    /// <summary>Another process is writing into the folder.</summary>
    Locked,

    /// <summary>The folder holds a run of a different protocol (or other files) and overwriting was not asked for.</summary>
    InUse,

    /// <summary>The folder holds no complete run (its completion marker is missing or does not match).</summary>
    Incomplete,
}

/// <summary>A run folder cannot be used; the message says why and what to do.</summary>
public sealed class RunFolderException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RunFolderException(RunFolderError reason, string message)
        : base(message)
    {
        Reason = reason;
    }

    /// <summary>The reason.</summary>
    public RunFolderError Reason { get; }
}

/// <summary>
/// The layout and life cycle of a run folder. Shareable outputs sit at the top (report.html, results.json,
/// predictions.csv with keyed pseudonyms, model/, protocol.resolved.yaml, run.log, quarantine.txt); what holds
/// identifiers or secrets sits in <c>private/</c> (the manifest with paths and patient ids, a generated pseudonym
/// key); per-(method, seed) checkpoints sit in <c>checkpoints/</c>. <c>run.json</c> is written when a run starts and
/// <c>run.complete.json</c> last: a folder without it is never reported as complete. One writer at a time holds
/// <c>.lock</c> (an operating-system lock, released when the process ends, even by kill -9).
/// </summary>
public sealed class RunFolder : IDisposable
{
    /// <summary>Written when a run starts: protocol hash and code version.</summary>
    public const string StartedFile = "run.json";

    /// <summary>Written last, when every output is in place.</summary>
    public const string CompleteFile = "run.complete.json";

    /// <summary>The part of the folder that holds identifiers or secrets: never share it.</summary>
    public const string PrivateFolder = "private";

    /// <summary>Per-(method, seed) checkpoints and results.</summary>
    public const string CheckpointFolder = "checkpoints";

    /// <summary>
    /// The default feature cache, below private/ because it holds image-derived data; --overwrite keeps it (it holds
    /// no result, and its keys never serve another recipe's or backbone's tensors).
    /// </summary>
    public const string CacheFolder = "private/cache";

    private const string LockFile = ".lock";

    // Everything a run writes, so --overwrite removes exactly that and nothing a user put there.
    private static readonly string[] s_outputs =
    [
        StartedFile, CompleteFile, "report.html", "results.json", "predictions.csv", "protocol.resolved.yaml", "run.log", "quarantine.txt",
        "model", PrivateFolder, CheckpointFolder, "figures", "items",
    ];

    private readonly FileStream _lock;

    private RunFolder(string root, FileStream lockStream)
    {
        Root = root;
        _lock = lockStream;
    }

    /// <summary>The folder.</summary>
    public string Root { get; }

    /// <summary>The private part.</summary>
    public string Private => Path.Combine(Root, PrivateFolder);

    /// <summary>The checkpoint part.</summary>
    public string Checkpoints => Path.Combine(Root, CheckpointFolder);

    /// <summary>
    /// Takes the folder for a run of the protocol with hash <paramref name="protocolHash"/>: creates it, or resumes a
    /// run of the same protocol, or (with <paramref name="overwrite"/>) clears another run's outputs.
    /// </summary>
    /// <exception cref="RunFolderException">Another writer holds the folder, or it holds something else and <paramref name="overwrite"/> is false.</exception>
    public static RunFolder Open(string root, string protocolHash, string codeVersion, bool overwrite)
    {
        ArgumentNullException.ThrowIfNull(root);
        root = Path.GetFullPath(root);
        Directory.CreateDirectory(root);
        FileStream lockStream = TakeLock(root);
        try
        {
            string? previous = ProtocolHashOf(Path.Combine(root, StartedFile));
            bool foreign = previous is null && Directory.EnumerateFileSystemEntries(root).Any(e => Path.GetFileName(e) != LockFile);
            if ((previous is not null && previous != protocolHash) || foreign)
            {
                if (!overwrite)
                {
                    string what = foreign ? "files that are not a MedTransfer run" : "a run of a different protocol (its run.json has another hash)";
                    throw new RunFolderException(RunFolderError.InUse, $"the run folder {root} holds {what}: choose another --out folder, or pass --overwrite to replace the run's outputs there.");
                }

                foreach (string name in s_outputs)
                {
                    string path = Path.Combine(root, name);
                    if (name == PrivateFolder && Directory.Exists(path))
                    {
                        // Everything private but the feature cache.
                        foreach (string entry in Directory.EnumerateFileSystemEntries(path).Where(e => Path.GetFileName(e) != Path.GetFileName(CacheFolder)).ToList())
                        {
                            if (Directory.Exists(entry))
                            {
                                Directory.Delete(entry, recursive: true);
                            }
                            else
                            {
                                File.Delete(entry);
                            }
                        }
                    }
                    else if (Directory.Exists(path))
                    {
                        Directory.Delete(path, recursive: true);
                    }
                    else
                    {
                        File.Delete(path);
                    }
                }
            }

            // A resumed or new run is incomplete until it finishes.
            File.Delete(Path.Combine(root, CompleteFile));
            var folder = new RunFolder(root, lockStream);
            folder.WriteText(StartedFile, new JsonObject { ["format"] = "medtransfer-run/1", ["protocolHash"] = protocolHash, ["codeVersion"] = codeVersion }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            Directory.CreateDirectory(folder.Private);
            Directory.CreateDirectory(folder.Checkpoints);
            File.WriteAllText(Path.Combine(folder.Private, "README.txt"), "This folder holds patient identifiers (manifest.csv), the feature cache (cache/: normalized images and features derived from them) and, when MedTransfer generated one, the pseudonym key.\nNever share it. The files one level up are the shareable outputs.\n");
            return folder;
        }
        catch
        {
            lockStream.Dispose();
            throw;
        }
    }

    /// <summary>The protocol hash of a complete run in <paramref name="root"/>.</summary>
    /// <exception cref="RunFolderException">No completion marker, or one that cannot be read: the run is incomplete.</exception>
    public static string RequireComplete(string root)
    {
        ArgumentNullException.ThrowIfNull(root);
        string marker = Path.Combine(root, CompleteFile);
        return ProtocolHashOf(marker) ?? throw new RunFolderException(RunFolderError.Incomplete,
            $"{root} holds no complete run ({CompleteFile} is missing): the run was interrupted or is still going. Finish it with the same `medtransfer run` command, or use another folder.");
    }

    /// <summary>Writes a file of the run atomically (temporary file, then rename), so a reader never sees half of it.</summary>
    public string WriteText(string relativePath, string text) => WriteBytes(relativePath, new UTF8Encoding(false).GetBytes(text));

    /// <summary>Writes a file of the run atomically.</summary>
    public string WriteBytes(string relativePath, byte[] bytes)
    {
        string path = Path.Combine(Root, relativePath);
        AtomicFile.Write(path, bytes);
        return path;
    }

    /// <summary>Writes the completion marker: the last file of a run.</summary>
    public void MarkComplete(string protocolHash, IReadOnlyDictionary<string, string> outputs)
    {
        var files = new JsonObject();
        foreach ((string name, string sha) in outputs.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            files[name] = sha;
        }

        WriteText(CompleteFile, new JsonObject { ["format"] = "medtransfer-run/1", ["protocolHash"] = protocolHash, ["outputs"] = files }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <inheritdoc/>
    public void Dispose() => _lock.Dispose();

    private static FileStream TakeLock(string root)
    {
        string path = Path.Combine(root, LockFile);
        try
        {
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            stream.SetLength(0);
            stream.Write(Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n"));
            stream.Flush();
            return stream;
        }
        catch (IOException)
        {
            string holder = "another process";
            try
            {
                using var read = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                using var reader = new StreamReader(read);
                string pid = reader.ReadLine()?.Trim() ?? string.Empty;
                if (pid.Length > 0)
                {
                    holder = "process " + pid;
                }
            }
            catch (IOException)
            {
            }

            throw new RunFolderException(RunFolderError.Locked, $"the run folder {root} is in use by {holder}: wait for it to finish, or choose another --out folder.");
        }
    }

    private static string? ProtocolHashOf(string markerPath)
    {
        if (!File.Exists(markerPath))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(File.ReadAllText(markerPath))?["protocolHash"]?.GetValue<string>();
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or IOException)
        {
            return null;
        }
    }
}

/// <summary>Atomic file writes: a temporary file beside the target, flushed to disk, then renamed over it; the temporary file is removed on failure.</summary>
internal static class AtomicFile
{
    public static void Write(string path, byte[] bytes)
    {
        string? folder = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        string temp = path + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch (IOException ex)
        {
            File.Delete(temp);
            throw new IOException($"cannot write {Path.GetFileName(path)}: {ex.Message}", ex);
        }
    }
}
