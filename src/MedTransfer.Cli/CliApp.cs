using System.CommandLine;
using System.CommandLine.Invocation;
using MedTransfer.Cli.Commands;
using MedTransfer.Pipeline.Ingest;
using MedTransfer.Reporting.Provenance;
using Spectre.Console;

namespace MedTransfer.Cli;

/// <summary>Builds the `medtransfer` command tree; the console and writers are injected for tests.</summary>
internal static class CliApp
{
    /// <summary>Exit codes, documented in README.md.</summary>
    public static class ExitCodes
    {
        public const int Success = 0;
        public const int Failure = 1;
        public const int Usage = 2;
    }

    public static RootCommand Build(IAnsiConsole console, TextWriter output, TextWriter error)
    {
        var root = new RootCommand(
            "MedTransfer: transfer learning and domain adaptation for medical imaging.\n" +
            "Ingest DICOM/NIfTI/PNG, fine-tune an ImageNet CNN with domain adaptation, and evaluate honestly.");
        root.Subcommands.Add(DoctorCommand.Create(console, output));
        root.Subcommands.Add(DicomCommands.Create(console, output, error));
        root.Subcommands.Add(IngestCommands.Create(console, output, error));
        root.Subcommands.Add(VolumeCommands.Create(console, output, error));
        root.Subcommands.Add(SampleDataCommands.Create(console, output, error));
        root.Subcommands.Add(EvaluateCommand.Create(console, output, error));
        root.Subcommands.Add(ReportCommand.Create(console, output, error));
        root.Subcommands.Add(ProtocolCommands.Create(console, output, error));
        Command bench = BenchCommands.Create(console, output, error);
        bench.Subcommands.Add(DiagnoseCommands.Bench(console, output, error));
        root.Subcommands.Add(bench);
        root.Subcommands.Add(RunCommand.Create(console, output, error));
        root.Subcommands.Add(TrainCommand.Create(console, output, error));
        root.Subcommands.Add(AdaptCommand.Create(console, output, error));
        root.Subcommands.Add(RankCommand.Create(console, output, error));
        root.Subcommands.Add(ModelCommands.Create(console, output, error));
        root.Subcommands.Add(DiagnoseCommands.Diagnose(console, output, error));
        root.Subcommands.Add(DiagnoseCommands.Merge(console, output, error));

        // The decode worker that batch runs start for native codecs, so a crash inside a codec costs one file, not the batch; not for people.
        var worker = new Command(WorkerCommand.Verb, "Internal: decode worker process.") { Hidden = true };
        worker.SetAction(_ => DecodeWorker.Serve(Console.In, Console.Out));
        root.Subcommands.Add(worker);

        // --version prints this tool's version and commit, not the host process's entry assembly.
        VersionOption version = root.Options.OfType<VersionOption>().Single();
        version.Action = new PrintVersionAction(output);
        return root;
    }

    private sealed class PrintVersionAction(TextWriter output) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            CodeVersion version = CodeVersion.Of(typeof(CliApp));
            output.WriteLine(version.Commit is null ? version.Version : $"{version.Version}+{version.Commit}");
            return ExitCodes.Success;
        }
    }

    public static int Run(string[] args, IAnsiConsole console, TextWriter output, TextWriter error)
    {
        RootCommand root = Build(console, output, error);
        ParseResult parsed = root.Parse(args);
        var configuration = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        if (parsed.Errors.Count > 0)
        {
            parsed.Invoke(configuration);
            return ExitCodes.Usage;
        }

        try
        {
            return parsed.Invoke(configuration);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A failure no verb foresaw: one line with its type, never a stack trace (the message may help a report;
            // resumable commands pick up where they stopped).
            error.WriteLine($"error: unexpected {ex.GetType().Name}: {ex.Message} (please report this; run the same command again to resume where it can)");
            return ExitCodes.Failure;
        }
    }
}
