using System.Globalization;
using MedTransfer.Dicom;
using MedTransfer.Dicom.Pixels;
using MedTransfer.Synthetic.Randomness;

namespace MedTransfer.Bench.Ingest;

/// <summary>
/// A synthetic corpus for ingest benchmarks: radiograph-like DICOM files (CR, 16 bits allocated, 12 stored,
/// a header of the size scanners write, with sequences) in a rotation of transfer syntaxes (explicit VR LE,
/// implicit VR LE, RLE Lossless). Deterministic from the seed; no patient data (names are SYNTH^nnnn).
/// The sample-data generator (MedTransfer.Synthetic) makes the realistic phantoms; this corpus only needs to
/// be representative for parsing and decoding speed.
/// </summary>
public static class IngestCorpus
{
    /// <summary>The transfer syntaxes written in rotation.</summary>
    public static IReadOnlyList<TransferSyntax> Syntaxes { get; } =
        [TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian, TransferSyntax.RleLossless];

    /// <summary>Writes <paramref name="count"/> files of <paramref name="size"/>² pixels into <paramref name="folder"/>.</summary>
    /// <returns>The paths written.</returns>
    public static IReadOnlyList<string> Generate(string folder, int count, int size = 1024, ulong seed = 2026, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 8);
        Directory.CreateDirectory(folder);
        var rng = new SeededRandom(seed);
        var module = new PixelModule(size, size, 1, 16, 12, 11, 0, 0, "MONOCHROME2", 1);
        var paths = new List<string>(count);
        for (int i = 0; i < count; i++)
        {
            SeededRandom r = rng.Derive(string.Create(CultureInfo.InvariantCulture, $"file-{i}"));
            TransferSyntax syntax = Syntaxes[i % Syntaxes.Count];
            byte[] pixels = Radiograph(size, r);
            DicomDataset dataset = Header(i, size, r);
            if (syntax.IsEncapsulated)
            {
                dataset.SetFragments(DicomTag.PixelData, DicomVR.OB, new DicomFragments([], [RleEncoder.EncodeFrame(module, pixels)]));
            }
            else
            {
                dataset.SetBytes(DicomTag.PixelData, DicomVR.OW, pixels);
            }

            string path = Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"cr-{i:D5}.dcm"));
            new DicomFile(dataset, syntax).Save(path, new DicomWriteOptions { TransferSyntax = syntax });
            paths.Add(path);
            progress?.Report(i + 1);
        }

        return paths;
    }

    private static byte[] Radiograph(int size, SeededRandom r)
    {
        // A smooth body-like gradient with noise: compressible the way radiographs are, not a constant.
        var pixels = new byte[size * size * 2];
        double cx = size * r.NextDouble(0.4, 0.6);
        double cy = size * r.NextDouble(0.4, 0.6);
        for (int y = 0; y < size; y++)
        {
            for (int x = 0; x < size; x++)
            {
                double dx = (x - cx) / size;
                double dy = (y - cy) / size;
                double body = 2800 * Math.Exp(-4 * ((dx * dx) + (dy * dy)));
                int value = Math.Clamp((int)(400 + body + (40 * r.NextGaussian())), 0, 4095);
                int at = ((y * size) + x) * 2;
                pixels[at] = (byte)(value & 0xFF);
                pixels[at + 1] = (byte)(value >> 8);
            }
        }

        return pixels;
    }

    private static DicomDataset Header(int index, int size, SeededRandom r)
    {
        string id = index.ToString("D4", CultureInfo.InvariantCulture);
        string uid = string.Create(CultureInfo.InvariantCulture, $"2.25.{r.NextUInt64()}{index:D5}");
        var ds = new DicomDataset();
        ds.Set(new DicomTag(0x0008, 0x0005), DicomVR.CS, "ISO_IR 100");
        ds.Set(new DicomTag(0x0008, 0x0008), DicomVR.CS, "ORIGINAL", "PRIMARY");
        ds.Set(new DicomTag(0x0008, 0x0016), DicomVR.UI, "1.2.840.10008.5.1.4.1.1.1");
        ds.Set(new DicomTag(0x0008, 0x0018), DicomVR.UI, uid + ".3");
        ds.Set(new DicomTag(0x0008, 0x0020), DicomVR.DA, "20250101");
        ds.Set(new DicomTag(0x0008, 0x0030), DicomVR.TM, "101500");
        ds.Set(new DicomTag(0x0008, 0x0050), DicomVR.SH, "ACC" + id);
        ds.Set(new DicomTag(0x0008, 0x0060), DicomVR.CS, "CR");
        ds.Set(new DicomTag(0x0008, 0x0070), DicomVR.LO, "SYNTHETIC VENDOR");
        ds.Set(new DicomTag(0x0008, 0x0080), DicomVR.LO, "SYNTHETIC HOSPITAL");
        ds.Set(new DicomTag(0x0008, 0x1030), DicomVR.LO, "CHEST PA");
        ds.Set(new DicomTag(0x0008, 0x103E), DicomVR.LO, "PA");
        ds.Set(new DicomTag(0x0008, 0x1090), DicomVR.LO, "BENCH MODEL");
        var code = new DicomDataset();
        code.Set(new DicomTag(0x0008, 0x0100), DicomVR.SH, "RPID1");
        code.Set(new DicomTag(0x0008, 0x0102), DicomVR.SH, "RADLEX");
        code.Set(new DicomTag(0x0008, 0x0104), DicomVR.LO, "XR CHEST PA");
        ds.SetSequence(new DicomTag(0x0008, 0x1032), [code]);
        ds.Set(new DicomTag(0x0010, 0x0010), DicomVR.PN, "SYNTH^" + id);
        ds.Set(new DicomTag(0x0010, 0x0020), DicomVR.LO, "SYN" + id);
        ds.Set(new DicomTag(0x0010, 0x0030), DicomVR.DA, "19700101");
        ds.Set(new DicomTag(0x0010, 0x0040), DicomVR.CS, index % 2 == 0 ? "F" : "M");
        ds.Set(new DicomTag(0x0018, 0x0015), DicomVR.CS, "CHEST");
        ds.SetNumbers(new DicomTag(0x0018, 0x1164), DicomVR.DS, 0.143, 0.143);
        ds.Set(new DicomTag(0x0018, 0x5101), DicomVR.CS, "PA");
        ds.Set(new DicomTag(0x0020, 0x000D), DicomVR.UI, uid + ".1");
        ds.Set(new DicomTag(0x0020, 0x000E), DicomVR.UI, uid + ".2");
        ds.Set(new DicomTag(0x0020, 0x0010), DicomVR.SH, "1");
        ds.SetNumbers(new DicomTag(0x0020, 0x0011), DicomVR.IS, 1);
        ds.SetNumbers(new DicomTag(0x0020, 0x0013), DicomVR.IS, 1);
        ds.Set(new DicomTag(0x0020, 0x0020), DicomVR.CS, "L", "F");
        ds.SetNumbers(new DicomTag(0x0028, 0x0002), DicomVR.US, 1);
        ds.Set(new DicomTag(0x0028, 0x0004), DicomVR.CS, "MONOCHROME2");
        ds.SetNumbers(new DicomTag(0x0028, 0x0010), DicomVR.US, size);
        ds.SetNumbers(new DicomTag(0x0028, 0x0011), DicomVR.US, size);
        ds.SetNumbers(new DicomTag(0x0028, 0x0030), DicomVR.DS, 0.143, 0.143);
        ds.SetNumbers(new DicomTag(0x0028, 0x0100), DicomVR.US, 16);
        ds.SetNumbers(new DicomTag(0x0028, 0x0101), DicomVR.US, 12);
        ds.SetNumbers(new DicomTag(0x0028, 0x0102), DicomVR.US, 11);
        ds.SetNumbers(new DicomTag(0x0028, 0x0103), DicomVR.US, 0);
        ds.SetNumbers(new DicomTag(0x0028, 0x1050), DicomVR.DS, 2048);
        ds.SetNumbers(new DicomTag(0x0028, 0x1051), DicomVR.DS, 4096);
        ds.SetNumbers(new DicomTag(0x0028, 0x1052), DicomVR.DS, 0);
        ds.SetNumbers(new DicomTag(0x0028, 0x1053), DicomVR.DS, 1);
        ds.Set(new DicomTag(0x0028, 0x2110), DicomVR.CS, "00");
        return ds;
    }
}
