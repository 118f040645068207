namespace MedTransfer.Imaging.Images;

/// <summary>The container an image was read from.</summary>
public enum SourceImageFormat
{
    /// <summary>PNG (ISO/IEC 15948).</summary>
    Png,

    /// <summary>JPEG (ISO/IEC 10918-1, JFIF/EXIF).</summary>
    Jpeg,

    /// <summary>TIFF 6.0 (baseline plus tiles and the usual compressions, via LibTiff.NET).</summary>
    Tiff,

    /// <summary>DICOM Part 10, through the presentation pipeline of <c>DicomImage</c>.</summary>
    Dicom,
}

/// <summary>
/// A decoded greyscale image and the facts about its source that the normalization recipes use for their
/// input-range sanity checks. For PNG/JPEG/TIFF the pixels are the stored sample values (0–255 or 0–65535; colour
/// converted to ITU-R BT.601 luma); for DICOM they are the presentation values (modality LUT, VOI when applied,
/// MONOCHROME1 inverted).
/// </summary>
/// <param name="Image">The pixels and spacing (built on first use from <see cref="Indexed"/> when the image was read in indexed form).</param>
/// <param name="Format">The container.</param>
/// <param name="BitsPerSample">Bits per stored sample (8 or 16 for raster files; Bits Stored for DICOM).</param>
/// <param name="ConvertedFromColour">True when RGB(A) samples were reduced to luma.</param>
/// <param name="WasMonochrome1">True for a DICOM MONOCHROME1 image (already inverted so bright means dense).</param>
/// <param name="VoiApplied">True when a DICOM VOI window or LUT mapped the values to [0, 1].</param>
public sealed record SourceImage(
    ImageF Image,
    SourceImageFormat Format,
    int BitsPerSample,
    bool ConvertedFromColour = false,
    bool WasMonochrome1 = false,
    bool VoiApplied = false)
{
    private ImageF? _image = Image;

    /// <summary>The pixels as floats; for an indexed image they are expanded (once) on first access.</summary>
    public ImageF Image
    {
        get => _image ??= Indexed!.ToImageF();
        init => _image = value;
    }

    /// <summary>
    /// The same pixels as indices into a value table, when the reader produced them (DICOM frames of at most 16 stored
    /// bits); null otherwise. The X-ray recipe then takes its exact fast path, which never expands the image.
    /// </summary>
    public IndexedImage? Indexed { get; private init; }

    /// <summary>
    /// Why VOI sources of the DICOM file were not used (a window the standard forbids, e.g. Window Width 0, a
    /// malformed VOI LUT, an unknown VOI LUT Function), in plain text without values from the file; empty otherwise.
    /// </summary>
    public IReadOnlyList<string> VoiWarnings { get; init; } = [];

    /// <summary>What the DICOM decoder recovered from (e.g. bytes after a JPEG end marker), in plain text; empty otherwise.</summary>
    public IReadOnlyList<string> ReaderWarnings { get; init; } = [];

    /// <summary>Columns.</summary>
    public int Width => Indexed?.Width ?? Image.Width;

    /// <summary>Rows.</summary>
    public int Height => Indexed?.Height ?? Image.Height;

    /// <summary>An image held in indexed form; <see cref="Image"/> is expanded from it only if someone asks.</summary>
    public static SourceImage FromIndexed(IndexedImage indexed, SourceImageFormat format, int bitsPerSample, bool wasMonochrome1 = false, bool voiApplied = false)
    {
        ArgumentNullException.ThrowIfNull(indexed);
        return new SourceImage(null!, format, bitsPerSample, false, wasMonochrome1, voiApplied) { Indexed = indexed };
    }
}
