using System.Globalization;
using System.Text;
using MedTransfer.Imaging.Files;

namespace MedTransfer.Pipeline.Diagnose;

/// <summary>
/// The output folder's lock, <c>diagnose.lock</c>: held for the whole of a diagnose run or merge, so that a second
/// writer is refused with the holder's process id instead of interleaving its lines with the first one's journal.
/// The exclusion is the kernel's advisory lock on the open file (.NET's <see cref="FileShare.None"/>, flock on
/// Linux), which the kernel drops when the process ends, however it ends: a lock file left by a run that was killed is
/// simply taken over by the next run (its pid is reported as <see cref="StalePid"/>), never a folder locked forever.
/// The file's text is the holder's pid, for people (<c>cat diagnose.lock</c>); it is emptied on a clean exit. Network
/// file systems that do not pass flock on, and DOTNET_SYSTEM_IO_DISABLEFILELOCKING=1, defeat the lock.
/// </summary>
internal sealed class DiagnosisLock : IDisposable
{
    /// <summary>The lock file's name in the output folder.</summary>
    public const string FileName = "diagnose.lock";

    private readonly FileStream _stream;

    private DiagnosisLock(FileStream stream, int? stalePid)
    {
        _stream = stream;
        StalePid = stalePid;
    }

    /// <summary>The pid left in the lock file by a run that ended without releasing it (killed), or null.</summary>
    public int? StalePid { get; }

    /// <summary>Takes the lock of <paramref name="folder"/> (creating the folder).</summary>
    /// <exception cref="DiagnosisException"><see cref="DiagnosisError.OutputLocked"/> while another process holds it; <see cref="DiagnosisError.OutputNotWritable"/> when it cannot be created.</exception>
    public static DiagnosisLock Acquire(string folder)
    {
        string path = Path.Combine(folder, FileName);
        FileStream stream;
        try
        {
            Directory.CreateDirectory(folder);
            // Unbuffered: a failed write (a full disk) must fail here, not again when the stream is disposed.
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1);
        }
        catch (IOException) when (File.Exists(path))
        {
            string holder = HolderOf(path) is { } pid ? "pid " + pid.ToString(CultureInfo.InvariantCulture) : "a process whose pid could not be read";
            throw new DiagnosisException(DiagnosisError.OutputLocked, $"the output folder is in use by another diagnose or merge ({holder}); wait for it to end, or use another --out folder");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DiagnosisException(DiagnosisError.OutputNotWritable, $"cannot create {FileName}: {IoCause.Of(ex)}", ex);
        }

        try
        {
            int? stale = ParsePid(ReadAll(stream));
            if (stream.Length > 0)
            {
                stream.SetLength(0);
                stream.Position = 0;
            }

            stream.Write(Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n"));
            stream.Flush(flushToDisk: true);
            return new DiagnosisLock(stream, stale);
        }
        catch (IOException ex)
        {
            stream.Dispose();
            throw new DiagnosisException(DiagnosisError.OutputNotWritable, $"cannot write {FileName}: {IoCause.Of(ex)}", ex);
        }
    }

    /// <summary>Empties the lock file (a clean end) and releases the lock.</summary>
    public void Dispose()
    {
        try
        {
            _stream.SetLength(0);
        }
        catch (IOException)
        {
            // Releasing matters, emptying does not: a pid left behind only shows as StalePid next time.
        }

        _stream.Dispose();
    }

    private static string ReadAll(FileStream stream)
    {
        stream.Position = 0;
        byte[] bytes = new byte[Math.Min(stream.Length, 64)];
        stream.ReadExactly(bytes);
        return Encoding.ASCII.GetString(bytes);
    }

    private static int? ParsePid(string text) =>
        int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid > 0 ? pid : null;

    /// <summary>The holder's pid, read without asking for the lock (.NET's own reads would be refused by it).</summary>
    private static int? HolderOf(string path)
    {
        if (!LinuxFiles.Available)
        {
            return null;
        }

        try
        {
            using FileStream stream = LinuxFiles.OpenRegular(LinuxFiles.Native(Encoding.UTF8.GetBytes(path)));
            return ParsePid(ReadAll(stream));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
