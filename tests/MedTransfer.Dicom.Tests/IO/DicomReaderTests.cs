using MedTransfer.Dicom.Tests.Data;
using Xunit;

namespace MedTransfer.Dicom.Tests.IO;

public class DicomReaderTests
{
    private static readonly DicomReaderOptions Strict = new() { Validation = ValidationMode.Strict };
    private static readonly DicomReaderOptions Tolerant = new() { Validation = ValidationMode.Tolerant };

    [Fact]
    public void Read_ExplicitLittleEndian_ReadsValuesAndNestedSequences()
    {
        var b = new DicomBytesBuilder().Preamble().Meta("1.2.840.10008.1.2.1");
        b.Element(0x0008, 0x0016, "UI", DicomBytesBuilder.Uid("1.2.3"));
        b.SequenceStart(0x0008, 0x1115).Item()
            .SequenceStart(0x0008, 0x1140, 0)
            .Element(0x0008, 0x1155, "UI", DicomBytesBuilder.Uid("1.2.3.4"))
            .ItemEnd()
            .Item(0)
            .SequenceEnd();
        b.Element(0x0010, 0x0010, "PN", DicomBytesBuilder.Text("Doe^John"));
        b.Element(0x0028, 0x0010, "US", DicomBytesBuilder.UInt16s(512));
        b.Element(0x7FE0, 0x0010, "OW", new byte[8]);

        DicomFile file = DicomFile.Read(b.ToArray(), Strict);

        Assert.Same(TransferSyntax.ExplicitVRLittleEndian, file.TransferSyntax);
        Assert.Equal(512, file.Dataset.GetInt32(SampleFiles.Rows));
        Assert.Equal("Doe^John", file.Dataset.GetString(SampleFiles.PatientName));
        IReadOnlyList<DicomDataset> items = file.Dataset.GetSequence(SampleFiles.ReferencedSeriesSequence);
        Assert.Equal(2, items.Count);
        Assert.Equal("1.2.3.4", items[0].GetString(SampleFiles.ReferencedSopInstanceUid));
        Assert.True(items[0].Contains(SampleFiles.ReferencedImageSequence));
        Assert.Empty(items[0].GetSequence(SampleFiles.ReferencedImageSequence));
        Assert.Equal(0, items[1].Count);
        Assert.Equal(8, file.Dataset.GetBytes(DicomTag.PixelData).Length);
    }

    [Fact]
    public void Read_ImplicitLittleEndian_TakesVRsFromTheDictionary()
    {
        var b = new DicomBytesBuilder().Preamble().Meta("1.2.840.10008.1.2");
        b.Explicit = false;
        b.Element(0x0008, 0x0016, "UI", DicomBytesBuilder.Uid("1.2.3"));
        b.SequenceStart(0x0008, 0x1140, 26).Item(18).Element(0x0008, 0x1155, "UI", DicomBytesBuilder.Uid("1.2.3.4.5"));
        b.Element(0x0028, 0x0010, "US", DicomBytesBuilder.UInt16s(300));
        b.Element(0x0029, 0x0010, "LO", DicomBytesBuilder.Text("VENDOR"));
        b.Element(0x0029, 0x1010, "UN", [1, 2]);
        b.Element(0x7FE0, 0x0010, "OW", new byte[4]);

        DicomFile file = DicomFile.Read(b.ToArray(), Strict);

        Assert.Same(TransferSyntax.ImplicitVRLittleEndian, file.TransferSyntax);
        Assert.True(file.Dataset.TryGetElement(SampleFiles.Rows, out DicomElement? rows));
        Assert.Equal(DicomVR.US, rows.VR);
        Assert.Equal(300, file.Dataset.GetInt32(SampleFiles.Rows));
        Assert.Equal("1.2.3.4.5", file.Dataset.GetSequence(SampleFiles.ReferencedImageSequence)[0].GetString(SampleFiles.ReferencedSopInstanceUid));
        Assert.True(file.Dataset.TryGetElement(SampleFiles.PrivateCreator, out DicomElement? creator));
        Assert.Equal(DicomVR.LO, creator.VR);
        Assert.True(file.Dataset.TryGetElement(SampleFiles.PrivateValue, out DicomElement? priv));
        Assert.Equal(DicomVR.UN, priv.VR);
        Assert.True(file.Dataset.TryGetElement(DicomTag.PixelData, out DicomElement? px));
        Assert.Equal(DicomVR.OW, px.VR);
    }

