using MedTransfer.Dicom;
using MedTransfer.Imaging.Images;
using MedTransfer.Imaging.Normalization;
using MedTransfer.Imaging.Resampling;
using MedTransfer.Testing;

namespace MedTransfer.Imaging.Tests.Normalization;

/// <summary>
/// The collimation crop on radiograph-like images: a smooth chest-like field (soft tissue, two darker lung fields, a
/// spine, ribs), quantum noise, a burned-in bright marker inside the field, and shutter borders on 1–4 sides with a
/// 3-pixel penumbra and their own noise, bright (unexposed, after inversion) or dark (electronic shutter).
/// </summary>
public sealed class CollimationDetectorTests
{
    private const int W = 360;
    private const int H = 440;

    public static TheoryData<bool, bool, bool, bool, bool> Borders() => new()
    {
        { true, false, false, false, true },
        { false, false, true, false, true },
        { true, true, false, false, false },
        { false, true, false, true, true },
        { true, true, true, false, false },
        { true, true, true, true, true },
        { true, true, true, true, false },
        { false, false, false, true, false },
    };

    [Theory]
    [MemberData(nameof(Borders))]
    public void Detect_ShutterBorders_CropsToTheExposedField(bool top, bool bottom, bool left, bool right, bool brightShutter)
    {
        var random = new Random(HashCode.Combine(top, bottom, left, right, brightShutter) & 0x7FFF);
        int t = top ? random.Next(15, 60) : 0;
        int b = bottom ? random.Next(15, 60) : 0;
        int l = left ? random.Next(15, 50) : 0;
        int r = right ? random.Next(15, 50) : 0;
        ImageF image = Radiograph(random, t, b, l, r, brightShutter);

        PixelRegion region = Detect(image, new CollimationCrop());

        // The crop lands on the field edge, give or take the penumbra; it never cuts into the anatomy beyond it.
        Assert.InRange(region.Y, t, t + 3);
        Assert.InRange(H - (region.Y + region.Height), b, b + 3);
        Assert.InRange(region.X, l, l + 3);
        Assert.InRange(W - (region.X + region.Width), r, r + 3);
        if (!top)
        {
            Assert.Equal(0, region.Y);
        }

        if (!left)
        {
            Assert.Equal(0, region.X);
        }
    }

    [Fact]
    public void Detect_NoShutter_DoesNotCrop()
    {
        for (int seed = 0; seed < 5; seed++)
        {
            ImageF image = Radiograph(new Random(seed), 0, 0, 0, 0, brightShutter: true);

            Assert.Equal(new PixelRegion(0, 0, W, H), Detect(image, new CollimationCrop()));
        }
    }

    [Fact]
    public void Detect_ShutterWiderThanTheLimit_StopsAtMaxCropFraction()
    {
        ImageF image = Radiograph(new Random(7), 200, 0, 170, 0, brightShutter: true);
        var options = new CollimationCrop(MaxCropFraction: 0.25);

        PixelRegion region = Detect(image, options);

        Assert.Equal((int)(H * 0.25), region.Y);
        Assert.Equal((int)(W * 0.25), region.X);
    }

    [Fact]
    public void Detect_RandomImages_NeverCropMoreThanMaxCropFractionPerSide()
    {
        var random = new Random(11);
        for (int trial = 0; trial < 25; trial++)
        {
            double fraction = random.NextDouble() * 0.3;
            ImageF image = Radiograph(random, random.Next(0, 150), random.Next(0, 150), random.Next(0, 120), random.Next(0, 120), random.Next(2) == 0);
            if (random.Next(4) == 0)
            {
                Array.Fill(image.Pixels, 1000f);
            }

            PixelRegion region = Detect(image, new CollimationCrop(MaxCropFraction: fraction));

            int maxRows = (int)(H * fraction);
            int maxCols = (int)(W * fraction);
            Assert.InRange(region.Y, 0, maxRows);
            Assert.InRange(H - (region.Y + region.Height), 0, maxRows);
            Assert.InRange(region.X, 0, maxCols);
            Assert.InRange(W - (region.X + region.Width), 0, maxCols);
        }
    }

    [Fact]
    public void Normalize_ShutteredRadiograph_ReportsTheCropAndRecomputesTheClipOnTheField()
    {
        ImageF image = Radiograph(new Random(3), 40, 30, 25, 0, brightShutter: true);
        var source = new SourceImage(image, SourceImageFormat.Dicom, 12);

        XrayTensor cropped = XrayNormalizer.Normalize(source, new XrayRecipe { CropCollimation = new CollimationCrop() });
        XrayTensor plain = XrayNormalizer.Normalize(source, new XrayRecipe());

        Assert.True(cropped.Report.Has(NormalizationWarningCode.BordersCropped));
        Assert.False(plain.Report.Has(NormalizationWarningCode.BordersCropped));
        Assert.True(cropped.ClipHigh < plain.ClipHigh, "without the bright shutter the upper clip falls inside the anatomy");
        Assert.True(cropped.Placement.Width < 224 || cropped.Placement.Height < 224);
    }

