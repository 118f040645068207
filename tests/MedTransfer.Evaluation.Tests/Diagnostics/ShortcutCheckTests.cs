using MedTransfer.Evaluation.Diagnostics;
using MedTransfer.Evaluation.Metrics;
using Xunit.Abstractions;

namespace MedTransfer.Evaluation.Tests.Diagnostics;

/// <summary>
/// Synthetic 1×32×32 images: positives carry a zero-mean checkerboard "lesion" (8×8) in the centre and a zero-mean
/// checkerboard "marker" (4×4) in each corner, on Gaussian noise. Both scorers below separate the classes, one by
/// looking only at the corners (a shortcut), one only at the centre. Zero-mean patterns keep the image mean (the mask
/// fill) free of label information.
/// </summary>
public sealed class ShortcutCheckTests(ITestOutputHelper output)
{
    private const int Size = 32;
    private const float Amplitude = 0.3f; // with unit noise: AUROC about 0.95 for either scorer, so the intervals are not degenerate
    private static readonly ShortcutCheckOptions s_options = new() { BorderFraction = 0.125, OcclusionImages = 40, Bootstrap = new BootstrapOptions { Resamples = 300 } };

    [Fact]
    public void Run_ScorerLookingOnlyAtTheCorners_IsFlagged()
    {
        (float[][] images, int[] labels) = Dataset(120, seed: 1);

        ShortcutCheckResult result = ShortcutCheck.Run(images, 1, Size, Size, labels, CornerScorer, options: s_options);
        output.WriteLine(result.Finding);

        Assert.InRange(result.Auroc, 0.85, 0.995);
        Assert.InRange(result.BorderMasked.Auroc, 0.3, 0.7);
        Assert.True(result.BorderMasked.Difference.Upper < 0);
        Assert.Equal(0, result.CentreMasked.Difference.Value, 12);
        Assert.True(result.BorderReliance);
        Assert.True(result.OcclusionFlag);
        Assert.True(result.ShortcutRisk);
        Assert.True(result.Occlusion.BorderMass > 0.99, $"border mass {result.Occlusion.BorderMass}");
        Assert.True(result.Occlusion.Sensitivity[0] > 0 && result.Occlusion.Sensitivity[^1] > 0);
        Assert.Equal(0, result.Occlusion.Sensitivity[(3 * 8) + 3]);
        Assert.Contains("drops AUROC from", result.Finding, StringComparison.Ordinal);
        Assert.Contains("shortcut risk", result.Finding, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_ScorerLookingOnlyAtTheCentre_IsNotFlagged()
    {
        (float[][] images, int[] labels) = Dataset(120, seed: 2);

        ShortcutCheckResult result = ShortcutCheck.Run(images, 1, Size, Size, labels, CentreScorer, options: s_options);
        output.WriteLine(result.Finding);

        Assert.InRange(result.Auroc, 0.85, 0.995);
        Assert.Equal(0, result.BorderMasked.Difference.Value, 12);
        Assert.True(result.CentreMasked.Difference.Upper < 0, "masking the centre must hurt a centre model");
        Assert.False(result.BorderReliance);
        Assert.False(result.OcclusionFlag);
        Assert.False(result.ShortcutRisk);
        Assert.True(result.Occlusion.CentreMass > 0.99);
        Assert.Contains("No sign", result.Finding, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_WithPatients_UsesThePatientBootstrapAndStillFlagsTheCornerModel()
    {
        string[] patients = [.. Enumerable.Range(0, 80).Select(i => $"P{i / 2}")];
        int[] paired = [.. Enumerable.Range(0, 80).Select(i => i / 2 % 2)]; // two images per patient, one label per patient
        (float[][] pairedImages, _) = Dataset(80, seed: 3, labelsOverride: paired);

        ShortcutCheckResult result = ShortcutCheck.Run(pairedImages, 1, Size, Size, paired, CornerScorer, patients, s_options);

        Assert.StartsWith("patient bootstrap", result.BorderMasked.Difference.Method, StringComparison.Ordinal);
        Assert.True(result.ShortcutRisk);
    }

    [Fact]
    public void Run_ThreeChannelImagesAndDatasetMeanFill_Work()
    {
        (float[][] grey, int[] labels) = Dataset(60, seed: 4);
        float[][] rgb = [.. grey.Select(g => (float[])[.. g, .. g, .. g])];

        ShortcutCheckResult result = ShortcutCheck.Run(rgb, 3, Size, Size, labels, batch => CornerScorer([.. batch.Select(im => im[..(Size * Size)])]), options: s_options with { Fill = MaskFill.DatasetMean });

        Assert.True(result.ShortcutRisk);
    }

    [Fact]
    public void Run_BadInput_ThrowsTypedErrors()
    {
        (float[][] images, int[] labels) = Dataset(20, seed: 5);

        Assert.Throws<ArgumentException>(() => ShortcutCheck.Run(images, 1, Size, Size - 1, labels, CentreScorer));
        Assert.Throws<ArgumentException>(() => ShortcutCheck.Run(images, 1, Size, Size, labels[..10], CentreScorer));
        Assert.Throws<ArgumentException>(() => ShortcutCheck.Run(images, 1, Size, Size, [.. labels.Select(l => l * 2)], CentreScorer));
        Assert.Throws<ArgumentException>(() => ShortcutCheck.Run(images, 1, Size, Size, labels, CentreScorer, options: new ShortcutCheckOptions { BorderFraction = 0.5 }));
        Assert.Throws<InvalidOperationException>(() => ShortcutCheck.Run(images, 1, Size, Size, labels, batch => new double[batch.Count - 1]));
        Assert.Throws<InvalidOperationException>(() => ShortcutCheck.Run(images, 1, Size, Size, labels, batch => [.. batch.Select(_ => double.NaN)]));
        Assert.Throws<MetricUndefinedException>(() => ShortcutCheck.Run(images, 1, Size, Size, new int[20], CentreScorer));
    }

    [Fact]
    public void Run_DoesNotModifyTheImages()
    {
        (float[][] images, int[] labels) = Dataset(30, seed: 6);
        float[][] before = [.. images.Select(im => (float[])im.Clone())];

        ShortcutCheck.Run(images, 1, Size, Size, labels, CornerScorer, options: s_options);

        Assert.Equal(before, images);
    }

    // Correlation with the checkerboard over the four 4×4 corners.
    private static double[] CornerScorer(IReadOnlyList<float[]> batch) =>
        [.. batch.Select(im => Correlate(im, 0, 0, 4) + Correlate(im, 0, Size - 4, 4) + Correlate(im, Size - 4, 0, 4) + Correlate(im, Size - 4, Size - 4, 4))];

    private static double[] CentreScorer(IReadOnlyList<float[]> batch) =>
        [.. batch.Select(im => Correlate(im, 12, 12, 8))];

    private static double Correlate(float[] image, int y0, int x0, int n)
    {
        double sum = 0;
        for (int y = y0; y < y0 + n; y++)
        {
            for (int x = x0; x < x0 + n; x++)
            {
                sum += image[(y * Size) + x] * Checker(y, x);
            }
        }

        return sum;
    }

    private static int Checker(int y, int x) => ((x + y) & 1) == 0 ? 1 : -1;

    private static (float[][] Images, int[] Labels) Dataset(int count, int seed, int[]? labelsOverride = null)
    {
        var random = new Random(seed);
        int[] labels = labelsOverride ?? [.. Enumerable.Range(0, count).Select(i => i % 2)];
        var images = new float[count][];
        for (int i = 0; i < count; i++)
        {
            var image = new float[Size * Size];
            for (int p = 0; p < image.Length; p++)
            {
                image[p] = (float)Gaussian(random);
            }

            if (labels[i] == 1)
            {
                Stamp(image, 12, 12, 8);
                Stamp(image, 0, 0, 4);
                Stamp(image, 0, Size - 4, 4);
                Stamp(image, Size - 4, 0, 4);
                Stamp(image, Size - 4, Size - 4, 4);
            }

            images[i] = image;
        }

        return (images, labels);
    }

    private static void Stamp(float[] image, int y0, int x0, int n)
    {
        for (int y = y0; y < y0 + n; y++)
        {
            for (int x = x0; x < x0 + n; x++)
            {
                image[(y * Size) + x] += Amplitude * Checker(y, x);
            }
        }
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
