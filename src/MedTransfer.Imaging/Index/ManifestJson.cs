using System.Globalization;
using System.Text.Json;

namespace MedTransfer.Imaging.Index;

/// <summary>
/// The manifest as JSON: <c>{"format":"medtransfer-manifest","version":1,"manifestHash":"…","rows":[{…}]}</c>,
/// each row an object with the members of <see cref="ManifestCsv.Columns"/> (numbers for root, width, height,
/// depth and size_bytes; strings otherwise, with the same spellings as the CSV).
/// </summary>
internal static class ManifestJson
{
    private const string FormatName = "medtransfer-manifest";
    private static readonly HashSet<int> _numeric = [1, 15, 16, 17, 18];

    /// <summary>Writes <paramref name="manifest"/> as indented UTF-8 JSON.</summary>
    public static void Write(Manifest manifest, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(stream);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("format", FormatName);
        json.WriteNumber("version", 1);
        json.WriteString("manifestHash", manifest.ManifestHash);
        json.WriteStartArray("rows");
        foreach (ManifestRow row in manifest.Rows)
        {
            string[] fields = ManifestFields.ToFields(row);
            json.WriteStartObject();
            for (int i = 0; i < fields.Length; i++)
            {
                if (_numeric.Contains(i))
                {
                    json.WriteNumber(ManifestCsv.Columns[i], long.Parse(fields[i], CultureInfo.InvariantCulture));
                }
                else
                {
                    json.WriteString(ManifestCsv.Columns[i], fields[i]);
                }
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>Reads a manifest written by <see cref="Write"/>. When the document carries a manifestHash it must match the rows.</summary>
    /// <exception cref="ManifestException">Not JSON, not a manifest, a missing or unknown member, a value of the wrong
    /// type or that does not parse, or a hash mismatch. <see cref="ManifestException.Line"/> is the 1-based row number.</exception>
    public static Manifest Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(stream, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException ex)
        {
            throw new ManifestException((int)Math.Min(int.MaxValue, (ex.LineNumber ?? -1) + 1), null, "not valid JSON");
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("format", out JsonElement format) || format.ValueKind != JsonValueKind.String || format.GetString() != FormatName
                || !root.TryGetProperty("rows", out JsonElement rowsElement) || rowsElement.ValueKind != JsonValueKind.Array)
            {
                throw new ManifestException(0, null, $"not a {FormatName} document (format and rows are required)");
            }

            var rows = new List<ManifestRow>();
            var ids = new HashSet<string>(StringComparer.Ordinal);
            int number = 0;
            foreach (JsonElement element in rowsElement.EnumerateArray())
            {
                number++;
                ManifestRow row = ReadRow(element, number);
                if (!ids.Add(row.Id))
                {
                    throw new ManifestException(number, "id", "the id repeats an earlier row");
                }

                rows.Add(row);
            }

            var manifest = new Manifest(rows);
            if (root.TryGetProperty("manifestHash", out JsonElement hash)
                && (hash.ValueKind != JsonValueKind.String || !string.Equals(hash.GetString(), manifest.ManifestHash, StringComparison.Ordinal)))
            {
                throw new ManifestException(0, "manifestHash", "does not match the rows (the manifest was edited or is damaged)");
            }

            return manifest;
        }
    }

    private static ManifestRow ReadRow(JsonElement element, int number)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new ManifestException(number, null, "a row must be an object");
        }

        var fields = new string?[ManifestCsv.Columns.Count];
        foreach (JsonProperty property in element.EnumerateObject())
        {
            int index = -1;
            for (int i = 0; i < ManifestCsv.Columns.Count; i++)
            {
                if (string.Equals(ManifestCsv.Columns[i], property.Name, StringComparison.Ordinal))
                {
                    index = i;
                    break;
                }
            }

            if (index < 0)
            {
                throw new ManifestException(number, property.Name.Length > 40 ? property.Name[..40] : property.Name, "unknown member");
            }

            if (_numeric.Contains(index))
            {
                fields[index] = property.Value.ValueKind == JsonValueKind.Number && property.Value.TryGetInt64(out long value) && value >= 0
                    ? value.ToString(CultureInfo.InvariantCulture)
                    : throw new ManifestException(number, property.Name, "expected a non-negative integer");
            }
            else
            {
                fields[index] = property.Value.ValueKind == JsonValueKind.String
                    ? property.Value.GetString()
                    : throw new ManifestException(number, property.Name, "expected a string");
            }
        }

        for (int i = 0; i < fields.Length; i++)
        {
            if (fields[i] is null)
            {
                throw new ManifestException(number, ManifestCsv.Columns[i], "required member is missing");
            }
        }

        return ManifestFields.FromFields(fields!, number);
    }
}
