using System.Net.Http.Headers;
using System.Text;
using FsCheck;
using FsCheck.Xunit;
using MedTransfer.Pipeline.DicomWeb;

namespace MedTransfer.Pipeline.Tests.DicomWeb;

public sealed class MultipartRelatedTests
{
    [Property(MaxTest = 200)]
    public bool BuildThenParse_GivesBackEveryPartByteForByte(byte[][] parts)
    {
        parts ??= [];
        byte[][] clean = [.. parts.Select(p => p ?? [])];
        string boundary = MultipartRelated.NewBoundary(clean);
        IReadOnlyList<ReadOnlyMemory<byte>> parsed = MultipartRelated.Parse(MultipartRelated.Build(clean, boundary, "application/dicom"), boundary);
        return parsed.Count == clean.Length && parsed.Zip(clean).All(p => p.First.Span.SequenceEqual(p.Second));
    }

    [Fact]
    public void Parse_PreambleHeadersAndEpilogue_AreIgnored()
    {
        byte[] body = Encoding.ASCII.GetBytes("preamble\r\n--b1\r\nContent-Type: application/dicom\r\nContent-Length: 3\r\n\r\nabc\r\n--b1\r\n\r\nxy\r\n--b1--\r\nepilogue");

        IReadOnlyList<ReadOnlyMemory<byte>> parts = MultipartRelated.Parse(body, "b1");

        Assert.Equal(["abc", "xy"], parts.Select(p => Encoding.ASCII.GetString(p.Span)));
    }

    [Theory]
    [InlineData("no boundary line at all")]
    [InlineData("--b1\r\nContent-Type: application/dicom")]
    [InlineData("--b1\r\n\r\nthe body never ends")]
    public void Parse_BrokenFraming_IsATypedError(string text)
    {
        var ex = Assert.Throws<DicomWebException>(() => MultipartRelated.Parse(Encoding.ASCII.GetBytes(text), "b1"));
        Assert.Equal(DicomWebError.MalformedResponse, ex.Reason);
    }

    [Fact]
    public void BoundaryOf_NotMultipartOrNoBoundary_IsATypedError()
    {
        Assert.Equal("abc", MultipartRelated.BoundaryOf(MediaTypeHeaderValue.Parse("multipart/related; type=\"application/dicom\"; boundary=\"abc\"")));
        Assert.Throws<DicomWebException>(() => MultipartRelated.BoundaryOf(MediaTypeHeaderValue.Parse("application/json")));
        Assert.Throws<DicomWebException>(() => MultipartRelated.BoundaryOf(MediaTypeHeaderValue.Parse("multipart/related; type=\"application/dicom\"")));
    }

    [Fact]
    public async Task Client_ServerNotListening_IsUnreachableNotACrash()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var http = new HttpClient();
        var client = new DicomWebClient(http, new Uri($"http://127.0.0.1:{port}/dicom-web"));

        var ex = await Assert.ThrowsAsync<DicomWebException>(() => client.SearchStudiesAsync());
        Assert.Equal(DicomWebError.Unreachable, ex.Reason);
    }
}
