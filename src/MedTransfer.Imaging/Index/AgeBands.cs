using System.Globalization;

namespace MedTransfer.Imaging.Index;

/// <summary>
/// The project's one definition of age bands, used for the manifest's <c>age_band</c> column and therefore for every
/// subgroup analysis keyed on it. Bands are half-open year ranges cut at ascending edges: with the default edges
/// 18, 40, 60, 80 (those of the synthetic sample data) the labels are "0-17", "18-39", "40-59", "60-79" and "80+". An
/// age that is missing or cannot be read is <see cref="Unknown"/>. Ages are whole years, rounded down.
/// </summary>
public sealed class AgeBands
{
    /// <summary>The label of a missing or unreadable age.</summary>
    public const string Unknown = "unknown";

    private readonly int[] _edges;
    private readonly string[] _labels;

    /// <summary>Bands cut at <paramref name="edges"/> (years, strictly ascending, each in 1..150).</summary>
    /// <exception cref="ArgumentException">No edge, an edge out of range, or edges not strictly ascending.</exception>
    public AgeBands(params int[] edges)
    {
        ArgumentNullException.ThrowIfNull(edges);
        if (edges.Length == 0)
        {
            throw new ArgumentException("Age bands need at least one edge.", nameof(edges));
        }

        for (int i = 0; i < edges.Length; i++)
        {
            if (edges[i] is < 1 or > 150 || (i > 0 && edges[i] <= edges[i - 1]))
            {
                throw new ArgumentException("Age band edges must be strictly ascending whole years in 1..150.", nameof(edges));
            }
        }

        _edges = [.. edges];
        _labels = new string[edges.Length + 1];
        _labels[0] = string.Create(CultureInfo.InvariantCulture, $"0-{edges[0] - 1}");
        for (int i = 1; i < edges.Length; i++)
        {
            _labels[i] = string.Create(CultureInfo.InvariantCulture, $"{edges[i - 1]}-{edges[i] - 1}");
        }

        _labels[^1] = string.Create(CultureInfo.InvariantCulture, $"{edges[^1]}+");
    }

    /// <summary>The sample-data bands: 0-17, 18-39, 40-59, 60-79, 80+.</summary>
    public static AgeBands Default { get; } = new(18, 40, 60, 80);

    /// <summary>The edges, ascending.</summary>
    public IReadOnlyList<int> Edges => _edges;

    /// <summary>Every band label in age order (not including <see cref="Unknown"/>).</summary>
    public IReadOnlyList<string> Labels => _labels;

    /// <summary>Parses edges written as "18,40,60,80".</summary>
    /// <exception cref="ArgumentException">The text is not a list of strictly ascending whole years.</exception>
    public static AgeBands Parse(string edges)
    {
        ArgumentNullException.ThrowIfNull(edges);
        string[] parts = edges.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var values = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out values[i]))
            {
                throw new ArgumentException($"'{parts[i]}' is not a whole number of years.", nameof(edges));
            }
        }

        return new AgeBands(values);
    }

    /// <summary>The band of an age in whole years; null or negative gives <see cref="Unknown"/>.</summary>
    public string Of(int? years)
    {
        if (years is not { } y || y < 0)
        {
            return Unknown;
        }

        int band = 0;
        while (band < _edges.Length && y >= _edges[band])
        {
            band++;
        }

        return _labels[band];
    }

    /// <summary>The band of a DICOM Patient's Age (0010,1010), e.g. "067Y"; see <see cref="ParseDicomAge"/>.</summary>
    public string OfDicomAge(string? patientAge) => Of(ParseDicomAge(patientAge));

    /// <summary>
    /// Whole years from a DICOM Age String (PS3.5 AS: nnnD, nnnW, nnnM or nnnY); days, weeks and months are rounded
    /// down to years. Null when the value is missing or not an Age String.
    /// </summary>
    public static int? ParseDicomAge(string? patientAge)
    {
        string age = patientAge?.Trim() ?? string.Empty;
        if (age.Length != 4 || !int.TryParse(age.AsSpan(0, 3), NumberStyles.None, CultureInfo.InvariantCulture, out int n))
        {
            return null;
        }

        return age[3] switch
        {
            'D' => n / 365,
            'W' => n / 52,
            'M' => n / 12,
            'Y' => n,
            _ => null,
        };
    }
}
