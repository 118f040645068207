using System.Runtime.InteropServices;

namespace MedTransfer.Dicom.Pixels;

/// <summary>
/// A system codec library loaded at run time with <see cref="NativeLibrary.TryLoad(string, out IntPtr)"/>: the
/// first candidate name that loads and exports every required symbol wins; otherwise the codec is unavailable
/// and callers get <see cref="CodecUnavailableException"/> naming the Debian package.
/// </summary>
internal sealed class NativeCodecLibrary
{
    private readonly Dictionary<string, IntPtr> _exports;

    private NativeCodecLibrary(string loadedName, Dictionary<string, IntPtr> exports)
    {
        LoadedName = loadedName;
        _exports = exports;
    }

    /// <summary>The file name that was loaded.</summary>
    public string LoadedName { get; }

    /// <summary>The address of an export that <see cref="TryLoad"/> verified.</summary>
    public IntPtr this[string symbol] => _exports[symbol];

    /// <summary>Loads the first candidate that exports all <paramref name="symbols"/>; null when none does.</summary>
    public static NativeCodecLibrary? TryLoad(IReadOnlyList<string> candidates, IReadOnlyList<string> symbols)
    {
        foreach (string name in candidates)
        {
            if (!NativeLibrary.TryLoad(name, out IntPtr handle))
            {
                continue;
            }

            var exports = new Dictionary<string, IntPtr>(StringComparer.Ordinal);
            bool complete = true;
            foreach (string symbol in symbols)
            {
                if (!NativeLibrary.TryGetExport(handle, symbol, out IntPtr address))
                {
                    complete = false;
                    break;
                }

                exports[symbol] = address;
            }

            if (complete)
            {
                // The handle stays loaded for the life of the process: exports are cached and used from any thread.
                return new NativeCodecLibrary(name, exports);
            }

            NativeLibrary.Free(handle);
        }

        return null;
    }
}
