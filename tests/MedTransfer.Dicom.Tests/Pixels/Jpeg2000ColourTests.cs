using MedTransfer.Dicom.Pixels;
using Xunit;

namespace MedTransfer.Dicom.Tests.Pixels;

/// <summary>
/// Colour JPEG 2000 with the reversible component transform (DICOM labels it YBR_RCT), as a raw codestream and
/// wrapped in a JP2 file. Both were made once with OpenJPEG 2.5.0's <c>opj_compress -n 3</c> (lossless, MCT on
/// for three components) from the 24x16 gradient <see cref="Gradient"/> written as a PPM.
/// </summary>
public sealed class Jpeg2000ColourTests
{
    private const string RgbJ2k =
        "ff4fff51002f000000000018000000100000000000000000000000180000001000000000000000000003070101070101070101ff52000c0000000101"
        + "0204040001ff5c000a4040484850484850ff640025000143726561746564206279204f70656e4a5045472076657273696f6e20322e352e30ff90000a"
        + "0000000000d50001ff93c7d42603f2aea0d50a3a30d4089ff35e243b428091bfdf80b0121544002521f2b192d9b38dbbac416590a8af011cc3df80b8"
        + "1125cb60eb23f2a52cb6e14283553db42c7e22de63cc43c03a3407c23401d1002ec414e033ef0382b800311f154321b9c0f90241f385002c5bf25f03"
        + "825f758dc1f38480f843002c5bc9c10382ccc015101f09d002a414a1800763d63d47522d7024c45f4121e36378186be7142f42134eb327877bc07c22"
        + "40f902804b25558f522a4c0bbfc0f903403a204b25558d4caf522a4e7fffd9";

    private const string RgbJp2 =
        "0000000c6a5020200d0a870a00000014667479706a703220000000006a7032200000002d6a7032680000001669686472000000100000001800030707"
        + "00000000000f636f6c7201000000000010000001536a703263ff4fff51002f0000000000180000001000000000000000000000001800000010000000"
        + "00000000000003070101070101070101ff52000c00000001010204040001ff5c000a4040484850484850ff640025000143726561746564206279204f"
        + "70656e4a5045472076657273696f6e20322e352e30ff90000a0000000000d50001ff93c7d42603f2aea0d50a3a30d4089ff35e243b428091bfdf80b0"
        + "121544002521f2b192d9b38dbbac416590a8af011cc3df80b81125cb60eb23f2a52cb6e14283553db42c7e22de63cc43c03a3407c23401d1002ec414"
        + "e033ef0382b800311f154321b9c0f90241f385002c5bf25f03825f758dc1f38480f843002c5bc9c10382ccc015101f09d002a414a1800763d63d4752"
        + "2d7024c45f4121e36378186be7142f42134eb327877bc07c2240f902804b25558f522a4c0bbfc0f903403a204b25558d4caf522a4e7fffd9";

    private static (int R, int G, int B) Gradient(int x, int y) => ((40 + (x * 5) + (y * 3)) % 256, (200 - (x * 4)) % 256, (60 + (y * 8)) % 256);

    public static TheoryData<string> Streams => new() { RgbJ2k, RgbJp2 };

    [SkippableTheory]
    [MemberData(nameof(Streams))]
    public void Decode_YbrRct_ComesOutAsExactRgb(string hex)
    {
        Skip.If(PixelDecoder.Jpeg2000LibraryVersion is null, "libopenjp2-7 is not installed");
        PixelModule m = Modules.Rgb(16, 24, pi: "YBR_RCT");
        byte[] decoded = PixelDecoder.DecodeFrame(m, PixelDecoder.Jpeg2000Lossless, Convert.FromHexString(hex));
        Assert.Equal("RGB", PixelDecoder.DecodedPhotometricInterpretation(m, PixelDecoder.Jpeg2000Lossless));
        for (int y = 0; y < 16; y++)
        {
            for (int x = 0; x < 24; x++)
            {
                (int r, int g, int b) = Gradient(x, y);
                int p = 3 * ((y * 24) + x);
                Assert.Equal(new[] { (byte)r, (byte)g, (byte)b }, decoded[p..(p + 3)]);
            }
        }
    }

    [Fact]
    public void Decode_Jp2WithoutCodestreamBox_CorruptPixelStream()
    {
        byte[] jp2 = Convert.FromHexString(RgbJp2);
        byte[] cut = jp2[..60];
        var ex = Assert.Throws<DicomFormatException>(() => PixelDecoder.DecodeFrame(Modules.Rgb(16, 24, pi: "YBR_RCT"), PixelDecoder.Jpeg2000Lossless, cut));
        Assert.Equal(DicomErrorCode.CorruptPixelStream, ex.Reason);
    }
}
