using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MedTransfer.Pipeline.Diagnostics;
using MedTransfer.Training.Runtime;
using Spectre.Console;

namespace MedTransfer.Cli.Commands;

/// <summary>`medtransfer doctor`: what this machine can do, and why not when it cannot.</summary>
internal static class DoctorCommand
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static Command Create(IAnsiConsole console, TextWriter output)
    {
        var json = new Option<bool>("--json") { Description = "Print the report as JSON (for scripts)." };
        var command = new Command(
            "doctor",
            "Check this machine: .NET runtime, whether libtorch loads (and the state of the libstdc++ loader fix), " +
            "available devices, and which optional native codecs (JPEG-LS, JPEG 2000) are installed. Exit code 1 when libtorch cannot load.");
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            DoctorReport report = Doctor.Examine();
            if (parse.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(ToJson(report), s_json));
            }
            else
            {
                Render(console, report);
            }

            return report.Healthy ? CliApp.ExitCodes.Success : CliApp.ExitCodes.Failure;
        });
        return command;
    }

    private static object ToJson(DoctorReport r) => new
    {
        medTransferVersion = r.MedTransferVersion.Version,
        commit = r.MedTransferVersion.Commit,
        dotNetRuntime = r.DotNetRuntime,
        operatingSystem = r.OperatingSystem,
        architecture = r.Architecture,
        processorCount = r.ProcessorCount,
        totalMemoryBytes = r.TotalMemoryBytes,
        libtorch = new
        {
            loaded = r.Torch.Loaded,
            error = r.Torch.Error,
            torchSharpVersion = r.Torch.TorchSharpVersion,
            loaderFix = r.Torch.LoaderFix.ToString(),
            nativeLibrary = r.Torch.NativeLibraryPath,
            hostLibStdCxx = r.Torch.HostLibStdCxxPath,
        },
        devices = r.Devices,
        codecs = r.Codecs.Select(c => new { codec = c.Codec, library = c.Library, package = c.Package, available = c.Available }),
        healthy = r.Healthy,
    };

    private static void Render(IAnsiConsole console, DoctorReport r)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("Check").AddColumn("Result");
        table.AddRow("MedTransfer", Markup.Escape(r.MedTransferVersion.ToString()));
        table.AddRow(".NET runtime", Markup.Escape(r.DotNetRuntime));
        table.AddRow("OS", Markup.Escape($"{r.OperatingSystem} ({r.Architecture})"));
        table.AddRow("Machine", Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{r.ProcessorCount} cores, {r.TotalMemoryBytes / (1024.0 * 1024 * 1024):F1} GiB")));
        table.AddRow("libtorch", r.Torch.Loaded
            ? $"[green]loaded[/] (TorchSharp {Markup.Escape(r.Torch.TorchSharpVersion)})"
            : $"[red]not loaded[/]: {Markup.Escape(r.Torch.Error ?? "unknown reason")}");
        table.AddRow("Loader fix", Markup.Escape(DescribeFix(r.Torch.LoaderFix)));
        table.AddRow("Devices", r.Devices.Count == 0 ? "[red]none[/]" : Markup.Escape(string.Join(", ", r.Devices)) + (r.Torch.CudaAvailable ? string.Empty : " (no CUDA)"));
        foreach (NativeCodecStatus codec in r.Codecs)
        {
            table.AddRow(
                Markup.Escape($"Codec {codec.Codec}"),
                codec.Available
                    ? $"[green]available[/] ({Markup.Escape(codec.Library)})"
                    : $"[yellow]absent[/]: apt-get install {Markup.Escape(codec.Package)}");
        }

        console.Write(table);
        console.MarkupLine(r.Healthy ? "[green]Ready.[/]" : "[red]libtorch is unusable: training and adaptation will not run.[/]");
    }

    private static string DescribeFix(LoaderFixState state) => state switch
    {
        LoaderFixState.Applied => "applied (GLIBCXX_3.4.32 need marked weak in the output copy)",
        LoaderFixState.HostProvidesVersion => "not needed (host libstdc++ has GLIBCXX_3.4.32)",
        LoaderFixState.NotNeeded => "not needed (this libLibTorchSharp.so does not require GLIBCXX_3.4.32)",
        LoaderFixState.Missing => "MISSING: host lacks GLIBCXX_3.4.32 and the build did not patch the library",
        _ => "libLibTorchSharp.so not found next to the program",
    };
}
