using System.Globalization;
using MedTransfer.Dicom.Deidentification;
using Xunit;

namespace MedTransfer.Dicom.Tests.Deidentification;

/// <summary>Dates: removed by default; with the Modified Dates option shifted by one keyed offset per patient, intervals preserved.</summary>
public sealed class DeidentifierDateTests
{
    private static readonly DeidentificationOptions _shift = TestKeys.Options() with { DateHandling = DateHandling.ShiftConsistently };

    [Fact]
    public void Apply_ShiftTwoStudiesOfOnePatient_SameOffsetAndIntervalPreserved()
    {
        var deidentifier = new Deidentifier(_shift);
        DicomDataset first = TestInstances.Image(studyUid: "1.2.3.1", studyDate: "20200115");
        DicomDataset second = TestInstances.Image(studyUid: "1.2.3.2", studyDate: "20200301");
        deidentifier.Apply(first);
        deidentifier.Apply(second);

        int offset1 = Days(first.GetString(TestInstances.StudyDate)!) - Days("20200115");
        int offset2 = Days(second.GetString(TestInstances.StudyDate)!) - Days("20200301");
        Assert.Equal(offset1, offset2);
        Assert.InRange(offset1, -365, -1);
        Assert.Equal(Days("20200301") - Days("20200115"), Days(second.GetString(TestInstances.StudyDate)!) - Days(first.GetString(TestInstances.StudyDate)!));
        Assert.Equal(first.GetString(TestInstances.StudyDate), first.GetString(TestInstances.ContentDate));
    }

    [Fact]
    public void Apply_ShiftSameKeyNewSession_SameOffset()
    {
        DicomDataset a = TestInstances.Image();
        DicomDataset b = TestInstances.Image();
        new Deidentifier(_shift).Apply(a);
        new Deidentifier(_shift).Apply(b);
        Assert.Equal(a.GetString(TestInstances.StudyDate), b.GetString(TestInstances.StudyDate));
    }

    [Fact]
    public void Apply_Shift_DateTimeKeepsTimeAndOffset_TimesKept_UnlistedDatesShiftedToo()
    {
        DicomDataset ds = TestInstances.Image(studyDate: "20200115");
        ds.Set(TestInstances.AcquisitionDateTime, DicomVR.DT, "20200115101530.123456+0100");
        ds.Set(TestInstances.InstanceCreationDate, DicomVR.DA, "20200115");
        ds.Set(TestInstances.InstanceCreationTime, DicomVR.TM, "101531");
        new Deidentifier(_shift).Apply(ds);

        string studyDate = ds.GetString(TestInstances.StudyDate)!;
        Assert.NotEqual("20200115", studyDate);
        Assert.Equal(studyDate + "101530.123456+0100", ds.GetString(TestInstances.AcquisitionDateTime));
        Assert.Equal(studyDate, ds.GetString(TestInstances.InstanceCreationDate));
        Assert.Equal("101530.25", ds.GetString(TestInstances.StudyTime));
        Assert.Equal("101531", ds.GetString(TestInstances.InstanceCreationTime));
        Assert.Equal(string.Empty, ds.GetString(TestInstances.PatientBirthDate)); // Z in the table: never shifted
    }

    [Theory]
    [InlineData("2020")]
    [InlineData("2020.01.15")]
    [InlineData("20201345")]
    [InlineData("NOTADATE")]
    public void Apply_Shift_UnshiftableDate_IsEmptiedWithAWarning(string value)
    {
        DicomDataset ds = TestInstances.Image();
        ds.Set(TestInstances.StudyDate, DicomVR.DA, value);
        DeidentificationResult result = new Deidentifier(_shift).Apply(ds);
        Assert.Equal(string.Empty, ds.GetString(TestInstances.StudyDate));
        Assert.Contains(result.Warnings, w => w.Contains("date", StringComparison.Ordinal));
        Assert.All(result.Warnings, w => Assert.DoesNotContain(value, w, StringComparison.Ordinal));
    }

    [Fact]
    public void Apply_Shift_InvalidTime_IsEmptied()
    {
        DicomDataset ds = TestInstances.Image();
        ds.Set(TestInstances.StudyTime, DicomVR.TM, "SECRET");
        new Deidentifier(_shift).Apply(ds);
        Assert.Equal(string.Empty, ds.GetString(TestInstances.StudyTime));
    }

    [Fact]
    public void Apply_Remove_DatesAndTimesEmptiedOrDummy()
    {
        DicomDataset ds = TestInstances.Image();
        ds.Set(TestInstances.AcquisitionDateTime, DicomVR.DT, "20200115101530");
        ds.Set(TestInstances.InstanceCreationDate, DicomVR.DA, "20200115");
        ds.Set(TestInstances.InstanceCreationTime, DicomVR.TM, "101531");
        new Deidentifier(TestKeys.Options()).Apply(ds);

        Assert.Equal(string.Empty, ds.GetString(TestInstances.StudyDate));           // Z
        Assert.Equal(string.Empty, ds.GetString(TestInstances.StudyTime));           // Z
        Assert.Equal("19000101", ds.GetString(TestInstances.ContentDate));           // Z/D → D
        Assert.Equal("19000101000000", ds.GetString(TestInstances.AcquisitionDateTime)); // X/Z/D → D
        Assert.Equal(string.Empty, ds.GetString(TestInstances.InstanceCreationDate)); // not listed: emptied
        Assert.Equal(string.Empty, ds.GetString(TestInstances.InstanceCreationTime));
    }

    [Theory]
    [InlineData("20200301", -1, "20200229")]
    [InlineData("20200101", -365, "20190101")]
    [InlineData("00010101", -1, null)]
    public void TryShiftDate_CrossesMonthsLeapDaysAndRejectsUnderflow(string value, int days, string? expected)
    {
        bool ok = DicomDates.TryShiftDate(value, days, out string shifted);
        Assert.Equal(expected is not null, ok);
        if (expected is not null)
        {
            Assert.Equal(expected, shifted);
        }
    }

    [Theory]
    [InlineData("10", true)]
    [InlineData("1015", true)]
    [InlineData("101530", true)]
    [InlineData("101530.123456", true)]
    [InlineData("235960", true)]
    [InlineData("10:15:30", false)]
    [InlineData("2500", false)]
    [InlineData("101530.", false)]
    [InlineData("1015.5", false)]
    public void IsValidTime_AcceptsOnlyTmFormat(string value, bool expected)
    {
        Assert.Equal(expected, DicomDates.IsValidTime(value));
    }

    private static int Days(string da) => DateOnly.ParseExact(da, "yyyyMMdd", CultureInfo.InvariantCulture).DayNumber;
}
