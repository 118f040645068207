using System.Text.Json;
using MedTransfer.Dicom.Json;
using Xunit;

namespace MedTransfer.Dicom.Tests.Json;

public sealed class DicomJsonTests
{
    [Fact]
    public void Serialize_TypicalElements_FollowPs318AnnexF()
    {
        var ds = new DicomDataset();
        ds.Set(new DicomTag(0x0010, 0x0010), DicomVR.PN, "SYNTH^0001=ideo");
        ds.SetNumbers(new DicomTag(0x0028, 0x0010), DicomVR.US, 512);
        ds.SetNumbers(new DicomTag(0x0028, 0x0030), DicomVR.DS, 0.5, 0.25);
        ds.Set(new DicomTag(0x0008, 0x0008), DicomVR.CS, "ORIGINAL", string.Empty);
        var item = new DicomDataset();
        item.Set(new DicomTag(0x0008, 0x0100), DicomVR.SH, "113100");
        ds.SetSequence(new DicomTag(0x0012, 0x0064), [item]);
        ds.SetBytes(new DicomTag(0x0009, 0x1001), DicomVR.OB, new byte[] { 1, 2, 3, 4 });

        using JsonDocument doc = JsonDocument.Parse(DicomJson.Serialize(ds));
        JsonElement root = doc.RootElement;

        Assert.Equal("PN", root.GetProperty("00100010").GetProperty("vr").GetString());
        JsonElement name = root.GetProperty("00100010").GetProperty("Value")[0];
        Assert.Equal("SYNTH^0001", name.GetProperty("Alphabetic").GetString());
        Assert.Equal("ideo", name.GetProperty("Ideographic").GetString());
        Assert.Equal(512, root.GetProperty("00280010").GetProperty("Value")[0].GetInt32());
        Assert.Equal(0.25, root.GetProperty("00280030").GetProperty("Value")[1].GetDouble());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("00080008").GetProperty("Value")[1].ValueKind);
        Assert.Equal("113100", root.GetProperty("00120064").GetProperty("Value")[0].GetProperty("00080100").GetProperty("Value")[0].GetString());
        Assert.Equal("AQIDBA==", root.GetProperty("00091001").GetProperty("InlineBinary").GetString());
    }

    [Fact]
    public void Serialize_LargeBinaryAndPixelData_AreNotInlined()
    {
        var ds = new DicomDataset();
        ds.SetBytes(new DicomTag(0x0009, 0x1001), DicomVR.OB, new byte[5000]);
        ds.SetBytes(DicomTag.PixelData, DicomVR.OW, new byte[16]);

        using JsonDocument doc = JsonDocument.Parse(DicomJson.Serialize(ds));

        Assert.False(doc.RootElement.GetProperty("00091001").TryGetProperty("InlineBinary", out _));
        Assert.False(doc.RootElement.GetProperty("7FE00010").TryGetProperty("InlineBinary", out _));
        Assert.Equal("OW", doc.RootElement.GetProperty("7FE00010").GetProperty("vr").GetString());
    }
}
