using Spectre.Console;

namespace MedTransfer.Cli.Tests;

/// <summary>Runs the CLI in-process with captured, colourless, non-interactive output.</summary>
internal static class CliRunner
{
    public static (int Code, string Output, string Error) Run(params string[] args) => Run(interactive: false, args);

    /// <summary>As <see cref="Run(string[])"/>, optionally with an interactive console (progress bars drawn).</summary>
    public static (int Code, string Output, string Error) Run(bool interactive, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = interactive ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(output),
            Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
        });
        int code = CliApp.Run(args, console, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
