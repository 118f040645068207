using System.Net.Http.Headers;
using System.Text;

namespace MedTransfer.Pipeline.DicomWeb;

/// <summary>
/// multipart/related bodies (RFC 2387 over the RFC 2046 multipart syntax) as DICOMweb uses them (PS3.18 §8.6.1.2):
/// parts separated by <c>--boundary</c> lines, each with its own headers, the last one followed by <c>--boundary--</c>.
/// </summary>
internal static class MultipartRelated
{
    private static readonly byte[] _headerEnd = "\r\n\r\n"u8.ToArray();

    /// <summary>A boundary that cannot occur in the parts (checked), from a fresh GUID.</summary>
    public static string NewBoundary(IReadOnlyList<byte[]> parts)
    {
        while (true)
        {
            string boundary = "medtransfer-" + Guid.NewGuid().ToString("N");
            byte[] marker = Encoding.ASCII.GetBytes("--" + boundary);
            if (!parts.Any(p => p.AsSpan().IndexOf(marker) >= 0))
            {
                return boundary;
            }
        }
    }

    /// <summary>Writes <paramref name="parts"/>, each with <c>Content-Type: <paramref name="partType"/></c>.</summary>
    public static byte[] Build(IReadOnlyList<byte[]> parts, string boundary, string partType)
    {
        using var body = new MemoryStream();
        foreach (byte[] part in parts)
        {
            body.Write(Encoding.ASCII.GetBytes($"--{boundary}\r\nContent-Type: {partType}\r\n\r\n"));
            body.Write(part);
            body.Write("\r\n"u8);
        }

        body.Write(Encoding.ASCII.GetBytes($"--{boundary}--\r\n"));
        return body.ToArray();
    }

    /// <summary>The boundary parameter of a multipart Content-Type header.</summary>
    /// <exception cref="DicomWebException">The content type is not multipart/related with a boundary.</exception>
    public static string BoundaryOf(MediaTypeHeaderValue? contentType)
    {
        if (contentType is null || !string.Equals(contentType.MediaType, "multipart/related", StringComparison.OrdinalIgnoreCase))
        {
            throw new DicomWebException(DicomWebError.MalformedResponse, $"expected multipart/related, got '{contentType?.MediaType ?? "no content type"}'");
        }

        string? boundary = contentType.Parameters.FirstOrDefault(p => string.Equals(p.Name, "boundary", StringComparison.OrdinalIgnoreCase))?.Value?.Trim('"');
        return string.IsNullOrEmpty(boundary)
            ? throw new DicomWebException(DicomWebError.MalformedResponse, "the multipart/related answer has no boundary")
            : boundary;
    }

    /// <summary>Splits a body into its parts' contents (headers removed). Preamble and epilogue are ignored.</summary>
    /// <exception cref="DicomWebException">The framing is broken: no closing delimiter, or a part without a header block.</exception>
    public static IReadOnlyList<ReadOnlyMemory<byte>> Parse(ReadOnlyMemory<byte> body, string boundary)
    {
        byte[] delimiter = Encoding.ASCII.GetBytes("--" + boundary);
        byte[] between = Encoding.ASCII.GetBytes("\r\n--" + boundary);
        ReadOnlySpan<byte> span = body.Span;
        int start = span.IndexOf(delimiter);
        if (start < 0)
        {
            throw new DicomWebException(DicomWebError.MalformedResponse, "the multipart body has no boundary line");
        }

        var parts = new List<ReadOnlyMemory<byte>>();
        int position = start + delimiter.Length;
        while (true)
        {
            if (span.Length >= position + 2 && span[position] == '-' && span[position + 1] == '-')
            {
                return parts;
            }

            int headers = span[position..].IndexOf(_headerEnd);
            if (headers < 0)
            {
                throw new DicomWebException(DicomWebError.MalformedResponse, "a multipart part has no end of headers");
            }

            int content = position + headers + _headerEnd.Length;
            int end = span[content..].IndexOf(between);
            if (end < 0)
            {
                throw new DicomWebException(DicomWebError.MalformedResponse, "the multipart body ends inside a part");
            }

            parts.Add(body.Slice(content, end));
            position = content + end + between.Length;
        }
    }
}
