using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MedTransfer.Dicom;
using MedTransfer.Pipeline.Ingest;

namespace MedTransfer.Bench.Ingest;

/// <summary>What <see cref="IngestBenchmark"/> measures: headers only, or headers plus every frame decoded.</summary>
public enum IngestMode
{
    /// <summary>Parse up to Pixel Data and stop (pydicom: <c>stop_before_pixels=True</c>).</summary>
    Header,

    /// <summary>Parse the whole file and decode every frame (pydicom: <c>ds.pixel_array</c>).</summary>
    Full,
}

/// <summary>The outcome of one ingest measurement.</summary>
/// <param name="Tool">Who was measured, e.g. "MedTransfer 0.1.0" or "pydicom 2.3.1".</param>
/// <param name="Mode">Header or full decode.</param>
/// <param name="Files">Files attempted.</param>
/// <param name="Succeeded">Files read (and decoded) without error.</param>
/// <param name="Seconds">Wall-clock seconds of all timed passes over the folder.</param>
/// <param name="DecodedBytes">Bytes of decoded pixel data produced in all passes.</param>
/// <param name="Threads">Worker threads used.</param>
/// <param name="FailuresByReason">Failed files per reason code (DicomErrorCode, CodecUnavailable, or the exception type for the reference tool), from one pass.</param>
/// <param name="Passes">Timed passes over the folder (repeated until the minimum measuring time was reached).</param>
public sealed record IngestMeasurement(
    string Tool,
    IngestMode Mode,
    int Files,
    int Succeeded,
    double Seconds,
    long DecodedBytes,
    int Threads,
    IReadOnlyDictionary<string, int> FailuresByReason,
    int Passes = 1)
{
    /// <summary>Files per second over all passes, failures included.</summary>
    public double FilesPerSecond => Seconds > 0 ? (double)Files * Passes / Seconds : 0;

    /// <summary>Decoded megabytes (10⁶ bytes) per second.</summary>
    public double DecodedMegabytesPerSecond => Seconds > 0 ? DecodedBytes / 1e6 / Seconds : 0;
}

/// <summary>
/// `medtransfer bench ingest`: reads every file under a folder and reports files/s, decoded MB/s and
/// failures by reason. A bad file never stops the run. The optional reference runs
/// Debian's pydicom on the same files in the same run, so a speed ratio compares like with like.
/// </summary>
public static class IngestBenchmark
{
    /// <summary>Where Debian's python3-pydicom is importable.</summary>
    public const string ReferencePython = "/usr/bin/python3";

    /// <summary>How long a worker may take for one file before it is replaced.</summary>
    public static readonly TimeSpan WorkerTimeout = TimeSpan.FromSeconds(120);

    private static readonly DicomReaderOptions s_headerOnly = new() { StopAtPixelData = true, PixelData = PixelDataLoading.Skip };
    private static readonly DicomReaderOptions s_lazyPixels = new() { PixelData = PixelDataLoading.Lazy };

    /// <summary>Files read once, untimed, before measuring (both tools).</summary>
    public const int WarmUpFiles = 8;

