using FsCheck;
using FsCheck.Xunit;
using MedTransfer.Dicom.Tests.IO;
using Xunit;

namespace MedTransfer.Dicom.Tests.Data;

public class DicomDatasetTests
{
    private static readonly DicomTag Rows = SampleFiles.Rows;

    [Fact]
    public void Set_OutOfOrder_EnumeratesAscendingAndReplacesDuplicates()
    {
        var ds = new DicomDataset();
        ds.Set(SampleFiles.PatientId, DicomVR.LO, "B");
        ds.Set(SampleFiles.SopClassUid, DicomVR.UI, "1.2");
        ds.Set(SampleFiles.PatientName, DicomVR.PN, "A");
        ds.Set(SampleFiles.PatientId, DicomVR.LO, "C");

        Assert.Equal([SampleFiles.SopClassUid, SampleFiles.PatientName, SampleFiles.PatientId], ds.Select(e => e.Tag));
        Assert.Equal("C", ds.GetString(SampleFiles.PatientId));
        Assert.Equal(3, ds.Count);
    }

    [Fact]
    public void ContainsAndRemove_ReportPresence()
    {
        var ds = new DicomDataset();
        ds.Set(SampleFiles.PatientId, DicomVR.LO, string.Empty);
        Assert.True(ds.Contains(SampleFiles.PatientId));
        Assert.True(ds.TryGetElement(SampleFiles.PatientId, out DicomElement? e));
        Assert.Equal(0, e.Length);
        Assert.Equal(string.Empty, ds.GetString(SampleFiles.PatientId));
        Assert.True(ds.Remove(SampleFiles.PatientId));
        Assert.False(ds.Remove(SampleFiles.PatientId));
        Assert.Null(ds.GetString(SampleFiles.PatientId));
        Assert.Empty(ds.GetStrings(SampleFiles.PatientId));
        Assert.Null(ds.GetInt32(Rows));
        Assert.Null(ds.GetDouble(Rows));
        Assert.Empty(ds.GetDoubles(Rows));
        Assert.True(ds.GetBytes(Rows).IsEmpty);
        Assert.Empty(ds.GetSequence(SampleFiles.ReferencedImageSequence));
        Assert.Null(ds.GetFragments(DicomTag.PixelData));
    }

    [Fact]
    public void Set_OddString_PadsWithSpaceAndUidWithNul()
    {
        var ds = new DicomDataset();
        ds.Set(SampleFiles.PatientId, DicomVR.LO, "ABC");
        ds.Set(SampleFiles.SopInstanceUid, DicomVR.UI, "1.2.3");
        Assert.Equal("ABC "u8.ToArray(), ds.GetBytes(SampleFiles.PatientId).ToArray());
        Assert.Equal("1.2.3\0"u8.ToArray(), ds.GetBytes(SampleFiles.SopInstanceUid).ToArray());
        Assert.Equal("ABC", ds.GetString(SampleFiles.PatientId));
        Assert.Equal("1.2.3", ds.GetString(SampleFiles.SopInstanceUid));
    }

    [Fact]
    public void GetStrings_MultiValued_SplitsOnBackslashAndTrims()
    {
        var ds = new DicomDataset();
        ds.Set(SampleFiles.ImageType, DicomVR.CS, "ORIGINAL", "PRIMARY", "", "M");
        Assert.Equal(["ORIGINAL", "PRIMARY", "", "M"], ds.GetStrings(SampleFiles.ImageType));
        ds.Set(new DicomTag(0x0020, 0x4000), DicomVR.LT, @"a\b ");
        Assert.Equal([@"a\b"], ds.GetStrings(new DicomTag(0x0020, 0x4000)));
    }

