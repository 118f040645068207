using System.Buffers;
using System.Globalization;
using System.Text;

namespace MedTransfer.Imaging.Files;

/// <summary>What a folder entry is, for reading input.</summary>
internal enum InputEntryKind
{
    /// <summary>A regular file: the only kind that is ever opened.</summary>
    RegularFile,

    /// <summary>A named pipe, socket or device: never opened (a pipe would block forever), reported with a reason.</summary>
    NotRegular,

    /// <summary>A folder that could not be listed.</summary>
    Unreadable,
}

/// <summary>
/// One entry of an input folder. <see cref="Relative"/> is safe to show and store: a name that is not valid UTF-8 keeps
/// its valid parts and shows each other byte as <c>\xNN</c>, so the file is still read (through its raw bytes) and
/// named in reports instead of failing as "not found".
/// </summary>
/// <param name="Relative">The path below the root, '/'-separated.</param>
/// <param name="Kind">What it is.</param>
/// <param name="Detail">Why it is not read, for <see cref="InputEntryKind.NotRegular"/> and <see cref="InputEntryKind.Unreadable"/>; empty otherwise.</param>
/// <param name="Path">The full path, or null when the name is not UTF-8 (no .NET string opens such a file: use <see cref="OpenRead"/>).</param>
/// <param name="NativePath">The full path as the file system's bytes, NUL-terminated (empty where <see cref="LinuxFiles"/> is not used).</param>
internal sealed record InputEntry(string Relative, InputEntryKind Kind, string Detail, string? Path, byte[] NativePath)
{
    /// <summary>Opens a regular file for reading without following a link and without blocking on anything that is not a regular file.</summary>
    /// <exception cref="IOException">Gone, replaced by a link or a special file since the listing, or unreadable.</exception>
    /// <exception cref="UnauthorizedAccessException">Not readable.</exception>
    public FileStream OpenRead() => NativePath.Length > 0
        ? LinuxFiles.OpenRegular(NativePath)
        : new FileStream(Path!, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
}

/// <summary>Every entry found under a root, sorted by <see cref="InputEntry.Relative"/> (ordinal).</summary>
/// <param name="Entries">Regular files, and the special files and unreadable folders that are reported instead of read.</param>
/// <param name="SkippedLinks">Symbolic links met (to files or folders): never followed, so every file read lies inside the root and a link loop cannot be walked.</param>
internal sealed record InputListing(IReadOnlyList<InputEntry> Entries, int SkippedLinks);

/// <summary>
/// Lists an input folder the way batch jobs must: recursively, without following symbolic links (a link may lead
/// outside the root, or back up into it: a loop would be walked again and again), opening nothing but regular files,
/// and reading names the file system holds in any encoding. Used by <c>ingest</c> and <c>diagnose</c>.
/// </summary>
internal static class InputFolder
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Lists <paramref name="root"/>.</summary>
    /// <param name="root">The folder (its own path may run through links: the user named it).</param>
    /// <param name="skipHidden">Leave out every entry whose name, or a folder above it, starts with '.'.</param>
    /// <param name="cancellation">Stops the listing.</param>
    /// <exception cref="DirectoryNotFoundException">The root is not a folder.</exception>
    public static InputListing List(string root, bool skipHidden, CancellationToken cancellation = default)
    {
        string full = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(root));
        if (!Directory.Exists(full))
        {
            throw new DirectoryNotFoundException("The input folder does not exist.");
        }

        InputListing listing = LinuxFiles.Available ? ListNative(full, skipHidden, cancellation) : ListManaged(full, skipHidden);
        return listing with { Entries = [.. listing.Entries.OrderBy(e => e.Relative, StringComparer.Ordinal)] };
    }

    /// <summary>A file name shown safely: valid UTF-8 as it is; any other byte as <c>\xNN</c>.</summary>
    internal static string SafeName(ReadOnlySpan<byte> name)
    {
        try
        {
            return s_strictUtf8.GetString(name);
        }
        catch (DecoderFallbackException)
        {
            var text = new StringBuilder(name.Length + 8);
            while (!name.IsEmpty)
            {
                OperationStatus status = System.Text.Rune.DecodeFromUtf8(name, out System.Text.Rune rune, out int consumed);
                if (status == OperationStatus.Done)
                {
                    text.Append(rune.ToString());
                }
                else
                {
                    for (int i = 0; i < consumed; i++)
                    {
                        text.Append(CultureInfo.InvariantCulture, $"\\x{name[i]:X2}");
                    }
                }

                name = name[consumed..];
            }

            return text.ToString();
        }
    }

    private static InputListing ListNative(string root, bool skipHidden, CancellationToken cancellation)
    {
        var entries = new List<InputEntry>();
        int links = 0;
        var pending = new Stack<(byte[] Path, string Relative, bool Exact)>();
        pending.Push((Encoding.UTF8.GetBytes(root), string.Empty, true));
        while (pending.Count > 0)
        {
            cancellation.ThrowIfCancellationRequested();
            (byte[] folder, string folderRelative, bool folderExact) = pending.Pop();
            List<(byte[] Name, LinuxFiles.Kind Kind)> children;
            try
            {
                children = LinuxFiles.List(LinuxFiles.Native(folder));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                entries.Add(new InputEntry(folderRelative.Length == 0 ? "." : folderRelative, InputEntryKind.Unreadable, ex.Message, null, []));
                continue;
            }

            foreach ((byte[] name, LinuxFiles.Kind listed) in children)
            {
                if (skipHidden && name[0] == (byte)'.')
                {
                    continue;
                }

                byte[] path = [.. folder, (byte)'/', .. name];
                byte[] native = LinuxFiles.Native(path);
                LinuxFiles.Kind kind = listed == LinuxFiles.Kind.Unknown ? LinuxFiles.TypeOf(native) : listed;
                string shown = SafeName(name);
                bool exact = folderExact && Encoding.UTF8.GetByteCount(shown) == name.Length && Encoding.UTF8.GetBytes(shown).AsSpan().SequenceEqual(name);
                string relative = folderRelative.Length == 0 ? shown : folderRelative + "/" + shown;
                switch (kind)
                {
                    case LinuxFiles.Kind.Directory:
                        pending.Push((path, relative, exact));
                        break;
                    case LinuxFiles.Kind.SymbolicLink:
                        links++;
                        break;
                    case LinuxFiles.Kind.Regular:
                        entries.Add(new InputEntry(relative, InputEntryKind.RegularFile, string.Empty, exact ? System.IO.Path.Combine(root, relative) : null, native));
                        break;
                    default:
                        entries.Add(new InputEntry(relative, InputEntryKind.NotRegular, LinuxFiles.Describe(kind) + ": only regular files are read", null, native));
                        break;
                }
            }
        }

        return new InputListing(entries, links);
    }

    private static InputListing ListManaged(string root, bool skipHidden)
    {
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            IgnoreInaccessible = true,
            AttributesToSkip = FileAttributes.ReparsePoint,
            ReturnSpecialDirectories = false,
        };
        var entries = new List<InputEntry>();
        foreach (string file in Directory.EnumerateFiles(root, "*", options))
        {
            string relative = System.IO.Path.GetRelativePath(root, file).Replace(System.IO.Path.DirectorySeparatorChar, '/');
            if (skipHidden && relative.Split('/').Any(part => part.StartsWith('.')))
            {
                continue;
            }

            entries.Add(new InputEntry(relative, InputEntryKind.RegularFile, string.Empty, file, []));
        }

        return new InputListing(entries, 0);
    }
}
