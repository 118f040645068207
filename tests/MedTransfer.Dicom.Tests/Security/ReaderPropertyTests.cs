using FsCheck;
using FsCheck.Xunit;
using MedTransfer.Dicom.Tests.IO;

namespace MedTransfer.Dicom.Tests.Security;

/// <summary>Property tests (random bytes find what hand-written cases miss): whatever the bytes, the reader loads them or raises <see cref="DicomFormatException"/>.</summary>
public class ReaderPropertyTests
{
    private static readonly byte[] Head = new DicomBytesBuilder().Preamble().Meta("1.2.840.10008.1.2.1").ToArray();
    private static readonly byte[] ImplicitHead = new DicomBytesBuilder().Preamble().Meta("1.2.840.10008.1.2").ToArray();

    [Property(MaxTest = 500)]
    public bool Read_ArbitraryBytes_LoadsOrThrowsTyped(byte[] bytes, bool strict)
    {
        HostileInput.TryRead(bytes, strict ? HostileInput.Strict : HostileInput.Tolerant);
        return true;
    }

    [Property(MaxTest = 1000)]
    public bool Read_ValidMetaThenArbitraryDataSet_LoadsOrThrowsTyped(byte[] body, bool strict, bool implicitVR)
    {
        byte[] bytes = [.. implicitVR ? ImplicitHead : Head, .. body];
        HostileInput.TryRead(bytes, strict ? HostileInput.Strict : HostileInput.Tolerant);
        return true;
    }

    [Property(MaxTest = 1000)]
    public bool Read_ArbitraryElementHeaders_LoadsOrThrowsTyped(ushort[] groups, uint[] lengths, bool strict)
    {
        var b = new DicomBytesBuilder().Preamble().Meta("1.2.840.10008.1.2.1");
        int n = Math.Min(groups.Length, lengths.Length);
        string[] vrs = ["OB", "SQ", "UN", "US", "LO", "UT", "OW", "FD"];
        for (int i = 0; i < n; i++)
        {
            string vr = vrs[i % vrs.Length];
            uint length = vr is "US" or "LO" or "FD" ? lengths[i] & 0xFFFF : lengths[i];
            b.Header((ushort)(groups[i] | 0x0008), (ushort)i, vr, length);
            b.Raw(new byte[Math.Min(length, 64u)]);
        }

        HostileInput.TryRead(b.ToArray(), strict ? HostileInput.Strict : HostileInput.Tolerant);
        return true;
    }
}
