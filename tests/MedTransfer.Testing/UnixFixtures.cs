using System.Diagnostics;
using System.Text;

namespace MedTransfer.Testing;

/// <summary>
/// File-system oddities that .NET cannot make by itself, made with coreutils: named pipes, and file names that are
/// not valid UTF-8 (.NET encodes every path string as UTF-8, so such a name can only come from outside).
/// </summary>
public static class UnixFixtures
{
    /// <summary>Creates a named pipe (FIFO) at <paramref name="path"/>.</summary>
    public static void MakeFifo(string path) => Run("mkfifo", path);

    /// <summary>
    /// Copies <paramref name="source"/> into <paramref name="folder"/> under a name made of
    /// <paramref name="nameBytes"/> as they are, e.g. Latin-1 "café.dcm" (0x63 0x61 0x66 0xE9 ...).
    /// </summary>
    public static void CopyToRawName(string source, string folder, byte[] nameBytes)
    {
        // printf turns \ooo into the byte itself; the name never passes through a .NET string.
        string octal = string.Concat(nameBytes.Select(b => "\\" + Convert.ToString(b, 8).PadLeft(3, '0')));
        Run("sh", "-c", "cp \"$1\" \"$2/$(printf '" + octal + "')\"", "sh", source, folder);
    }

    /// <summary>Deletes a folder tree, including names .NET cannot spell.</summary>
    public static void RemoveTree(string path) => Run("rm", "-rf", path);

    private static void Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, UseShellExecute = false, StandardErrorEncoding = Encoding.UTF8 };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} failed ({process.ExitCode}): {error}");
        }
    }
}
