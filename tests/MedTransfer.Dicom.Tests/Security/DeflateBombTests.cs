using System.IO.Compression;
using MedTransfer.Dicom.Tests.IO;
using Xunit;

namespace MedTransfer.Dicom.Tests.Security;

/// <summary>
/// A deflated data set that inflates to far more than it weighs (a "deflate bomb"): refused against
/// <see cref="DicomReaderOptions.MaxInflatedBytes"/> while inflating, with memory measured as the bytes this thread
/// allocated (the inflated buffer is managed), never by timing.
/// </summary>
public class DeflateBombTests
{
    private const string Deflated = "1.2.840.10008.1.2.1.99";

    /// <summary>A file whose deflated data set is one private OB element of <paramref name="valueBytes"/> zero bytes.</summary>
    private static byte[] Bomb(long valueBytes)
    {
        byte[] head = new DicomBytesBuilder().Preamble().Meta(Deflated).ToArray();
        byte[] element = new DicomBytesBuilder().Header(0x0009, 0x1001, "OB", checked((uint)valueBytes)).ToArray();
        using var output = new MemoryStream();
        output.Write(head);
        using (var deflate = new DeflateStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            deflate.Write(element);
            byte[] zeros = new byte[1 << 20];
            for (long left = valueBytes; left > 0; left -= zeros.Length)
            {
                deflate.Write(zeros, 0, (int)Math.Min(zeros.Length, left));
            }
        }

        return output.ToArray();
    }

    private static long AllocatedWhile(Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void Read_BombPastTheLimit_IsRefusedWithoutAllocatingWhatItInflatesTo()
    {
        byte[] bomb = Bomb(64L << 20);
        var options = new DicomReaderOptions { MaxInflatedBytes = 4L << 20 };
        DicomFormatException? refused = null;

        long allocated = AllocatedWhile(() => refused = Assert.Throws<DicomFormatException>(() => DicomFile.Read(bomb, options)));

        Assert.Equal(DicomErrorCode.ValueLengthExceedsData, refused!.Reason);
        Assert.True(bomb.Length < 1 << 20, $"the bomb weighs {bomb.Length} bytes");
        // Counting reuses one 64 KiB buffer: well under the 4 MiB limit, let alone the 64 MiB the bomb holds.
        Assert.True(allocated < 1L << 20, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Read_LargeDeflatedDataSetWithinTheLimit_AllocatesItsSizeOnce()
    {
        const long value = 48L << 20;
        byte[] file = Bomb(value);

        DicomFile? read = null;
        long allocated = AllocatedWhile(() => read = DicomFile.Read(file, new DicomReaderOptions { MaxInflatedBytes = 64L << 20 }));

        Assert.True(read!.Dataset.TryGetElement(new DicomTag(0x0009, 0x1001), out DicomElement? element));
        Assert.Equal(value, element.Length);
        // The inflated data set once (value + 12-byte header), no doubling buffers: less than 1 MiB on top.
        Assert.InRange(allocated, value, value + (1L << 20));
    }

    [Fact]
    public void Read_GigabyteBombWithDefaultOptions_StaysFarBelowOneGigabyte()
    {
        byte[] bomb = Bomb(1536L << 20);

        long allocated = AllocatedWhile(() =>
            Assert.Equal(DicomErrorCode.ValueLengthExceedsData, Assert.Throws<DicomFormatException>(() => DicomFile.Read(bomb)).Reason));

        Assert.True(allocated < 1L << 20, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Open_BombOnDisk_IsRefusedTheSameWay()
    {
        string dir = MedTransfer.Testing.TestPaths.NewTempDirectory();
        try
        {
            string path = Path.Combine(dir, "bomb.dcm");
            File.WriteAllBytes(path, Bomb(32L << 20));

            long allocated = AllocatedWhile(() =>
                Assert.Equal(DicomErrorCode.ValueLengthExceedsData, Assert.Throws<DicomFormatException>(() => DicomFile.Open(path, new DicomReaderOptions { MaxInflatedBytes = 1L << 20 })).Reason));

            Assert.True(allocated < 1L << 20, $"allocated {allocated} bytes");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
