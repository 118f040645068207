using MedTransfer.Dicom.Pixels;
using MedTransfer.Testing;
using Xunit;

namespace MedTransfer.Dicom.Tests.Images;

/// <summary>The join of data set, frames, codecs and LUTs that callers use (<see cref="DicomImage"/>).</summary>
public sealed class DicomImageTests
{
    private static readonly DicomTag s_rows = new(0x0028, 0x0010);

    [SkippableFact]
    public void DecodeFrame_AllNineTransferSyntaxesOfDcmQaTs_GiveIdenticalStoredValues()
    {
        string? root = TestPaths.SharedData("dcm_qa_ts");
        Skip.If(root is null, TestPaths.MissingReason("dcm_qa_ts"));

        ushort[] reference = (ushort[])Image(Path.Combine(root!, "In", "1.dcm")).StoredValues(0);
        for (int i = 2; i <= 9; i++)
        {
            DicomImage image = Image(Path.Combine(root!, "In", $"{i}.dcm"));

            Assert.Equal(reference, (ushort[])image.StoredValues(0));
        }

        Assert.Equal(384 * 384, reference.Length);
        Assert.True(reference.Max() > 0);
    }

    [Fact]
    public void DecodeFrame_ExplicitBigEndianRoundTrip_GivesTheOriginalValues()
    {
        const int bitsAllocated = 16;
        int count = 6 * 5;
        byte[] native = new byte[count * 2];
        for (int i = 0; i < count; i++)
        {
            BitConverter.TryWriteBytes(native.AsSpan(i * 2), (ushort)(((i * 2654435761u) >> 20) & 0x0FFF));
        }

        DicomDataset ds = Monochrome(6, 5, bitsAllocated, bitsAllocated, "MONOCHROME2");
        ds.SetBytes(DicomTag.PixelData, DicomVR.OW, native);
        DicomFile reread = RoundTrip(ds, TransferSyntax.ExplicitVRBigEndian);

        byte[] decoded = DicomImage.Create(reread).DecodeFrame(0);

        Assert.Equal(native, decoded);
    }

    [Fact]
    public void DecodeFrame_RleMultiFrameWithBasicOffsetTable_FindsEachFrame()
    {
        (DicomDataset ds, byte[][] frames) = RleFrames(3, withOffsetTable: true, splitFirstFrame: true);
        DicomFile reread = RoundTrip(ds, TransferSyntax.RleLossless);
        DicomImage image = DicomImage.Create(reread);

        for (int f = 0; f < 3; f++)
        {
            Assert.Equal(frames[f], image.DecodeFrame(f));
        }
    }

    [Fact]
    public void DecodeFrame_RleMultiFrameOneFragmentPerFrameWithoutOffsetTable_FindsEachFrame()
    {
        (DicomDataset ds, byte[][] frames) = RleFrames(3, withOffsetTable: false, splitFirstFrame: false);
        DicomImage image = DicomImage.Create(ds, TransferSyntax.RleLossless.Uid);

        Assert.Equal(frames[2], image.DecodeFrame(2));
    }

    [Fact]
    public void Create_OffsetTableWithWrongEntryCount_ThrowsInvalidPixelModule()
    {
        (DicomDataset ds, _) = RleFrames(3, withOffsetTable: true, splitFirstFrame: false);
        ds.SetNumbers(new DicomTag(0x0028, 0x0008), DicomVR.IS, 4);

        var ex = Assert.Throws<DicomFormatException>(() => DicomImage.Create(ds, TransferSyntax.RleLossless.Uid).DecodeFrame(3));

        Assert.Equal(DicomErrorCode.InvalidPixelModule, ex.Reason);
    }

    [Fact]
    public void Create_NoPixelData_ThrowsInvalidPixelModule()
    {
        DicomDataset ds = Monochrome(4, 4, 16, 12, "MONOCHROME2");

        var ex = Assert.Throws<DicomFormatException>(() => DicomImage.Create(ds, TransferSyntax.ExplicitVRLittleEndian.Uid));

        Assert.Equal(DicomErrorCode.InvalidPixelModule, ex.Reason);
    }

