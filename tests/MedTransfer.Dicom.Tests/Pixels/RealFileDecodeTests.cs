using System.Diagnostics;
using MedTransfer.Dicom.Pixels;
using MedTransfer.Testing;
using Xunit;
using Xunit.Abstractions;

namespace MedTransfer.Dicom.Tests.Pixels;

/// <summary>dcm_qa_ts: one Siemens MR image in nine transfer syntaxes; every file must give the same stored values.</summary>
public sealed class RealFileDecodeTests
{
    private readonly ITestOutputHelper _output;

    public RealFileDecodeTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public static TheoryData<int> Files => new() { 1, 2, 3, 4, 5, 6, 7, 8, 9 };

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void DecodeFrame_EveryTransferSyntax_SameStoredValuesAsExplicitLittleEndian(int number)
    {
        Skip.If(TestPaths.SharedData(TestPixelData.Folder) is null, TestPaths.MissingReason(TestPixelData.Folder));
        ushort[] reference = Decode(1);
        var stopwatch = Stopwatch.StartNew();
        ushort[] values = Decode(number);
        stopwatch.Stop();
        _output.WriteLine($"{number}.dcm {TestPixelData.Syntaxes[number]}: {stopwatch.Elapsed.TotalMilliseconds:F1} ms");
        Assert.Equal(reference, values);
        Assert.Contains(values, v => v > 0);
        Assert.All(values, v => Assert.True(v < 4096));
    }

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void DecodeFrame_Twice_BitIdentical(int number)
    {
        Skip.If(TestPaths.SharedData(TestPixelData.Folder) is null, TestPaths.MissingReason(TestPixelData.Folder));
        byte[] source = TestPixelData.FrameSource(number);
        byte[] first = PixelDecoder.DecodeFrame(TestPixelData.Module, TestPixelData.Syntaxes[number], source);
        byte[] second = PixelDecoder.DecodeFrame(TestPixelData.Module, TestPixelData.Syntaxes[number], source);
        Assert.Equal(first, second);
    }

    [SkippableFact]
    public void NativeLibraries_Report_Versions()
    {
        Skip.If(PixelDecoder.JpegLsLibraryVersion is null || PixelDecoder.Jpeg2000LibraryVersion is null, "libcharls2 or libopenjp2-7 is not installed");
        _output.WriteLine($"CharLS {PixelDecoder.JpegLsLibraryVersion}, OpenJPEG {PixelDecoder.Jpeg2000LibraryVersion}");
        Assert.StartsWith("2.", PixelDecoder.JpegLsLibraryVersion);
        Assert.StartsWith("2.", PixelDecoder.Jpeg2000LibraryVersion);
    }

    [SkippableFact]
    public void PresentationFloats_RealImage_MatchesStoredValuesWithoutVoi()
    {
        Skip.If(TestPaths.SharedData(TestPixelData.Folder) is null, TestPaths.MissingReason(TestPixelData.Folder));
        byte[] decoded = PixelDecoder.DecodeFrame(TestPixelData.Module, TestPixelData.Syntaxes[5], TestPixelData.FrameSource(5));
        float[] floats = PixelPipeline.ToPresentationFloats(TestPixelData.Module, decoded, ModalityLut.Identity, null);
        ushort[] stored = (ushort[])PixelPipeline.StoredValues(TestPixelData.Module, decoded);
        Assert.Equal(stored.Select(v => (float)v), floats);
    }

    internal static ushort[] Decode(int number)
    {
        Skip.If(TestPixelData.Syntaxes[number] == PixelDecoder.JpegLsLossless && PixelDecoder.JpegLsLibraryVersion is null, "libcharls2 is not installed");
        Skip.If(TestPixelData.Syntaxes[number] == PixelDecoder.Jpeg2000Lossless && PixelDecoder.Jpeg2000LibraryVersion is null, "libopenjp2-7 is not installed");
        byte[] decoded = PixelDecoder.DecodeFrame(TestPixelData.Module, TestPixelData.Syntaxes[number], TestPixelData.FrameSource(number));
        return (ushort[])PixelPipeline.StoredValues(TestPixelData.Module, decoded);
    }
}
