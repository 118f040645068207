using System.Buffers.Binary;
using System.IO.Compression;

namespace MedTransfer.Imaging.Nifti;

/// <summary>Options for <see cref="NiftiWriter"/>.</summary>
public sealed record NiftiWriteOptions
{
    /// <summary>The defaults: NIfTI-1, float32, gzip decided by the file name (.gz).</summary>
    public static NiftiWriteOptions Default { get; } = new();

    /// <summary>1 (348-byte header) or 2 (540-byte header). Default 1.</summary>
    public int Version { get; init; } = 1;

    /// <summary>
    /// <see cref="NiftiDataType.Float32"/> (default, exact) or <see cref="NiftiDataType.Int16"/>: values are then stored
    /// as round((v − scl_inter) / scl_slope) with slope/intercept chosen to span the data (slope 1, intercept 0 when the
    /// data are whole numbers that fit int16, so integer images round-trip exactly).
    /// </summary>
    public NiftiDataType DataType { get; init; } = NiftiDataType.Float32;

    /// <summary>Text for the 80-byte descrip field (ASCII; longer text is cut). Never put patient data here.</summary>
    public string Description { get; init; } = "MedTransfer";

    /// <summary>The time between volumes of a 4-D image in seconds (pixdim[4], e.g. the repetition time), or null.</summary>
    public double? TimeStepSeconds { get; init; }
}

