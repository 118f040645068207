using System.Diagnostics;
using System.Text.Json;

namespace MedTransfer.Bench.Training;

/// <summary>
/// Runs a PyTorch reference script with Debian's python3-torch and reads the JSON line it prints last: the training
/// and the feature benchmarks measure PyTorch the same way, and say the same thing when it is missing.
/// </summary>
internal static class PythonReference
{
    /// <summary>The interpreter with Debian's python3-torch.</summary>
    public const string Python = "/usr/bin/python3";

    /// <summary>The script's last output line as JSON, or null with why in <paramref name="unavailable"/>.</summary>
    public static JsonDocument? Run(string script, IEnumerable<string> arguments, out string? unavailable)
    {
        unavailable = null;
        if (!File.Exists(Python))
        {
            unavailable = $"{Python} not found";
            return null;
        }

        string path = Path.Combine(Path.GetTempPath(), $"medtransfer-torch-bench-{Environment.ProcessId}-{Guid.NewGuid():N}.py");
        File.WriteAllText(path, script);
        try
        {
            var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(path);
            foreach (string arg in arguments)
            {
                start.ArgumentList.Add(arg);
            }

            using Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start python3");
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                string err = stderr.Result;
                unavailable = err.Contains("No module named 'torch", StringComparison.Ordinal)
                    ? "python3-torch / python3-torchvision are not installed (apt-get install python3-torch python3-torchvision)"
                    : "the PyTorch reference failed: " + err.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
                return null;
            }

            return JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
