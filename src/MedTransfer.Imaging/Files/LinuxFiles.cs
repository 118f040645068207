using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MedTransfer.Imaging.Files;

/// <summary>
/// The few libc calls that reading an untrusted input folder needs and .NET does not offer: file names as the raw
/// bytes the file system holds (.NET decodes a name that is not UTF-8 lossily, and the decoded string no longer opens
/// the file), the file type before opening (opening a named pipe blocks until someone writes to it), and opening
/// without following a symbolic link or taking .NET's advisory lock. Linux only (64-bit glibc and musl share the
/// <c>dirent</c> layout; <c>statx</c> has one layout on every architecture).
/// </summary>
internal static class LinuxFiles
{
    /// <summary>File types, from <c>d_type</c> or the <c>S_IFMT</c> bits of <c>st_mode</c> shifted right by 12.</summary>
    public enum Kind
    {
        Unknown = 0,
        Fifo = 1,
        CharacterDevice = 2,
        Directory = 4,
        BlockDevice = 6,
        Regular = 8,
        SymbolicLink = 10,
        Socket = 12,
    }

    private const int ReadOnly = 0;
    private const int NonBlocking = 0x800;
    private const int CloseOnExec = 0x80000;
    private const int AtCurrentDirectory = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxType = 0x1;
    private const int StatxSize = 256;
    private const int StatxModeOffset = 28;
    private const int DirentTypeOffset = 18;
    private const int DirentNameOffset = 19;
    private const int NoSuchFile = 2;
    private const int PermissionDenied = 13;
    private const int NotPermitted = 1;
    private const int TooManyLinks = 40;

    /// <summary>True where these calls can be made.</summary>
    public static bool Available { get; } = OperatingSystem.IsLinux() && Environment.Is64BitProcess;

    /// <summary>O_NOFOLLOW differs between architectures.</summary>
    private static int NoFollow => RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x8000 : 0x20000;

    /// <summary>A NUL-terminated native path.</summary>
    public static byte[] Native(ReadOnlySpan<byte> path) => [.. path, 0];

    /// <summary>The entries of a folder (names as raw bytes, without "." and ".."), with their type when the file system tells it.</summary>
    /// <exception cref="IOException">The folder cannot be listed (the message names the error, never the path).</exception>
    public static List<(byte[] Name, Kind Kind)> List(byte[] folder)
    {
        IntPtr dir = opendir(folder);
        if (dir == IntPtr.Zero)
        {
            throw Error(Marshal.GetLastPInvokeError(), "the folder cannot be listed");
        }

        try
        {
            var entries = new List<(byte[], Kind)>();
            while (true)
            {
                IntPtr entry = readdir(dir);
                if (entry == IntPtr.Zero)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    return errno == 0 ? entries : throw Error(errno, "the folder cannot be listed");
                }

                var kind = (Kind)Marshal.ReadByte(entry, DirentTypeOffset);
                int length = 0;
                while (Marshal.ReadByte(entry, DirentNameOffset + length) != 0)
                {
                    length++;
                }

                byte[] name = new byte[length];
                Marshal.Copy(entry + DirentNameOffset, name, 0, length);
                if (name is [(byte)'.'] or [(byte)'.', (byte)'.'])
                {
                    continue;
                }

                entries.Add((name, kind));
            }
        }
        finally
        {
            _ = closedir(dir);
        }
    }

    /// <summary>The type of <paramref name="path"/> itself (a link is reported as a link).</summary>
    public static Kind TypeOf(byte[] path)
    {
        byte[] buffer = new byte[StatxSize];
        return statx(AtCurrentDirectory, path, AtSymlinkNoFollow, StatxType, buffer) == 0 ? ModeKind(buffer) : Kind.Unknown;
    }

    /// <summary>
    /// Opens <paramref name="path"/> for reading if, and only if, it is a regular file: never through a symbolic link,
    /// never blocking (a named pipe opens at once, is found not to be a regular file and is closed), and without the
    /// advisory lock .NET takes on what it opens.
    /// </summary>
    /// <exception cref="FileNotFoundException">It does not exist.</exception>
    /// <exception cref="UnauthorizedAccessException">It may not be read.</exception>
    /// <exception cref="IOException">It is a link, a folder, a pipe, a socket or a device, or cannot be opened.</exception>
    public static FileStream OpenRegular(byte[] path)
    {
        int fd = open(path, ReadOnly | NonBlocking | CloseOnExec | NoFollow, 0);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw errno == TooManyLinks ? new IOException("the file is a symbolic link, which is not followed") : Error(errno, "the file cannot be opened");
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        byte[] buffer = new byte[StatxSize];
        Kind kind = statx(fd, [0], AtEmptyPath, StatxType, buffer) == 0 ? ModeKind(buffer) : Kind.Unknown;
        if (kind != Kind.Regular)
        {
            handle.Dispose();
            throw new IOException("not a regular file (" + Describe(kind) + ")");
        }

        return new FileStream(handle, FileAccess.Read, bufferSize: 1);
    }

    /// <summary>Words for a file type, for reasons in quarantine records.</summary>
    public static string Describe(Kind kind) => kind switch
    {
        Kind.Fifo => "a named pipe",
        Kind.CharacterDevice => "a character device",
        Kind.BlockDevice => "a block device",
        Kind.Socket => "a socket",
        Kind.Directory => "a folder",
        Kind.SymbolicLink => "a symbolic link",
        Kind.Regular => "a regular file",
        _ => "of unknown type",
    };

    private static Kind ModeKind(byte[] statxBuffer) => (Kind)((BitConverter.ToUInt16(statxBuffer, StatxModeOffset) >> 12) & 0xF);

    private static Exception Error(int errno, string what) => errno switch
    {
        NoSuchFile => new FileNotFoundException(what + ": it does not exist"),
        PermissionDenied or NotPermitted => new UnauthorizedAccessException(what + ": permission denied"),
        _ => new IOException(FormattableString.Invariant($"{what} (errno {errno})")),
    };

#pragma warning disable SYSLIB1054 // Plain DllImport: the signatures are blittable and need no generated marshalling.
    [DllImport("libc", SetLastError = true)]
    private static extern int open(byte[] path, int flags, int mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, byte[] path, int flags, uint mask, byte[] buffer);

    [DllImport("libc", SetLastError = true)]
    private static extern IntPtr opendir(byte[] path);

    [DllImport("libc", SetLastError = true)]
    private static extern IntPtr readdir(IntPtr dir);

    [DllImport("libc", SetLastError = true)]
    private static extern int closedir(IntPtr dir);
#pragma warning restore SYSLIB1054
}