/// <summary>
/// Writes volumes as single-file NIfTI-1 or NIfTI-2 (.nii, or gzip when the name ends in .gz), little-endian,
/// with both the sform (the exact affine, sform_code 1 = scanner) and the qform (its closest rotation, qform_code 1)
/// set, xyzt_units millimetres. The file is written to a temporary name and renamed when complete.
/// </summary>
public static class NiftiWriter
{
    /// <summary>Writes one 3-D volume.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Write(Volume volume, string path, NiftiWriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(volume);
        Write([volume], path, options);
    }

    /// <summary>
    /// Writes volumes of one grid as a 4-D image (dim[4] = count; a single volume gives a 3-D image). All volumes
    /// need the same size and the same affine (within 1e-4 mm) as the first.
    /// </summary>
    /// <exception cref="ArgumentException">The volumes differ in size or geometry, or the options are invalid.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Write(IReadOnlyList<Volume> volumes, string path, NiftiWriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(volumes);
        ArgumentNullException.ThrowIfNull(path);
        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full) ?? ".", $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                if (full.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
                {
                    using var gzip = new GZipStream(file, CompressionLevel.Fastest, leaveOpen: true);
                    Write(volumes, gzip, options);
                }
                else
                {
                    Write(volumes, file, options);
                }

                file.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>Writes the uncompressed NIfTI bytes of <paramref name="volumes"/> to <paramref name="stream"/>.</summary>
    /// <exception cref="ArgumentException">The volumes differ in size or geometry, or the options are invalid.</exception>
    public static void Write(IReadOnlyList<Volume> volumes, Stream stream, NiftiWriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(volumes);
        ArgumentNullException.ThrowIfNull(stream);
        options ??= NiftiWriteOptions.Default;
        if (volumes.Count == 0)
        {
            throw new ArgumentException("At least one volume is needed.", nameof(volumes));
        }

        if (options.Version is not (1 or 2))
        {
            throw new ArgumentException("Version must be 1 or 2.", nameof(options));
        }

        if (options.DataType is not (NiftiDataType.Float32 or NiftiDataType.Int16))
        {
            throw new ArgumentException("The writer stores float32 or int16.", nameof(options));
        }

        Volume first = volumes[0];
        foreach (Volume v in volumes)
        {
            if (v.NX != first.NX || v.NY != first.NY || v.NZ != first.NZ)
            {
                throw new ArgumentException("All volumes need the same size.", nameof(volumes));
            }

            for (int i = 0; i < 16; i++)
            {
                if (Math.Abs(v.Affine[i] - first.Affine[i]) > 1e-4)
                {
                    throw new ArgumentException("All volumes need the same affine.", nameof(volumes));
                }
            }
        }

        (double slope, double intercept) = options.DataType == NiftiDataType.Int16 ? Int16Scaling(volumes) : (1.0, 0.0);
        byte[] header = options.Version == 1
            ? Nifti1Header(first, volumes.Count, options, slope, intercept)
            : Nifti2Header(first, volumes.Count, options, slope, intercept);
        stream.Write(header);
        stream.Write(new byte[4]); // extension flag: no extensions

        int bytes = options.DataType == NiftiDataType.Int16 ? 2 : 4;
        var buffer = new byte[1 << 16];
        int at = 0;
        foreach (Volume v in volumes)
        {
            foreach (float value in v.Voxels)
            {
                if (at + bytes > buffer.Length)
                {
                    stream.Write(buffer, 0, at);
                    at = 0;
                }

                if (bytes == 4)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(at), value);
                }
                else
                {
                    double stored = Math.Round((value - intercept) / slope, MidpointRounding.AwayFromZero);
                    BinaryPrimitives.WriteInt16LittleEndian(buffer.AsSpan(at), (short)Math.Clamp(double.IsNaN(stored) ? 0 : stored, short.MinValue, short.MaxValue));
                }

                at += bytes;
            }
        }

        stream.Write(buffer, 0, at);
    }

    private static (double Slope, double Intercept) Int16Scaling(IReadOnlyList<Volume> volumes)
    {
        double min = double.PositiveInfinity;
        double max = double.NegativeInfinity;
        bool whole = true;
        foreach (Volume v in volumes)
        {
            foreach (float f in v.Voxels)
            {
                if (!float.IsFinite(f))
                {
                    continue;
                }

                min = Math.Min(min, f);
                max = Math.Max(max, f);
                whole &= Math.Floor(f) == f;
            }
        }

        if (!double.IsFinite(min))
        {
            return (1, 0);
        }

        if (whole && min >= short.MinValue && max <= short.MaxValue)
        {
            return (1, 0);
        }

        double range = max - min;
        double slope = range > 0 ? range / 65534.0 : 1;
        double intercept = min + (32767 * slope);
        return (slope, intercept);
    }

    private static byte[] Nifti1Header(Volume v, int count, NiftiWriteOptions options, double slope, double intercept)
    {
        var h = new byte[348];
        Span<byte> s = h;
        BinaryPrimitives.WriteInt32LittleEndian(s, 348);
        s[38] = (byte)'r'; // "regular", kept for ANALYZE readers
        short[] dim = [(short)(count > 1 ? 4 : 3), Short(v.NX), Short(v.NY), Short(v.NZ), Short(count), 1, 1, 1];
        for (int i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(s[(40 + (2 * i))..], dim[i]);
        }

        int bits = options.DataType == NiftiDataType.Int16 ? 16 : 32;
        BinaryPrimitives.WriteInt16LittleEndian(s[70..], (short)options.DataType);
        BinaryPrimitives.WriteInt16LittleEndian(s[72..], (short)bits);
        var q = NiftiGeometry.AffineToQuaternion(v.Affine);
        float[] pixdim = [(float)q.Qfac, (float)q.Dx, (float)q.Dy, (float)q.Dz, (float)TimeStep(options), 1, 1, 1];
        for (int i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(s[(76 + (4 * i))..], pixdim[i]);
        }

        BinaryPrimitives.WriteSingleLittleEndian(s[108..], 352f);
        BinaryPrimitives.WriteSingleLittleEndian(s[112..], (float)slope);
        BinaryPrimitives.WriteSingleLittleEndian(s[116..], (float)intercept);
        s[123] = Units(options);
        WriteAscii(s.Slice(148, 80), options.Description);
        BinaryPrimitives.WriteInt16LittleEndian(s[252..], 1);
        BinaryPrimitives.WriteInt16LittleEndian(s[254..], 1);
        double[] quatern = [q.B, q.C, q.D, v.Affine[3], v.Affine[7], v.Affine[11]];
        for (int i = 0; i < 6; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(s[(256 + (4 * i))..], (float)quatern[i]);
        }

        for (int i = 0; i < 12; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(s[(280 + (4 * i))..], (float)v.Affine[i]);
        }

        "n+1\0"u8.CopyTo(s[344..]);
        return h;
    }

    private static byte[] Nifti2Header(Volume v, int count, NiftiWriteOptions options, double slope, double intercept)
    {
        var h = new byte[540];
        Span<byte> s = h;
        BinaryPrimitives.WriteInt32LittleEndian(s, 540);
        "n+2\0\r\n\u001a\n"u8.CopyTo(s[4..]);
        int bits = options.DataType == NiftiDataType.Int16 ? 16 : 32;
        BinaryPrimitives.WriteInt16LittleEndian(s[12..], (short)options.DataType);
        BinaryPrimitives.WriteInt16LittleEndian(s[14..], (short)bits);
        long[] dim = [count > 1 ? 4 : 3, v.NX, v.NY, v.NZ, count, 1, 1, 1];
        for (int i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(s[(16 + (8 * i))..], dim[i]);
        }

        var q = NiftiGeometry.AffineToQuaternion(v.Affine);
        double[] pixdim = [q.Qfac, q.Dx, q.Dy, q.Dz, TimeStep(options), 1, 1, 1];
        for (int i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(s[(104 + (8 * i))..], pixdim[i]);
        }

        BinaryPrimitives.WriteInt64LittleEndian(s[168..], 544);
        BinaryPrimitives.WriteDoubleLittleEndian(s[176..], slope);
        BinaryPrimitives.WriteDoubleLittleEndian(s[184..], intercept);
        WriteAscii(s.Slice(240, 80), options.Description);
        BinaryPrimitives.WriteInt32LittleEndian(s[344..], 1);
        BinaryPrimitives.WriteInt32LittleEndian(s[348..], 1);
        double[] quatern = [q.B, q.C, q.D, v.Affine[3], v.Affine[7], v.Affine[11]];
        for (int i = 0; i < 6; i++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(s[(352 + (8 * i))..], quatern[i]);
        }

        for (int i = 0; i < 12; i++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(s[(400 + (8 * i))..], v.Affine[i]);
        }

        BinaryPrimitives.WriteInt32LittleEndian(s[500..], Units(options));
        return h;
    }

    private static double TimeStep(NiftiWriteOptions options) => options.TimeStepSeconds is { } t && double.IsFinite(t) && t > 0 ? t : 1;

    // NIFTI_UNITS_MM (2), plus NIFTI_UNITS_SEC (8) when pixdim[4] holds a time step.
    private static byte Units(NiftiWriteOptions options) => (byte)(options.TimeStepSeconds is { } t && double.IsFinite(t) && t > 0 ? 2 | 8 : 2);

    private static short Short(int value) => value <= short.MaxValue
        ? (short)value
        : throw new ArgumentException("A dimension above 32767 needs NIfTI-2 (Version = 2).", nameof(value));

    private static void WriteAscii(Span<byte> field, string text)
    {
        int n = 0;
        foreach (char c in text)
        {
            if (n >= field.Length - 1)
            {
                break;
            }

            field[n++] = c is >= ' ' and <= '~' ? (byte)c : (byte)'?';
        }
    }
}
