using MedTransfer.Dicom.Pixels;
using MedTransfer.Dicom.Tests.IO;
using MedTransfer.Dicom.Tests.Pixels;
using Xunit;

namespace MedTransfer.Dicom.Tests.Images;

/// <summary>
/// Multi-frame JPEG whose Basic Offset Table does not describe the fragments (real encoders write one entry too many
/// and offsets a few bytes off): strict mode refuses with the reason; tolerant mode finds the frames the way PS3.5
/// A.4 allows without a table (one fragment per frame when the counts agree, else the fragments that open with a
/// start-of-image marker) and says so in the image's warnings.
/// </summary>
public sealed class DicomImageOffsetTableTests
{
    private const int Width = 16;
    private const int Height = 8;
    private const int Frames = 4;

    [Fact]
    public void DecodeFrame_FiveOffsetsAFewBytesOffForFourFragments_StrictNamesTheTable()
    {
        (DicomDataset ds, _) = FourFrames(BrokenTable, split: false);

        var ex = Assert.Throws<DicomFormatException>(() => DicomImage.Create(ds, PixelDecoder.JpegBaseline).DecodeFrame(0));

        Assert.Equal(DicomErrorCode.InvalidPixelModule, ex.Reason);
        Assert.Contains("Basic Offset Table has 5 entries for 4 frames", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DecodeFrame_FiveOffsetsAFewBytesOffForFourFragments_TolerantUsesOneFragmentPerFrame()
    {
        (DicomDataset ds, byte[][] expected) = FourFrames(BrokenTable, split: false);
        DicomImage image = DicomImage.Create(ds, PixelDecoder.JpegBaseline, PixelValidationMode.Tolerant);

        for (int f = Frames - 1; f >= 0; f--)
        {
            Assert.Equal(expected[f], image.DecodeFrame(f));
        }

        DicomWarning warning = Assert.Single(image.Warnings, w => w.Code == DicomErrorCode.InvalidPixelModule);
        Assert.Contains("the Basic Offset Table has 5 entries for 4 frames: one fragment per frame is used instead", warning.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void DecodeFrame_FramesInTwoFragmentsWithOffsetsOff_TolerantFindsTheStartMarkers()
    {
        (DicomDataset ds, byte[][] expected) = FourFrames(starts => [.. starts.Select(s => s + 2)], split: true);

        Assert.Throws<DicomFormatException>(() => DicomImage.Create(ds, PixelDecoder.JpegBaseline).DecodeFrame(2));
        DicomImage image = DicomImage.Create(ds, PixelDecoder.JpegBaseline, PixelValidationMode.Tolerant);

        for (int f = 0; f < Frames; f++)
        {
            Assert.Equal(expected[f], image.DecodeFrame(f));
        }

        Assert.Contains(image.Warnings, w => w.Detail.Contains("start-of-image marker", StringComparison.Ordinal));
    }

    [Fact]
    public void DecodeFrame_ConsistentTable_DecodesInBothModesWithoutWarnings()
    {
        (DicomDataset ds, byte[][] expected) = FourFrames(starts => starts, split: true);

        foreach (PixelValidationMode mode in new[] { PixelValidationMode.Strict, PixelValidationMode.Tolerant })
        {
            DicomImage image = DicomImage.Create(ds, PixelDecoder.JpegBaseline, mode);
            Assert.Equal(expected[3], image.DecodeFrame(3));
            Assert.Empty(image.Warnings);
        }
    }

    [Fact]
    public void Open_PartTenFileWithBrokenTableAndAnOddLastFragment_TolerantReadsEveryFrame()
    {
        byte[][] streams = [.. Enumerable.Range(0, Frames).Select(Stream)];
        streams[^1] = [.. streams[^1], 0x00, 0x00, 0x00]; // odd, whatever the encoder wrote
        if (streams[^1].Length % 2 == 0)
        {
            streams[^1] = [.. streams[^1], 0x00];
        }

        var b = new DicomBytesBuilder().Preamble().Meta(PixelDecoder.JpegBaseline);
        b.Element(0x0028, 0x0002, "US", DicomBytesBuilder.UInt16s(1));
        b.Element(0x0028, 0x0004, "CS", DicomBytesBuilder.Text("MONOCHROME2"));
        b.Element(0x0028, 0x0008, "IS", DicomBytesBuilder.Text("4"));
        b.Element(0x0028, 0x0010, "US", DicomBytesBuilder.UInt16s(Height));
        b.Element(0x0028, 0x0011, "US", DicomBytesBuilder.UInt16s(Width));
        b.Element(0x0028, 0x0100, "US", DicomBytesBuilder.UInt16s(8));
        b.Element(0x0028, 0x0101, "US", DicomBytesBuilder.UInt16s(8));
        b.Element(0x0028, 0x0102, "US", DicomBytesBuilder.UInt16s(7));
        b.Element(0x0028, 0x0103, "US", DicomBytesBuilder.UInt16s(0));
        b.Header(0x7FE0, 0x0010, "OB", DicomBytesBuilder.Undefined);
        uint[] offsets = [.. BrokenTable(Starts(streams))];
        b.Item((uint)(4 * offsets.Length));
        foreach (uint o in offsets)
        {
            b.UInt32(o);
        }

        foreach (byte[] s in streams)
        {
            b.Item((uint)s.Length).Raw(s);
        }

        b.SequenceEnd();
        byte[] bytes = b.ToArray();

        Assert.Throws<DicomFormatException>(() => DicomFile.Read(bytes, new DicomReaderOptions { Validation = ValidationMode.Strict }));
        DicomFile file = DicomFile.Read(bytes, new DicomReaderOptions { Validation = ValidationMode.Tolerant });
        Assert.Contains(file.Warnings, w => w.Code == DicomErrorCode.InvalidLength);
        DicomImage image = DicomImage.Create(file, PixelValidationMode.Tolerant);
        for (int f = 0; f < Frames; f++)
        {
            Assert.Equal(PixelDecoder.DecodeFrame(Modules.Mono(Height, Width, 8, 8), PixelDecoder.JpegBaseline, Stream(f)), image.DecodeFrame(f));
        }

        Assert.Contains(image.Warnings, w => w.Code == DicomErrorCode.InvalidPixelModule);
    }

    /// <summary>Five entries (one too many), each one to four bytes past the fragment start it should name.</summary>
    private static uint[] BrokenTable(uint[] starts) => [.. starts.Select((s, i) => s + (uint)(i % 4) + 1), starts[^1] + 64];

    /// <summary>Four frames of different content, each in one fragment or split in two; the table is built by <paramref name="table"/> from the frame start offsets.</summary>
    private static (DicomDataset Dataset, byte[][] Decoded) FourFrames(Func<uint[], uint[]> table, bool split)
    {
        var fragments = new List<byte[]>();
        var frameStarts = new List<uint>();
        uint at = 0;
        var decoded = new byte[Frames][];
        for (int f = 0; f < Frames; f++)
        {
            byte[] stream = Stream(f);
            decoded[f] = PixelDecoder.DecodeFrame(Modules.Mono(Height, Width, 8, 8), PixelDecoder.JpegBaseline, stream);
            frameStarts.Add(at);
            byte[][] parts = split ? [stream[..(stream.Length / 2 & ~1)], stream[(stream.Length / 2 & ~1)..]] : [stream];
            foreach (byte[] part in parts)
            {
                fragments.Add(part);
                at += (uint)(8 + part.Length);
            }
        }

        DicomDataset ds = EncapsulatedDatasets.Create(Modules.Mono(Height, Width, 8, 8, frames: Frames), new DicomFragments(table([.. frameStarts]), fragments.Select(f => (ReadOnlyMemory<byte>)f)));
        return (ds, decoded);
    }

    private static uint[] Starts(byte[][] streams)
    {
        var starts = new uint[streams.Length];
        uint at = 0;
        for (int i = 0; i < streams.Length; i++)
        {
            starts[i] = at;
            at += (uint)(8 + streams[i].Length);
        }

        return starts;
    }

    private static byte[] Stream(int frame) =>
        JpegBaselineTests.Encode([.. Enumerable.Range(0, Width * Height).Select(i => (byte)((i * (frame + 3)) + (40 * frame)))], Width, Height, 1);
}
