using System.Buffers.Binary;
using MedTransfer.Dicom.Pixels;
using Xunit;

namespace MedTransfer.Dicom.Tests.Pixels;

public sealed class PixelPipelineTests
{
    private const double Tolerance = 1e-12;

    [Theory]
    [InlineData(-161.0, 0.0)]
    [InlineData(-160.0, 0.0)] // x <= c - 0.5 - (w-1)/2 = -160
    [InlineData(-159.5, 0.5 / 399)]
    [InlineData(39.5, 0.5)] // the centre of LINEAR is c - 0.5
    [InlineData(40.0, 0.5 + (0.5 / 399))]
    [InlineData(239.0, 1.0)] // (239 - 39.5) / 399 + 0.5 = 1, still inside
    [InlineData(239.5, 1.0)] // x > c - 0.5 + (w-1)/2 = 239
    [InlineData(1000.0, 1.0)]
    public void Linear_WindowEdges_MatchC112121(double x, double expected)
    {
        Assert.Equal(expected, VoiTransform.Window(40, 400).Apply(x), Tolerance);
    }

    [Theory]
    [InlineData(-160.0, 0.0)] // x <= c - w/2
    [InlineData(-159.5, 0.5 / 400)]
    [InlineData(40.0, 0.5)]
    [InlineData(240.0, 1.0)]
    [InlineData(239.0, 399.0 / 400)]
    [InlineData(240.5, 1.0)]
    public void LinearExact_WindowEdges_MatchC1121332(double x, double expected)
    {
        Assert.Equal(expected, VoiTransform.Window(40, 400, VoiLutFunction.LinearExact).Apply(x), Tolerance);
    }

    [Theory]
    [InlineData(40.0, 0.5)]
    [InlineData(140.0, 0.7310585786300049)] // 1 / (1 + e^-(4 * 100 / 400))
    [InlineData(240.0, 0.88079707797788231)] // 1 / (1 + e^-2)
    [InlineData(-60.0, 0.2689414213699951)]
    public void Sigmoid_MatchesC1121331(double x, double expected)
    {
        Assert.Equal(expected, VoiTransform.Window(40, 400, VoiLutFunction.Sigmoid).Apply(x), Tolerance);
    }

    [Fact]
    public void Linear_WidthOne_IsAThreshold()
    {
        VoiTransform voi = VoiTransform.Window(10, 1);
        Assert.Equal(0, voi.Apply(9.5));
        Assert.Equal(1, voi.Apply(9.6));
    }

    [Theory]
    [InlineData(0.5, VoiLutFunction.Linear)]
    [InlineData(0.0, VoiLutFunction.LinearExact)]
    [InlineData(-1.0, VoiLutFunction.Sigmoid)]
    [InlineData(double.NaN, VoiLutFunction.Linear)]
    public void Window_WidthNotAllowed_InvalidValue(double width, VoiLutFunction function)
    {
        Assert.Equal(DicomErrorCode.InvalidValue, Assert.Throws<DicomFormatException>(() => VoiTransform.Window(0, width, function)).Reason);
    }

    [Theory]
    [InlineData(null, VoiLutFunction.Linear)]
    [InlineData("", VoiLutFunction.Linear)]
    [InlineData("LINEAR_EXACT ", VoiLutFunction.LinearExact)]
    [InlineData("SIGMOID", VoiLutFunction.Sigmoid)]
    public void ParseFunction_KnownValues(string? text, VoiLutFunction expected)
    {
        Assert.Equal(expected, VoiTransform.ParseFunction(text));
        Assert.Throws<DicomFormatException>(() => VoiTransform.ParseFunction("CUBIC"));
    }

    [Fact]
    public void Rescale_SlopeIntercept_ProducesHounsfieldUnits()
    {
        PixelModule m = Modules.Mono(1, 3, 16, 12);
        byte[] frame = Frame16(0, 1024, 4095);
        float[] hu = PixelPipeline.ToModalityFloats(m, frame, ModalityLut.Rescale(1, -1024));
        Assert.Equal(new float[] { -1024, 0, 3071 }, hu);
        float[] scaled = PixelPipeline.ToModalityFloats(m, frame, ModalityLut.Rescale(0.5, 10));
        Assert.Equal(new float[] { 10, 522, 2057.5f }, scaled);
    }

    [Fact]
    public void Rescale_ZeroSlope_InvalidValue()
    {
        Assert.Equal(DicomErrorCode.InvalidValue, Assert.Throws<DicomFormatException>(() => ModalityLut.Rescale(0, 1)).Reason);
    }

    [Fact]
    public void ModalityTable_ClampsOutsideInputs()
    {
        var table = LookupTable.FromEntries(new LutDescriptor(3, 10, 16), new ushort[] { 100, 200, 300 });
        ModalityLut lut = ModalityLut.FromTable(table);
        Assert.Equal(100, lut.Apply(0));
        Assert.Equal(100, lut.Apply(10));
        Assert.Equal(200, lut.Apply(11));
        Assert.Equal(300, lut.Apply(12));
        Assert.Equal(300, lut.Apply(4000));
    }

    [Fact]
    public void VoiTable_ScalesByBitsPerEntry()
    {
        var table = LookupTable.FromEntries(new LutDescriptor(2, 0, 8), new ushort[] { 0, 255 });
        VoiTransform voi = VoiTransform.FromTable(table);
        Assert.Equal(0, voi.Apply(-5));
        Assert.Equal(1, voi.Apply(1));
        Assert.Equal(1, voi.Apply(99));
    }

