namespace MedTransfer.Pipeline.Diagnose;

/// <summary>
/// Why a write failed, in words for an error message: "no space left on the device" must say so (a full disk is the
/// commonest cause and the easiest to fix), and .NET's own messages quote full paths, which may hold identifiers.
/// </summary>
internal static class IoCause
{
    // errno values (Linux) that .NET passes through as the HResult of an IOException, and the Windows equivalents.
    private const int NoSpace = 28;
    private const int QuotaExceeded = 122;
    private const int ReadOnlyFileSystem = 30;
    private const int WindowsDiskFull = unchecked((int)0x80070070);
    private const int WindowsHandleDiskFull = unchecked((int)0x80070027);

    /// <summary>A short cause: "no space left on the device", "disk quota exceeded", "read-only file system", "permission denied", or the error's type.</summary>
    public static string Of(Exception ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        return ex switch
        {
            UnauthorizedAccessException => "permission denied",
            IOException { HResult: NoSpace or WindowsDiskFull or WindowsHandleDiskFull } => "no space left on the device",
            IOException io when io.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase) => "no space left on the device",
            IOException { HResult: QuotaExceeded } => "disk quota exceeded",
            IOException { HResult: ReadOnlyFileSystem } => "read-only file system",
            IOException io when io.Message.Contains("Read-only file system", StringComparison.OrdinalIgnoreCase) => "read-only file system",
            _ => ex.GetType().Name,
        };
    }
}
