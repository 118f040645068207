using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using MedTransfer.Dicom;

namespace MedTransfer.Imaging.Tests.Volumes;

/// <summary>One generated MR image: its geometry, grouping attributes and rescale.</summary>
internal sealed record SliceSpec
{
    public required double[] Position { get; init; }

    public double[] Orientation { get; init; } = [1, 0, 0, 0, 1, 0];

    public int Instance { get; init; } = 1;

    public int Rows { get; init; } = 4;

    public int Columns { get; init; } = 5;

    /// <summary>Row spacing, column spacing (PS3.3 order).</summary>
    public double[] PixelSpacing { get; init; } = [0.8, 0.6];

    public int? Echo { get; init; }

    public int? Acquisition { get; init; }

    public double Slope { get; init; } = 1;

    public double Intercept { get; init; }

    public string SeriesUid { get; init; } = "1.2.826.0.1.3680043.10.1.1";

    public int SeriesNumber { get; init; } = 1;

    public string Description { get; init; } = "synthetic";

    public string? Manufacturer { get; init; }

    /// <summary>Philips MR Scale Slope, written as (2005,100E) FL with creator "Philips MR Imaging DD 001".</summary>
    public double? PhilipsScaleSlope { get; init; }

    /// <summary>Diffusion b-value (0018,9087) and gradient (0018,9089, patient frame), written at the top level.</summary>
    public double? BValue { get; init; }

    public double[]? Gradient { get; init; }

    /// <summary>The stored value of pixel (row, column): unique per instance so slice order is visible.</summary>
    public short Stored(int row, int column) => (short)((Instance * 100) + (row * 10) + column);

    /// <summary>The modality value the volume must hold for pixel (row, column).</summary>
    public float Expected(int row, int column) => (float)((Slope * Stored(row, column)) + Intercept);
}

/// <summary>Writes small DICOM MR series with the project's own writer.</summary>
internal static class SyntheticSeries
{
    public static string Write(string folder, SliceSpec spec, string? name = null)
    {
        Directory.CreateDirectory(folder);
        DicomDataset ds = Base(spec, frames: 1);
        ds.SetNumbers(Tag.ImagePositionPatient, DicomVR.DS, spec.Position);
        ds.SetNumbers(Tag.ImageOrientationPatient, DicomVR.DS, spec.Orientation);
        ds.SetNumbers(Tag.PixelSpacing, DicomVR.DS, spec.PixelSpacing);
        ds.SetNumbers(Tag.RescaleIntercept, DicomVR.DS, spec.Intercept);
        ds.SetNumbers(Tag.RescaleSlope, DicomVR.DS, spec.Slope);
        ds.SetBytes(DicomTag.PixelData, DicomVR.OW, Pixels([spec]));
        string path = Path.Combine(folder, name ?? string.Create(CultureInfo.InvariantCulture, $"s{spec.SeriesNumber}_i{spec.Instance}_{Guid.NewGuid():N}.dcm"));
        new DicomFile(ds, TransferSyntax.ExplicitVRLittleEndian).Save(path);
        return path;
    }

    /// <summary>Axial-like stack: slice k at origin + k·step along the normal of <paramref name="orientation"/>, optionally adjusted by <paramref name="tweak"/>.</summary>
    public static List<SliceSpec> Stack(double[] origin, double[] orientation, IReadOnlyList<double> offsets, Func<SliceSpec, SliceSpec>? tweak = null)
    {
        double[] n =
        [
            (orientation[1] * orientation[5]) - (orientation[2] * orientation[4]),
            (orientation[2] * orientation[3]) - (orientation[0] * orientation[5]),
            (orientation[0] * orientation[4]) - (orientation[1] * orientation[3]),
        ];
        var specs = new List<SliceSpec>();
        for (int k = 0; k < offsets.Count; k++)
        {
            var spec = new SliceSpec
            {
                Position = [origin[0] + (n[0] * offsets[k]), origin[1] + (n[1] * offsets[k]), origin[2] + (n[2] * offsets[k])],
                Orientation = orientation,
                Instance = k + 1,
            };
            specs.Add(tweak is null ? spec : tweak(spec));
        }

        return specs;
    }

