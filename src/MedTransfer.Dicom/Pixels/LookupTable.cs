using System.Buffers.Binary;
using System.Globalization;

namespace MedTransfer.Dicom.Pixels;

/// <summary>
/// The three values of a LUT Descriptor (PS3.3 C.11.1.1.1 modality, C.11.2.1.1 VOI, C.7.6.3.1.5 palette).
/// </summary>
/// <param name="NumberOfEntries">Entries in the table (a stored 0 means 65536; use <see cref="FromStoredValues"/>).</param>
/// <param name="FirstMappedValue">The first input value mapped (already interpreted as US or SS by the caller).</param>
/// <param name="BitsPerEntry">Bits per entry, 1–16.</param>
public sealed record LutDescriptor(int NumberOfEntries, int FirstMappedValue, int BitsPerEntry)
{
    /// <summary>Interprets the descriptor as stored: a first value of 0 means 2^16 entries.</summary>
    /// <param name="storedEntries">The first value as stored (US).</param>
    /// <param name="firstMappedValue">The second value, read as SS when the pixel data is signed, else as US.</param>
    /// <param name="bitsPerEntry">The third value.</param>
    public static LutDescriptor FromStoredValues(int storedEntries, int firstMappedValue, int bitsPerEntry) =>
        new(storedEntries == 0 ? 65536 : storedEntries, firstMappedValue, bitsPerEntry);
}

/// <summary>
/// A lookup table: a descriptor and its entries. Inputs below the first mapped value use the first entry,
/// inputs past the last use the last entry (PS3.3 C.11.1.1, C.11.2.1.1); for palettes, strict mode rejects such
/// indices instead (see <see cref="PhotometricConversion"/>).
/// </summary>
public sealed class LookupTable
{
    private readonly ushort[] _entries;

    private LookupTable(LutDescriptor descriptor, ushort[] entries)
    {
        Descriptor = descriptor;
        _entries = entries;
    }

    /// <summary>The descriptor.</summary>
    public LutDescriptor Descriptor { get; }

    /// <summary>The entries, one per table position.</summary>
    public ReadOnlySpan<ushort> Entries => _entries;

    /// <summary>The largest value an entry may hold: 2^BitsPerEntry − 1.</summary>
    public int MaxEntryValue => (1 << Descriptor.BitsPerEntry) - 1;

    /// <summary>
    /// Builds a table from LUT Data bytes as they are in a little-endian data set: 16-bit words (OW or US),
    /// or, for 8-bit entries, one byte per entry (the packed form some writers use) when the byte count equals
    /// the number of entries.
    /// </summary>
    /// <param name="descriptor">The descriptor.</param>
    /// <param name="lutData">The LUT Data value.</param>
    /// <param name="mode">Strict rejects a length mismatch and entries wider than BitsPerEntry; tolerant ignores extra data and clamps entries.</param>
    /// <exception cref="DicomFormatException"><see cref="DicomErrorCode.InvalidLut"/>.</exception>
    public static LookupTable Create(LutDescriptor descriptor, ReadOnlySpan<byte> lutData, PixelValidationMode mode = PixelValidationMode.Strict)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        int n = descriptor.NumberOfEntries;
        if (n < 1 || n > 65536 || descriptor.BitsPerEntry < 1 || descriptor.BitsPerEntry > 16)
        {
            throw Invalid(string.Create(CultureInfo.InvariantCulture, $"LUT descriptor ({n}, {descriptor.FirstMappedValue}, {descriptor.BitsPerEntry}) is out of range"));
        }

        var entries = new ushort[n];
        bool packedBytes = descriptor.BitsPerEntry <= 8 && (lutData.Length == n || (lutData.Length == n + 1 && (n & 1) == 1));
        long wordBytes = 2L * n;
        if (packedBytes)
        {
            for (int i = 0; i < n; i++)
            {
                entries[i] = lutData[i];
            }
        }
        else if (lutData.Length == wordBytes || (mode == PixelValidationMode.Tolerant && lutData.Length > wordBytes))
        {
            for (int i = 0; i < n; i++)
            {
                entries[i] = BinaryPrimitives.ReadUInt16LittleEndian(lutData[(2 * i)..]);
            }
        }
        else
        {
            throw Invalid(string.Create(CultureInfo.InvariantCulture, $"LUT data holds {lutData.Length} bytes for {n} entries"));
        }

