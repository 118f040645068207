using System.Runtime.InteropServices;
using MedTransfer.Build;
using TorchSharp;

namespace MedTransfer.Training.Runtime;

/// <summary>State of the libstdc++ loader fix for TorchSharp's native library (see docs/PLATFORM.md).</summary>
public enum LoaderFixState
{
    /// <summary>libLibTorchSharp.so was not found next to the application.</summary>
    LibraryNotFound,

    /// <summary>The library does not need GLIBCXX_3.4.32: no fix is needed (another TorchSharp build).</summary>
    NotNeeded,

    /// <summary>The host libstdc++ defines the version: no fix is needed.</summary>
    HostProvidesVersion,

    /// <summary>The version need is marked weak: the fix is applied and the library can load.</summary>
    Applied,

    /// <summary>The host lacks the version and the fix is not applied: the library cannot load.</summary>
    Missing,
}

/// <summary>What <see cref="TorchRuntime.Probe"/> found.</summary>
/// <param name="Loaded">True when libtorch loaded and a tensor operation ran.</param>
/// <param name="Error">Why it did not load, in plain words; null when loaded.</param>
/// <param name="NativeLibraryPath">The libLibTorchSharp.so inspected, or null.</param>
/// <param name="HostLibStdCxxPath">The host libstdc++ inspected, or null.</param>
/// <param name="LoaderFix">State of the loader fix.</param>
/// <param name="CudaAvailable">True when a CUDA device can be used.</param>
/// <param name="CudaDeviceCount">Number of CUDA devices.</param>
/// <param name="TorchSharpVersion">The TorchSharp assembly version.</param>
public sealed record TorchStatus(
    bool Loaded,
    string? Error,
    string? NativeLibraryPath,
    string? HostLibStdCxxPath,
    LoaderFixState LoaderFix,
    bool CudaAvailable,
    int CudaDeviceCount,
    string TorchSharpVersion);

/// <summary>libtorch could not be loaded; the message says why and how to fix it.</summary>
public sealed class TorchUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TorchUnavailableException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

/// <summary>Loads and checks libtorch once per process, and chooses devices.</summary>
public static class TorchRuntime
{
    private const string NativeLibraryName = "libLibTorchSharp.so";
    private static readonly Lazy<TorchStatus> s_status = new(ProbeOnce, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Checks the loader fix and tries a tensor operation. Never throws; cached per process.</summary>
    public static TorchStatus Probe() => s_status.Value;

    /// <summary>Throws <see cref="TorchUnavailableException"/> with the reason when libtorch cannot run.</summary>
    public static void EnsureAvailable()
    {
        TorchStatus status = Probe();
        if (!status.Loaded)
        {
            throw new TorchUnavailableException(status.Error ?? "libtorch did not load.");
        }
    }

    /// <summary>
    /// Resolves a device request: "cpu", "cuda", "cuda:N" or "auto" (CUDA when present, else CPU).
    /// </summary>
    /// <exception cref="TorchUnavailableException">libtorch did not load, or CUDA was asked for and is absent.</exception>
    /// <exception cref="ArgumentException">The request is not one of the accepted forms.</exception>
    public static torch.Device SelectDevice(string request)
    {
        ArgumentNullException.ThrowIfNull(request);
        EnsureAvailable();
        string r = request.Trim().ToLowerInvariant();
        if (r == "auto")
        {
            return Probe().CudaAvailable ? torch.CUDA : torch.CPU;
        }

        if (r == "cpu")
        {
            return torch.CPU;
        }

        if (r == "cuda" || r.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!Probe().CudaAvailable)
            {
                throw new TorchUnavailableException(
                    "CUDA was requested but no CUDA device is available: this build references the CPU libtorch " +
                    "(build with -p:MedTransferTorchBackend=cuda on a machine with CUDA), or no GPU is present. Use --device cpu or auto.");
            }

            return torch.device(r);
        }

        throw new ArgumentException($"Unknown device '{request}': use auto, cpu, cuda or cuda:N.", nameof(request));
    }

    private static TorchStatus ProbeOnce()
    {
        string version = typeof(torch).Assembly.GetName().Version?.ToString() ?? "unknown";
        string nativePath = Path.Combine(AppContext.BaseDirectory, NativeLibraryName);
        string? host = GnuVersionTables.FindHostLibStdCxx();
        LoaderFixState fix = InspectLoaderFix(nativePath, host);

        if (fix == LoaderFixState.Missing)
        {
            return new TorchStatus(
                false,
                $"{NativeLibraryName} needs {GnuVersionTables.TorchSharpExtraVersion}, which this host's libstdc++ ({host}) lacks, " +
                "and the MedTransfer loader fix was not applied to it. Rebuild without -p:MedTransferLoaderFix=off " +
                "(the build marks that version need weak in the output copy; see docs/PLATFORM.md).",
                nativePath, host, fix, false, 0, version);
        }

        try
        {
            using (torch.NewDisposeScope())
            {
                float sum = torch.ones(2, 2).sum().item<float>();
                if (sum != 4f)
                {
                    return new TorchStatus(false, $"libtorch loaded but computed 1+1+1+1 = {sum}.", nativePath, host, fix, false, 0, version);
                }
            }

            bool cuda = torch.cuda.is_available();
            int count = cuda ? torch.cuda.device_count() : 0;
            return new TorchStatus(true, null, File.Exists(nativePath) ? nativePath : null, host, fix, cuda, count, version);
        }
        catch (Exception ex) when (ex is TypeInitializationException or DllNotFoundException or EntryPointNotFoundException or NotSupportedException or BadImageFormatException or ExternalException)
        {
            string inner = ex.InnerException?.Message ?? ex.Message;
            return new TorchStatus(false, $"libtorch failed to load: {inner}", nativePath, host, fix, false, 0, version);
        }
    }

    private static LoaderFixState InspectLoaderFix(string nativePath, string? host)
    {
        if (!File.Exists(nativePath))
        {
            return LoaderFixState.LibraryNotFound;
        }

        VersionNeedState need;
        try
        {
            need = GnuVersionTables.InspectFile(nativePath, GnuVersionTables.TorchSharpExtraVersion);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return LoaderFixState.LibraryNotFound;
        }

        if (need == VersionNeedState.NotNeeded)
        {
            return LoaderFixState.NotNeeded;
        }

        if (need == VersionNeedState.Weak)
        {
            return LoaderFixState.Applied;
        }

        bool hostHas = host is not null && GnuVersionTables.FileDefinesVersion(host, GnuVersionTables.TorchSharpExtraVersion);
        return hostHas ? LoaderFixState.HostProvidesVersion : LoaderFixState.Missing;
    }
}
