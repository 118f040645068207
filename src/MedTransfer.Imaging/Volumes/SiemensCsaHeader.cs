using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using MedTransfer.Dicom;

namespace MedTransfer.Imaging.Volumes;

/// <summary>
/// The Siemens "CSA2" private header (the <c>SV10</c> format held in (0029,xx10) "CSA Image Header Info" under the
/// private creator "SIEMENS CSA HEADER"): "SV10", 4 unused bytes, a uint32 tag count, a uint32 (77); then per tag a
/// 64-byte NUL-terminated name, int32 VM, 4-byte VR, int32 SyngoDT, int32 item count, int32 (77 or 205); then per item
/// four int32 (the second is the value length), the value bytes, padded to a multiple of 4. Values are text.
/// Everything is bounds-checked: a malformed header yields null, never an exception or an over-read.
/// </summary>
internal static class SiemensCsaHeader
{
    private const int MaxTags = 1024;
    private const int MaxItems = 4096;

    /// <summary>The tag values by name (each item's text, trimmed), or null when the bytes are not a well-formed CSA2 header.</summary>
    public static Dictionary<string, string[]>? Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 16 || !bytes[..4].SequenceEqual("SV10"u8))
        {
            return null;
        }

        uint tagCount = BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
        if (tagCount is 0 or > MaxTags)
        {
            return null;
        }

        var result = new Dictionary<string, string[]>(StringComparer.Ordinal);
        int at = 16;
        for (uint t = 0; t < tagCount; t++)
        {
            if (bytes.Length - at < 84)
            {
                return null;
            }

            ReadOnlySpan<byte> nameField = bytes.Slice(at, 64);
            int nul = nameField.IndexOf((byte)0);
            string name = Encoding.ASCII.GetString(nul >= 0 ? nameField[..nul] : nameField);
            int itemCount = BinaryPrimitives.ReadInt32LittleEndian(bytes[(at + 76)..]);
            at += 84;
            if (itemCount is < 0 or > MaxItems)
            {
                return null;
            }

            var values = new List<string>(Math.Min(itemCount, 16));
            for (int i = 0; i < itemCount; i++)
            {
                if (bytes.Length - at < 16)
                {
                    return null;
                }

                int length = BinaryPrimitives.ReadInt32LittleEndian(bytes[(at + 4)..]);
                at += 16;
                if (length < 0 || length > bytes.Length - at)
                {
                    return null;
                }

                if (length > 0)
                {
                    ReadOnlySpan<byte> value = bytes.Slice(at, length);
                    int end = value.IndexOf((byte)0);
                    values.Add(Encoding.Latin1.GetString(end >= 0 ? value[..end] : value).Trim());
                }

                int padded = (int)Math.Min(((long)length + 3) / 4 * 4, bytes.Length - at);
                at += padded;
            }

            result[name] = [.. values];
        }

        return result;
    }

    /// <summary>The CSA image header of <paramref name="dataset"/>, or null when absent or malformed.</summary>
    public static Dictionary<string, string[]>? ImageHeader(DicomDataset dataset)
    {
        DicomTag? tag = PrivateTags.Find(dataset, 0x0029, "SIEMENS CSA HEADER", 0x10);
        return tag is { } t ? Parse(dataset.GetBytes(t).Span) : null;
    }

    /// <summary>The first value of <paramref name="name"/> as a number, or null.</summary>
    public static double? Number(Dictionary<string, string[]>? csa, string name, int index = 0) =>
        csa is not null && csa.TryGetValue(name, out string[]? values) && index < values.Length
            && double.TryParse(values[index], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)
            ? v
            : null;
}