    [Theory]
    [InlineData(DicomVR.US, 65535)]
    [InlineData(DicomVR.SS, -32768)]
    [InlineData(DicomVR.UL, 2147483647)]
    [InlineData(DicomVR.SL, -2147483648)]
    [InlineData(DicomVR.IS, -12345)]
    [InlineData(DicomVR.DS, 512)]
    [InlineData(DicomVR.FL, 3)]
    [InlineData(DicomVR.FD, -3)]
    public void GetInt32_IntegerInEveryNumericVR_ReadsBack(DicomVR vr, int value)
    {
        var ds = new DicomDataset();
        ds.SetNumbers(Rows, vr, 1, value);
        Assert.Equal(1, ds.GetInt32(Rows));
        Assert.Equal(value, ds.GetInt32(Rows, 1));
        Assert.Null(ds.GetInt32(Rows, 2));
        Assert.Equal(value, ds.GetDouble(Rows, 1));
        Assert.Equal([1.0, value], ds.GetDoubles(Rows));
    }

    [Theory]
    [InlineData(DicomVR.SV)]
    [InlineData(DicomVR.UV)]
    [InlineData(DicomVR.OF)]
    [InlineData(DicomVR.OD)]
    public void SetNumbers_LongAndOtherVRs_ReadBack(DicomVR vr)
    {
        var ds = new DicomDataset();
        ds.SetNumbers(Rows, vr, 5, 6);
        Assert.Equal([5.0, 6.0], ds.GetDoubles(Rows));
        Assert.Equal(6, ds.GetInt32(Rows, 1));
    }

    [Fact]
    public void GetInt32_ULAboveInt32_ThrowsInvalidValue()
    {
        var ds = new DicomDataset();
        ds.SetNumbers(Rows, DicomVR.UL, 4000000000);
        DicomFormatException ex = Assert.Throws<DicomFormatException>(() => ds.GetInt32(Rows));
        Assert.Equal(DicomErrorCode.InvalidValue, ex.Reason);
        Assert.Equal(4000000000, ds.GetDouble(Rows));
    }

    [Fact]
    public void GetInt32_TextThatIsNotANumber_ThrowsInvalidValueWithoutTheValue()
    {
        var ds = new DicomDataset();
        ds.Set(Rows, DicomVR.IS, "SECRET");
        DicomFormatException ex = Assert.Throws<DicomFormatException>(() => ds.GetInt32(Rows));
        Assert.Equal(DicomErrorCode.InvalidValue, ex.Reason);
        Assert.DoesNotContain("SECRET", ex.Message, StringComparison.Ordinal);
        ds.Set(Rows, DicomVR.DS, "1.5");
        Assert.Equal(DicomErrorCode.InvalidValue, Assert.Throws<DicomFormatException>(() => ds.GetInt32(Rows)).Reason);
        Assert.Equal(1.5, ds.GetDouble(Rows));
        ds.SetBytes(Rows, DicomVR.OB, new byte[] { 1, 2 });
        Assert.Equal(DicomErrorCode.InvalidValue, Assert.Throws<DicomFormatException>(() => ds.GetDouble(Rows)).Reason);
    }

    [Fact]
    public void SetNumbers_OutOfRangeOrFractionalForIntegerVR_ThrowsArgumentException()
    {
        var ds = new DicomDataset();
        Assert.ThrowsAny<ArgumentException>(() => ds.SetNumbers(Rows, DicomVR.US, 65536));
        Assert.ThrowsAny<ArgumentException>(() => ds.SetNumbers(Rows, DicomVR.SS, 1.5));
        Assert.ThrowsAny<ArgumentException>(() => ds.SetNumbers(Rows, DicomVR.IS, double.NaN));
        Assert.ThrowsAny<ArgumentException>(() => ds.SetNumbers(Rows, DicomVR.LO, 1));
        Assert.ThrowsAny<ArgumentException>(() => ds.SetBytes(Rows, DicomVR.SQ, new byte[2]));
    }

    [Fact]
    public void Set_TextForBinaryVR_ParsesNumbersAndTags()
    {
        var ds = new DicomDataset();
        ds.Set(Rows, DicomVR.US, @"512\256");
        Assert.Equal([0, 2, 0, 1], ds.GetBytes(Rows).ToArray());
        var at = new DicomTag(0x0020, 0x9165);
        ds.Set(at, DicomVR.AT, "(0028,0010)");
        Assert.Equal([0x28, 0, 0x10, 0], ds.GetBytes(at).ToArray());
        Assert.Equal("(0028,0010)", ds.GetString(at));
        Assert.Equal(@"512\256", ds.GetString(Rows));
    }