    /// <summary>An enhanced MR multi-frame file: per-frame plane positions, shared orientation, measures and rescale.</summary>
    public static string WriteEnhanced(string folder, IReadOnlyList<SliceSpec> frames)
    {
        Directory.CreateDirectory(folder);
        SliceSpec first = frames[0];
        DicomDataset ds = Base(first, frames.Count);
        var shared = new DicomDataset();
        ds.SetSequence(Tag.SharedFunctionalGroupsSequence, [shared]);
        var orientation = new DicomDataset();
        shared.SetSequence(Tag.PlaneOrientationSequence, [orientation]);
        orientation.SetNumbers(Tag.ImageOrientationPatient, DicomVR.DS, first.Orientation);
        var measures = new DicomDataset();
        shared.SetSequence(Tag.PixelMeasuresSequence, [measures]);
        measures.SetNumbers(Tag.PixelSpacing, DicomVR.DS, first.PixelSpacing);
        measures.SetNumbers(Tag.SliceThickness, DicomVR.DS, 1);
        var transform = new DicomDataset();
        shared.SetSequence(Tag.PixelValueTransformationSequence, [transform]);
        transform.SetNumbers(Tag.RescaleIntercept, DicomVR.DS, first.Intercept);
        transform.SetNumbers(Tag.RescaleSlope, DicomVR.DS, first.Slope);
        transform.Set(Tag.RescaleType, DicomVR.LO, "US");
        var perFrame = new List<DicomDataset>();
        foreach (SliceSpec f in frames)
        {
            var item = new DicomDataset();
            var position = new DicomDataset();
            item.SetSequence(Tag.PlanePositionSequence, [position]);
            position.SetNumbers(Tag.ImagePositionPatient, DicomVR.DS, f.Position);
            perFrame.Add(item);
        }

        ds.SetSequence(Tag.PerFrameFunctionalGroupsSequence, perFrame);
        ds.SetBytes(DicomTag.PixelData, DicomVR.OW, Pixels(frames));
        string path = Path.Combine(folder, $"enhanced_{Guid.NewGuid():N}.dcm");
        new DicomFile(ds, TransferSyntax.ExplicitVRLittleEndian).Save(path);
        return path;
    }

    /// <summary>A classic multi-frame file: one position, frames stepping by Spacing Between Slices.</summary>
    public static string WriteClassicMultiFrame(string folder, IReadOnlyList<SliceSpec> frames, double spacing)
    {
        Directory.CreateDirectory(folder);
        SliceSpec first = frames[0];
        DicomDataset ds = Base(first, frames.Count);
        ds.SetNumbers(Tag.ImagePositionPatient, DicomVR.DS, first.Position);
        ds.SetNumbers(Tag.ImageOrientationPatient, DicomVR.DS, first.Orientation);
        ds.SetNumbers(Tag.PixelSpacing, DicomVR.DS, first.PixelSpacing);
        ds.SetNumbers(Tag.SpacingBetweenSlices, DicomVR.DS, spacing);
        ds.SetBytes(DicomTag.PixelData, DicomVR.OW, Pixels(frames));
        string path = Path.Combine(folder, $"classic_{Guid.NewGuid():N}.dcm");
        new DicomFile(ds, TransferSyntax.ExplicitVRLittleEndian).Save(path);
        return path;
    }

