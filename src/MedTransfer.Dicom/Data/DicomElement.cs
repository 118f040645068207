namespace MedTransfer.Dicom;

/// <summary>
/// One data element of a <see cref="DicomDataset"/> (PS3.5 §7.1): a tag, a VR and a value.
/// Binary values are always held in <b>little-endian</b> byte order, whatever the transfer syntax
/// they were read from, so consumers never deal with Explicit VR Big Endian. String values keep
/// their bytes as stored (character set applied when decoded, padding included).
/// Sequences are <see cref="DicomSequence"/>; encapsulated Pixel Data carries <see cref="Fragments"/>.
/// </summary>
/// <remarks>Instances are immutable; changing a data set replaces its elements.</remarks>
public class DicomElement
{
    private readonly DeferredValue? _deferred;
    private readonly ReadOnlyMemory<byte> _value;

    /// <summary>Creates an element holding <paramref name="value"/> (little-endian for binary VRs).</summary>
    /// <exception cref="ArgumentException"><paramref name="vr"/> is SQ (use <see cref="DicomSequence"/>) or None.</exception>
    public DicomElement(DicomTag tag, DicomVR vr, ReadOnlyMemory<byte> value)
    {
        if (vr is DicomVR.SQ or DicomVR.None)
        {
            throw new ArgumentException("A value element cannot have VR SQ or None.", nameof(vr));
        }

        Tag = tag;
        VR = vr;
        _value = value;
    }

    /// <summary>Creates an element holding encapsulated fragments (PS3.5 §A.4).</summary>
    /// <exception cref="ArgumentException"><paramref name="vr"/> is SQ or None.</exception>
    public DicomElement(DicomTag tag, DicomVR vr, DicomFragments fragments)
    {
        ArgumentNullException.ThrowIfNull(fragments);
        if (vr is DicomVR.SQ or DicomVR.None)
        {
            throw new ArgumentException("Encapsulated data cannot have VR SQ or None.", nameof(vr));
        }

        Tag = tag;
        VR = vr;
        Fragments = fragments;
    }

    /// <summary>A value read from the file on first access (lazy Pixel Data).</summary>
    internal DicomElement(DicomTag tag, DicomVR vr, DeferredValue deferred)
    {
        Tag = tag;
        VR = vr;
        _deferred = deferred;
    }

    /// <summary>For <see cref="DicomSequence"/>.</summary>
    private protected DicomElement(DicomTag tag)
    {
        Tag = tag;
        VR = DicomVR.SQ;
    }

    /// <summary>The attribute tag.</summary>
    public DicomTag Tag { get; }

    /// <summary>The value representation (as read for explicit syntaxes, from the dictionary for implicit ones).</summary>
    public DicomVR VR { get; }

    /// <summary>
    /// The value bytes, little-endian for binary VRs; empty for sequences and encapsulated data.
    /// A lazily loaded Pixel Data value is read from its file on the first access; a file that has
    /// changed or vanished since then raises <see cref="DicomFormatException"/>.
    /// </summary>
    public ReadOnlyMemory<byte> Value
    {
        get
        {
            if (_deferred is not null)
            {
                return _deferred.Load();
            }

            return _value;
        }
    }

    /// <summary>The value length in bytes (known without loading a deferred value); 0 for sequences; total fragment bytes for encapsulated data.</summary>
    public long Length => _deferred?.Length ?? (Fragments is { } f ? f.TotalLength : _value.Length);

    /// <summary>True while the value has not been read from the file yet (lazy Pixel Data).</summary>
    public bool IsDeferred => _deferred is { IsLoaded: false };

    /// <summary>The encapsulated fragments, or null for native values.</summary>
    public DicomFragments? Fragments { get; }

    /// <summary>True for encapsulated values.</summary>
    public bool IsEncapsulated => Fragments is not null;

    /// <summary>The tag and VR only (never the value: it may hold patient data).</summary>
    public override string ToString() => $"{Tag} {VR}";
}

/// <summary>A sequence of items (VR SQ, PS3.5 §7.5): each item is a nested <see cref="DicomDataset"/>.</summary>
public sealed class DicomSequence : DicomElement
{
    /// <summary>Creates a sequence element holding a copy of the list <paramref name="items"/> (the item data sets themselves are shared).</summary>
    public DicomSequence(DicomTag tag, IEnumerable<DicomDataset> items)
        : base(tag)
    {
        ArgumentNullException.ThrowIfNull(items);
        Items = [.. items];
    }

    /// <summary>The items, in order. May be empty.</summary>
    public IReadOnlyList<DicomDataset> Items { get; }
}
