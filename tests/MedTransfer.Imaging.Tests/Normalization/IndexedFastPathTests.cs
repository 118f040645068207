using MedTransfer.Dicom;
using MedTransfer.Dicom.Pixels;
using MedTransfer.Imaging.Images;
using MedTransfer.Imaging.Normalization;
using MedTransfer.Imaging.Resampling;

namespace MedTransfer.Imaging.Tests.Normalization;

/// <summary>
/// The indexed fast path (counting histogram over stored values, presentation table, clip folded into the table) must
/// give what the general path gives on the per-pixel presentation floats of the same DICOM frame.
/// </summary>
public sealed class IndexedFastPathTests
{
    public static TheoryData<int> Seeds() => [.. Enumerable.Range(0, 40)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Normalize_IndexedDicom_EqualsPerPixelFloatPath(int seed)
    {
        var random = new Random(1000 + seed);
        (DicomDataset ds, string description) = RandomDataset(random);
        var file = new DicomFile(ds, TransferSyntax.ExplicitVRLittleEndian);
        var recipe = new XrayRecipe
        {
            Voi = random.Next(4) == 0 ? VoiMode.None : VoiMode.UseFileWindow,
            Clip = random.Next(3) == 0 ? new PercentileClip(0, 100) : new PercentileClip(random.NextDouble() * 5, 95 + (random.NextDouble() * 5)),
            Resize = new ResizeOptions(random.Next(8, 80), random.Next(2) == 0 ? ResizeMethod.Area : ResizeMethod.Lanczos3, random.Next(3) == 0 ? 0.5f : 0f),
            Channels = random.Next(2) == 0 ? 1 : 3,
        };

        SourceImage fast = DicomSourceReader.Read(file, 0, recipe.Voi == VoiMode.UseFileWindow);
        Assert.NotNull(fast.Indexed);
        SourceImage reference = PerPixelReference(file, recipe.Voi == VoiMode.UseFileWindow);

        XrayTensor a = XrayNormalizer.Normalize(fast, recipe);
        XrayTensor b = XrayNormalizer.Normalize(reference, recipe);

        Assert.True(Math.Abs(a.ClipLow - b.ClipLow) <= 1e-9 * Math.Max(1, Math.Abs(b.ClipLow)), description);
        Assert.True(Math.Abs(a.ClipHigh - b.ClipHigh) <= 1e-9 * Math.Max(1, Math.Abs(b.ClipHigh)), description);
        Assert.Equal(b.Placement, a.Placement);
        Assert.Equal(b.Report.Warnings.Select(w => w.Code), a.Report.Warnings.Select(w => w.Code));
        Assert.Equal(b.Tensor.Length, a.Tensor.Length);
        for (int i = 0; i < a.Tensor.Length; i++)
        {
            Assert.True(Math.Abs(a.Tensor[i] - b.Tensor[i]) <= 1e-6, $"{description}: element {i} {a.Tensor[i]} vs {b.Tensor[i]}");
        }

        // The float view expanded from the indexed form is the per-pixel pipeline, value for value.
        Assert.Equal(reference.Image.Pixels, fast.Image.Pixels);
    }

    [Fact]
    public void Normalize_IndexedWithCollimationCrop_UsesTheGeneralPathAndAgrees()
    {
        var random = new Random(5);
        const int W = 90;
        const int H = 70;
        ushort[] stored = [.. Enumerable.Range(0, W * H).Select(i => i / W < 10 ? (ushort)0 : (ushort)random.Next(500, 4000))];
        var file = new DicomFile(Dataset(W, H, stored, 16, 12, 11, signed: false, "MONOCHROME2"), TransferSyntax.ExplicitVRLittleEndian);
        var recipe = new XrayRecipe { CropCollimation = new CollimationCrop(), Resize = new ResizeOptions(32) };

        XrayTensor a = XrayNormalizer.Normalize(DicomSourceReader.Read(file), recipe);
        XrayTensor b = XrayNormalizer.Normalize(PerPixelReference(file, true), recipe);

        Assert.True(a.Report.Has(NormalizationWarningCode.BordersCropped));
        Assert.Equal(b.Tensor, a.Tensor);
    }

    [Theory]
    [InlineData(8, 0)]
    [InlineData(16, 0)]
    [InlineData(16, 4)]
    public void Normalize_GreyPng_IsIndexedAndEqualsTheFloatPath(int bitDepth, int colourType)
    {
        var random = new Random(bitDepth + colourType);
        const int W = 97;
        const int H = 61;
        int channels = colourType == 4 ? 2 : 1;
        int max = (1 << bitDepth) - 1;
        ushort[] samples = [.. Enumerable.Range(0, W * H * channels).Select(i => (ushort)Math.Clamp((i / channels % W * max / W) + random.Next(-max / 20, (max / 20) + 1), 0, max))];
        SourceImage png = RasterImageReader.Read(Images.PngTestEncoder.Encode(W, H, colourType, bitDepth, samples));
        Assert.NotNull(png.Indexed);
        var recipe = new XrayRecipe { Resize = new ResizeOptions(50) };

        XrayTensor a = XrayNormalizer.Normalize(png, recipe);
        XrayTensor b = XrayNormalizer.Normalize(new SourceImage(png.Image, SourceImageFormat.Png, bitDepth), recipe);

        Assert.Equal(b.ClipLow, a.ClipLow);
        Assert.Equal(b.ClipHigh, a.ClipHigh);
        Assert.Equal(b.Tensor, a.Tensor);
        Assert.Equal((float)samples[channels * 5], png.Image[5, 0]);
    }

    [Fact]
    public void IndexedImage_IndexOutsideTheTable_IsRejected()
    {
        Assert.Throws<ArgumentException>(() => new IndexedImage(2, 2, [0, 1, 2, 7], new float[4]));
        Assert.Throws<ArgumentException>(() => new IndexedImage(2, 2, [0, 1, 2], new float[4]));
        Assert.Throws<ArgumentException>(() => new IndexedImage(2, 2, [0, 1, 2, 3], []));
    }

    [Fact]
    public void Normalize_AllValuesNonFinite_ThrowsLikeTheFloatPath()
    {
        var indexed = new IndexedImage(4, 4, new ushort[16], [float.NaN]);

        Assert.Throws<ArgumentException>(() => XrayNormalizer.Normalize(SourceImage.FromIndexed(indexed, SourceImageFormat.Dicom, 16), new XrayRecipe()));
        Assert.Throws<ArgumentException>(() => XrayNormalizer.Normalize(new SourceImage(indexed.ToImageF(), SourceImageFormat.Dicom, 16), new XrayRecipe()));
    }

    [Fact]
    public void Normalize_NonMonotoneTableWithNonFiniteEntries_MatchesTheFloatPath()
    {
        var random = new Random(9);
        float[] table = [.. Enumerable.Range(0, 300).Select(k => k % 37 == 0 ? float.NaN : (float)Math.Sin(k * 0.37) * 1000)];
        ushort[] indices = [.. Enumerable.Range(0, 123 * 77).Select(_ => (ushort)random.Next(300))];
        var indexed = new IndexedImage(123, 77, indices, table);
        var recipe = new XrayRecipe { Resize = new ResizeOptions(40, ResizeMethod.Lanczos3) };

        XrayTensor a = XrayNormalizer.Normalize(SourceImage.FromIndexed(indexed, SourceImageFormat.Png, 16), recipe);
        XrayTensor b = XrayNormalizer.Normalize(new SourceImage(indexed.ToImageF(), SourceImageFormat.Png, 16), recipe);

        Assert.Equal(b.ClipLow, a.ClipLow);
        Assert.Equal(b.ClipHigh, a.ClipHigh);
        Assert.Equal(b.Report.Warnings.Select(w => w.Code), a.Report.Warnings.Select(w => w.Code));
        for (int i = 0; i < a.Tensor.Length; i++)
        {
            Assert.Equal(b.Tensor[i], a.Tensor[i], 1e-6f);
        }
    }

    private static SourceImage PerPixelReference(DicomFile file, bool applyVoi)
    {
        DicomImage image = DicomImage.Create(file);
        bool voi = applyVoi && image.Voi is not null;
        float[] pixels = image.PresentationFloats(0, voi);
        return new SourceImage(
            new ImageF(image.Module.Columns, image.Module.Rows, pixels),
            SourceImageFormat.Dicom,
            image.Module.BitsStored,
            WasMonochrome1: image.Module.Photometric == "MONOCHROME1",
            VoiApplied: voi);
    }

    private static (DicomDataset Dataset, string Description) RandomDataset(Random random)
    {
        int width = random.Next(3, 160);
        int height = random.Next(3, 160);
        int allocated = random.Next(4) == 0 ? 8 : 16;
        int bits = random.Next(Math.Min(6, allocated), allocated + 1);
        int highBit = bits - 1; // strict validation requires HighBit = BitsStored − 1
        bool signed = random.Next(3) == 0;
        string photometric = random.Next(2) == 0 ? "MONOCHROME1" : "MONOCHROME2";

        // Smooth content over part of the stored range plus noise; raw samples carry junk in the unused bits.
        int levels = 1 << bits;
        int lo = random.Next(levels / 2);
        int span = Math.Max(2, random.Next(levels - lo));
        var stored = new ushort[width * height];
        int shift = highBit - bits + 1;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                double smooth = lo + (span * (0.5 + (0.5 * Math.Sin(x / 9.0) * Math.Cos(y / 7.0))));
                int index = Math.Clamp((int)smooth + random.Next(-span / 10, (span / 10) + 1), 0, levels - 1);
                int value = signed ? index ^ (levels >> 1) : index; // offset binary → two's complement bit pattern
                int junk = random.Next(1 << 16) & ~(((levels - 1) << shift) & 0xFFFF);
                stored[(y * width) + x] = (ushort)(((value << shift) | junk) & (allocated == 8 ? 0xFF : 0xFFFF));
            }
        }