        return FromEntries(descriptor, entries, mode);
    }

    /// <summary>Builds a table from entries that were already unpacked.</summary>
    /// <exception cref="DicomFormatException"><see cref="DicomErrorCode.InvalidLut"/>.</exception>
    public static LookupTable FromEntries(LutDescriptor descriptor, ReadOnlySpan<ushort> entries, PixelValidationMode mode = PixelValidationMode.Strict)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        if (descriptor.NumberOfEntries < 1 || descriptor.NumberOfEntries > 65536 || descriptor.BitsPerEntry < 1 || descriptor.BitsPerEntry > 16)
        {
            throw Invalid("LUT descriptor is out of range");
        }

        if (entries.Length != descriptor.NumberOfEntries)
        {
            throw Invalid(string.Create(CultureInfo.InvariantCulture, $"LUT has {entries.Length} entries; the descriptor declares {descriptor.NumberOfEntries}"));
        }

        ushort[] copy = entries.ToArray();
        int max = (1 << descriptor.BitsPerEntry) - 1;
        for (int i = 0; i < copy.Length; i++)
        {
            if (copy[i] > max)
            {
                if (mode == PixelValidationMode.Strict)
                {
                    throw Invalid(string.Create(CultureInfo.InvariantCulture, $"LUT entry {i} exceeds {descriptor.BitsPerEntry} bits"));
                }

                copy[i] = (ushort)max;
            }
        }

        return new LookupTable(descriptor, copy);
    }

    /// <summary>
    /// The table of one item of a Modality or VOI LUT Sequence: LUT Descriptor (0028,3002) and LUT Data (0028,3006).
    /// The first mapped value is US or SS following the pixel representation (PS3.3 C.11.1.1.1).
    /// </summary>
    /// <exception cref="DicomFormatException"><see cref="DicomErrorCode.InvalidLut"/>.</exception>
    internal static LookupTable FromSequenceItem(DicomDataset item, PixelModule module, PixelValidationMode mode)
    {
        var descriptorTag = new DicomTag(0x0028, 0x3002);
        int? entries = item.GetInt32(descriptorTag, 0);
        int? first = item.GetInt32(descriptorTag, 1);
        int? bits = item.GetInt32(descriptorTag, 2);
        if (entries is null || first is null || bits is null)
        {
            throw new DicomFormatException(DicomErrorCode.InvalidLut, "the LUT Descriptor needs three values", tag: descriptorTag);
        }

        int firstMapped = module.IsSigned && first.Value > short.MaxValue ? first.Value - 65536 : first.Value;
        LutDescriptor descriptor = LutDescriptor.FromStoredValues(entries.Value, firstMapped, bits.Value);
        return Create(descriptor, item.GetBytes(new DicomTag(0x0028, 0x3006)).Span, mode);
    }

    /// <summary>The entry for <paramref name="input"/>, clamped to the first/last entry (PS3.3 C.11.1.1, C.11.2.1.1).</summary>
    public int LookupClamped(long input)
    {
        long index = input - Descriptor.FirstMappedValue;
        if (index < 0)
        {
            return _entries[0];
        }

        return index >= _entries.Length ? _entries[^1] : _entries[index];
    }

    /// <summary>True when <paramref name="input"/> falls inside the table.</summary>
    public bool Contains(long input)
    {
        long index = input - Descriptor.FirstMappedValue;
        return index >= 0 && index < _entries.Length;
    }

    internal int MinEntry()
    {
        int min = int.MaxValue;
        foreach (ushort e in _entries)
        {
            min = Math.Min(min, e);
        }

        return min;
    }

    internal int MaxEntry()
    {
        int max = int.MinValue;
        foreach (ushort e in _entries)
        {
            max = Math.Max(max, e);
        }

        return max;
    }

    private static DicomFormatException Invalid(string detail) => new(DicomErrorCode.InvalidLut, detail);
}
