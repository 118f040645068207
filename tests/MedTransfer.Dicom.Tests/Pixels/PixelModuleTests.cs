using MedTransfer.Dicom.Pixels;
using Xunit;

namespace MedTransfer.Dicom.Tests.Pixels;

internal static class Modules
{
    public static PixelModule Mono(int rows, int columns, int bitsAllocated, int bitsStored, bool signed = false, int frames = 1, string pi = "MONOCHROME2") =>
        new(rows, columns, 1, bitsAllocated, bitsStored, bitsStored - 1, signed ? 1 : 0, 0, pi, frames);

    public static PixelModule Rgb(int rows, int columns, int bitsAllocated = 8, int planar = 0, string pi = "RGB", int frames = 1) =>
        new(rows, columns, 3, bitsAllocated, bitsAllocated, bitsAllocated - 1, 0, planar, pi, frames);
}

public sealed class PixelModuleTests
{
    [Fact]
    public void Validate_ConformantModule_NoWarnings()
    {
        Assert.Empty(Modules.Mono(384, 384, 16, 12).Validate());
    }

    [Fact]
    public void Sizes_TwelveOfSixteen_ComputedIn64Bit()
    {
        PixelModule m = Modules.Mono(384, 384, 16, 12, frames: 3);
        Assert.Equal(384L * 384 * 2, m.FrameLengthBytes);
        Assert.Equal(384L * 384 * 2 * 3, m.TotalNativeBytes);
        Assert.Equal(384L * 384 * 2, m.DecodedFrameLength);
    }

    [Fact]
    public void Sizes_OneBitFrames_PackedBackToBack()
    {
        PixelModule m = Modules.Mono(3, 3, 1, 1, frames: 3);
        Assert.Equal(9, m.FrameLengthBits);
        Assert.Equal(2, m.FrameLengthBytes);
        Assert.Equal(4, m.TotalNativeBytes);
        Assert.Equal(9, m.DecodedFrameLength);
    }

    [Fact]
    public void Validate_BitsStoredAboveBitsAllocated_InvalidPixelModule()
    {
        var ex = Assert.Throws<DicomFormatException>(() => Modules.Mono(4, 4, 8, 12).Validate());
        Assert.Equal(DicomErrorCode.InvalidPixelModule, ex.Reason);
    }

    [Theory]
    [InlineData(0, 4)]
    [InlineData(4, 0)]
    [InlineData(-1, 4)]
    [InlineData(70000, 4)]
    public void Validate_BadDimensions_InvalidPixelModule(int rows, int columns)
    {
        var ex = Assert.Throws<DicomFormatException>(() => Modules.Mono(rows, columns, 8, 8).Validate());
        Assert.Equal(DicomErrorCode.InvalidPixelModule, ex.Reason);
    }

    [Fact]
    public void Validate_RowsTimesColumnsTimesFramesOverflow_PixelDataTooLarge()
    {
        // 65535 x 65535 x 3 samples x 32 bits x int.MaxValue frames overflows 64 bits; a single frame exceeds 2 GiB.
        var m = new PixelModule(65535, 65535, 3, 32, 32, 31, 0, 0, "RGB", int.MaxValue);
        var ex = Assert.Throws<DicomFormatException>(() => m.Validate());
        Assert.Equal(DicomErrorCode.PixelDataTooLarge, ex.Reason);
        var big = new PixelModule(65535, 65535, 3, 16, 16, 15, 0, 0, "RGB", 1);
        Assert.Equal(DicomErrorCode.PixelDataTooLarge, Assert.Throws<DicomFormatException>(() => big.Validate()).Reason);
    }

    [Fact]
    public void Validate_HighBitNotBitsStoredMinusOne_StrictRejects_TolerantWarns()
    {
        var m = new PixelModule(2, 2, 1, 16, 12, 15, 0, 0, "MONOCHROME2", 1);
        Assert.Equal(DicomErrorCode.InvalidPixelModule, Assert.Throws<DicomFormatException>(() => m.Validate()).Reason);
        Assert.Single(m.Validate(PixelValidationMode.Tolerant));
    }

    [Theory]
    [InlineData(1, 12)]
    [InlineData(3, 8)]
    [InlineData(2, 8)]
    public void Validate_InconsistentSamplesOrBits_InvalidPixelModule(int samples, int bitsAllocated)
    {
        var m = new PixelModule(2, 2, samples, bitsAllocated, 8, 7, 0, 0, samples == 3 ? "MONOCHROME2" : "MONOCHROME2", 1);
        Assert.Equal(DicomErrorCode.InvalidPixelModule, Assert.Throws<DicomFormatException>(() => m.Validate()).Reason);
    }
}