        DicomDataset ds = Dataset(width, height, stored, allocated, bits, highBit, signed, photometric);
        var parts = new List<string> { $"{width}x{height} BA{allocated} BS{bits} HB{highBit} {(signed ? "signed" : "unsigned")} {photometric}" };
        switch (random.Next(3))
        {
            case 0:
                double slope = (random.Next(2) == 0 ? -1 : 1) * (0.1 + (random.NextDouble() * 3));
                double intercept = (random.NextDouble() - 0.5) * 2000;
                ds.SetNumbers(new DicomTag(0x0028, 0x1053), DicomVR.DS, Math.Round(slope, 4));
                ds.SetNumbers(new DicomTag(0x0028, 0x1052), DicomVR.DS, Math.Round(intercept, 2));
                parts.Add($"rescale {slope:F4}/{intercept:F2}");
                break;
            case 1:
                ds.SetSequence(new DicomTag(0x0028, 0x3000), [Lut(random, levels, signed, monotone: true)]);
                parts.Add("modality LUT");
                break;
        }

        switch (random.Next(5))
        {
            case 0:
            case 1:
            {
                string function = new[] { "LINEAR", "LINEAR_EXACT", "SIGMOID" }[random.Next(3)];
                double centre = (signed ? -levels / 4.0 : levels / 2.0) + (random.NextDouble() * levels / 4);
                double width2 = 2 + (random.NextDouble() * levels);
                ds.SetNumbers(new DicomTag(0x0028, 0x1050), DicomVR.DS, Math.Round(centre, 2));
                ds.SetNumbers(new DicomTag(0x0028, 0x1051), DicomVR.DS, Math.Round(width2, 2));
                ds.Set(new DicomTag(0x0028, 0x1056), DicomVR.CS, function);
                parts.Add($"window {function}");
                break;
            }

            case 2:
            {
                bool monotone = random.Next(2) == 0;
                ds.SetSequence(new DicomTag(0x0028, 0x3010), [Lut(random, levels, signed, monotone)]);
                parts.Add(monotone ? "VOI LUT" : "non-monotone VOI LUT");
                break;
            }
        }

