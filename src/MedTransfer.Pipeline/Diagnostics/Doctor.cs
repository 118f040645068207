using System.Runtime.InteropServices;
using MedTransfer.Reporting.Provenance;
using MedTransfer.Training.Runtime;

namespace MedTransfer.Pipeline.Diagnostics;

/// <summary>Whether an optional native pixel codec can be loaded.</summary>
/// <param name="Codec">Codec name, e.g. "JPEG-LS".</param>
/// <param name="Library">The shared library looked for.</param>
/// <param name="Package">The Debian package that provides it.</param>
/// <param name="Available">True when the library loaded.</param>
public sealed record NativeCodecStatus(string Codec, string Library, string Package, bool Available);

/// <summary>Everything `medtransfer doctor` reports about this machine.</summary>
/// <param name="MedTransferVersion">Code version.</param>
/// <param name="DotNetRuntime">The .NET runtime description.</param>
/// <param name="OperatingSystem">The OS description.</param>
/// <param name="Architecture">Process architecture.</param>
/// <param name="ProcessorCount">Logical processors.</param>
/// <param name="TotalMemoryBytes">Memory available to the process.</param>
/// <param name="Torch">libtorch state, loader fix and devices.</param>
/// <param name="Devices">Usable devices ("cpu", "cuda:0", ...).</param>
/// <param name="Codecs">Optional native codecs.</param>
public sealed record DoctorReport(
    CodeVersion MedTransferVersion,
    string DotNetRuntime,
    string OperatingSystem,
    string Architecture,
    int ProcessorCount,
    long TotalMemoryBytes,
    TorchStatus Torch,
    IReadOnlyList<string> Devices,
    IReadOnlyList<NativeCodecStatus> Codecs)
{
    /// <summary>True when everything needed for training is there (optional codecs aside).</summary>
    public bool Healthy => Torch.Loaded;
}

/// <summary>Collects a <see cref="DoctorReport"/>.</summary>
public static class Doctor
{
    private static readonly (string Codec, string Library, string Package)[] s_codecs =
    [
        ("JPEG-LS", "libcharls.so.2", "libcharls2"),
        ("JPEG 2000", "libopenjp2.so.7", "libopenjp2-7"),
    ];

    /// <summary>Examines the runtime, libtorch and the optional codecs. Never throws.</summary>
    public static DoctorReport Examine()
    {
        TorchStatus torch = TorchRuntime.Probe();
        var devices = new List<string>();
        if (torch.Loaded)
        {
            devices.Add("cpu");
            for (int i = 0; i < torch.CudaDeviceCount; i++)
            {
                devices.Add($"cuda:{i}");
            }
        }

        var codecs = s_codecs.Select(c => new NativeCodecStatus(c.Codec, c.Library, c.Package, CanLoad(c.Library))).ToList();
        return new DoctorReport(
            CodeVersion.Of(typeof(Doctor)),
            RuntimeInformation.FrameworkDescription,
            RuntimeInformation.OSDescription,
            RuntimeInformation.ProcessArchitecture.ToString(),
            Environment.ProcessorCount,
            GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
            torch,
            devices,
            codecs);
    }

    private static bool CanLoad(string library)
    {
        if (!NativeLibrary.TryLoad(library, out IntPtr handle))
        {
            return false;
        }

        NativeLibrary.Free(handle);
        return true;
    }
}
