using System.Diagnostics;
using MedTransfer.Testing;
using Xunit;

namespace MedTransfer.Dicom.Tests.Dictionary;

/// <summary>
/// The committed dictionary must be exactly what tools/dictgen/dictgen.py makes from the Debian package
/// python3-pydicom (generated files are reproducible from a committed script, never hand-edited).
/// </summary>
public sealed class DictionaryGeneratorTests
{
    private const string SourceTable = "/usr/lib/python3/dist-packages/pydicom/_dicom_dict.py";

    [SkippableFact]
    public void Regenerate_WithTheCommittedScript_ReproducesTheCommittedFilesByteForByte()
    {
        Skip.IfNot(File.Exists(SourceTable), $"{SourceTable} is absent: apt-get install python3-pydicom to check the generated dictionary");
        string? python = FindOnPath("python3");
        Skip.If(python is null, "python3 is not on PATH");

        string script = Path.Combine(TestPaths.RepoRoot, "tools", "dictgen", "dictgen.py");
        var start = new ProcessStartInfo(python!)
        {
            WorkingDirectory = TestPaths.RepoRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add("--check");
        start.ArgumentList.Add("--source");
        start.ArgumentList.Add(SourceTable);

        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "dictgen.py did not finish within 2 minutes");
        Assert.True(process.ExitCode == 0, $"dictgen.py --check exited {process.ExitCode}: {output.Result}{error.Result}");
    }

    private static string? FindOnPath(string name)
    {
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            if (directory.Length == 0)
            {
                continue;
            }

            string candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
