using MedTransfer.Dicom.Pixels;
using MedTransfer.Testing;
using Xunit;

namespace MedTransfer.Dicom.Tests.Pixels;

/// <summary>
/// Subsampled YCbCr JPEG (4:2:2 and 4:2:0) against libjpeg-turbo's djpeg. The fixtures are a 35×23 test card with
/// hard colour edges encoded by cjpeg, and djpeg's RGB decodes of each: default ("fancy") upsampling or -nosmooth
/// (replication), each with djpeg's default integer IDCT or with -dct float; Fixtures/make-ycbcr-jpegs.sh
/// regenerates them. The fancy and replicated decodes differ by up to 87 levels at the edges, so matching the right
/// one is a real check of the upsampling filter.
/// </summary>
public sealed class JpegChromaUpsamplingTests
{
    private const int Width = 35;
    private const int Height = 23;

    /// <summary>
    /// With the same kind of IDCT (JpegLibrary's is a floating-point one, like djpeg -dct float) the upsampled planes
    /// agree exactly; what remains is the rounding of our floating-point YCbCr→RGB against libjpeg's integer tables.
    /// </summary>
    [Theory]
    [InlineData("422", ChromaUpsampling.Fancy, "djpeg-float")]
    [InlineData("420", ChromaUpsampling.Fancy, "djpeg-float")]
    [InlineData("422", ChromaUpsampling.Replicate, "nosmooth-float")]
    [InlineData("420", ChromaUpsampling.Replicate, "nosmooth-float")]
    public void DecodeFrame_SameIdctAsDjpeg_MatchesWithinTheColourConversionRounding(string sampling, ChromaUpsampling upsampling, string reference)
    {
        int[] ours = Rgb(sampling, upsampling);

        Assert.InRange(MaxDifference(ours, Ppm($"ycbcr-{sampling}.{reference}.ppm")), 0, 1);
    }

    /// <summary>
    /// Against djpeg's default decode (integer IDCT) the IDCTs differ too: nearly every sample is within 2, and no
    /// sample is further from it than djpeg's own float-IDCT decode of the same file is (measured here: 3 at one
    /// sample of the 4:2:2 card, where a chroma IDCT difference of 2 is multiplied by 1.402 in red).
    /// </summary>
    [Theory]
    [InlineData("422", ChromaUpsampling.Fancy, "djpeg")]
    [InlineData("420", ChromaUpsampling.Fancy, "djpeg")]
    [InlineData("422", ChromaUpsampling.Replicate, "nosmooth")]
    [InlineData("420", ChromaUpsampling.Replicate, "nosmooth")]
    public void DecodeFrame_DjpegDefaultDecode_WithinTheSpreadOfDjpegsOwnIdcts(string sampling, ChromaUpsampling upsampling, string reference)
    {
        int[] ours = Rgb(sampling, upsampling);
        int[] djpeg = Ppm($"ycbcr-{sampling}.{reference}.ppm");
        int spread = MaxDifference(Ppm($"ycbcr-{sampling}.{reference}-float.ppm"), djpeg);

        Assert.InRange(MaxDifference(ours, djpeg), 0, Math.Max(2, spread));
        int within2 = ours.Zip(djpeg).Count(p => Math.Abs(p.First - p.Second) <= 2);
        Assert.True(within2 >= 0.999 * ours.Length, $"{ours.Length - within2} of {ours.Length} samples differ by more than 2");
    }

    [Theory]
    [InlineData("422")]
    [InlineData("420")]
    public void DecodeFrame_TheTwoFilters_DifferAtTheColourEdges(string sampling)
    {
        // The fixture must be able to tell the filters apart, or the two tests above prove nothing.
        Assert.True(MaxDifference(Rgb(sampling, ChromaUpsampling.Fancy), Rgb(sampling, ChromaUpsampling.Replicate)) > 20);
        Assert.True(MaxDifference(Ppm($"ycbcr-{sampling}.djpeg.ppm"), Ppm($"ycbcr-{sampling}.nosmooth.ppm")) > 20);
    }

    [Fact]
    public void DecodeFrame_DefaultUpsampling_IsFancy()
    {
        byte[] jpeg = File.ReadAllBytes(FixturePath("ycbcr-420.jpg"));

        byte[] byDefault = PixelDecoder.DecodeFrame(Module, PixelDecoder.JpegBaseline, jpeg);
        byte[] fancy = PixelDecoder.DecodeFrame(Module, PixelDecoder.JpegBaseline, jpeg, upsampling: ChromaUpsampling.Fancy);

        Assert.Equal(fancy, byDefault);
        Assert.Equal(ChromaUpsampling.Fancy, DicomImage.Create(Dataset(jpeg), PixelDecoder.JpegBaseline).ChromaUpsampling);
    }

    private static PixelModule Module => Modules.Rgb(Height, Width, pi: "YBR_FULL_422");

    private static int[] Rgb(string sampling, ChromaUpsampling upsampling)
    {
        byte[] jpeg = File.ReadAllBytes(FixturePath($"ycbcr-{sampling}.jpg"));
        DicomImage image = DicomImage.Create(Dataset(jpeg), PixelDecoder.JpegBaseline, upsampling: upsampling);
        float[] rgb = PhotometricConversion.ToRgbFloats(image.Module, image.DecodedPhotometricInterpretation, image.DecodeFrame(0));
        return [.. rgb.Select(v => (int)Math.Round(v * 255))];
    }

    private static DicomDataset Dataset(byte[] jpeg) => EncapsulatedDatasets.OneFragment(Module, jpeg);

    /// <summary>The RGB samples of a binary PPM (P6, maxval 255) as written by djpeg.</summary>
    private static int[] Ppm(string name)
    {
        byte[] bytes = File.ReadAllBytes(FixturePath(name));
        int at = 0;
        string[] fields = new string[4];
        for (int f = 0; f < 4; f++)
        {
            while (char.IsWhiteSpace((char)bytes[at]))
            {
                at++;
            }

            int start = at;
            while (!char.IsWhiteSpace((char)bytes[at]))
            {
                at++;
            }

            fields[f] = System.Text.Encoding.ASCII.GetString(bytes, start, at - start);
        }

        Assert.Equal(["P6", $"{Width}", $"{Height}", "255"], fields);
        return [.. bytes.AsSpan(at + 1).ToArray().Select(b => (int)b)];
    }

    private static int MaxDifference(int[] a, int[] b)
    {
        Assert.Equal(Width * Height * 3, a.Length);
        Assert.Equal(a.Length, b.Length);
        return a.Zip(b).Max(p => Math.Abs(p.First - p.Second));
    }

    private static string FixturePath(string name) =>
        Path.Combine(TestPaths.RepoRoot, "tests", "MedTransfer.Dicom.Tests", "Pixels", "Fixtures", name);
}
