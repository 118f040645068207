using System.Runtime.InteropServices;
using MedTransfer.Dicom.Pixels;
using MedTransfer.Reporting.Provenance;
using MedTransfer.Training.Runtime;

namespace MedTransfer.Pipeline.Diagnostics;

/// <summary>Whether an optional native pixel codec can be loaded.</summary>
/// <param name="Codec">Codec name, e.g. "JPEG-LS".</param>
/// <param name="Library">The library and its version when loaded (e.g. "CharLS 2.4.1"), else the library looked for.</param>
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

        // The decoders' own loaders answer, so doctor reports exactly what decoding will find.
        string? charls = PixelDecoder.JpegLsLibraryVersion;
        string? openjpeg = PixelDecoder.Jpeg2000LibraryVersion;
        NativeCodecStatus[] codecs =
        [
            new("JPEG-LS", charls is null ? "libcharls.so.2" : "CharLS " + charls, "libcharls2", charls is not null),
            new("JPEG 2000", openjpeg is null ? "libopenjp2.so.7" : "OpenJPEG " + openjpeg, "libopenjp2-7", openjpeg is not null),
        ];
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
}