    [Fact]
    public void GetString_SequenceItem_InheritsOrOverridesCharacterSet()
    {
        var parent = new DicomDataset();
        parent.Set(SampleFiles.SpecificCharacterSet, DicomVR.CS, "ISO_IR 192");
        var inherits = new DicomDataset();
        var own = new DicomDataset();
        own.Set(SampleFiles.SpecificCharacterSet, DicomVR.CS, "ISO_IR 100");
        parent.SetSequence(SampleFiles.ReferencedImageSequence, [inherits, own]);
        inherits.SetBytes(SampleFiles.PatientName, DicomVR.PN, "Jos\u00e9 "u8.ToArray());
        own.SetBytes(SampleFiles.PatientName, DicomVR.PN, new byte[] { (byte)'J', (byte)'o', (byte)'s', 0xE9 });

        Assert.Equal("José", inherits.GetString(SampleFiles.PatientName));
        Assert.Equal("José", own.GetString(SampleFiles.PatientName));
        Assert.Equal(["ISO_IR 192"], inherits.GetSpecificCharacterSet());
    }

    [Fact]
    public void GetString_InvalidUtf8_DoesNotThrow()
    {
        var ds = new DicomDataset();
        ds.Set(SampleFiles.SpecificCharacterSet, DicomVR.CS, "ISO_IR 192");
        ds.SetBytes(SampleFiles.PatientName, DicomVR.PN, new byte[] { 0xFF, 0xFE, 0xC3 });
        Assert.NotNull(ds.GetString(SampleFiles.PatientName));
    }

    [Fact]
    public void SetFragments_GetFragments_ReturnsThem()
    {
        var ds = new DicomDataset();
        DicomFragments f = SampleFiles.Fragments();
        ds.SetFragments(DicomTag.PixelData, DicomVR.OB, f);
        Assert.Same(f, ds.GetFragments(DicomTag.PixelData));
        Assert.True(ds.GetBytes(DicomTag.PixelData).IsEmpty);
        Assert.Equal(18, f.TotalLength);
        Assert.Equal(3, f.Count);
    }

    [Theory]
    [InlineData(1.0 / 3)]
    [InlineData(-123456789.123456789)]
    [InlineData(1e-300)]
    [InlineData(-1.7976931348623157E+308)]
    public void SetNumbers_DS_FitsSixteenBytes(double value)
    {
        var ds = new DicomDataset();
        ds.SetNumbers(SampleFiles.SliceThickness, DicomVR.DS, value);
        Assert.True(ds.GetBytes(SampleFiles.SliceThickness).Length <= 16);
        Assert.Equal(value, ds.GetDouble(SampleFiles.SliceThickness)!.Value, Math.Abs(value) * 1e-8); // 16 characters hold about 9 significant digits at the extremes
    }

    [Property(MaxTest = 200)]
    public bool SetNumbers_FD_RoundTripsExactly(NormalFloat a, NormalFloat b)
    {
        var ds = new DicomDataset();
        ds.SetNumbers(SampleFiles.DoubleValue, DicomVR.FD, a.Get, b.Get);
        return ds.GetDoubles(SampleFiles.DoubleValue).SequenceEqual([a.Get, b.Get]);
    }

    [Property(MaxTest = 200)]
    public bool Set_Strings_RoundTripThroughUtf8(NonNull<string>[] values)
    {
        string[] clean = values.Select(v => new string(v.Get.Where(c => c != '\\' && !char.IsSurrogate(c) && c > ' ').ToArray())).ToArray();
        if (clean.Length == 0)
        {
            return true;
        }

        var ds = new DicomDataset();
        ds.Set(SampleFiles.SpecificCharacterSet, DicomVR.CS, "ISO_IR 192");
        ds.Set(SampleFiles.PatientId, DicomVR.LO, clean);
        string[] back = ds.GetStrings(SampleFiles.PatientId);
        return clean.Length == 1 && clean[0].Length == 0 ? back.Length == 0 : back.SequenceEqual(clean);
    }
}
