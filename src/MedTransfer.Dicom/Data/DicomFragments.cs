namespace MedTransfer.Dicom;

/// <summary>
/// Encapsulated Pixel Data (PS3.5 §A.4): the Basic Offset Table (byte offsets of each frame's first
/// fragment, relative to the first fragment item; empty when the encoder left it empty) and the
/// fragments, each the value of one item. Fragments read lazily from a file are loaded together on
/// first access of <see cref="Fragments"/>.
/// </summary>
/// <remarks>
/// This is the seam for pixel codecs: an encoder builds a new instance from its compressed frames and
/// stores it with <see cref="DicomDataset.SetFragments"/>; the writer emits whatever fragments it finds.
/// </remarks>
public sealed class DicomFragments
{
    private readonly uint[] _offsetTable;
    private readonly DeferredFragments? _deferred;
    private readonly ReadOnlyMemory<byte>[]? _fragments;

    /// <summary>Creates encapsulated data from an offset table (may be empty) and the fragments.</summary>
    public DicomFragments(IEnumerable<uint> basicOffsetTable, IEnumerable<ReadOnlyMemory<byte>> fragments)
    {
        ArgumentNullException.ThrowIfNull(basicOffsetTable);
        ArgumentNullException.ThrowIfNull(fragments);
        _offsetTable = [.. basicOffsetTable];
        _fragments = [.. fragments];
        long total = 0;
        foreach (ReadOnlyMemory<byte> f in _fragments)
        {
            total += f.Length;
        }

        TotalLength = total;
    }

    internal DicomFragments(uint[] basicOffsetTable, DeferredFragments deferred)
    {
        _offsetTable = basicOffsetTable;
        _deferred = deferred;
        TotalLength = deferred.TotalLength;
    }

    /// <summary>The Basic Offset Table (PS3.5 Table A.4-1), empty when absent.</summary>
    public IReadOnlyList<uint> BasicOffsetTable => _offsetTable;

    /// <summary>The fragments in order; a deferred set is read from its file on first access.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Fragments => _fragments ?? _deferred!.Load();

    /// <summary>The number of fragments (known without loading).</summary>
    public int Count => _fragments?.Length ?? _deferred!.Count;

    /// <summary>The sum of the fragment lengths in bytes (known without loading).</summary>
    public long TotalLength { get; }

    /// <summary>True while the fragments have not been read from the file yet.</summary>
    public bool IsDeferred => _deferred is { IsLoaded: false };
}