        return (ds, string.Join(", ", parts));
    }

    // A 12-bit table over part of the input range (inputs beyond it clamp to the end entries).
    private static DicomDataset Lut(Random random, int levels, bool signed, bool monotone)
    {
        int entries = Math.Max(2, random.Next(levels / 4, levels + 1));
        int first = (signed ? -levels / 2 : 0) + random.Next(levels / 4);
        var data = new byte[entries * 2];
        double value = random.Next(100);
        for (int i = 0; i < entries; i++)
        {
            value = monotone ? value + random.NextDouble() * 4000.0 / entries : 2000 + (1900 * Math.Sin(i * 0.05)) + random.Next(50);
            BitConverter.TryWriteBytes(data.AsSpan(2 * i), (ushort)Math.Clamp(value, 0, 4095));
        }

        var item = new DicomDataset();
        item.SetNumbers(new DicomTag(0x0028, 0x3002), signed ? DicomVR.SS : DicomVR.US, entries == 65536 ? 0 : entries, first, 12);
        item.SetBytes(new DicomTag(0x0028, 0x3006), DicomVR.OW, data);
        return item;
    }

    private static DicomDataset Dataset(int columns, int rows, ushort[] stored, int allocated, int bits, int highBit, bool signed, string photometric)
    {
        var ds = new DicomDataset();
        ds.Set(new DicomTag(0x0008, 0x0016), DicomVR.UI, "1.2.840.10008.5.1.4.1.1.1");
        ds.Set(new DicomTag(0x0008, 0x0018), DicomVR.UI, "2.25.777");
        ds.SetNumbers(new DicomTag(0x0028, 0x0002), DicomVR.US, 1);
        ds.Set(new DicomTag(0x0028, 0x0004), DicomVR.CS, photometric);
        ds.SetNumbers(Tag.Rows, DicomVR.US, rows);
        ds.SetNumbers(Tag.Columns, DicomVR.US, columns);
        ds.SetNumbers(Tag.BitsAllocated, DicomVR.US, allocated);
        ds.SetNumbers(Tag.BitsStored, DicomVR.US, bits);
        ds.SetNumbers(Tag.HighBit, DicomVR.US, highBit);
        ds.SetNumbers(new DicomTag(0x0028, 0x0103), DicomVR.US, signed ? 1 : 0);
        byte[] bytes;
        if (allocated == 16)
        {
            bytes = new byte[stored.Length * 2];
            for (int i = 0; i < stored.Length; i++)
            {
                BitConverter.TryWriteBytes(bytes.AsSpan(i * 2), stored[i]);
            }
        }
        else
        {
            bytes = [.. stored.Select(v => (byte)v)];
            if (bytes.Length % 2 == 1)
            {
                bytes = [.. bytes, 0];
            }
        }

        ds.SetBytes(DicomTag.PixelData, allocated == 16 ? DicomVR.OW : DicomVR.OB, bytes);
        return ds;
    }
}