    /// <summary>Lists the files under <paramref name="root"/> (all of them, sorted, so runs are comparable).</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public static IReadOnlyList<string> ListFiles(string root)
    {
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"The folder '{root}' does not exist.");
        }

        List<string> files = [.. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)];
        files.Sort(StringComparer.Ordinal);
        return files;
    }

    /// <summary>Measures MedTransfer's reader (and decoders) on <paramref name="files"/>.</summary>
    /// <param name="files">The files, e.g. from <see cref="ListFiles"/>.</param>
    /// <param name="mode">Header only or full decode.</param>
    /// <param name="threads">Worker threads (1 compares fairly with single-threaded pydicom).</param>
    /// <param name="progress">Receives the number of files done.</param>
    /// <param name="isolateNativeCodecs">When set, files that need a native codec (JPEG-LS, JPEG 2000) are decoded in
    /// worker processes started with this command, so a codec crash costs one file, not the run.</param>
    /// <param name="minimumSeconds">The folder is read again until this much time was measured (short runs are
    /// dominated by timer and JIT-tiering noise); 0 reads it once.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    public static IngestMeasurement Run(IReadOnlyList<string> files, IngestMode mode, int threads = 1, IProgress<int>? progress = null, WorkerCommand? isolateNativeCodecs = null, double minimumSeconds = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        var failures = new Dictionary<string, int>(StringComparer.Ordinal);
        long decoded = 0;
        int succeeded = 0;
        int done = 0;
        var gate = new object();
        var decoders = new List<IsolatedDecoder>();
        using var isolated = new ThreadLocal<IsolatedDecoder?>(() =>
        {
            if (isolateNativeCodecs is null)
            {
                return null;
            }

            var decoder = new IsolatedDecoder(isolateNativeCodecs, WorkerTimeout);
            lock (gate)
            {
                decoders.Add(decoder);
            }

            return decoder;
        });

        // Warm-up, untimed: the first files pay for JIT compilation and codec loading, which would
        // otherwise dominate small folders. The pydicom reference warms up on the same files.
        for (int i = 0; i < Math.Min(WarmUpFiles, files.Count); i++)
        {
            ReadOne(files[i], mode, isolated.Value);
        }

        var stopwatch = Stopwatch.StartNew();
        int passes = 0;
        do
        {
            bool firstPass = passes == 0;
            Parallel.ForEach(
                files,
                new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken },
                path =>
                {
                    (long bytes, string? failure) = ReadOne(path, mode, isolated.Value);
                    lock (gate)
                    {
                        decoded += bytes;
                        if (firstPass)
                        {
                            if (failure is null)
                            {
                                succeeded++;
                            }
                            else
                            {
                                failures[failure] = failures.GetValueOrDefault(failure) + 1;
                            }

                            done++;
                        }
                    }

                    if (firstPass)
                    {
                        progress?.Report(Volatile.Read(ref done));
                    }
                });
            passes++;
        }
        while (stopwatch.Elapsed.TotalSeconds < minimumSeconds && files.Count > 0);

        stopwatch.Stop();
        foreach (IsolatedDecoder decoder in decoders)
        {
            decoder.Dispose();
        }

        string version = typeof(IngestBenchmark).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        return new IngestMeasurement($"MedTransfer {version}", mode, files.Count, succeeded, stopwatch.Elapsed.TotalSeconds, decoded, threads, failures, passes);
    }

    /// <summary>
    /// Runs the pydicom reference (<c>pydicom_ingest.py</c> beside this assembly) on the same folder.
    /// Returns null with <paramref name="unavailableReason"/> when Debian's python3-pydicom is absent.
    /// </summary>
    public static IngestMeasurement? RunPydicomReference(string root, IngestMode mode, double minimumSeconds, out string? unavailableReason)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "pydicom_ingest.py");
        if (!File.Exists(ReferencePython) || !File.Exists(script))
        {
            unavailableReason = $"the reference needs {ReferencePython} with python3-pydicom and python3-numpy (apt-get install python3-pydicom python3-numpy)";
            return null;
        }

        var start = new ProcessStartInfo(ReferencePython)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(root);
        start.ArgumentList.Add(mode == IngestMode.Header ? "header" : "full");
        start.ArgumentList.Add(minimumSeconds.ToString("R", CultureInfo.InvariantCulture));
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start the reference interpreter");
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            string detail = stderr.Result.Contains("No module named", StringComparison.Ordinal)
                ? "python3-pydicom or python3-numpy is not installed (apt-get install python3-pydicom python3-numpy)"
                : $"the reference exited with code {process.ExitCode}";
            unavailableReason = detail;
            return null;
        }

        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement r = doc.RootElement;
        var failures = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (JsonProperty p in r.GetProperty("failures").EnumerateObject())
        {
            failures[p.Name] = p.Value.GetInt32();
        }

        double seconds = r.GetProperty("seconds").GetDouble();
        long decodedBytes = (long)Math.Round(r.GetProperty("decoded_mb_per_s").GetDouble() * 1e6 * seconds);
        unavailableReason = null;
        return new IngestMeasurement(
            r.GetProperty("tool").GetString() ?? "pydicom",
            mode,
            r.GetProperty("files").GetInt32(),
            r.GetProperty("succeeded").GetInt32(),
            seconds,
            decodedBytes,
            1,
            failures,
            r.GetProperty("passes").GetInt32());
    }

    private static DecodeOutcome ReadOne(string path, IngestMode mode, IsolatedDecoder? isolated)
    {
        if (mode == IngestMode.Header)
        {
            return DecodeWorker.Attempt(() =>
            {
                DicomFile.Open(path, s_headerOnly);
                return 0;
            });
        }

        if (isolated is null)
        {
            return DecodeWorker.DecodeInProcess(path);
        }

        // One open with lazy pixels: the header says whether a native codec is needed; managed syntaxes decode
        // from the same file object, native ones are handed (by path) to the worker process.
        bool native = false;
        DecodeOutcome managed = DecodeWorker.Attempt(() =>
        {
            DicomFile file = DicomFile.Open(path, s_lazyPixels);
            native = DecodeWorker.NeedsNativeCodec(file.TransferSyntax.Uid);
            return native ? 0 : DecodeWorker.DecodeAllFrames(file);
        });
        return native && managed.Failure is null ? isolated.Decode(path) : managed;
    }
}