    [Fact]
    public void Pipeline_SignedRescaleThenWindow_StandardOrder()
    {
        // Signed 12-of-16: stored -1024 with slope 2, intercept 48 gives -2000 -> below the window -> 0;
        // stored 100 gives 248 -> inside [−260, 339]; the window applies to modality values, not stored ones.
        PixelModule m = Modules.Mono(1, 2, 16, 12, signed: true);
        byte[] frame = Frame16(unchecked((ushort)(-1024 & 0x0FFF)), 100);
        float[] y = PixelPipeline.ToPresentationFloats(m, frame, ModalityLut.Rescale(2, 48), VoiTransform.Window(40, 600));
        Assert.Equal(0f, y[0]);
        Assert.Equal((float)(((248 - 39.5) / 599) + 0.5), y[1]);
    }

    [Fact]
    public void Monochrome1AndMonochrome2Copies_WithoutVoi_SameFloats()
    {
        // B1: the MONOCHROME1 copy stores 4095 - v; presentation values must be identical.
        ushort[] values = [0, 1, 100, 2048, 4000, 4095];
        PixelModule m2 = Modules.Mono(2, 3, 16, 12);
        PixelModule m1 = m2 with { PhotometricInterpretation = "MONOCHROME1" };
        float[] a = PixelPipeline.ToPresentationFloats(m2, Frame16(values), ModalityLut.Identity, null);
        float[] b = PixelPipeline.ToPresentationFloats(m1, Frame16(values.Select(v => (ushort)(4095 - v)).ToArray()), ModalityLut.Identity, null);
        Assert.Equal(a, b);
        Assert.Equal(values.Select(v => (float)v), a);
    }

    [Fact]
    public void Monochrome1AndMonochrome2Copies_WithMirroredWindow_SameFloats()
    {
        ushort[] values = [0, 1, 100, 1900, 2048, 2100, 4000, 4095];
        PixelModule m2 = Modules.Mono(2, 4, 16, 12);
        PixelModule m1 = m2 with { PhotometricInterpretation = "MONOCHROME1" };
        byte[] f2 = Frame16(values);
        byte[] f1 = Frame16(values.Select(v => (ushort)(4095 - v)).ToArray());

        // LINEAR_EXACT is symmetric: centre c on MONOCHROME2 is 4095 - c on the inverted copy.
        float[] a = PixelPipeline.ToPresentationFloats(m2, f2, ModalityLut.Identity, VoiTransform.Window(2000, 400, VoiLutFunction.LinearExact));
        float[] b = PixelPipeline.ToPresentationFloats(m1, f1, ModalityLut.Identity, VoiTransform.Window(2095, 400, VoiLutFunction.LinearExact));
        Assert.Equal(a, b);

        // LINEAR centres its window on c - 0.5, so the mirrored centre is 4095 - c + 1.
        float[] c = PixelPipeline.ToPresentationFloats(m2, f2, ModalityLut.Identity, VoiTransform.Window(2000, 400));
        float[] d = PixelPipeline.ToPresentationFloats(m1, f1, ModalityLut.Identity, VoiTransform.Window(2096, 400));
        Assert.Equal(c, d);
    }

    [Fact]
    public void Monochrome1_WithRescale_InvertsAboutModalityRange()
    {
        PixelModule m1 = Modules.Mono(1, 2, 16, 12, pi: "MONOCHROME1");
        float[] y = PixelPipeline.ToPresentationFloats(m1, Frame16(0, 4095), ModalityLut.Rescale(1, -1024), null);
        Assert.Equal(new float[] { 3071, -1024 }, y);
        float[] kept = PixelPipeline.ToPresentationFloats(m1, Frame16(0, 4095), ModalityLut.Identity, null, invertMonochrome1: false);
        Assert.Equal(new float[] { 0, 4095 }, kept);
    }

    [Fact]
    public void ToPresentationFloats_ColourImage_InvalidPixelModule()
    {
        PixelModule rgb = Modules.Rgb(1, 1);
        Assert.Equal(DicomErrorCode.InvalidPixelModule, Assert.Throws<DicomFormatException>(() => PixelPipeline.ToPresentationFloats(rgb, new byte[3], ModalityLut.Identity, null)).Reason);
    }

    [Fact]
    public void StoredValues_HighBitAboveBitsStoredMinusOne_ReadsTheRightBits()
    {
        // Tolerated layout: 12 bits stored in bits 4..15 (HighBit 15).
        var m = new PixelModule(1, 1, 1, 16, 12, 15, 0, 0, "MONOCHROME2", 1);
        Assert.Equal(new ushort[] { 0xABC }, (ushort[])PixelPipeline.StoredValues(m, Frame16(0xABC5)));
    }

    [Fact]
    public void StoredValues_EightBitSigned_SByte()
    {
        PixelModule m = Modules.Mono(1, 2, 8, 8, signed: true);
        Assert.Equal(new sbyte[] { -1, 127 }, (sbyte[])PixelPipeline.StoredValues(m, new byte[] { 0xFF, 0x7F }));
    }

    private static byte[] Frame16(params ushort[] values)
    {
        byte[] data = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(2 * i), values[i]);
        }

        return data;
    }
}
