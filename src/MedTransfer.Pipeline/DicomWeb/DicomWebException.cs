namespace MedTransfer.Pipeline.DicomWeb;

/// <summary>Why a DICOMweb request failed.</summary>
public enum DicomWebError
{
    /// <summary>The server could not be reached or the connection broke.</summary>
    Unreachable,

    /// <summary>The server answered with an HTTP error status.</summary>
    HttpStatus,

    /// <summary>The answer was not what PS3.18 prescribes (content type, multipart framing, DICOM JSON).</summary>
    MalformedResponse,

    /// <summary>The answer was larger than <see cref="DicomWebClientOptions.MaxResponseBytes"/>.</summary>
    ResponseTooLarge,

    /// <summary>STOW-RS stored some instances but reported others as failed.</summary>
    StoreFailed,

    /// <summary>The server stayed silent for longer than <see cref="DicomWebClientOptions.Timeout"/>.</summary>
    Timeout,

    /// <summary>QIDO-RS answered a later page with the same studies as before (it ignores <c>offset</c>), so the full list cannot be had.</summary>
    PagingIgnored,
}

/// <summary>A failed DICOMweb (PS3.18) request. Messages carry the HTTP method, status and the service (QIDO-RS,
/// WADO-RS, STOW-RS), never a study's identifiers.</summary>
public sealed class DicomWebException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DicomWebException(DicomWebError reason, string message, int? statusCode = null, Exception? innerException = null)
        : base($"{reason}: {message}", innerException)
    {
        Reason = reason;
        StatusCode = statusCode;
    }

    /// <summary>Creates the exception with <see cref="DicomWebError.MalformedResponse"/>.</summary>
    public DicomWebException()
        : this(DicomWebError.MalformedResponse, "the DICOMweb request failed")
    {
    }

    /// <summary>Creates the exception with <see cref="DicomWebError.MalformedResponse"/>.</summary>
    public DicomWebException(string message)
        : this(DicomWebError.MalformedResponse, message)
    {
    }

    /// <summary>Creates the exception with <see cref="DicomWebError.MalformedResponse"/>.</summary>
    public DicomWebException(string message, Exception innerException)
        : this(DicomWebError.MalformedResponse, message, null, innerException)
    {
    }

    /// <summary>The reason code.</summary>
    public DicomWebError Reason { get; }

    /// <summary>The HTTP status, when the server answered.</summary>
    public int? StatusCode { get; }
}
