using System.Diagnostics;
using System.Globalization;
using MedTransfer.Dicom;
using MedTransfer.Dicom.Pixels;

namespace MedTransfer.Pipeline.Ingest;

/// <summary>How to start a decode worker process: the program and its arguments.</summary>
/// <param name="FileName">The program (e.g. the medtransfer app host, or dotnet).</param>
/// <param name="Arguments">Its arguments, ending with the worker verb.</param>
public sealed record WorkerCommand(string FileName, IReadOnlyList<string> Arguments)
{
    /// <summary>The hidden CLI verb that runs <see cref="DecodeWorker.Serve"/>.</summary>
    public const string Verb = "__decode-worker";

    /// <summary>The command that runs the worker verb of the program this process was started as.</summary>
    /// <exception cref="InvalidOperationException">The process was not started as the medtransfer program.</exception>
    public static WorkerCommand ForCurrentProgram()
    {
        string? process = Environment.ProcessPath;
        string entry = Environment.GetCommandLineArgs()[0];
        if (process is null)
        {
            throw new InvalidOperationException("The path of this program is unknown; cannot start a decode worker.");
        }

        // `dotnet medtransfer.dll …` runs through the dotnet host; an app host runs directly.
        bool viaDotnetHost = Path.GetFileNameWithoutExtension(process).Equals("dotnet", StringComparison.Ordinal)
            && entry.EndsWith(".dll", StringComparison.Ordinal);
        return viaDotnetHost ? new WorkerCommand(process, [entry, Verb]) : new WorkerCommand(process, [Verb]);
    }
}

/// <summary>The outcome of decoding one file.</summary>
/// <param name="DecodedBytes">Bytes of decoded pixel data (all frames).</param>
/// <param name="Failure">Null on success; else a reason code (a DicomErrorCode name, CodecUnavailable:package,
/// NativeCodecCrash, DecodeTimeout).</param>
public readonly record struct DecodeOutcome(long DecodedBytes, string? Failure);

/// <summary>
/// The decode worker: reads one file path per line from <c>input</c>, decodes every frame, answers one line
/// per file (<c>ok BYTES</c> or <c>fail REASON</c>). Runs in a child process so that a crash inside a native
/// codec (CharLS, OpenJPEG) kills only the worker, never the batch.
/// </summary>
public static class DecodeWorker
{
    /// <summary>Fault injection for tests: when set to a text, the worker aborts the process (as a native
    /// crash would) on any path containing it. Never set in production.</summary>
    public const string FaultVariable = "MEDTRANSFER_WORKER_CRASH_ON";

    /// <summary>Serves requests until <paramref name="input"/> ends. Returns 0.</summary>
    public static int Serve(TextReader input, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        string? crashOn = Environment.GetEnvironmentVariable(FaultVariable);
        while (input.ReadLine() is { } path)
        {
            if (!string.IsNullOrEmpty(crashOn) && path.Contains(crashOn, StringComparison.Ordinal))
            {
                Environment.FailFast("fault injected for an isolation test");
            }

            DecodeOutcome outcome = DecodeInProcess(path);
            output.WriteLine(outcome.Failure is null
                ? string.Create(CultureInfo.InvariantCulture, $"ok {outcome.DecodedBytes}")
                : $"fail {outcome.Failure}");
            output.Flush();
        }

        return 0;
    }

    /// <summary>Reads and decodes every frame of one file in this process.</summary>
    public static DecodeOutcome DecodeInProcess(string path) =>
        Attempt(() => DecodeAllFrames(DicomFile.Open(path, new DicomReaderOptions { PixelData = PixelDataLoading.Eager })));

    /// <summary>Decodes every frame of an opened file (lazy pixels are read now); returns the decoded byte count.</summary>
    internal static long DecodeAllFrames(DicomFile file)
    {
        DicomImage image = DicomImage.Create(file);
        long bytes = 0;
        for (int frame = 0; frame < image.FrameCount; frame++)
        {
            bytes += image.DecodeFrame(frame).LongLength;
        }

        return bytes;
    }

