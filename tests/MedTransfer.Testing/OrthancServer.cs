using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace MedTransfer.Testing;

/// <summary>
/// A private Orthanc (Debian packages <c>orthanc</c> and <c>orthanc-dicomweb</c>) for DICOMweb tests: its own temp
/// configuration and storage, HTTP on a free loopback port, the DICOM listener off, the DICOMweb plugin at
/// <see cref="DicomWebRoot"/>. One per test class (use it as an xunit class fixture); tests skip with
/// <see cref="UnavailableReason"/> when it cannot start.
/// </summary>
public sealed class OrthancServer : IDisposable
{
    /// <summary>The Debian Orthanc binary.</summary>
    public const string Binary = "/usr/sbin/Orthanc";

    /// <summary>Where Debian installs the DICOMweb plugin (a link to /usr/lib/orthanc/libOrthancDicomWeb.so.*).</summary>
    public const string DicomWebPlugin = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so";

    private readonly string _folder;
    private readonly Process? _process;

    /// <summary>Starts the server, or records why it could not.</summary>
    public OrthancServer()
    {
        _folder = TestPaths.NewTempDirectory("medtransfer-orthanc");
        if (!File.Exists(Binary) || !File.Exists(DicomWebPlugin))
        {
            UnavailableReason = "Orthanc with its DICOMweb plugin is not installed (Debian packages orthanc and orthanc-dicomweb; .ci/run installs them)";
            return;
        }

        int port = FreePort();
        var config = new JsonObject
        {
            ["Name"] = "medtransfer-test",
            ["StorageDirectory"] = Path.Combine(_folder, "storage"),
            ["IndexDirectory"] = Path.Combine(_folder, "index"),
            ["HttpPort"] = port,
            ["DicomServerEnabled"] = false,
            ["DicomPort"] = FreePort(),
            ["RemoteAccessAllowed"] = false,
            ["AuthenticationEnabled"] = false,
            ["HttpThreadsCount"] = 8,
            ["ConcurrentJobs"] = 1,
            ["Plugins"] = new JsonArray(DicomWebPlugin),
            ["DicomWeb"] = new JsonObject { ["Enable"] = true, ["Root"] = "/dicom-web/", ["EnableWado"] = false },
        };
        string configPath = Path.Combine(_folder, "orthanc.json");
        File.WriteAllText(configPath, config.ToJsonString());
        var start = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _folder,
        };
        start.ArgumentList.Add(configPath);
        try
        {
            _process = Process.Start(start);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            UnavailableReason = "Orthanc could not be started: " + ex.Message;
            return;
        }

        if (_process is null)
        {
            UnavailableReason = "Orthanc could not be started";
            return;
        }

        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) { log.Enqueue(e.Data); } };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { log.Enqueue(e.Data); } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        BaseUri = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/"));
        DicomWebRoot = new Uri(BaseUri, "dicom-web/");
        if (!WaitUntilReady(TimeSpan.FromSeconds(20)))
        {
            UnavailableReason = "Orthanc did not answer within 20 s: " + string.Join(" | ", log.TakeLast(5));
            Dispose();
        }
    }

    /// <summary>Null when the server runs; otherwise why the Orthanc tests are skipped.</summary>
    public string? UnavailableReason { get; }

    /// <summary>The REST API root, e.g. http://127.0.0.1:PORT/.</summary>
    public Uri BaseUri { get; } = new("http://127.0.0.1/");

    /// <summary>The DICOMweb root, e.g. http://127.0.0.1:PORT/dicom-web/.</summary>
    public Uri DicomWebRoot { get; } = new("http://127.0.0.1/dicom-web/");

    /// <summary>Stops the server and deletes its storage.</summary>
    public void Dispose()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }

        _process?.Dispose();
        if (Directory.Exists(_folder))
        {
            try
            {
                Directory.Delete(_folder, recursive: true);
            }
            catch (IOException)
            {
                // Orthanc may still release its index for a moment; the temp folder is the system's to clean then.
            }
        }
    }

    private bool WaitUntilReady(TimeSpan budget)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < budget && _process is { HasExited: false })
        {
            try
            {
                using HttpResponseMessage response = http.GetAsync(new Uri(BaseUri, "system")).GetAwaiter().GetResult();
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Not answering yet.
            }

            Thread.Sleep(100);
        }

        return false;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