    [Fact]
    public void Create_MissingRows_NamesTheAttribute()
    {
        DicomDataset ds = Monochrome(4, 4, 16, 12, "MONOCHROME2");
        ds.SetBytes(DicomTag.PixelData, DicomVR.OW, new byte[32]);
        ds.Remove(s_rows);

        var ex = Assert.Throws<DicomFormatException>(() => DicomImage.Create(ds, TransferSyntax.ExplicitVRLittleEndian.Uid));

        Assert.Contains("Rows", ex.Message, StringComparison.Ordinal);
        Assert.Equal(s_rows, ex.Tag);
    }

    [Fact]
    public void PresentationFloats_Monochrome1CopyOfAnImage_EqualsTheMonochrome2Original()
    {
        // The MONOCHROME1 copy stores 4095 − v; after inversion both read "bright = dense".
        ushort[] values = [0, 100, 2048, 4000, 4095, 17];
        DicomDataset mono2 = Monochrome(2, 3, 16, 12, "MONOCHROME2");
        DicomDataset mono1 = Monochrome(2, 3, 16, 12, "MONOCHROME1");
        mono2.SetBytes(DicomTag.PixelData, DicomVR.OW, ToBytes(values));
        mono1.SetBytes(DicomTag.PixelData, DicomVR.OW, ToBytes([.. values.Select(v => (ushort)(4095 - v))]));

        float[] a = DicomImage.Create(mono2, TransferSyntax.ExplicitVRLittleEndian.Uid).PresentationFloats(0);
        float[] b = DicomImage.Create(mono1, TransferSyntax.ExplicitVRLittleEndian.Uid).PresentationFloats(0);

        Assert.Equal(a, b);
    }

    [Fact]
    public void PresentationFloats_RescaleThenWindow_FollowTheStandardsOrder()
    {
        // Stored 1000 with slope 2, intercept −1024 → 976 HU-like; window c=976 w=201 puts it at the centre.
        DicomDataset ds = Monochrome(1, 1, 16, 16, "MONOCHROME2");
        ds.SetNumbers(new DicomTag(0x0028, 0x1053), DicomVR.DS, 2);
        ds.SetNumbers(new DicomTag(0x0028, 0x1052), DicomVR.DS, -1024);
        ds.SetNumbers(new DicomTag(0x0028, 0x1050), DicomVR.DS, 976.5);
        ds.SetNumbers(new DicomTag(0x0028, 0x1051), DicomVR.DS, 201);
        ds.SetBytes(DicomTag.PixelData, DicomVR.OW, ToBytes([1000]));

        float[] windowed = DicomImage.Create(ds, TransferSyntax.ExplicitVRLittleEndian.Uid).PresentationFloats(0);
        float[] modality = DicomImage.Create(ds, TransferSyntax.ExplicitVRLittleEndian.Uid).PresentationFloats(0, applyVoi: false);

        // LINEAR (C.11.2.1.2.1): ((x − (c − 0.5)) / (w − 1) + 0.5) = ((976 − 976) / 200 + 0.5) = 0.5.
        Assert.Equal(0.5f, windowed[0], 5);
        Assert.Equal(976f, modality[0]);
    }

    [Fact]
    public void StoredValueExport_ShapeAndDescription_FollowFramesAndSamples()
    {
        var single = new PixelModule(4, 5, 1, 16, 12, 11, 0, 0, "MONOCHROME2", 1);
        var colourFrames = new PixelModule(4, 5, 3, 8, 8, 7, 0, 0, "RGB", 2);

        Assert.Equal([4, 5], StoredValueExport.Shape(single));
        Assert.Equal([2, 4, 5, 3], StoredValueExport.Shape(colourFrames));
        Assert.Equal("dtype <u2, shape (4, 5)", StoredValueExport.Describe(single, [4, 5]));
    }