    [Fact]
    public void Read_ExplicitBigEndian_NormalisesBinaryValuesToLittleEndian()
    {
        var b = new DicomBytesBuilder().Preamble().Meta("1.2.840.10008.1.2.2");
        b.BigEndian = true;
        b.SequenceStart(0x0008, 0x1140).Item().Element(0x0028, 0x0010, "US", DicomBytesBuilder.UInt16s(258)).ItemEnd().SequenceEnd();
        b.Element(0x0008, 0x1161, "UL", [1, 0, 0, 0, 2, 0, 0, 0]);
        b.Element(0x0018, 0x6060, "FL", BitConverter.GetBytes(1.5f));
        b.Element(0x0020, 0x9165, "AT", [0x28, 0x00, 0x10, 0x00]);
        b.Element(0x0028, 0x0010, "US", DicomBytesBuilder.UInt16s(512));
        b.Element(0x7FE0, 0x0010, "OW", DicomBytesBuilder.UInt16s(1, 0x0203));

        DicomFile file = DicomFile.Read(b.ToArray(), Strict);

        Assert.Same(TransferSyntax.ExplicitVRBigEndian, file.TransferSyntax);
        Assert.Equal(512, file.Dataset.GetInt32(SampleFiles.Rows));
        Assert.Equal([1.0, 2.0], file.Dataset.GetDoubles(SampleFiles.SimpleFrameList));
        Assert.Equal(1.5, file.Dataset.GetDouble(SampleFiles.FloatValue));
        Assert.Equal("(0028,0010)", file.Dataset.GetString(new DicomTag(0x0020, 0x9165)));
        Assert.Equal(258, file.Dataset.GetSequence(SampleFiles.ReferencedImageSequence)[0].GetInt32(SampleFiles.Rows));
        Assert.Equal(DicomBytesBuilder.UInt16s(1, 0x0203), file.Dataset.GetBytes(DicomTag.PixelData).ToArray());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Read_BareDataSetWithoutPreamble_DetectsExplicitOrImplicit(bool explicitVR)
    {
        var b = new DicomBytesBuilder(explicitVR);
        b.Element(0x0008, 0x0016, "UI", DicomBytesBuilder.Uid("1.2.3"));
        b.Element(0x0028, 0x0010, "US", DicomBytesBuilder.UInt16s(64));

        DicomFile file = DicomFile.Read(b.ToArray(), Strict);

        Assert.Equal(explicitVR, file.TransferSyntax.IsExplicitVR);
        Assert.Equal(64, file.Dataset.GetInt32(SampleFiles.Rows));
        Assert.Equal(0, file.FileMeta.Count);
        Assert.Contains(file.Warnings, w => w.Code == DicomErrorCode.InvalidFileMeta);
    }

    [Fact]
    public void Read_UNWithUndefinedLength_IsReadAsImplicitSequence()
    {
        var b = new DicomBytesBuilder().Preamble().Meta("1.2.840.10008.1.2.1");
        b.Header(0x0029, 0x1010, "UN", DicomBytesBuilder.Undefined);
        b.Explicit = false;
        b.Item().Element(0x0028, 0x0010, "US", DicomBytesBuilder.UInt16s(7)).ItemEnd().SequenceEnd();
        b.Explicit = true;
        b.Element(0x0029, 0x1011, "LO", DicomBytesBuilder.Text("x"));

        DicomFile file = DicomFile.Read(b.ToArray(), Strict);

        IReadOnlyList<DicomDataset> items = file.Dataset.GetSequence(SampleFiles.PrivateValue);
        Assert.Single(items);
        Assert.Equal(7, items[0].GetInt32(SampleFiles.Rows));
        Assert.True(file.Dataset.Contains(new DicomTag(0x0029, 0x1011)));
    }

    [Fact]
    public void Read_UNWithDefinedLengthForAKnownSequence_IsReadAsSequence()
    {
        var inner = new DicomBytesBuilder(explicitVR: false);
        inner.Item(10).Element(0x0028, 0x0010, "US", DicomBytesBuilder.UInt16s(9));
        byte[] value = inner.ToArray();
        var b = new DicomBytesBuilder().Preamble().Meta("1.2.840.10008.1.2.1");
        b.Element(0x0008, 0x1140, "UN", value);

        DicomFile file = DicomFile.Read(b.ToArray(), Strict);

        Assert.Equal(9, file.Dataset.GetSequence(SampleFiles.ReferencedImageSequence)[0].GetInt32(SampleFiles.Rows));
    }

    [Fact]
    public void Read_UNForAKnownSequenceThatIsNotItems_StaysUN()
    {
        var b = new DicomBytesBuilder().Preamble().Meta("1.2.840.10008.1.2.1");
        b.Element(0x0008, 0x1140, "UN", [0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0x00, 0x00, 0x00, 1, 2]);

        DicomFile file = DicomFile.Read(b.ToArray(), Strict);

        Assert.True(file.Dataset.TryGetElement(SampleFiles.ReferencedImageSequence, out DicomElement? e));
        Assert.Equal(DicomVR.UN, e.VR);
        Assert.Equal(10, e.Length);
        Assert.Empty(file.Warnings);
    }

    [Fact]
    public void Read_EncapsulatedPixelData_ReadsOffsetTableAndFragments()
    {
        var b = new DicomBytesBuilder().Preamble().Meta("1.2.840.10008.1.2.4.70");
        b.Element(0x0028, 0x0010, "US", DicomBytesBuilder.UInt16s(2));
        b.Header(0x7FE0, 0x0010, "OB", DicomBytesBuilder.Undefined);
        b.Item(8).UInt32(0).UInt32(12);
        b.Item(4).Raw([1, 2, 3, 4]);
        b.Item(2).Raw([5, 6]);
        b.Item(6).Raw([7, 8, 9, 10, 11, 12]);
        b.SequenceEnd();

        DicomFile file = DicomFile.Read(b.ToArray(), Strict);

        DicomFragments f = file.Dataset.GetFragments(DicomTag.PixelData)!;
        Assert.Equal([0u, 12u], f.BasicOffsetTable);
        Assert.Equal(3, f.Count);
        Assert.Equal([5, 6], f.Fragments[1].ToArray());
        Assert.Equal(12, f.TotalLength);
    }

    [Fact]
    public void Read_UnknownTransferSyntax_ReadsExplicitAndWarns()
    {
        var b = new DicomBytesBuilder().Preamble().Meta("1.2.3.4.5.6");
        b.Element(0x0028, 0x0010, "US", DicomBytesBuilder.UInt16s(2));
        DicomFile file = DicomFile.Read(b.ToArray(), Strict);
        Assert.False(file.TransferSyntax.IsKnown);
        Assert.Equal(2, file.Dataset.GetInt32(SampleFiles.Rows));
        Assert.Contains(file.Warnings, w => w.Code == DicomErrorCode.UnknownTransferSyntax);
    }

    [Fact]
    public void Read_TagsOutOfOrder_StrictThrowsTolerantSortsAndWarns()
    {
        var b = new DicomBytesBuilder().Preamble().Meta("1.2.840.10008.1.2.1");
        b.Element(0x0028, 0x0010, "US", DicomBytesBuilder.UInt16s(2));
        b.Element(0x0010, 0x0020, "LO", DicomBytesBuilder.Text("X"));
        byte[] bytes = b.ToArray();

        Assert.Equal(DicomErrorCode.TagOrder, Assert.Throws<DicomFormatException>(() => DicomFile.Read(bytes, Strict)).Reason);
        DicomFile file = DicomFile.Read(bytes, Tolerant);
        Assert.Equal([SampleFiles.PatientId, SampleFiles.Rows], file.Dataset.Select(e => e.Tag));
        Assert.Contains(file.Warnings, w => w.Code == DicomErrorCode.TagOrder);
    }

    [Fact]
    public void Read_DeflatedFromOtherWriterSettings_Inflates()
    {
        DicomDataset ds = SampleFiles.Rich();
        byte[] bytes = SampleFiles.Write(ds, TransferSyntax.DeflatedExplicitVRLittleEndian);
        Assert.True(bytes.Length < SampleFiles.Write(ds, TransferSyntax.ExplicitVRLittleEndian).Length);
        DatasetAssert.Equal(ds, DicomFile.Read(bytes, Strict).Dataset);
    }
}
