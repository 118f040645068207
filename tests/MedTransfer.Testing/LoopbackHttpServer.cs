using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MedTransfer.Testing;

/// <summary>
/// A hostile HTTP/1.1 server on 127.0.0.1 for the DICOMweb client's failure cases: the answer function gets the
/// request target (path and query) and returns a JSON body, or null to never answer (the connection stays open).
/// </summary>
public sealed class LoopbackHttpServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<string, string?> _answer;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _open = [];
    private readonly Task _loop;
    private int _requests;

    public LoopbackHttpServer(Func<string, string?> answer)
    {
        _answer = answer;
        _listener.Start();
        _loop = Task.Run(AcceptAsync);
    }

    public Uri Root => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/dicom-web/");

    /// <summary>Requests received so far.</summary>
    public int Requests => Volatile.Read(ref _requests);

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_open)
        {
            foreach (TcpClient client in _open)
            {
                client.Dispose();
            }
        }

        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The accept loop ends with the listener.
        }

        _stop.Dispose();
    }

    /// <summary>A QIDO-RS study answer listing <paramref name="uids"/>.</summary>
    public static string Studies(IEnumerable<string> uids) =>
        "[" + string.Join(',', uids.Select(u => "{\"0020000D\":{\"vr\":\"UI\",\"Value\":[\"" + u + "\"]}}")) + "]";

    /// <summary>The value of query parameter <paramref name="name"/> in <paramref name="target"/>, or null.</summary>
    public static int? Query(string target, string name)
    {
        int q = target.IndexOf('?', StringComparison.Ordinal);
        if (q < 0)
        {
            return null;
        }

        foreach (string pair in target[(q + 1)..].Split('&'))
        {
            string[] kv = pair.Split('=', 2);
            if (kv.Length == 2 && kv[0] == name && int.TryParse(kv[1], System.Globalization.CultureInfo.InvariantCulture, out int value))
            {
                return value;
            }
        }

        return null;
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            lock (_open)
            {
                _open.Add(client);
            }

            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        try
        {
            NetworkStream stream = client.GetStream();
            while (!_stop.IsCancellationRequested)
            {
                string? head = await ReadHeadAsync(stream);
                if (head is null)
                {
                    return;
                }

                Interlocked.Increment(ref _requests);
                string target = head.Split(' ')[1];
                string? body = _answer(target);
                if (body is null)
                {
                    // Never answer: hold the connection until the test ends.
                    await Task.Delay(Timeout.Infinite, _stop.Token);
                    return;
                }

                byte[] bytes = Encoding.UTF8.GetBytes(body);
                byte[] header = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/dicom+json\r\nContent-Length: {bytes.Length}\r\n\r\n");
                await stream.WriteAsync(header, _stop.Token);
                await stream.WriteAsync(bytes, _stop.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // The client went away or the test ended.
        }
    }

    private async Task<string?> ReadHeadAsync(NetworkStream stream)
    {
        var head = new StringBuilder();
        byte[] one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one, _stop.Token) == 0)
            {
                return null;
            }

            head.Append((char)one[0]);
        }

        return head.ToString();
    }
}
