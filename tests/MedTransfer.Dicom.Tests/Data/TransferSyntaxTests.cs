using Xunit;

namespace MedTransfer.Dicom.Tests.Data;

public class TransferSyntaxTests
{
    [Theory]
    [InlineData("1.2.840.10008.1.2", false, false, false, false)]
    [InlineData("1.2.840.10008.1.2.1", true, false, false, false)]
    [InlineData("1.2.840.10008.1.2.1.99", true, false, true, false)]
    [InlineData("1.2.840.10008.1.2.2", true, true, false, false)]
    [InlineData("1.2.840.10008.1.2.5", true, false, false, true)]
    [InlineData("1.2.840.10008.1.2.4.50", true, false, false, true)]
    [InlineData("1.2.840.10008.1.2.4.51", true, false, false, true)]
    [InlineData("1.2.840.10008.1.2.4.57", true, false, false, true)]
    [InlineData("1.2.840.10008.1.2.4.70", true, false, false, true)]
    [InlineData("1.2.840.10008.1.2.4.80", true, false, false, true)]
    [InlineData("1.2.840.10008.1.2.4.81", true, false, false, true)]
    [InlineData("1.2.840.10008.1.2.4.90", true, false, false, true)]
    [InlineData("1.2.840.10008.1.2.4.91", true, false, false, true)]
    [InlineData("1.2.840.10008.1.2.4.201", true, false, false, true)]
    [InlineData("1.2.840.10008.1.2.4.202", true, false, false, true)]
    [InlineData("1.2.840.10008.1.2.4.203", true, false, false, true)]
    public void Lookup_KnownUid_HasItsProperties(string uid, bool explicitVR, bool bigEndian, bool deflated, bool encapsulated)
    {
        TransferSyntax ts = TransferSyntax.Lookup(uid + "\0");
        Assert.True(ts.IsKnown);
        Assert.Equal(uid, ts.Uid);
        Assert.Equal((explicitVR, bigEndian, deflated, encapsulated), (ts.IsExplicitVR, ts.IsBigEndian, ts.IsDeflated, ts.IsEncapsulated));
        Assert.Same(ts, TransferSyntax.Lookup(uid));
    }

    [Fact]
    public void Lookup_UnknownUid_IsExplicitLittleEndianAndNotKnown()
    {
        TransferSyntax ts = TransferSyntax.Lookup("1.2.3.4 ");
        Assert.False(ts.IsKnown);
        Assert.Equal("1.2.3.4", ts.Uid);
        Assert.True(ts.IsExplicitVR);
        Assert.False(ts.IsBigEndian);
        Assert.False(TransferSyntax.TryGetKnown("1.2.3.4", out _));
        Assert.Equal(16, TransferSyntax.Known.Count);
    }
}
