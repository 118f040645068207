using MedTransfer.Dicom.Pixels;
using Xunit;

namespace MedTransfer.Dicom.Tests.Pixels;

public sealed class PhotometricConversionTests
{
    [Fact]
    public void Rgb_PassesThroughScaled()
    {
        PixelModule m = Modules.Rgb(1, 1);
        Assert.Equal(new[] { 0f, 1f, 128 / 255f }, PhotometricConversion.ToRgbFloats(m, "RGB", new byte[] { 0, 255, 128 }));
    }

    [Theory]
    [InlineData(128, 128, 128, 128, 128, 128)] // grey stays grey
    [InlineData(76, 85, 255, 254, 0, 0)] // pure red (rounded YCbCr of 255,0,0)
    [InlineData(29, 255, 107, 0, 0, 255)] // pure blue
    public void YbrFull_ToRgb_C76312Equations(int y, int cb, int cr, int r, int g, int b)
    {
        PixelModule m = Modules.Rgb(1, 1, pi: "YBR_FULL");
        float[] rgb = PhotometricConversion.ToRgbFloats(m, "YBR_FULL", new byte[] { (byte)y, (byte)cb, (byte)cr });
        Assert.Equal(r, rgb[0] * 255, 1.5);
        Assert.Equal(g, rgb[1] * 255, 1.5);
        Assert.Equal(b, rgb[2] * 255, 1.5);
    }

    [Fact]
    public void YbrFull422_DecodedThenConverted_SameAsFull()
    {
        PixelModule m = Modules.Rgb(1, 2, pi: "YBR_FULL_422");
        byte[] decoded = PixelDecoder.DecodeFrame(m, PixelDecoder.ExplicitVRLittleEndian, new byte[] { 76, 29, 85, 255 });
        float[] rgb = PhotometricConversion.ToRgbFloats(m, PixelDecoder.DecodedPhotometricInterpretation(m, PixelDecoder.ExplicitVRLittleEndian), decoded);
        Assert.Equal(6, rgb.Length);
    }

    private static PaletteColorLut Palette(int entries, int first)
    {
        var descriptor = new LutDescriptor(entries, first, 16);
        ushort[] red = Enumerable.Range(0, entries).Select(i => (ushort)(i * 1000)).ToArray();
        ushort[] green = Enumerable.Range(0, entries).Select(i => (ushort)(65535 - (i * 1000))).ToArray();
        ushort[] blue = Enumerable.Repeat((ushort)32768, entries).ToArray();
        return new PaletteColorLut(LookupTable.FromEntries(descriptor, red), LookupTable.FromEntries(descriptor, green), LookupTable.FromEntries(descriptor, blue));
    }

    [Fact]
    public void Palette_MapsThroughTables()
    {
        PixelModule m = Modules.Mono(1, 2, 8, 8, pi: "PALETTE COLOR");
        float[] rgb = PhotometricConversion.ToRgbFloats(m, "PALETTE COLOR", new byte[] { 10, 12 }, Palette(4, 10));
        Assert.Equal(new[] { 0f, 1f, 32768 / 65535f, 2000 / 65535f, 63535 / 65535f, 32768 / 65535f }, rgb);
    }

    [Fact]
    public void Palette_IndexPastTheLut_StrictInvalidLut_TolerantClampsPerC76315()
    {
        PixelModule m = Modules.Mono(1, 2, 8, 8, pi: "PALETTE COLOR");
        PaletteColorLut palette = Palette(4, 10);
        byte[] frame = [200, 3];
        var ex = Assert.Throws<DicomFormatException>(() => PhotometricConversion.ToRgbFloats(m, "PALETTE COLOR", frame, palette));
        Assert.Equal(DicomErrorCode.InvalidLut, ex.Reason);
        float[] rgb = PhotometricConversion.ToRgbFloats(m, "PALETTE COLOR", frame, palette, PixelValidationMode.Tolerant);
        Assert.Equal(3000 / 65535f, rgb[0]); // 200 -> last entry
        Assert.Equal(0f, rgb[3]); // 3 -> first entry
    }

    [Fact]
    public void Palette_Missing_InvalidLut()
    {
        PixelModule m = Modules.Mono(1, 1, 8, 8, pi: "PALETTE COLOR");
        Assert.Equal(DicomErrorCode.InvalidLut, Assert.Throws<DicomFormatException>(() => PhotometricConversion.ToRgbFloats(m, "PALETTE COLOR", new byte[1])).Reason);
    }

    [Fact]
    public void LookupTable_FromOwData_And_PackedBytes()
    {
        var words = LookupTable.Create(LutDescriptor.FromStoredValues(2, 0, 16), new byte[] { 0x34, 0x12, 0xFF, 0xFF });
        Assert.Equal(new ushort[] { 0x1234, 0xFFFF }, words.Entries.ToArray());
        var packed = LookupTable.Create(new LutDescriptor(3, 0, 8), new byte[] { 1, 2, 3, 0 });
        Assert.Equal(new ushort[] { 1, 2, 3 }, packed.Entries.ToArray());
        Assert.Equal(65536, LutDescriptor.FromStoredValues(0, 0, 16).NumberOfEntries);
    }

    [Fact]
    public void LookupTable_DataShorterThanDescriptor_InvalidLut()
    {
        Assert.Equal(DicomErrorCode.InvalidLut, Assert.Throws<DicomFormatException>(() => LookupTable.Create(new LutDescriptor(256, 0, 16), new byte[10])).Reason);
        Assert.Equal(DicomErrorCode.InvalidLut, Assert.Throws<DicomFormatException>(() => LookupTable.Create(new LutDescriptor(2, 0, 8), new byte[] { 0, 1, 0, 9 })).Reason);
        Assert.Equal(DicomErrorCode.InvalidLut, Assert.Throws<DicomFormatException>(() => LookupTable.Create(new LutDescriptor(2, 0, 17), new byte[4])).Reason);
    }
}
