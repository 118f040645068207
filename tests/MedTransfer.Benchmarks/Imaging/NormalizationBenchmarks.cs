using BenchmarkDotNet.Attributes;
using MedTransfer.Imaging;
using MedTransfer.Imaging.Images;
using MedTransfer.Imaging.Normalization;
using MedTransfer.Imaging.Resampling;

namespace MedTransfer.Benchmarks.Imaging;

/// <summary>
/// One 2048 × 2500 16-bit CR-like image (a smooth "anatomy" plus noise, 12-bit range) to 224 × 224 on one core:
/// the resize alone (area and Lanczos-3), the exact percentiles, and the whole X-ray recipe after decoding
/// (percentile clip + sanity statistics + resize + 3 channels). Target: ≤ 15 ms per image for the resize.
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

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        var pixels = new float[Width * Height];
        for (int y = 0; y < Height; y++)
        {
            for (int x = 0; x < Width; x++)
            {
                double anatomy = 1800 + (1200 * Math.Sin(x / 150.0) * Math.Cos(y / 210.0));
                pixels[(y * Width) + x] = (float)Math.Clamp(Math.Round(anatomy + random.Next(-60, 61)), 0, 4095);
            }
        }

        _image = new ImageF(Width, Height, pixels, 0.15, 0.15);
        _source = new SourceImage(_image, SourceImageFormat.Dicom, 12);
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
}
