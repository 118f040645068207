using System.Collections.Frozen;

namespace MedTransfer.Dicom;

/// <summary>
/// A DICOM transfer syntax (PS3.5 §10 and Annex A): how a data set after the file meta information
/// is encoded (implicit or explicit VR, byte order, deflate) and whether Pixel Data is encapsulated.
/// Known syntaxes are shared instances looked up by UID with <see cref="Lookup"/>.
/// </summary>
public sealed class TransferSyntax
{
    private static readonly FrozenDictionary<string, TransferSyntax> _known;

    static TransferSyntax()
    {
        TransferSyntax[] all =
        [
            ImplicitVRLittleEndian, ExplicitVRLittleEndian, DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian,
            RleLossless, JpegBaseline, JpegExtended, JpegLossless, JpegLosslessFirstOrder, JpegLsLossless,
            JpegLsNearLossless, Jpeg2000Lossless, Jpeg2000, HighThroughputJpeg2000Lossless,
            HighThroughputJpeg2000LosslessRpcl, HighThroughputJpeg2000,
        ];
        var map = new Dictionary<string, TransferSyntax>(StringComparer.Ordinal);
        foreach (TransferSyntax ts in all)
        {
            map.Add(ts.Uid, ts);
        }

        _known = map.ToFrozenDictionary(StringComparer.Ordinal);
        Known = all;
    }

    private TransferSyntax(string uid, string name, bool explicitVR, bool bigEndian, bool deflated, bool encapsulated, bool isKnown)
    {
        Uid = uid;
        Name = name;
        IsExplicitVR = explicitVR;
        IsBigEndian = bigEndian;
        IsDeflated = deflated;
        IsEncapsulated = encapsulated;
        IsKnown = isKnown;
    }

    /// <summary>Implicit VR Little Endian, 1.2.840.10008.1.2: the default transfer syntax (PS3.5 §A.1).</summary>
    public static TransferSyntax ImplicitVRLittleEndian { get; } = new("1.2.840.10008.1.2", "Implicit VR Little Endian", false, false, false, false, true);

    /// <summary>Explicit VR Little Endian, 1.2.840.10008.1.2.1 (PS3.5 §A.2).</summary>
    public static TransferSyntax ExplicitVRLittleEndian { get; } = new("1.2.840.10008.1.2.1", "Explicit VR Little Endian", true, false, false, false, true);

    /// <summary>Deflated Explicit VR Little Endian, 1.2.840.10008.1.2.1.99 (PS3.5 §A.5): raw Deflate of everything after the meta.</summary>
    public static TransferSyntax DeflatedExplicitVRLittleEndian { get; } = new("1.2.840.10008.1.2.1.99", "Deflated Explicit VR Little Endian", true, false, true, false, true);

    /// <summary>Explicit VR Big Endian, 1.2.840.10008.1.2.2 (retired; PS3.5 §A.3).</summary>
    public static TransferSyntax ExplicitVRBigEndian { get; } = new("1.2.840.10008.1.2.2", "Explicit VR Big Endian (Retired)", true, true, false, false, true);

    /// <summary>RLE Lossless, 1.2.840.10008.1.2.5 (PS3.5 §A.4.2, Annex G).</summary>
    public static TransferSyntax RleLossless { get; } = Encapsulated("1.2.840.10008.1.2.5", "RLE Lossless");

    /// <summary>JPEG Baseline (Process 1), 1.2.840.10008.1.2.4.50.</summary>
    public static TransferSyntax JpegBaseline { get; } = Encapsulated("1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)");

    /// <summary>JPEG Extended (Process 2 and 4), 1.2.840.10008.1.2.4.51.</summary>
    public static TransferSyntax JpegExtended { get; } = Encapsulated("1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 & 4)");

    /// <summary>JPEG Lossless, Non-Hierarchical (Process 14), 1.2.840.10008.1.2.4.57.</summary>
    public static TransferSyntax JpegLossless { get; } = Encapsulated("1.2.840.10008.1.2.4.57", "JPEG Lossless, Non-Hierarchical (Process 14)");

    /// <summary>JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14, Selection Value 1), 1.2.840.10008.1.2.4.70.</summary>
    public static TransferSyntax JpegLosslessFirstOrder { get; } = Encapsulated("1.2.840.10008.1.2.4.70", "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])");

