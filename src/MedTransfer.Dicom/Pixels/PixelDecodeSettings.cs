namespace MedTransfer.Dicom.Pixels;

/// <summary>What a frame decode may vary beyond the module and the bytes: validation, chroma upsampling, and where
/// the recoveries it makes are recorded (null: not recorded).</summary>
internal sealed record PixelDecodeSettings(
    PixelValidationMode Mode,
    ChromaUpsampling Upsampling = ChromaUpsampling.Fancy,
    Action<DicomWarning>? Warnings = null);
