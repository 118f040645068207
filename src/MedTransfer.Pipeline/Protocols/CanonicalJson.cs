using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MedTransfer.Pipeline.Protocols;

/// <summary>
/// Deterministic JSON text: object keys sorted ordinally at every level, array order kept, numbers in their shortest
/// round-trip form, '\n' line ends. The same tree gives the same bytes on every machine (hashes, merged sweeps).
/// </summary>
internal static class CanonicalJson
{
    public static string Write(JsonNode? node, bool indented)
    {
        using var buffer = new MemoryStream();
        var options = new JsonWriterOptions { Indented = indented, NewLine = "\n", Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using (var writer = new Utf8JsonWriter(buffer, options))
        {
            WriteSorted(writer, node);
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + (indented ? "\n" : string.Empty);
    }

    private static void WriteSorted(Utf8JsonWriter writer, JsonNode? node)
    {
        switch (node)
        {
            case null:
                writer.WriteNullValue();
                break;
            case JsonObject o:
                writer.WriteStartObject();
                foreach (KeyValuePair<string, JsonNode?> p in o.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(p.Key);
                    WriteSorted(writer, p.Value);
                }

                writer.WriteEndObject();
                break;
            case JsonArray a:
                writer.WriteStartArray();
                foreach (JsonNode? item in a)
                {
                    WriteSorted(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                node.WriteTo(writer);
                break;
        }
    }
}