    /// <summary>JPEG-LS Lossless, 1.2.840.10008.1.2.4.80.</summary>
    public static TransferSyntax JpegLsLossless { get; } = Encapsulated("1.2.840.10008.1.2.4.80", "JPEG-LS Lossless Image Compression");

    /// <summary>JPEG-LS Lossy (Near-Lossless), 1.2.840.10008.1.2.4.81.</summary>
    public static TransferSyntax JpegLsNearLossless { get; } = Encapsulated("1.2.840.10008.1.2.4.81", "JPEG-LS Lossy (Near-Lossless) Image Compression");

    /// <summary>JPEG 2000 (Lossless Only), 1.2.840.10008.1.2.4.90.</summary>
    public static TransferSyntax Jpeg2000Lossless { get; } = Encapsulated("1.2.840.10008.1.2.4.90", "JPEG 2000 Image Compression (Lossless Only)");

    /// <summary>JPEG 2000, 1.2.840.10008.1.2.4.91.</summary>
    public static TransferSyntax Jpeg2000 { get; } = Encapsulated("1.2.840.10008.1.2.4.91", "JPEG 2000 Image Compression");

    /// <summary>High-Throughput JPEG 2000 (Lossless Only), 1.2.840.10008.1.2.4.201.</summary>
    public static TransferSyntax HighThroughputJpeg2000Lossless { get; } = Encapsulated("1.2.840.10008.1.2.4.201", "High-Throughput JPEG 2000 Image Compression (Lossless Only)");

    /// <summary>High-Throughput JPEG 2000 with RPCL Options (Lossless Only), 1.2.840.10008.1.2.4.202.</summary>
    public static TransferSyntax HighThroughputJpeg2000LosslessRpcl { get; } = Encapsulated("1.2.840.10008.1.2.4.202", "High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)");

    /// <summary>High-Throughput JPEG 2000, 1.2.840.10008.1.2.4.203.</summary>
    public static TransferSyntax HighThroughputJpeg2000 { get; } = Encapsulated("1.2.840.10008.1.2.4.203", "High-Throughput JPEG 2000 Image Compression");

    /// <summary>Every transfer syntax this registry knows.</summary>
    public static IReadOnlyList<TransferSyntax> Known { get; }

    /// <summary>The transfer syntax UID.</summary>
    public string Uid { get; }

    /// <summary>The standard's name for the syntax, or "Unknown" for an unregistered UID.</summary>
    public string Name { get; }

    /// <summary>True when data elements carry their VR (PS3.5 §7.1.2).</summary>
    public bool IsExplicitVR { get; }

    /// <summary>True for Explicit VR Big Endian: multi-byte binary values are stored most significant byte first.</summary>
    public bool IsBigEndian { get; }

    /// <summary>True when everything after the file meta information is a raw Deflate stream (RFC 1951).</summary>
    public bool IsDeflated { get; }

    /// <summary>True when Pixel Data is encapsulated: an offset table item followed by fragments (PS3.5 §A.4).</summary>
    public bool IsEncapsulated { get; }

    /// <summary>False for a UID the registry does not know; such data sets are read as Explicit VR Little Endian.</summary>
    public bool IsKnown { get; }

    /// <summary>
    /// The registered syntax for <paramref name="uid"/> (trailing NUL and space padding ignored), or an
    /// unknown-syntax instance (<see cref="IsKnown"/> false) describing Explicit VR Little Endian,
    /// not encapsulated; the reader then treats undefined-length Pixel Data as encapsulated.
    /// </summary>
    public static TransferSyntax Lookup(string uid)
    {
        ArgumentNullException.ThrowIfNull(uid);
        string trimmed = uid.TrimEnd('\0', ' ');
        return _known.TryGetValue(trimmed, out TransferSyntax? ts)
            ? ts
            : new TransferSyntax(trimmed, "Unknown", true, false, false, false, false);
    }

    /// <summary>Looks up a registered syntax only.</summary>
    public static bool TryGetKnown(string uid, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TransferSyntax? syntax)
    {
        ArgumentNullException.ThrowIfNull(uid);
        return _known.TryGetValue(uid.TrimEnd('\0', ' '), out syntax);
    }

    /// <summary>The UID.</summary>
    public override string ToString() => Uid;

    private static TransferSyntax Encapsulated(string uid, string name) => new(uid, name, true, false, false, true, true);
}
