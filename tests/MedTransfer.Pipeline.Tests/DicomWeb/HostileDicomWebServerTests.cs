using MedTransfer.Pipeline.DicomWeb;
using MedTransfer.Testing;

namespace MedTransfer.Pipeline.Tests.DicomWeb;

/// <summary>
/// The DICOMweb client against servers that break the rules: QIDO-RS that ignores <c>offset</c> (asked forever
/// before), and a server that accepts the connection and never answers (minutes of silence before).
/// </summary>
public sealed class HostileDicomWebServerTests : IDisposable
{
    private static readonly string[] s_uids = [.. Enumerable.Range(1, 5).Select(i => "2.25." + i)];

    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task SearchStudies_ServerIgnoringOffsetAndLimit_StopsAtTheRepeatedPage()
    {
        using var server = new LoopbackHttpServer(_ => LoopbackHttpServer.Studies(s_uids));
        var client = new DicomWebClient(_http, server.Root);

        IReadOnlyList<DicomWebStudy> studies = await client.SearchStudiesAsync();

        Assert.Equal(s_uids, studies.Select(s => s.StudyInstanceUid));
        Assert.Equal(2, server.Requests);
    }

    [Fact]
    public async Task SearchStudies_ServerHonouringLimitButIgnoringOffset_IsATypedErrorNotAnEndlessLoop()
    {
        using var server = new LoopbackHttpServer(target => LoopbackHttpServer.Studies(s_uids.Take(LoopbackHttpServer.Query(target, "limit") ?? 500)));
        var client = new DicomWebClient(_http, server.Root, new DicomWebClientOptions { PageSize = 2 });

        var ex = await Assert.ThrowsAsync<DicomWebException>(() => client.SearchStudiesAsync());

        Assert.Equal(DicomWebError.PagingIgnored, ex.Reason);
        Assert.Equal(2, server.Requests);
    }

    [Fact]
    public async Task SearchStudies_ServerThatPages_ListsEveryStudyOnce()
    {
        using var server = new LoopbackHttpServer(target =>
        {
            int limit = LoopbackHttpServer.Query(target, "limit") ?? 500;
            int offset = LoopbackHttpServer.Query(target, "offset") ?? 0;
            return LoopbackHttpServer.Studies(s_uids.Skip(offset).Take(limit));
        });
        var pages = new List<DicomWebActivity>();
        var client = new DicomWebClient(_http, server.Root, new DicomWebClientOptions { PageSize = 2, Progress = new Collect(pages) });

        IReadOnlyList<DicomWebStudy> studies = await client.SearchStudiesAsync();

        Assert.Equal(s_uids, studies.Select(s => s.StudyInstanceUid));
        Assert.Equal(4, server.Requests);
        Assert.Equal([2, 4, 5], pages.Where(p => p.Waiting == TimeSpan.Zero).Select(p => p.StudiesListed));
    }

    [Fact]
    public async Task Requests_ToAServerThatNeverAnswers_TimeOutWithProgressMeanwhile()
    {
        using var server = new LoopbackHttpServer(_ => null);
        var activity = new List<DicomWebActivity>();
        var client = new DicomWebClient(_http, server.Root, new DicomWebClientOptions
        {
            Timeout = TimeSpan.FromMilliseconds(600),
            Progress = new Collect(activity),
            ProgressInterval = TimeSpan.FromMilliseconds(100),
        });

        var search = await Assert.ThrowsAsync<DicomWebException>(() => client.SearchStudiesAsync());
        var retrieve = await Assert.ThrowsAsync<DicomWebException>(() => client.RetrieveStudyAsync("2.25.1"));

        Assert.Equal(DicomWebError.Timeout, search.Reason);
        Assert.Equal(DicomWebError.Timeout, retrieve.Reason);
        Assert.Contains("QIDO-RS", search.Message, StringComparison.Ordinal);
        Assert.Contains("WADO-RS", retrieve.Message, StringComparison.Ordinal);
        lock (activity)
        {
            Assert.Contains(activity, a => a.Service == "QIDO-RS" && a.Waiting > TimeSpan.Zero);
            Assert.Contains("waiting for the server", activity.First(a => a.Waiting > TimeSpan.Zero).Describe(), StringComparison.Ordinal);
        }
    }

    private sealed class Collect(List<DicomWebActivity> into) : IProgress<DicomWebActivity>
    {
        public void Report(DicomWebActivity value)
        {
            lock (into)
            {
                into.Add(value);
            }
        }
    }
}