    /// <summary>Real radiographs (CR/DX/MG DICOM) in ../shared/data, when there are any: the crop stays within its limits and the recipe runs.</summary>
    [SkippableFact]
    public void Detect_RealRadiographs_StayWithinTheLimits()
    {
        string? root = TestPaths.SharedData(".");
        Skip.If(root is null, TestPaths.MissingReason("."));
        var radiographs = new List<DicomFile>();
        foreach (string path in Directory.EnumerateFiles(root!, "*", SearchOption.AllDirectories))
        {
            try
            {
                DicomFile file = DicomFile.Open(path);
                if (file.Dataset.GetString(Tag.Modality)?.Trim() is "CR" or "DX" or "MG")
                {
                    radiographs.Add(file);
                }
            }
            catch (Exception ex) when (ex is DicomException or IOException)
            {
                // Not DICOM (NIfTI references, JSON sidecars, READMEs).
            }
        }

        Skip.If(radiographs.Count == 0, "../shared/data holds no CR/DX/MG radiograph (only MR reference series), so the crop is checked on generated radiographs only");
        var options = new CollimationCrop();
        foreach (DicomFile file in radiographs)
        {
            SourceImage source = DicomSourceReader.Read(file);
            ImageF image = source.Image;
            PixelRegion region = Detect(image, options);
            Assert.InRange(region.Y, 0, (int)(image.Height * options.MaxCropFraction));
            Assert.InRange(region.X, 0, (int)(image.Width * options.MaxCropFraction));
            Assert.InRange(image.Height - region.Y - region.Height, 0, (int)(image.Height * options.MaxCropFraction));
            Assert.InRange(image.Width - region.X - region.Width, 0, (int)(image.Width * options.MaxCropFraction));
            XrayTensor tensor = XrayNormalizer.Normalize(source, new XrayRecipe { CropCollimation = options });
            Assert.All(tensor.Tensor, v => Assert.InRange(v, 0f, 1f));
        }
    }

    private static PixelRegion Detect(ImageF image, CollimationCrop options)
    {
        double[] bounds = Percentiles.Compute(image.Pixels, [0.5, 99.5]);
        return CollimationDetector.Detect(image, IntensityMap.ClipToUnit(bounds[0], bounds[1]), options);
    }

    /// <summary>A 12-bit chest-like image, bright = dense, with shutters of the given widths (0 = none).</summary>
    private static ImageF Radiograph(Random random, int top, int bottom, int left, int right, bool brightShutter)
    {
        var pixels = new float[W * H];
        double shutterLevel = brightShutter ? 4000 : 60;
        for (int y = 0; y < H; y++)
        {
            for (int x = 0; x < W; x++)
            {
                double u = (x - (W / 2.0)) / (W / 2.0);
                double v = (y - (H / 2.0)) / (H / 2.0);
                double tissue = 1900 + (500 * v) - (300 * u * u);
                double lung = (600 * Blob(u, v, -0.45, -0.1, 0.3, 0.55)) + (600 * Blob(u, v, 0.45, -0.1, 0.3, 0.55));
                double spine = 900 * Math.Exp(-(u * u) / 0.01);
                double ribs = 120 * Math.Max(0, Math.Sin((v * 18) + (u * u * 4)));
                double value = tissue - lung + spine + ribs + (Gaussian(random) * 40);

                // The shutter: distance into it from the field edge, with a 3-pixel linear penumbra.
                int depth = Math.Max(
                    Math.Max(top > 0 ? top - y : int.MinValue, bottom > 0 ? y - (H - 1 - bottom) : int.MinValue),
                    Math.Max(left > 0 ? left - x : int.MinValue, right > 0 ? x - (W - 1 - right) : int.MinValue));
                if (depth > -3)
                {
                    double weight = Math.Clamp((depth + 3) / 3.0, 0, 1);
                    value = ((1 - weight) * value) + (weight * (shutterLevel + (Gaussian(random) * 6)));
                }

                pixels[(y * W) + x] = (float)Math.Clamp(Math.Round(value), 0, 4095);
            }
        }

        // A burned-in "R" marker: a bright 14 × 20 block inside the field near its top-left corner.
        for (int y = top + 20; y < top + 40; y++)
        {
            for (int x = left + 20; x < left + 34; x++)
            {
                pixels[(y * W) + x] = 4095;
            }
        }

        return new ImageF(W, H, pixels);
    }

    private static double Blob(double u, double v, double cu, double cv, double ru, double rv)
    {
        double d = (((u - cu) / ru) * ((u - cu) / ru)) + (((v - cv) / rv) * ((v - cv) / rv));
        return Math.Exp(-d * d);
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