    /// <summary>True when decoding <paramref name="transferSyntaxUid"/> calls a native library (JPEG-LS, JPEG 2000).</summary>
    public static bool NeedsNativeCodec(string transferSyntaxUid) => transferSyntaxUid is
        PixelDecoder.JpegLsLossless or PixelDecoder.JpegLsNearLossless or PixelDecoder.Jpeg2000Lossless or PixelDecoder.Jpeg2000;

    /// <summary>Runs <paramref name="body"/> and maps the errors a bad file can cause to a reason code.</summary>
    internal static DecodeOutcome Attempt(Func<long> body)
    {
        try
        {
            return new DecodeOutcome(body(), null);
        }
        catch (DicomFormatException ex)
        {
            return new DecodeOutcome(0, ex.Reason.ToString());
        }
        catch (CodecUnavailableException ex)
        {
            return new DecodeOutcome(0, "CodecUnavailable:" + ex.Package);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or OutOfMemoryException)
        {
            return new DecodeOutcome(0, ex.GetType().Name);
        }
    }
}

/// <summary>
/// Decodes files in a long-lived child process (<see cref="DecodeWorker"/>), restarting it after a crash or a
/// time-out; the file in flight is reported as <c>NativeCodecCrash</c> or <c>DecodeTimeout</c> and the batch goes on.
/// One instance serves one thread.
/// </summary>
public sealed class IsolatedDecoder : IDisposable
{
    private readonly WorkerCommand _command;
    private readonly TimeSpan _timeout;
    private Process? _worker;

    /// <summary>Creates the decoder; the worker starts on first use.</summary>
    public IsolatedDecoder(WorkerCommand command, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(command);
        _command = command;
        _timeout = timeout;
    }

    /// <summary>Number of times a worker had to be replaced.</summary>
    public int Restarts { get; private set; }

    /// <summary>Decodes <paramref name="path"/> in the worker.</summary>
    public DecodeOutcome Decode(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Contains('\n', StringComparison.Ordinal) || path.Contains('\r', StringComparison.Ordinal))
        {
            return new DecodeOutcome(0, "UnsupportedPath");
        }

        Process worker = EnsureWorker();
        try
        {
            worker.StandardInput.WriteLine(path);
            worker.StandardInput.Flush();
        }
        catch (IOException)
        {
            Replace();
            return new DecodeOutcome(0, "NativeCodecCrash");
        }

        Task<string?> reply = worker.StandardOutput.ReadLineAsync();
        if (!reply.Wait(_timeout))
        {
            Replace();
            return new DecodeOutcome(0, "DecodeTimeout");
        }

        string? line = reply.Result;
        if (line is null)
        {
            Replace();
            return new DecodeOutcome(0, "NativeCodecCrash");
        }

        if (line.StartsWith("ok ", StringComparison.Ordinal) && long.TryParse(line.AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture, out long bytes))
        {
            return new DecodeOutcome(bytes, null);
        }

        return new DecodeOutcome(0, line.StartsWith("fail ", StringComparison.Ordinal) ? line[5..] : "WorkerProtocolError");
    }

    /// <inheritdoc />
    public void Dispose() => Stop();

    private Process EnsureWorker()
    {
        if (_worker is { HasExited: false })
        {
            return _worker;
        }

        Stop();
        var start = new ProcessStartInfo(_command.FileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in _command.Arguments)
        {
            start.ArgumentList.Add(argument);
        }

        _worker = Process.Start(start) ?? throw new InvalidOperationException("could not start the decode worker");
        _worker.ErrorDataReceived += (_, _) => { };
        _worker.BeginErrorReadLine();
        return _worker;
    }

    private void Replace()
    {
        Stop();
        Restarts++;
    }

    private void Stop()
    {
        if (_worker is null)
        {
            return;
        }

        try
        {
            if (!_worker.HasExited)
            {
                _worker.StandardInput.Close();
                if (!_worker.WaitForExit(TimeSpan.FromSeconds(2)))
                {
                    _worker.Kill(entireProcessTree: true);
                }
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
        {
            // The worker is already gone: nothing left to stop.
        }

        _worker.Dispose();
        _worker = null;
    }
}
