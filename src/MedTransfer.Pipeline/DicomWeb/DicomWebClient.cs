using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace MedTransfer.Pipeline.DicomWeb;

/// <summary>Limits for <see cref="DicomWebClient"/>.</summary>
public sealed record DicomWebClientOptions
{
    /// <summary>Largest answer accepted (bytes); a larger one is a <see cref="DicomWebError.ResponseTooLarge"/> error. Default 2 GiB − 1.</summary>
    public long MaxResponseBytes { get; init; } = int.MaxValue;

    /// <summary>QIDO-RS page size (the <c>limit</c> parameter, PS3.18 §8.3.4.4). Default 500.</summary>
    public int PageSize { get; init; } = 500;

    /// <summary>
    /// How long the server may stay silent: until it answers a request, and then between two pieces of its answer (so a
    /// large study that keeps arriving is never cut off, and a server that never answers costs this long, not forever).
    /// Beyond it the request fails with <see cref="DicomWebError.Timeout"/>. Default 60 seconds.
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Receives what the client is doing: each QIDO-RS page listed, and every <see cref="ProgressInterval"/> while it waits for a server.</summary>
    public IProgress<DicomWebActivity>? Progress { get; init; }

    /// <summary>How often <see cref="Progress"/> hears that a request is still waiting. Default 5 seconds.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>What a <see cref="DicomWebClient"/> is doing (no identifiers: counts and the service name only).</summary>
/// <param name="Service">QIDO-RS, WADO-RS or STOW-RS.</param>
/// <param name="Waiting">How long the current request has waited for the server; zero for a finished listing page.</param>
/// <param name="StudiesListed">Studies listed so far (QIDO-RS study search), else 0.</param>
/// <param name="Pages">QIDO-RS pages received so far (study search), else 0.</param>
public readonly record struct DicomWebActivity(string Service, TimeSpan Waiting, int StudiesListed, int Pages)
{
    /// <summary>One line for a console.</summary>
    public string Describe() => Waiting > TimeSpan.Zero
        ? string.Create(CultureInfo.InvariantCulture, $"{Service}: waiting for the server ({Waiting.TotalSeconds:F0} s)")
        : string.Create(CultureInfo.InvariantCulture, $"{Service}: {StudiesListed} studies listed ({Pages} page(s))");
}

/// <summary>One study found by QIDO-RS.</summary>
/// <param name="StudyInstanceUid">Study Instance UID (0020,000D). An identifier: keep it out of logs.</param>
/// <param name="ModalitiesInStudy">Modalities in Study (0008,0061), when the server returns them.</param>
public sealed record DicomWebStudy(string StudyInstanceUid, IReadOnlyList<string> ModalitiesInStudy);

/// <summary>The outcome of a STOW-RS request (PS3.18 §10.5.3).</summary>
/// <param name="Stored">Instances in the Referenced SOP Sequence (0008,1199).</param>
/// <param name="Failed">Instances in the Failed SOP Sequence (0008,1198).</param>
public sealed record DicomWebStoreResult(int Stored, int Failed);

/// <summary>
/// A DICOMweb client (PS3.18) over <see cref="HttpClient"/>: QIDO-RS search (§10.6, answers in the DICOM JSON model of
/// Annex F), WADO-RS retrieve of whole studies (§10.4, multipart/related; type="application/dicom") and STOW-RS store
/// (§10.5, the same framing as a request). Every failure is a <see cref="DicomWebException"/> with a reason code.
/// </summary>
public sealed class DicomWebClient
{
    private const string DicomJson = "application/dicom+json";
    private const string DicomPart = "application/dicom";
    private readonly HttpClient _http;
    private readonly Uri _root;
    private readonly DicomWebClientOptions _options;

