using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace MedTransfer.Dicom.Json;

/// <summary>Options for <see cref="DicomJson"/>.</summary>
public sealed record DicomJsonOptions
{
    /// <summary>Binary values (OB, OW, OF, UN, …) up to this many bytes are written as InlineBinary (base64);
    /// longer ones are written with their VR and no value. Default 1024.</summary>
    public int MaxInlineBinaryBytes { get; init; } = 1024;

    /// <summary>Indent the output. Default true.</summary>
    public bool Indented { get; init; } = true;
}

/// <summary>
/// Writes a data set in the DICOM JSON Model (PS3.18 Annex F): an object keyed by "GGGGEEEE" with
/// <c>vr</c> and <c>Value</c> (strings, numbers, person-name objects, nested data sets) or
/// <c>InlineBinary</c>. Encapsulated and long binary values are written with their VR and no value
/// (F.2.5 allows an attribute without a value); the caller learns that from <c>vr</c> alone, which is
/// what a dump needs. Pixel data is never inlined.
/// </summary>
public static class DicomJson
{
    /// <summary>Serializes <paramref name="dataset"/> to DICOM JSON text.</summary>
    public static string Serialize(DicomDataset dataset, DicomJsonOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        options ??= new DicomJsonOptions();
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = options.Indented, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            WriteDataset(writer, dataset, options);
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteDataset(Utf8JsonWriter writer, DicomDataset dataset, DicomJsonOptions options)
    {
        writer.WriteStartObject();
        foreach (DicomElement element in dataset)
        {
            writer.WritePropertyName(string.Create(CultureInfo.InvariantCulture, $"{element.Tag.Group:X4}{element.Tag.Element:X4}"));
            writer.WriteStartObject();
            writer.WriteString("vr", element.VR == DicomVR.None ? "UN" : element.VR.ToString());
            WriteValue(writer, dataset, element, options);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, DicomDataset dataset, DicomElement element, DicomJsonOptions options)
    {
        if (element is DicomSequence sequence)
        {
            if (sequence.Items.Count == 0)
            {
                return;
            }

            writer.WriteStartArray("Value");
            foreach (DicomDataset item in sequence.Items)
            {
                WriteDataset(writer, item, options);
            }

            writer.WriteEndArray();
            return;
        }

        if (element.IsEncapsulated || element.Tag == DicomTag.PixelData || element.Length == 0)
        {
            return;
        }

        DicomVR vr = element.VR;
        switch (vr)
        {
            case DicomVR.PN:
                WriteStrings(writer, dataset.GetStrings(element.Tag), personName: true);
                return;
            case DicomVR.AT:
                WriteAttributeTags(writer, element.Value.Span);
                return;
            case DicomVR.US or DicomVR.SS or DicomVR.UL or DicomVR.SL or DicomVR.FL or DicomVR.FD or DicomVR.SV or DicomVR.UV or DicomVR.IS or DicomVR.DS:
                WriteNumbers(writer, dataset, element.Tag);
                return;
        }

        if (DicomVRInfo.IsString(vr) || vr is DicomVR.AE or DicomVR.AS)
        {
            bool single = vr is DicomVR.LT or DicomVR.ST or DicomVR.UT or DicomVR.UR;
            string[] values = single ? [dataset.GetString(element.Tag) ?? string.Empty] : dataset.GetStrings(element.Tag);
            WriteStrings(writer, values, personName: false);
            return;
        }

        if (element.Length <= options.MaxInlineBinaryBytes)
        {
            writer.WriteBase64String("InlineBinary", element.Value.Span);
        }
    }

    private static void WriteNumbers(Utf8JsonWriter writer, DicomDataset dataset, DicomTag tag)
    {
        double[] values;
        try
        {
            values = dataset.GetDoubles(tag);
        }
        catch (DicomFormatException)
        {
            // A malformed IS/DS: keep the text so the dump still shows what the file says.
            WriteStrings(writer, dataset.GetStrings(tag), personName: false);
            return;
        }

        writer.WriteStartArray("Value");
        foreach (double v in values)
        {
            if (double.IsFinite(v))
            {
                writer.WriteNumberValue(v);
            }
            else
            {
                writer.WriteStringValue(v.ToString(CultureInfo.InvariantCulture));
            }
        }

        writer.WriteEndArray();
    }

    private static void WriteAttributeTags(Utf8JsonWriter writer, ReadOnlySpan<byte> bytes)
    {
        writer.WriteStartArray("Value");
        for (int i = 0; i + 4 <= bytes.Length; i += 4)
        {
            ushort group = (ushort)(bytes[i] | (bytes[i + 1] << 8));
            ushort element = (ushort)(bytes[i + 2] | (bytes[i + 3] << 8));
            writer.WriteStringValue(string.Create(CultureInfo.InvariantCulture, $"{group:X4}{element:X4}"));
        }

        writer.WriteEndArray();
    }

    private static void WriteStrings(Utf8JsonWriter writer, string[] values, bool personName)
    {
        writer.WriteStartArray("Value");
        foreach (string value in values)
        {
            if (value.Length == 0)
            {
                writer.WriteNullValue();
            }
            else if (personName)
            {
                // PS3.18 F.2.2: component groups alphabetic=ideographic=phonetic.
                string[] groups = value.Split('=');
                writer.WriteStartObject();
                string[] names = ["Alphabetic", "Ideographic", "Phonetic"];
                for (int g = 0; g < Math.Min(groups.Length, names.Length); g++)
                {
                    if (groups[g].Length > 0)
                    {
                        writer.WriteString(names[g], groups[g]);
                    }
                }

                writer.WriteEndObject();
            }
            else
            {
                writer.WriteStringValue(value);
            }
        }

        writer.WriteEndArray();
    }
}
