using Spectre.Console;

namespace MedTransfer.Cli;

internal static class Program
{
    public static int Main(string[] args) => CliApp.Run(args, AnsiConsole.Console, Console.Out, Console.Error);
}