    [Fact]
    public void StoredValueExport_WriteNpy_WritesHeaderAndLittleEndianValues()
    {
        DicomDataset ds = Monochrome(2, 2, 16, 16, "MONOCHROME2");
        ds.SetNumbers(new DicomTag(0x0028, 0x0103), DicomVR.US, 1);
        ds.SetBytes(DicomTag.PixelData, DicomVR.OW, ToBytes([1, 0xFFFF, 300, 0x8000]));
        string dir = TestPaths.NewTempDirectory();
        try
        {
            string path = Path.Combine(dir, "x.npy");
            DicomImage image = DicomImage.Create(ds, TransferSyntax.ExplicitVRLittleEndian.Uid);

            StoredValueExport.WriteNpy(image, path, StoredValueExport.Shape(image.Module));
            byte[] bytes = File.ReadAllBytes(path);
            string header = System.Text.Encoding.ASCII.GetString(bytes, 10, bytes.Length - 10 - 8);

            Assert.Equal(0x93, bytes[0]);
            Assert.Contains("'descr': '<i2'", header, StringComparison.Ordinal);
            Assert.Contains("'shape': (2, 2)", header, StringComparison.Ordinal);
            Assert.Equal(new short[] { 1, -1, 300, short.MinValue }, Enumerable.Range(0, 4).Select(i => BitConverter.ToInt16(bytes, bytes.Length - 8 + (2 * i))).ToArray());
            Assert.Equal(0, (bytes.Length - 8) % 64); // NumPy pads the header so the data starts on a 64-byte boundary
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static DicomImage Image(string path) => DicomImage.Create(DicomFile.Open(path, new DicomReaderOptions { Validation = ValidationMode.Strict }));

    private static DicomFile RoundTrip(DicomDataset ds, TransferSyntax syntax)
    {
        using var stream = new MemoryStream();
        new DicomFile(ds, syntax).Save(stream, new DicomWriteOptions { TransferSyntax = syntax });
        return DicomFile.Read(stream.ToArray(), new DicomReaderOptions { Validation = ValidationMode.Strict });
    }

    private static (DicomDataset Dataset, byte[][] Frames) RleFrames(int count, bool withOffsetTable, bool splitFirstFrame)
    {
        var module = new PixelModule(8, 7, 1, 16, 16, 15, 0, 0, "MONOCHROME2", count);
        var frames = new byte[count][];
        var fragments = new List<ReadOnlyMemory<byte>>();
        var offsets = new List<uint>();
        uint at = 0;
        for (int f = 0; f < count; f++)
        {
            frames[f] = ToBytes([.. Enumerable.Range(0, 56).Select(i => (ushort)((i * 37) + (f * 1000)))]);
            byte[] encoded = RleEncoder.EncodeFrame(module with { NumberOfFrames = 1 }, frames[f]);
            offsets.Add(at);
            if (splitFirstFrame && f == 0)
            {
                // One frame in two fragments (allowed by PS3.5 A.4); each fragment has an even length.
                int half = encoded.Length / 2 & ~1;
                fragments.Add(encoded.AsMemory(0, half));
                fragments.Add(encoded.AsMemory(half));
                at += (uint)(8 + half + 8 + (encoded.Length - half));
            }
            else
            {
                fragments.Add(encoded);
                at += (uint)(8 + encoded.Length);
            }
        }

        DicomDataset ds = Monochrome(8, 7, 16, 16, "MONOCHROME2");
        ds.SetNumbers(new DicomTag(0x0028, 0x0008), DicomVR.IS, count);
        ds.SetFragments(DicomTag.PixelData, DicomVR.OB, new DicomFragments(withOffsetTable ? offsets : [], fragments));
        return (ds, frames);
    }

    private static DicomDataset Monochrome(int rows, int columns, int bitsAllocated, int bitsStored, string photometric)
    {
        var ds = new DicomDataset();
        ds.SetNumbers(new DicomTag(0x0028, 0x0002), DicomVR.US, 1);
        ds.Set(new DicomTag(0x0028, 0x0004), DicomVR.CS, photometric);
        ds.SetNumbers(s_rows, DicomVR.US, rows);
        ds.SetNumbers(new DicomTag(0x0028, 0x0011), DicomVR.US, columns);
        ds.SetNumbers(new DicomTag(0x0028, 0x0100), DicomVR.US, bitsAllocated);
        ds.SetNumbers(new DicomTag(0x0028, 0x0101), DicomVR.US, bitsStored);
        ds.SetNumbers(new DicomTag(0x0028, 0x0102), DicomVR.US, bitsStored - 1);
        ds.SetNumbers(new DicomTag(0x0028, 0x0103), DicomVR.US, 0);
        ds.Set(new DicomTag(0x0008, 0x0016), DicomVR.UI, "1.2.840.10008.5.1.4.1.1.7");
        ds.Set(new DicomTag(0x0008, 0x0018), DicomVR.UI, "2.25.1234567");
        return ds;
    }

    private static byte[] ToBytes(ushort[] values)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(i * 2), values[i]);
        }

        return bytes;
    }
}