    /// <summary>
    /// A Siemens-style mosaic of <paramref name="tiles"/> (all tiles the same size) in a ceil(√n) grid, with the image
    /// count in a CSA2 header (or only in (0019,xx0A) when <paramref name="withCsa"/> is false) and an optional slice normal.
    /// </summary>
    public static string WriteMosaic(string folder, SliceSpec mosaicGeometry, IReadOnlyList<SliceSpec> tiles, bool withCsa, double[]? sliceNormal, double spacing,
        bool withLegacyCount = true, int? declaredCount = null)
    {
        int count = declaredCount ?? tiles.Count;
        Directory.CreateDirectory(folder);
        int grid = (int)Math.Ceiling(Math.Sqrt(tiles.Count));
        int tileRows = tiles[0].Rows;
        int tileColumns = tiles[0].Columns;
        SliceSpec mosaic = mosaicGeometry with { Rows = tileRows * grid, Columns = tileColumns * grid };
        DicomDataset ds = Base(mosaic, frames: 1);
        ds.Set(Tag.ImageType, DicomVR.CS, "ORIGINAL", "PRIMARY", "M", "ND", "MOSAIC");
        ds.SetNumbers(Tag.ImagePositionPatient, DicomVR.DS, mosaic.Position);
        ds.SetNumbers(Tag.ImageOrientationPatient, DicomVR.DS, mosaic.Orientation);
        ds.SetNumbers(Tag.PixelSpacing, DicomVR.DS, mosaic.PixelSpacing);
        ds.SetNumbers(Tag.SpacingBetweenSlices, DicomVR.DS, spacing);
        if (withLegacyCount)
        {
            ds.Set(new DicomTag(0x0019, 0x0010), DicomVR.LO, "SIEMENS MR HEADER");
            ds.SetNumbers(new DicomTag(0x0019, 0x100A), DicomVR.US, count);
        }

        if (withCsa)
        {
            var entries = new List<(string, string[])> { ("NumberOfImagesInMosaic", [count.ToString(CultureInfo.InvariantCulture)]) };
            if (sliceNormal is not null)
            {
                entries.Add(("SliceNormalVector", [.. sliceNormal.Select(v => v.ToString("R", CultureInfo.InvariantCulture))]));
            }

            // Block 0x11 on purpose: the reader must resolve the private creator, not assume (0029,1010).
            ds.Set(new DicomTag(0x0029, 0x0011), DicomVR.LO, "SIEMENS CSA HEADER");
            ds.SetBytes(new DicomTag(0x0029, 0x1110), DicomVR.OB, Csa2(entries));
        }

        ds.SetBytes(DicomTag.PixelData, DicomVR.OW, Tiled(tiles, grid, mosaic));
        string path = Path.Combine(folder, $"mosaic_{Guid.NewGuid():N}.dcm");
        new DicomFile(ds, TransferSyntax.ExplicitVRLittleEndian).Save(path);
        return path;
    }

