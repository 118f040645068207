using System.Globalization;

namespace MedTransfer.Dicom.Pixels;

/// <summary>How hard the pixel layer is on inputs that break a rule of the standard but can still be read safely.</summary>
public enum PixelValidationMode
{
    /// <summary>Every deviation is a <see cref="DicomFormatException"/>.</summary>
    Strict,

    /// <summary>
    /// Deviations that can be read without guessing (HighBit ≠ BitsStored−1, trailing bytes after the last frame,
    /// a palette or LUT index past the table) are accepted and reported as warnings. Missing bytes are never
    /// tolerated: an image is never completed with invented or uninitialised samples.
    /// </summary>
    Tolerant,
}

/// <summary>
/// The attributes of the Image Pixel module (PS3.3 C.7.6.3) that decoding needs, independent of any data set
/// model. All size arithmetic is checked and 64-bit: the values come from untrusted headers, and Rows×Columns×Frames can overflow 32 bits.
/// </summary>
/// <param name="Rows">Rows (0028,0010).</param>
/// <param name="Columns">Columns (0028,0011).</param>
/// <param name="SamplesPerPixel">Samples per Pixel (0028,0002): 1 or 3.</param>
/// <param name="BitsAllocated">Bits Allocated (0028,0100): 1, 8, 16 or 32.</param>
/// <param name="BitsStored">Bits Stored (0028,0101).</param>
/// <param name="HighBit">High Bit (0028,0102); the standard requires BitsStored − 1.</param>
/// <param name="PixelRepresentation">Pixel Representation (0028,0103): 0 unsigned, 1 two's complement.</param>
/// <param name="PlanarConfiguration">Planar Configuration (0028,0006): 0 interleaved, 1 colour-by-plane (3 samples only).</param>
/// <param name="PhotometricInterpretation">Photometric Interpretation (0028,0004), e.g. MONOCHROME2, RGB, YBR_FULL_422.</param>
/// <param name="NumberOfFrames">Number of Frames (0028,0008); 1 when absent.</param>
public sealed record PixelModule(
    int Rows,
    int Columns,
    int SamplesPerPixel,
    int BitsAllocated,
    int BitsStored,
    int HighBit,
    int PixelRepresentation,
    int PlanarConfiguration,
    string PhotometricInterpretation,
    int NumberOfFrames)
{
    /// <summary>
    /// The largest decoded frame the decoders accept: the largest .NET byte array (0x7FFFFFC7 bytes, just under 2 GiB).
    /// Larger declarations are rejected with <see cref="DicomErrorCode.PixelDataTooLarge"/> before allocating.
    /// </summary>
    public const long MaxFrameBytes = 0x7FFFFFC7;

    /// <summary>True for Pixel Representation 1 (two's complement samples).</summary>
    public bool IsSigned => PixelRepresentation == 1;

    /// <summary>Pixels per frame, Rows × Columns (checked 64-bit).</summary>
    public long PixelsPerFrame => checked((long)Rows * Columns);

    /// <summary>Bytes per sample in the decoded layout: 1 for BitsAllocated 1 and 8, 2 for 16, 4 for 32.</summary>
    public int BytesPerDecodedSample => BitsAllocated <= 8 ? 1 : BitsAllocated / 8;

    /// <summary>True when the photometric interpretation is MONOCHROME1 or MONOCHROME2.</summary>
    public bool IsMonochrome => Photometric is "MONOCHROME1" or "MONOCHROME2";

    /// <summary>The photometric interpretation trimmed of padding spaces.</summary>
    public string Photometric => PhotometricInterpretation.Trim();

    /// <summary>
    /// Bits of one frame as stored natively (uncompressed): Rows × Columns × Samples × BitsAllocated, except
    /// YBR_FULL_422 where two horizontally adjacent pixels share one Cb and one Cr (PS3.3 C.7.6.3.1.2).
    /// </summary>
    public long FrameLengthBits
    {
        get
        {
            long samples = IsNativeYbr422 ? checked(PixelsPerFrame * 2) : checked(PixelsPerFrame * SamplesPerPixel);
            return checked(samples * BitsAllocated);
        }
    }

    /// <summary>
    /// Bytes of one native frame. For BitsAllocated 1 frames are bit-packed back to back, so this is the
    /// frame's bit length rounded up to whole bytes; frame <c>k</c> starts at bit <c>k × FrameLengthBits</c>.
    /// </summary>
    public long FrameLengthBytes => checked((FrameLengthBits + 7) / 8);

    /// <summary>Bytes of the whole native Pixel Data value (all frames, before the even-length padding byte).</summary>
    public long TotalNativeBytes => checked((checked(FrameLengthBits * NumberOfFrames) + 7) / 8);

    /// <summary>
    /// Bytes of one decoded frame: Rows × Columns × Samples × <see cref="BytesPerDecodedSample"/>, samples interleaved.
    /// YBR_FULL_422 decodes to three full samples per pixel; BitsAllocated 1 decodes to one byte (0 or 1) per pixel.
    /// </summary>
    public long DecodedFrameLength => checked(PixelsPerFrame * SamplesPerPixel * BytesPerDecodedSample);

    internal bool IsNativeYbr422 => SamplesPerPixel == 3 && Photometric == "YBR_FULL_422";

    /// <summary>
    /// Checks the module against PS3.3 C.7.6.3 and against overflow. Throws
    /// <see cref="DicomFormatException"/> (<see cref="DicomErrorCode.InvalidPixelModule"/> or
    /// <see cref="DicomErrorCode.PixelDataTooLarge"/>) on errors; returns warnings accepted in tolerant mode.
    /// </summary>
    /// <param name="mode">Strict rejects HighBit ≠ BitsStored − 1; tolerant reports it as a warning.</param>
    /// <returns>Warnings (empty when the module is fully conformant). Messages never contain file values other than the module's numbers.</returns>
    public IReadOnlyList<string> Validate(PixelValidationMode mode = PixelValidationMode.Strict)
    {
        var warnings = new List<string>();
        if (Rows <= 0 || Columns <= 0)
        {
            throw Invalid("Rows and Columns must be positive");
        }

        if (Rows > 65535 || Columns > 65535)
        {
            throw Invalid("Rows and Columns are US values and must not exceed 65535");
        }

        if (SamplesPerPixel is not (1 or 3))
        {
            throw Invalid(string.Create(CultureInfo.InvariantCulture, $"SamplesPerPixel {SamplesPerPixel} is not 1 or 3"));
        }

        if (BitsAllocated is not (1 or 8 or 16 or 32))
        {
            throw Invalid(string.Create(CultureInfo.InvariantCulture, $"BitsAllocated {BitsAllocated} is not 1, 8, 16 or 32"));
        }

        if (BitsStored < 1 || BitsStored > BitsAllocated)
        {
            throw Invalid(string.Create(CultureInfo.InvariantCulture, $"BitsStored {BitsStored} is outside 1..BitsAllocated ({BitsAllocated})"));
        }

        if (HighBit != BitsStored - 1)
        {
            if (HighBit < BitsStored - 1 || HighBit >= BitsAllocated || mode == PixelValidationMode.Strict)
            {
                throw Invalid(string.Create(CultureInfo.InvariantCulture, $"HighBit {HighBit} is not BitsStored - 1 ({BitsStored - 1})"));
            }

            warnings.Add(string.Create(CultureInfo.InvariantCulture, $"HighBit {HighBit} is not BitsStored - 1; samples are read from bits {HighBit - BitsStored + 1}..{HighBit}"));
        }

        if (PixelRepresentation is not (0 or 1))
        {
            throw Invalid("PixelRepresentation must be 0 or 1");
        }

        if (PlanarConfiguration is not (0 or 1))
        {
            throw Invalid("PlanarConfiguration must be 0 or 1");
        }

        if (NumberOfFrames < 1)
        {
            throw Invalid("NumberOfFrames must be at least 1");
        }

        if (BitsAllocated == 1 && SamplesPerPixel != 1)
        {
            throw Invalid("BitsAllocated 1 requires SamplesPerPixel 1");
        }

        string pi = Photometric;
        bool monochrome = pi is "MONOCHROME1" or "MONOCHROME2" or "PALETTE COLOR";
        if (monochrome && SamplesPerPixel != 1)
        {
            throw Invalid("MONOCHROME and PALETTE COLOR require SamplesPerPixel 1");
        }

        if (!monochrome && SamplesPerPixel != 3)
        {
            throw Invalid("colour photometric interpretations require SamplesPerPixel 3");
        }

        try
        {
            long frame = DecodedFrameLength;
            _ = TotalNativeBytes;
            if (frame > MaxFrameBytes)
            {
                throw new DicomFormatException(DicomErrorCode.PixelDataTooLarge, string.Create(CultureInfo.InvariantCulture, $"a decoded frame of {frame} bytes exceeds the limit of {MaxFrameBytes}"), tag: DicomTag.PixelData);
            }
        }
        catch (OverflowException ex)
        {
            throw new DicomFormatException(DicomErrorCode.PixelDataTooLarge, "Rows x Columns x Samples x Frames x Bits overflows 64 bits", tag: DicomTag.PixelData, inner: ex);
        }

        return warnings;
    }

    private static DicomFormatException Invalid(string detail) =>
        new(DicomErrorCode.InvalidPixelModule, detail, tag: DicomTag.PixelData);
}
