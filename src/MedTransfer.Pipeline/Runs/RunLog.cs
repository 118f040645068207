using System.Globalization;
using System.Text;

namespace MedTransfer.Pipeline.Runs;

/// <summary>
/// A run's log file (run.log): one line per progress report with a UTC time stamp, flushed as it is written so a killed run keeps every
/// line, and each report passed on to the caller's progress.
/// </summary>
internal sealed class RunLog : IProgress<RunProgress>, IDisposable
{
    private readonly StreamWriter _writer;
    private readonly IProgress<RunProgress>? _inner;
    private readonly object _gate = new();
    private readonly string _name;

    public RunLog(string path, IProgress<RunProgress>? inner)
    {
        _name = Path.GetFileName(path);
        try
        {
            _writer = new StreamWriter(path, append: true, new UTF8Encoding(false)) { AutoFlush = true };
        }
        catch (IOException ex)
        {
            throw Named(ex);
        }

        _inner = inner;
    }

    public void Report(RunProgress value)
    {
        lock (_gate)
        {
            try
            {
                _writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:O} {value.Stage} {value.Done}/{value.Total} {value.Detail}"));
            }
            catch (IOException ex)
            {
                // A full disk surfaces here first in a long run: say which file, so the user knows it is the log.
                throw Named(ex);
            }
        }

        _inner?.Report(value);
    }

    public void Dispose()
    {
        try
        {
            _writer.Dispose();
        }
        catch (IOException)
        {
            // The buffer is flushed after every line, so nothing is lost here; an error from the last
            // flush must not hide the exception that ended the run.
        }
    }

    private IOException Named(IOException ex) => new($"cannot write {_name}: {ex.Message}", ex);
}
