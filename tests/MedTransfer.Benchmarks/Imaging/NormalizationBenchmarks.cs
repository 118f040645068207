using BenchmarkDotNet.Attributes;
using MedTransfer.Dicom;
using MedTransfer.Imaging;
using MedTransfer.Imaging.Images;
using MedTransfer.Imaging.Normalization;
using MedTransfer.Imaging.Resampling;

namespace MedTransfer.Benchmarks.Imaging;

/// <summary>
/// One 2048 × 2500 12-bit CR-like image (a smooth "anatomy" plus noise) to 224 × 224 on one core: the resize alone
/// (area and Lanczos-3), the exact percentiles, and the whole X-ray recipe, both on float presentation values (the
/// general path, the same-run reference) and on the indexed form the DICOM reader produces for ≤ 16-bit stored values
/// (counting histogram + table lookups). The Dicom* pair starts from a parsed MONOCHROME1 DICOM file with a window
/// (modality LUT → VOI → inversion → recipe): the per-pixel presentation floats then the float path, against the
/// indexed reader then the fast path. Target: ≤ 15 ms per image for the recipe.
/// Run: dotnet run -c Release --project tests/MedTransfer.Benchmarks -- --filter '*NormalizationBenchmarks*'.
/// </summary>
[MemoryDiagnoser]
public class NormalizationBenchmarks
{
    private const int Width = 2048;
    private const int Height = 2500;
    private readonly XrayRecipe _area = new();
    private readonly XrayRecipe _lanczos = new() { Resize = new ResizeOptions(224, ResizeMethod.Lanczos3) };
    private ImageF _image = null!;
    private SourceImage _source = null!;
    private SourceImage _indexed = null!;
    private DicomFile _dicom = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        var stored = new ushort[Width * Height];
        for (int y = 0; y < Height; y++)
        {
            for (int x = 0; x < Width; x++)
            {
                double anatomy = 1800 + (1200 * Math.Sin(x / 150.0) * Math.Cos(y / 210.0));
                stored[(y * Width) + x] = (ushort)Math.Clamp(Math.Round(anatomy + random.Next(-60, 61)), 0, 4095);
            }
        }

        float[] pixels = [.. stored.Select(v => (float)v)];
        _image = new ImageF(Width, Height, pixels, 0.15, 0.15);
        _source = new SourceImage(_image, SourceImageFormat.Dicom, 12);
        float[] table = [.. Enumerable.Range(0, 4096).Select(v => (float)v)];
        _indexed = SourceImage.FromIndexed(new IndexedImage(Width, Height, (ushort[])stored.Clone(), table, 0.15, 0.15), SourceImageFormat.Dicom, 12);
        _dicom = BenchmarkDicom.Create(Width, Height, stored);
    }

    [Benchmark(Baseline = true)]
    public float ResizeArea() => ImageResizer.ToSquare(_image, 224, ResizeMethod.Area).Pixels[224 * 112];

    [Benchmark]
    public float ResizeLanczos3() => ImageResizer.ToSquare(_image, 224, ResizeMethod.Lanczos3).Pixels[224 * 112];

    [Benchmark]
    public double PercentileClipBounds() => Percentiles.Compute(_image.Pixels, [0.5, 99.5])[1];

    [Benchmark]
    public int XrayRecipeArea() => XrayNormalizer.Normalize(_source, _area).Tensor.Length;

    [Benchmark]
    public int XrayRecipeLanczos3() => XrayNormalizer.Normalize(_source, _lanczos).Tensor.Length;

    [Benchmark]
    public int XrayRecipeAreaIndexed() => XrayNormalizer.Normalize(_indexed, _area).Tensor.Length;

    [Benchmark]
    public int XrayRecipeLanczos3Indexed() => XrayNormalizer.Normalize(_indexed, _lanczos).Tensor.Length;

    [Benchmark]
    public int DicomPerPixelFloats()
    {
        var image = MedTransfer.Dicom.Pixels.DicomImage.Create(_dicom);
        float[] pixels = image.PresentationFloats(0, true);
        var source = new SourceImage(new ImageF(Width, Height, pixels), SourceImageFormat.Dicom, 12, WasMonochrome1: true, VoiApplied: true);
        return XrayNormalizer.Normalize(source, _area).Tensor.Length;
    }

    [Benchmark]
    public int DicomIndexed() => XrayNormalizer.Normalize(_dicom, _area).Tensor.Length;
}

/// <summary>An in-memory 12-bit MONOCHROME1 CR with a LINEAR window (stored as 4095 − v, so it displays like the float image).</summary>
internal static class BenchmarkDicom
{
    internal static DicomFile Create(int width, int height, ushort[] stored)
    {
        var ds = new DicomDataset();
        ds.Set(new DicomTag(0x0008, 0x0016), DicomVR.UI, "1.2.840.10008.5.1.4.1.1.1");
        ds.Set(new DicomTag(0x0008, 0x0018), DicomVR.UI, "2.25.1234567");
        ds.Set(new DicomTag(0x0008, 0x0060), DicomVR.CS, "CR");
        ds.SetNumbers(new DicomTag(0x0028, 0x0002), DicomVR.US, 1);
        ds.Set(new DicomTag(0x0028, 0x0004), DicomVR.CS, "MONOCHROME1");
        ds.SetNumbers(Tag.Rows, DicomVR.US, height);
        ds.SetNumbers(Tag.Columns, DicomVR.US, width);
        ds.SetNumbers(Tag.BitsAllocated, DicomVR.US, 16);
        ds.SetNumbers(Tag.BitsStored, DicomVR.US, 12);
        ds.SetNumbers(Tag.HighBit, DicomVR.US, 11);
        ds.SetNumbers(new DicomTag(0x0028, 0x0103), DicomVR.US, 0);
        ds.SetNumbers(new DicomTag(0x0028, 0x1050), DicomVR.DS, 2200.0);
        ds.SetNumbers(new DicomTag(0x0028, 0x1051), DicomVR.DS, 3000.0);
        var bytes = new byte[stored.Length * 2];
        for (int i = 0; i < stored.Length; i++)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(i * 2), (ushort)(4095 - stored[i]));
        }

        ds.SetBytes(DicomTag.PixelData, DicomVR.OW, bytes);
        return new DicomFile(ds, TransferSyntax.ExplicitVRLittleEndian);
    }
}
