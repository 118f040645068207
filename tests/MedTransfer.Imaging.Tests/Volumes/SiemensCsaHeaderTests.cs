using MedTransfer.Imaging.Volumes;

namespace MedTransfer.Imaging.Tests.Volumes;

public sealed class SiemensCsaHeaderTests
{
    private static readonly byte[] s_header = SyntheticSeries.Csa2(
    [
        ("EchoLinePosition", ["32"]),
        ("NumberOfImagesInMosaic", ["35"]),
        ("SliceNormalVector", ["0.0", "0.10799935", "0.99415096"]),
        ("Empty", []),
    ]);

    [Fact]
    public void Parse_Csa2_ReadsNamedValues()
    {
        Dictionary<string, string[]>? csa = SiemensCsaHeader.Parse(s_header);

        Assert.NotNull(csa);
        Assert.Equal(35, SiemensCsaHeader.Number(csa, "NumberOfImagesInMosaic"));
        Assert.Equal(0.99415096, SiemensCsaHeader.Number(csa, "SliceNormalVector", 2));
        Assert.Null(SiemensCsaHeader.Number(csa, "SliceNormalVector", 3));
        Assert.Empty(csa["Empty"]);
    }

    [Fact]
    public void Parse_NotSv10_Null()
    {
        Assert.Null(SiemensCsaHeader.Parse("SV11"u8.ToArray().Concat(new byte[100]).ToArray()));
        Assert.Null(SiemensCsaHeader.Parse([]));
    }

    [Fact]
    public void Parse_EveryTruncation_NullOrPartialNeverThrows()
    {
        for (int length = 0; length < s_header.Length; length++)
        {
            Dictionary<string, string[]>? csa = SiemensCsaHeader.Parse(s_header.AsSpan(0, length));
            Assert.Null(csa);
        }
    }

    [Fact]
    public void Parse_HugeItemLength_Null()
    {
        byte[] hostile = (byte[])s_header.Clone();
        // First item of the first tag: its length field sits after the 16-byte preamble and the 84-byte tag header.
        BitConverter.GetBytes(int.MaxValue).CopyTo(hostile, 16 + 84 + 4);

        Assert.Null(SiemensCsaHeader.Parse(hostile));
    }

    [Fact]
    public void Parse_HugeCounts_Null()
    {
        byte[] tags = (byte[])s_header.Clone();
        BitConverter.GetBytes(uint.MaxValue).CopyTo(tags, 8);
        byte[] items = (byte[])s_header.Clone();
        BitConverter.GetBytes(-5).CopyTo(items, 16 + 76);

        Assert.Null(SiemensCsaHeader.Parse(tags));
        Assert.Null(SiemensCsaHeader.Parse(items));
    }

    [FsCheck.Xunit.Property(MaxTest = 300)]
    public void Parse_MutatedBytes_NeverThrows(int position, byte value)
    {
        byte[] mutated = (byte[])s_header.Clone();
        mutated[Math.Abs(position % mutated.Length)] = value;

        _ = SiemensCsaHeader.Parse(mutated);
    }

    [FsCheck.Xunit.Property(MaxTest = 200)]
    public void Parse_RandomBytes_NeverThrows(byte[] bytes)
    {
        byte[] withMagic = [.. "SV10"u8.ToArray(), .. bytes ?? []];
        _ = SiemensCsaHeader.Parse(withMagic);
    }
}
