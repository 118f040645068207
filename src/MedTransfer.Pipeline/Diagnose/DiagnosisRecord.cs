using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;

namespace MedTransfer.Pipeline.Diagnose;

/// <summary>Outcome of one study.</summary>
internal enum StudyStatus
{
    /// <summary>Every image was scored.</summary>
    Ok,

    /// <summary>Some images failed; the study was scored from the others (the reason names the failures).</summary>
    Partial,

    /// <summary>No image could be scored: no prediction, a quarantine record with the reasons. Never "no finding".</summary>
    Quarantined,
}

/// <summary>One image that could not be scored.</summary>
/// <param name="Name">Relative path or instance position.</param>
/// <param name="Reason">Reason code (a DicomErrorCode or ImageFormatError name, NativeCodecCrash, DecodeTimeout, …).</param>
internal sealed record ImageFailure(string Name, string Reason);

/// <summary>The result for one study: one journal line, one CSV row, and a quarantine record when not <see cref="StudyStatus.Ok"/>.</summary>
internal sealed record DiagnosisRecord
{
    /// <summary>Pseudonymous study key.</summary>
    public required string Key { get; init; }

    /// <summary>Relative path or keyed DICOMweb URL hash.</summary>
    public required string Source { get; init; }

    /// <summary>Images in the study (scored or not).</summary>
    public required int Images { get; init; }

    /// <summary>Largest positive-class probability over the study's scored images; null when quarantined.</summary>
    public double? Score { get; init; }

    /// <summary>The label of the image with the largest score; null when quarantined.</summary>
    public string? Label { get; init; }

    /// <summary>Largest shift score over the scored images; null without a monitor or when quarantined.</summary>
    public double? ShiftScore { get; init; }

    /// <summary>True when any scored image is beyond the monitor's threshold; null without a monitor or when quarantined.</summary>
    public bool? ShiftFlag { get; init; }

    /// <summary>The outcome.</summary>
    [JsonConverter(typeof(JsonStringEnumConverter<StudyStatus>))]
    public required StudyStatus Status { get; init; }

    /// <summary>The distinct failure reasons, sorted, joined with '|'; empty when <see cref="StudyStatus.Ok"/>.</summary>
    public string Reason { get; init; } = string.Empty;

    /// <summary>The images that failed.</summary>
    public IReadOnlyList<ImageFailure> Failures { get; init; } = [];

    /// <summary>The Study Instance UID; only kept with --include-identifiers.</summary>
    public string? StudyInstanceUid { get; init; }

    /// <summary>True when the result was stored back to the PACS.</summary>
    public bool Stored { get; init; }
}

/// <summary>The per-study CSV (RFC 4180, invariant culture, LF line ends).</summary>
internal static class DiagnosisCsv
{
    /// <summary>The header without identifiers.</summary>
    public const string Header = "study_key,source,images,score,label,shift_score,shift_flag,status,reason";

    /// <summary>The header line for a run with or without identifiers.</summary>
    public static string HeaderFor(bool includeIdentifiers) => includeIdentifiers ? Header + ",study_instance_uid" : Header;

    /// <summary>One row. Scores: 6 decimals; shift scores: 4 decimals; empty when absent (quarantined, or no monitor).</summary>
    public static string Row(DiagnosisRecord r, bool includeIdentifiers)
    {
        ArgumentNullException.ThrowIfNull(r);
        var fields = new List<string>
        {
            r.Key,
            r.Source,
            r.Images.ToString(CultureInfo.InvariantCulture),
            r.Score is { } s ? s.ToString("F6", CultureInfo.InvariantCulture) : string.Empty,
            r.Label ?? string.Empty,
            r.ShiftScore is { } z ? z.ToString("F4", CultureInfo.InvariantCulture) : string.Empty,
            r.ShiftFlag switch { true => "1", false => "0", null => string.Empty },
            r.Status.ToString().ToLowerInvariant(),
            r.Reason,
        };
        if (includeIdentifiers)
        {
            fields.Add(r.StudyInstanceUid ?? string.Empty);
        }

        return string.Join(',', fields.Select(Quote));
    }

    private static string Quote(string field)
    {
        if (field.IndexOfAny([',', '"', '\n', '\r']) < 0)
        {
            return field;
        }

        var quoted = new StringBuilder("\"");
        quoted.Append(field.Replace("\"", "\"\"", StringComparison.Ordinal));
        return quoted.Append('"').ToString();
    }
}
