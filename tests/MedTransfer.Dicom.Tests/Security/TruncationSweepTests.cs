using MedTransfer.Dicom.Tests.IO;
using MedTransfer.Testing;
using Xunit;

namespace MedTransfer.Dicom.Tests.Security;

/// <summary>Valid generated files cut at (nearly) every offset: a typed error or a tolerant result, never a hang or a crash.</summary>
public class TruncationSweepTests
{
    internal static readonly string[] Names = ["explicit", "explicit-defined", "implicit", "big-endian", "deflated", "encapsulated", "encapsulated-defined"];

    public static TheoryData<string> Variants() => new(Names);

    internal static byte[] Variant(string name) => name switch
    {
        "explicit" => SampleFiles.RichFile(),
        "explicit-defined" => SampleFiles.RichFile(sequences: SequenceLengthEncoding.Defined),
        "implicit" => SampleFiles.Write(SampleFiles.Rich(), TransferSyntax.ImplicitVRLittleEndian),
        "big-endian" => SampleFiles.Write(SampleFiles.Rich(), TransferSyntax.ExplicitVRBigEndian),
        "deflated" => SampleFiles.Write(SampleFiles.Rich(), TransferSyntax.DeflatedExplicitVRLittleEndian),
        "encapsulated" => SampleFiles.RichFile(encapsulated: true),
        _ => SampleFiles.RichFile(encapsulated: true, sequences: SequenceLengthEncoding.Defined),
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void Read_TruncatedAtEveryOffset_OnlyLoadsOrThrowsTyped(string variant)
    {
        byte[] full = Variant(variant);
        int step = full.Length > 3000 ? 7 : 1;
        int strictErrors = 0;
        int tolerantWarned = 0;
        for (int cut = 0; cut < full.Length; cut += step)
        {
            byte[] bytes = full.AsSpan(0, cut).ToArray();
            (DicomFile? strictFile, DicomFormatException? strictError) = HostileInput.TryRead(bytes, HostileInput.Strict);
            strictErrors += strictError is null ? 0 : 1;
            if (strictFile is not null && variant != "deflated")
            {
                Assert.DoesNotContain(strictFile.Warnings, w => w.Code == DicomErrorCode.Truncated);
            }

            (DicomFile? tolerantFile, _) = HostileInput.TryRead(bytes, HostileInput.Tolerant);
            if (tolerantFile is not null && tolerantFile.Warnings.Count > 0)
            {
                tolerantWarned++;
            }
        }

        Assert.True(strictErrors > 0);
        Assert.True(tolerantWarned > 0);
    }

    [Fact]
    public void Open_TruncatedFilesLazily_OnlyTypedErrorsAlsoOnPixelAccess()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            foreach (string variant in new[] { "explicit", "encapsulated" })
            {
                byte[] full = Variant(variant);
                for (int cut = 1; cut < full.Length; cut += 13)
                {
                    string path = Path.Combine(dir, $"{variant}-{cut}.dcm");
                    File.WriteAllBytes(path, full.AsSpan(0, cut).ToArray());
                    foreach (DicomReaderOptions options in new[] { HostileInput.Strict, HostileInput.Tolerant })
                    {
                        try
                        {
                            DicomFile file = DicomFile.Open(path, options);
                            if (file.Dataset.TryGetElement(DicomTag.PixelData, out DicomElement? px))
                            {
                                _ = px.Fragments is { } f ? f.Fragments.Count : px.Value.Length;
                            }
                        }
                        catch (DicomFormatException ex)
                        {
                            Assert.DoesNotContain(DicomReader.UnexpectedErrorDetail, ex.Message, StringComparison.Ordinal);
                        }
                    }
                }
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