    /// <summary>Creates a client for the service at <paramref name="root"/> (e.g. http://host:8042/dicom-web).</summary>
    /// <param name="http">The HTTP client (owned by the caller; its own timeout should be at least <see cref="DicomWebClientOptions.Timeout"/>).</param>
    /// <param name="root">The service root; a trailing slash is added when missing.</param>
    /// <param name="options">Limits.</param>
    public DicomWebClient(HttpClient http, Uri root, DicomWebClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(root);
        if (!root.IsAbsoluteUri || (root.Scheme != Uri.UriSchemeHttp && root.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException("A DICOMweb root must be an absolute http(s) URL.", nameof(root));
        }

        _http = http;
        _root = root.AbsoluteUri.EndsWith('/') ? root : new Uri(root.AbsoluteUri + "/");
        _options = options ?? new DicomWebClientOptions();
    }

    /// <summary>The service root, ending with a slash.</summary>
    public Uri Root => _root;

    /// <summary>The WADO-RS URL of a study.</summary>
    public Uri StudyUri(string studyInstanceUid) => new(_root, "studies/" + Uri.EscapeDataString(studyInstanceUid));

    /// <summary>
    /// QIDO-RS: studies matching <paramref name="query"/> (attribute keyword or tag → value), sorted by UID. Pages with
    /// <c>limit</c>/<c>offset</c> until the server returns an empty page, so a server that caps its answers below the
    /// page size (Orthanc's LimitFindResults, for one) still yields every study. Paging also stops at a page that
    /// brings no study not seen before: a server that ignores <c>offset</c> answers every page with the same studies,
    /// and would otherwise be asked forever. Such a repeated page that is shorter than the page size was the server's
    /// whole answer; a full one means there may be studies it never showed, which is
    /// <see cref="DicomWebError.PagingIgnored"/>.
    /// </summary>
    /// <exception cref="DicomWebException">The request failed, the answer is not DICOM JSON, or the server ignores <c>offset</c> with more studies than one page.</exception>
    public async Task<IReadOnlyList<DicomWebStudy>> SearchStudiesAsync(IReadOnlyDictionary<string, string>? query = null, CancellationToken cancellation = default)
    {
        string filter = query is null || query.Count == 0
            ? string.Empty
            : string.Join('&', query.Select(q => Uri.EscapeDataString(q.Key) + "=" + Uri.EscapeDataString(q.Value))) + "&";
        var studies = new Dictionary<string, DicomWebStudy>(StringComparer.Ordinal);
        int pageSize = Math.Max(1, _options.PageSize);
        int pages = 0;
        for (int offset = 0; ; )
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_root, string.Create(CultureInfo.InvariantCulture, $"studies?{filter}limit={pageSize}&offset={offset}")));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(DicomJson));
            (byte[] body, _) = await SendAsync(request, "QIDO-RS", cancellation).ConfigureAwait(false);
            List<JsonElement> page = ParseArray(body);
            if (page.Count == 0)
            {
                break;
            }

            int added = 0;
            foreach (JsonElement item in page)
            {
                string? uid = FirstString(item, "0020000D");
                if (string.IsNullOrEmpty(uid))
                {
                    throw new DicomWebException(DicomWebError.MalformedResponse, "QIDO-RS returned a study without a Study Instance UID");
                }

                if (studies.TryAdd(uid, new DicomWebStudy(uid, Strings(item, "00080061"))))
                {
                    added++;
                }
            }

            pages++;
            _options.Progress?.Report(new DicomWebActivity("QIDO-RS", TimeSpan.Zero, studies.Count, pages));
            if (added == 0)
            {
                if (page.Count >= pageSize)
                {
                    throw new DicomWebException(DicomWebError.PagingIgnored, string.Create(CultureInfo.InvariantCulture,
                        $"QIDO-RS ignores 'offset': the page at offset {offset} repeats studies already listed, so studies past the first {studies.Count} cannot be listed; use a server that pages, or a page size above the number of studies"));
                }

                break;
            }