    /// <summary>
    /// A UIH VFRAME mosaic: the tiles row by row in a ⌈√n⌉-column grid, no top-level position, one item per tile
    /// (Image Position (Patient), Acquisition Time) in the private sequence (0065,xx51) of "Image Private Header",
    /// the count in (0065,xx50), and the diffusion weighting in (0065,xx09) and (0065,xx37) (image frame).
    /// </summary>
    public static string WriteUihMosaic(string folder, SliceSpec geometry, IReadOnlyList<SliceSpec> tiles, double[] tileTimes, double? bValue = null, double[]? imageGradient = null,
        int? declaredCount = null, bool withSequence = true, int? gridColumns = null, double? repetitionTimeMs = null)
    {
        Directory.CreateDirectory(folder);
        int columns = gridColumns ?? (int)Math.Ceiling(Math.Sqrt(tiles.Count));
        int gridRows = (tiles.Count + columns - 1) / columns;
        int tileRows = tiles[0].Rows;
        int tileColumns = tiles[0].Columns;
        SliceSpec mosaic = geometry with { Rows = tileRows * gridRows, Columns = tileColumns * columns };
        DicomDataset ds = Base(mosaic, frames: 1);
        ds.Set(Tag.ImageType, DicomVR.CS, "ORIGINAL", "PRIMARY", "M", "VFRAME", "MAGNITUDE");
        ds.Set(Tag.Manufacturer, DicomVR.LO, "UIH");
        ds.SetNumbers(Tag.ImageOrientationPatient, DicomVR.DS, mosaic.Orientation);
        ds.SetNumbers(Tag.PixelSpacing, DicomVR.DS, mosaic.PixelSpacing);
        ds.SetNumbers(Tag.SpacingBetweenSlices, DicomVR.DS, 99); // deliberately wrong: the tile positions rule
        if (repetitionTimeMs is { } tr)
        {
            ds.SetNumbers(Tag.RepetitionTime, DicomVR.DS, tr);
        }

        // Block 0x12 on purpose: the reader must resolve the private creator.
        ds.Set(new DicomTag(0x0065, 0x0012), DicomVR.LO, "Image Private Header");
        ds.SetNumbers(new DicomTag(0x0065, 0x1250), DicomVR.DS, declaredCount ?? tiles.Count);
        if (bValue is { } b)
        {
            ds.SetNumbers(new DicomTag(0x0065, 0x1209), DicomVR.FD, b);
            ds.SetNumbers(new DicomTag(0x0065, 0x1237), DicomVR.FD, imageGradient ?? [0, 0, 0]);
        }

        if (withSequence)
        {
            var items = new List<DicomDataset>();
            for (int t = 0; t < tiles.Count; t++)
            {
                var item = new DicomDataset();
                double seconds = tileTimes[t];
                item.Set(Tag.AcquisitionTime, DicomVR.TM, string.Create(CultureInfo.InvariantCulture, $"{(int)(seconds / 3600):00}{(int)(seconds / 60) % 60:00}{seconds % 60:00.000000}"));
                item.SetNumbers(Tag.ImagePositionPatient, DicomVR.DS, tiles[t].Position);
                items.Add(item);
            }

            ds.SetSequence(new DicomTag(0x0065, 0x1251), items);
        }

        ds.SetBytes(DicomTag.PixelData, DicomVR.OW, Tiled(tiles, columns, mosaic));
        string path = Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"vframe_{geometry.Instance}_{Guid.NewGuid():N}.dcm"));
        new DicomFile(ds, TransferSyntax.ExplicitVRLittleEndian).Save(path);
        return path;
    }

    /// <summary>A CSA2 ("SV10") header with the given text items.</summary>
    public static byte[] Csa2(IReadOnlyList<(string Name, string[] Values)> entries)
    {
        using var stream = new MemoryStream();
        var w = new BinaryWriter(stream);
        w.Write("SV10"u8);
        w.Write([4, 3, 2, 1]);
        w.Write(entries.Count);
        w.Write(77);
        foreach ((string name, string[] values) in entries)
        {
            var nameField = new byte[64];
            Encoding.ASCII.GetBytes(name).CopyTo(nameField, 0);
            w.Write(nameField);
            w.Write(values.Length); // VM
            w.Write("DS\0\0"u8);
            w.Write(3); // SyngoDT
            w.Write(values.Length);
            w.Write(77);
            foreach (string value in values)
            {
                byte[] text = [.. Encoding.ASCII.GetBytes(value), 0];
                w.Write(text.Length);
                w.Write(text.Length);
                w.Write(77);
                w.Write(text.Length);
                w.Write(text);
                w.Write(new byte[((text.Length + 3) / 4 * 4) - text.Length]);
            }
        }

        return stream.ToArray();
    }

    private static DicomDataset Base(SliceSpec spec, int frames)
    {
        var ds = new DicomDataset();
        ds.Set(Tag.ImageType, DicomVR.CS, "ORIGINAL", "PRIMARY");
        ds.Set(Tag.SOPClassUID, DicomVR.UI, frames > 1 ? "1.2.840.10008.5.1.4.1.1.4.1" : "1.2.840.10008.5.1.4.1.1.4");
        ds.Set(Tag.SOPInstanceUID, DicomVR.UI, string.Create(CultureInfo.InvariantCulture, $"{spec.SeriesUid}.{spec.Instance}.{spec.Echo ?? 0}.{spec.Acquisition ?? 0}"));
        ds.Set(Tag.Modality, DicomVR.CS, "MR");
        ds.Set(Tag.SeriesDescription, DicomVR.LO, spec.Description);
        ds.Set(Tag.PatientName, DicomVR.PN, "SYNTHETIC^CANARY");
        ds.Set(Tag.StudyInstanceUID, DicomVR.UI, "1.2.826.0.1.3680043.10.1");
        ds.Set(Tag.SeriesInstanceUID, DicomVR.UI, spec.SeriesUid);
        ds.SetNumbers(Tag.SeriesNumber, DicomVR.IS, spec.SeriesNumber);
        ds.SetNumbers(Tag.InstanceNumber, DicomVR.IS, spec.Instance);
        if (spec.Echo is { } echo)
        {
            ds.SetNumbers(Tag.EchoNumbers, DicomVR.IS, echo);
        }

        if (spec.Acquisition is { } acquisition)
        {
            ds.SetNumbers(Tag.AcquisitionNumber, DicomVR.IS, acquisition);
        }

        if (spec.Manufacturer is { } manufacturer)
        {
            ds.Set(Tag.Manufacturer, DicomVR.LO, manufacturer);
        }

        if (spec.PhilipsScaleSlope is { } scaleSlope)
        {
            ds.Set(new DicomTag(0x2005, 0x0010), DicomVR.LO, "Philips MR Imaging DD 001");
            ds.SetNumbers(new DicomTag(0x2005, 0x100E), DicomVR.FL, scaleSlope);
        }

        if (spec.BValue is { } b)
        {
            ds.SetNumbers(Tag.DiffusionBValue, DicomVR.FD, b);
            ds.SetNumbers(Tag.DiffusionGradientOrientation, DicomVR.FD, spec.Gradient ?? [0, 0, 0]);
        }

        ds.SetNumbers(Tag.SliceThickness, DicomVR.DS, 1);
        ds.SetNumbers(Tag.SamplesPerPixel, DicomVR.US, 1);
        ds.Set(Tag.PhotometricInterpretation, DicomVR.CS, "MONOCHROME2");
        if (frames > 1)
        {
            ds.SetNumbers(Tag.NumberOfFrames, DicomVR.IS, frames);
        }

        ds.SetNumbers(Tag.Rows, DicomVR.US, spec.Rows);
        ds.SetNumbers(Tag.Columns, DicomVR.US, spec.Columns);
        ds.SetNumbers(Tag.BitsAllocated, DicomVR.US, 16);
        ds.SetNumbers(Tag.BitsStored, DicomVR.US, 16);
        ds.SetNumbers(Tag.HighBit, DicomVR.US, 15);
        ds.SetNumbers(Tag.PixelRepresentation, DicomVR.US, 1);
        return ds;
    }

    /// <summary>The tiles' stored values row by row across a grid of <paramref name="gridColumns"/> columns in one mosaic frame.</summary>
    private static byte[] Tiled(IReadOnlyList<SliceSpec> tiles, int gridColumns, SliceSpec mosaic)
    {
        int tileRows = tiles[0].Rows;
        int tileColumns = tiles[0].Columns;
        var pixels = new byte[mosaic.Rows * mosaic.Columns * 2];
        for (int t = 0; t < tiles.Count; t++)
        {
            for (int r = 0; r < tileRows; r++)
            {
                for (int c = 0; c < tileColumns; c++)
                {
                    int at = ((((t / gridColumns) * tileRows) + r) * mosaic.Columns) + ((t % gridColumns) * tileColumns) + c;
                    BinaryPrimitives.WriteInt16LittleEndian(pixels.AsSpan(at * 2), tiles[t].Stored(r, c));
                }
            }
        }

        return pixels;
    }

    private static byte[] Pixels(IReadOnlyList<SliceSpec> frames)
    {
        int plane = frames[0].Rows * frames[0].Columns;
        var bytes = new byte[plane * frames.Count * 2];
        for (int f = 0; f < frames.Count; f++)
        {
            for (int r = 0; r < frames[f].Rows; r++)
            {
                for (int c = 0; c < frames[f].Columns; c++)
                {
                    BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(((f * plane) + (r * frames[f].Columns) + c) * 2), frames[f].Stored(r, c));
                }
            }
        }

        return bytes;
    }
}