            offset += page.Count;
        }

        return [.. studies.Values.OrderBy(s => s.StudyInstanceUid, StringComparer.Ordinal)];
    }

    /// <summary>QIDO-RS: the SOP Instance UIDs of a study's instances, optionally only those of one SOP class, sorted.</summary>
    /// <exception cref="DicomWebException">The request failed or the answer is not DICOM JSON.</exception>
    public async Task<IReadOnlyList<string>> SearchInstancesAsync(string studyInstanceUid, string? sopClassUid = null, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(studyInstanceUid);
        string filter = sopClassUid is null ? string.Empty : "?SOPClassUID=" + Uri.EscapeDataString(sopClassUid);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(StudyUri(studyInstanceUid).AbsoluteUri + "/instances" + filter));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(DicomJson));
        (byte[] body, _) = await SendAsync(request, "QIDO-RS", cancellation).ConfigureAwait(false);
        return [.. ParseArray(body).Select(i => FirstString(i, "00080018") ?? string.Empty).Where(s => s.Length > 0).Order(StringComparer.Ordinal)];
    }

    /// <summary>WADO-RS: every instance of a study as Part 10 bytes, in the transfer syntax it is stored in.</summary>
    /// <exception cref="DicomWebException">The request failed, or the answer is not multipart/related.</exception>
    public async Task<IReadOnlyList<ReadOnlyMemory<byte>>> RetrieveStudyAsync(string studyInstanceUid, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(studyInstanceUid);
        using var request = new HttpRequestMessage(HttpMethod.Get, StudyUri(studyInstanceUid));
        var accept = new MediaTypeWithQualityHeaderValue("multipart/related");
        accept.Parameters.Add(new NameValueHeaderValue("type", "\"" + DicomPart + "\""));
        // "*": the instances as stored, no transcoding by the server (PS3.18 §8.7.3.5.2).
        accept.Parameters.Add(new NameValueHeaderValue("transfer-syntax", "*"));
        request.Headers.Accept.Add(accept);
        (byte[] body, MediaTypeHeaderValue? type) = await SendAsync(request, "WADO-RS", cancellation).ConfigureAwait(false);
        return MultipartRelated.Parse(body, MultipartRelated.BoundaryOf(type));
    }

    /// <summary>STOW-RS: stores Part 10 <paramref name="instances"/> (into <paramref name="studyInstanceUid"/> when given).</summary>
    /// <exception cref="DicomWebException">The request failed; <see cref="DicomWebError.StoreFailed"/> when the server refused any instance.</exception>
    public async Task<DicomWebStoreResult> StoreAsync(IReadOnlyList<byte[]> instances, string? studyInstanceUid = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(instances);
        if (instances.Count == 0)
        {
            return new DicomWebStoreResult(0, 0);
        }

        string boundary = MultipartRelated.NewBoundary(instances);
        Uri target = studyInstanceUid is null ? new Uri(_root, "studies") : StudyUri(studyInstanceUid);
        using var request = new HttpRequestMessage(HttpMethod.Post, target);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(DicomJson));
        var content = new ByteArrayContent(MultipartRelated.Build(instances, boundary, DicomPart));
        var type = new MediaTypeHeaderValue("multipart/related");
        type.Parameters.Add(new NameValueHeaderValue("type", "\"" + DicomPart + "\""));
        type.Parameters.Add(new NameValueHeaderValue("boundary", boundary));
        content.Headers.ContentType = type;
        request.Content = content;
        (byte[] body, _) = await SendAsync(request, "STOW-RS", cancellation, allowConflict: true).ConfigureAwait(false);
        int stored = 0;
        int failed = 0;
        if (body.Length > 0)
        {
            JsonElement root = ParseDocument(body);
            stored = SequenceLength(root, "00081199");
            failed = SequenceLength(root, "00081198");
        }

        if (failed > 0)
        {
            throw new DicomWebException(DicomWebError.StoreFailed, string.Create(CultureInfo.InvariantCulture, $"STOW-RS refused {failed} of {instances.Count} instances"));
        }

        return new DicomWebStoreResult(body.Length > 0 ? stored : instances.Count, failed);
    }

    private async Task<(byte[] Body, MediaTypeHeaderValue? Type)> SendAsync(HttpRequestMessage request, string service, CancellationToken cancellation, bool allowConflict = false)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(_options.Timeout);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        using var ticker = _options.Progress is { } progress && _options.ProgressInterval > TimeSpan.Zero
            ? new Timer(_ => progress.Report(new DicomWebActivity(service, waited.Elapsed, 0, 0)), null, _options.ProgressInterval, _options.ProgressInterval)
            : null;
        try
        {
            using HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            int status = (int)response.StatusCode;
            // 409 from STOW-RS still carries the per-instance outcome (PS3.18 §10.5.3.2): read it.
            if (!response.IsSuccessStatusCode && !(allowConflict && response.StatusCode == HttpStatusCode.Conflict))
            {
                throw new DicomWebException(DicomWebError.HttpStatus, string.Create(CultureInfo.InvariantCulture, $"{service} {request.Method} answered HTTP {status}"), status);
            }

            if (response.StatusCode == HttpStatusCode.NoContent)
            {
                return ([], response.Content.Headers.ContentType);
            }

            long? declared = response.Content.Headers.ContentLength;
            if (declared > _options.MaxResponseBytes)
            {
                throw new DicomWebException(DicomWebError.ResponseTooLarge, $"{service} answer is larger than the configured limit", status);
            }

            await using Stream stream = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            using var copy = new MemoryStream();
            byte[] chunk = new byte[1 << 16];
            int n;
            while (true)
            {
                // The limit is on silence, not on the whole transfer: every piece that arrives restarts it.
                timeout.CancelAfter(_options.Timeout);
                waited.Restart();
                n = await stream.ReadAsync(chunk, timeout.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                if (copy.Length + n > _options.MaxResponseBytes)
                {
                    throw new DicomWebException(DicomWebError.ResponseTooLarge, $"{service} answer is larger than the configured limit", status);
                }

                copy.Write(chunk, 0, n);
            }

            return (copy.ToArray(), response.Content.Headers.ContentType);
        }
        catch (OperationCanceledException ex) when (!cancellation.IsCancellationRequested)
        {
            throw new DicomWebException(DicomWebError.Timeout, string.Create(CultureInfo.InvariantCulture, $"{service} {request.Method}: the server sent nothing for {_options.Timeout.TotalSeconds:0.###} s (--timeout)"), null, ex);
        }
        catch (HttpRequestException ex)
        {
            throw new DicomWebException(DicomWebError.Unreachable, $"{service} could not be reached ({ex.HttpRequestError})", null, ex);
        }
        catch (IOException ex)
        {
            throw new DicomWebException(DicomWebError.Unreachable, $"{service} connection broke", null, ex);
        }
    }

    private static JsonElement ParseDocument(byte[] body)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(body);
            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new DicomWebException(DicomWebError.MalformedResponse, "the answer is not valid DICOM JSON", null, ex);
        }
    }

    private static List<JsonElement> ParseArray(byte[] body)
    {
        if (body.Length == 0)
        {
            return [];
        }

        JsonElement root = ParseDocument(body);
        return root.ValueKind == JsonValueKind.Array
            ? [.. root.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object)]
            : throw new DicomWebException(DicomWebError.MalformedResponse, "a QIDO-RS answer must be a JSON array");
    }

    private static IReadOnlyList<string> Strings(JsonElement item, string tag) =>
        item.TryGetProperty(tag, out JsonElement attribute) && attribute.ValueKind == JsonValueKind.Object
        && attribute.TryGetProperty("Value", out JsonElement values) && values.ValueKind == JsonValueKind.Array
            ? [.. values.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!)]
            : [];

    private static string? FirstString(JsonElement item, string tag) => Strings(item, tag) is [var first, ..] ? first : null;

    private static int SequenceLength(JsonElement root, string tag) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty(tag, out JsonElement attribute) && attribute.ValueKind == JsonValueKind.Object
        && attribute.TryGetProperty("Value", out JsonElement values) && values.ValueKind == JsonValueKind.Array
            ? values.GetArrayLength()
            : 0;
}
