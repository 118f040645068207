using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;

namespace MedTransfer.Imaging.Nifti;

/// <summary>Limits for <see cref="NiftiReader"/> (every header value is checked against them before allocating).</summary>
internal sealed record NiftiReadOptions
{
    /// <summary>The defaults: at most 2^28 voxels (1 GiB of floats).</summary>
    public static NiftiReadOptions Default { get; } = new();

    private readonly long _maxVoxels = 1L << 28;

    /// <summary>The largest number of voxels (product of the used dims) accepted. Default 2^28.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive.</exception>
    public long MaxVoxels
    {
        get => _maxVoxels;
        init => _maxVoxels = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), "Must be positive.");
    }
}

/// <summary>
/// Reads single-file NIfTI-1 (<c>n+1</c>) and NIfTI-2 (<c>n+2</c>) images, plain or gzip-compressed, in either
/// byte order (detected from sizeof_hdr = 348 or 540). Every header value is validated before anything is
/// allocated: dim[] ranges and their checked product, the datatype and bitpix, vox_offset against the header
/// size and the data present. Failures are <see cref="NiftiFormatException"/>.
/// </summary>
internal static class NiftiReader
{
    private const int Nifti1HeaderSize = 348;
    private const int Nifti2HeaderSize = 540;

    /// <summary>Reads <paramref name="path"/> (.nii or .nii.gz; gzip is recognised by its magic bytes, not the name).</summary>
    /// <exception cref="NiftiFormatException">The file is unreadable, not NIfTI, or malformed.</exception>
    public static NiftiImage Read(string path, NiftiReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
        {
            throw new NiftiFormatException(NiftiErrorCode.Unreadable, "the path is a directory");
        }

        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            return Read(stream, options);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new NiftiFormatException(NiftiErrorCode.Unreadable, "the file could not be read", ex);
        }
    }

    /// <summary>Reads a NIfTI image from <paramref name="stream"/> (plain or gzip), from its current position.</summary>
    /// <exception cref="NiftiFormatException">The stream is not NIfTI, or malformed.</exception>
    public static NiftiImage Read(Stream stream, NiftiReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        options ??= NiftiReadOptions.Default;
        var head = new byte[2];
        int got = stream.ReadAtLeast(head, 2, throwOnEndOfStream: false);
        Stream body = new PrefixedStream(head.AsMemory(0, got), stream);
        if (got == 2 && head[0] == 0x1F && head[1] == 0x8B)
        {
            using var gzip = new GZipStream(body, CompressionMode.Decompress);
            try
            {
                return ReadPlain(gzip, knownLength: -1, options);
            }
            catch (InvalidDataException ex)
            {
                throw new NiftiFormatException(NiftiErrorCode.InvalidGzip, "the gzip stream is corrupt", ex);
            }
        }

        long length = stream.CanSeek ? stream.Length - stream.Position + got : -1;
        return ReadPlain(body, length, options);
    }

    private static NiftiImage ReadPlain(Stream stream, long knownLength, NiftiReadOptions options)
    {
        var header = new byte[Nifti2HeaderSize];
        int have = stream.ReadAtLeast(header.AsSpan(0, 4), 4, throwOnEndOfStream: false);
        if (have < 4)
        {
            throw new NiftiFormatException(NiftiErrorCode.Truncated, "the stream ends inside sizeof_hdr");
        }

        int sizeLe = BinaryPrimitives.ReadInt32LittleEndian(header);
        int sizeBe = BinaryPrimitives.ReadInt32BigEndian(header);
        bool bigEndian;
        int headerSize;
        if (sizeLe is Nifti1HeaderSize or Nifti2HeaderSize)
        {
            bigEndian = false;
            headerSize = sizeLe;
        }
        else if (sizeBe is Nifti1HeaderSize or Nifti2HeaderSize)
        {
            bigEndian = true;
            headerSize = sizeBe;
        }
        else
        {
            throw new NiftiFormatException(NiftiErrorCode.NotNifti, "sizeof_hdr is neither 348 nor 540 in either byte order");
        }

        have += stream.ReadAtLeast(header.AsSpan(4, headerSize - 4), headerSize - 4, throwOnEndOfStream: false);
        if (have < headerSize)
        {
            throw new NiftiFormatException(NiftiErrorCode.Truncated, "the stream ends inside the header");
        }

        var h = new HeaderReader(header, bigEndian);
        ParsedHeader p = headerSize == Nifti1HeaderSize ? ParseNifti1(h) : ParseNifti2(h);
        Validate(p, headerSize, options);

        int bytesPerVoxel = BytesPer(p.DataType);
        long dataBytes = checked(p.VoxelCount * bytesPerVoxel);
        if (dataBytes > Array.MaxLength)
        {
            throw new NiftiFormatException(NiftiErrorCode.TooLarge, "the voxel data exceeds the largest supported buffer");
        }

        if (knownLength >= 0)
        {
            if (p.VoxOffset > knownLength)
            {
                throw new NiftiFormatException(NiftiErrorCode.InvalidOffset, "vox_offset is past the end of the file");
            }

            if (p.VoxOffset + dataBytes > knownLength)
            {
                throw new NiftiFormatException(NiftiErrorCode.Truncated, "the file is shorter than the voxel data the header announces");
            }
        }

        // Skip extensions (whatever lies between the header and vox_offset).
        long skip = p.VoxOffset - headerSize;
        SkipExactly(stream, skip);
        byte[] raw = ReadData(stream, (int)dataBytes, knownLength >= 0);
        float[] data = Convert(raw, p.DataType, bigEndian, p.VoxelCount, p.Slope, p.Intercept);
        return new NiftiImage(headerSize == Nifti1HeaderSize ? 1 : 2, p.Dims, data, p.Affine, p.AffineSource, p.DataType,
            p.Slope, p.Intercept, p.QformCode, p.SformCode, p.XyztUnits, p.PixDim);
    }

    private static ParsedHeader ParseNifti1(HeaderReader h)
    {
        string magic = h.Ascii(344, 4);
        if (magic != "n+1")
        {
            throw new NiftiFormatException(NiftiErrorCode.NotNifti, magic == "ni1"
                ? "two-file NIfTI-1 (.hdr/.img) is not supported: convert it to a single .nii"
                : "the NIfTI-1 magic is not 'n+1'");
        }

        var dim = new long[8];
        for (int i = 0; i < 8; i++)
        {
            dim[i] = h.Int16(40 + (2 * i));
        }

        var pixdim = new double[8];
        for (int i = 0; i < 8; i++)
        {
            pixdim[i] = h.Single(76 + (4 * i));
        }

        double voxOffset = h.Single(108);
        if (!double.IsFinite(voxOffset) || voxOffset < 0 || voxOffset > int.MaxValue || Math.Floor(voxOffset) != voxOffset)
        {
            throw new NiftiFormatException(NiftiErrorCode.InvalidOffset, "vox_offset is not a non-negative whole number");
        }

        var srow = new double[12];
        for (int i = 0; i < 12; i++)
        {
            srow[i] = h.Single(280 + (4 * i));
        }

        return new ParsedHeader
        {
            RawDims = dim,
            DataTypeCode = h.Int16(70),
            BitPix = h.Int16(72),
            PixDim = pixdim,
            VoxOffset = (long)voxOffset,
            Slope = h.Single(112),
            Intercept = h.Single(116),
            XyztUnits = h.Byte(123),
            QformCode = h.Int16(252),
            SformCode = h.Int16(254),
            Quatern = [h.Single(256), h.Single(260), h.Single(264), h.Single(268), h.Single(272), h.Single(276)],
            Srow = srow,
        };
    }

    private static ParsedHeader ParseNifti2(HeaderReader h)
    {
        if (h.Ascii(4, 3) != "n+2")
        {
            throw new NiftiFormatException(NiftiErrorCode.NotNifti, h.Ascii(4, 3) == "ni2"
                ? "two-file NIfTI-2 (.hdr/.img) is not supported: convert it to a single .nii"
                : "the NIfTI-2 magic is not 'n+2'");
        }

        var dim = new long[8];
        for (int i = 0; i < 8; i++)
        {
            dim[i] = h.Int64(16 + (8 * i));
        }

        var pixdim = new double[8];
        for (int i = 0; i < 8; i++)
        {
            pixdim[i] = h.Double(104 + (8 * i));
        }

        var srow = new double[12];
        for (int i = 0; i < 12; i++)
        {
            srow[i] = h.Double(400 + (8 * i));
        }

        return new ParsedHeader
        {
            RawDims = dim,
            DataTypeCode = h.Int16(12),
            BitPix = h.Int16(14),
            PixDim = pixdim,
            VoxOffset = h.Int64(168),
            Slope = h.Double(176),
            Intercept = h.Double(184),
            XyztUnits = h.Int32(500),
            QformCode = h.Int32(344),
            SformCode = h.Int32(348),
            Quatern = [h.Double(352), h.Double(360), h.Double(368), h.Double(376), h.Double(384), h.Double(392)],
            Srow = srow,
        };
    }

    private static void Validate(ParsedHeader p, int headerSize, NiftiReadOptions options)
    {
        long rank = p.RawDims[0];
        if (rank is < 1 or > 7)
        {
            throw new NiftiFormatException(NiftiErrorCode.InvalidDimensions, string.Create(CultureInfo.InvariantCulture, $"dim[0] = {rank} is outside 1..7"));
        }

        int used = (int)Math.Max(rank, 3);
        var dims = new long[used];
        long count = 1;
        for (int i = 1; i <= used; i++)
        {
            long d = i <= rank ? p.RawDims[i] : 1;
            if (d < 1)
            {
                throw new NiftiFormatException(NiftiErrorCode.InvalidDimensions, string.Create(CultureInfo.InvariantCulture, $"dim[{i}] = {d} is not positive"));
            }

            if (d > options.MaxVoxels || count > options.MaxVoxels / d)
            {
                throw new NiftiFormatException(NiftiErrorCode.TooLarge, string.Create(CultureInfo.InvariantCulture, $"the dims hold more than the {options.MaxVoxels} voxels allowed"));
            }

            count *= d;
            dims[i - 1] = d;
        }

        if (dims[0] > int.MaxValue || dims[1] > int.MaxValue || dims[2] > int.MaxValue)
        {
            throw new NiftiFormatException(NiftiErrorCode.InvalidDimensions, "a spatial dimension does not fit 32 bits");
        }

        if (!Enum.IsDefined(typeof(NiftiDataType), p.DataTypeCode))
        {
            throw new NiftiFormatException(NiftiErrorCode.UnsupportedDatatype, string.Create(CultureInfo.InvariantCulture, $"datatype {p.DataTypeCode} is not supported (complex, RGB and 128-bit types are not)"));
        }

        var type = (NiftiDataType)p.DataTypeCode;
        if (p.BitPix != BytesPer(type) * 8)
        {
            throw new NiftiFormatException(NiftiErrorCode.UnsupportedDatatype, string.Create(CultureInfo.InvariantCulture, $"bitpix {p.BitPix} does not match datatype {p.DataTypeCode}"));
        }

        if (p.VoxOffset < headerSize)
        {
            throw new NiftiFormatException(NiftiErrorCode.InvalidOffset, string.Create(CultureInfo.InvariantCulture, $"vox_offset {p.VoxOffset} lies inside the {headerSize}-byte header"));
        }

        p.Dims = dims;
        p.VoxelCount = count;
        p.DataType = type;
        (p.Affine, p.AffineSource) = ChooseAffine(p);
    }

    private static (double[] Affine, NiftiAffineSource Source) ChooseAffine(ParsedHeader p)
    {
        if (p.SformCode > 0)
        {
            RequireFinite(p.Srow, "srow_x/y/z");
            return ([.. p.Srow, 0, 0, 0, 1], NiftiAffineSource.Sform);
        }

        double dx = Spacing(p.PixDim[1]);
        double dy = Spacing(p.PixDim[2]);
        double dz = Spacing(p.PixDim[3]);
        if (p.QformCode > 0)
        {
            RequireFinite(p.Quatern, "quatern/qoffset");
            double qfac = p.PixDim[0] < 0 ? -1 : 1;
            double[] q = p.Quatern;
            return (NiftiGeometry.QuaternionToAffine(q[0], q[1], q[2], qfac, dx, dy, dz, q[3], q[4], q[5]), NiftiAffineSource.Qform);
        }

        return ([dx, 0, 0, 0, 0, dy, 0, 0, 0, 0, dz, 0, 0, 0, 0, 1], NiftiAffineSource.Pixdim);
    }

    // nifti1_io treats a zero or missing spacing as 1 mm; negative values are taken by magnitude.
    private static double Spacing(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new NiftiFormatException(NiftiErrorCode.InvalidGeometry, "pixdim is not finite");
        }

        return value == 0 ? 1 : Math.Abs(value);
    }

    private static void RequireFinite(double[] values, string field)
    {
        foreach (double v in values)
        {
            if (!double.IsFinite(v))
            {
                throw new NiftiFormatException(NiftiErrorCode.InvalidGeometry, $"{field} is not finite");
            }
        }
    }

    private static void SkipExactly(Stream stream, long count)
    {
        if (count <= 0)
        {
            return;
        }

        var scratch = new byte[(int)Math.Min(count, 1 << 16)];
        while (count > 0)
        {
            int n = stream.Read(scratch, 0, (int)Math.Min(count, scratch.Length));
            if (n == 0)
            {
                throw new NiftiFormatException(NiftiErrorCode.InvalidOffset, "vox_offset is past the end of the data");
            }

            count -= n;
        }
    }

    private static byte[] ReadData(Stream stream, int length, bool lengthChecked)
    {
        if (lengthChecked)
        {
            var all = new byte[length];
            if (stream.ReadAtLeast(all, length, throwOnEndOfStream: false) < length)
            {
                throw new NiftiFormatException(NiftiErrorCode.Truncated, "the data ends before the voxels the header announces");
            }

            return all;
        }

        // Unknown length (gzip): grow with the bytes actually present, so a header announcing gigabytes
        // backed by a few bytes never allocates the announced size.
        using var buffer = new MemoryStream();
        var chunk = new byte[1 << 20];
        while (buffer.Length < length)
        {
            int n = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, length - buffer.Length));
            if (n == 0)
            {
                throw new NiftiFormatException(NiftiErrorCode.Truncated, "the data ends before the voxels the header announces");
            }

            buffer.Write(chunk, 0, n);
        }

        return buffer.Length == buffer.Capacity ? buffer.GetBuffer() : buffer.ToArray();
    }

    private static float[] Convert(byte[] raw, NiftiDataType type, bool bigEndian, long count, double slope, double intercept)
    {
        var result = new float[count];
        ReadOnlySpan<byte> s = raw;
        bool scale = slope != 0 && double.IsFinite(slope) && !(slope == 1 && (intercept == 0 || !double.IsFinite(intercept)));
        double inter = double.IsFinite(intercept) ? intercept : 0;
        for (long i = 0; i < count; i++)
        {
            int o = (int)(i * BytesPer(type));
            double v = type switch
            {
                NiftiDataType.UInt8 => s[o],
                NiftiDataType.Int8 => (sbyte)s[o],
                NiftiDataType.Int16 => bigEndian ? BinaryPrimitives.ReadInt16BigEndian(s[o..]) : BinaryPrimitives.ReadInt16LittleEndian(s[o..]),
                NiftiDataType.UInt16 => bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(s[o..]) : BinaryPrimitives.ReadUInt16LittleEndian(s[o..]),
                NiftiDataType.Int32 => bigEndian ? BinaryPrimitives.ReadInt32BigEndian(s[o..]) : BinaryPrimitives.ReadInt32LittleEndian(s[o..]),
                NiftiDataType.UInt32 => bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(s[o..]) : BinaryPrimitives.ReadUInt32LittleEndian(s[o..]),
                NiftiDataType.Int64 => bigEndian ? BinaryPrimitives.ReadInt64BigEndian(s[o..]) : BinaryPrimitives.ReadInt64LittleEndian(s[o..]),
                NiftiDataType.UInt64 => bigEndian ? BinaryPrimitives.ReadUInt64BigEndian(s[o..]) : BinaryPrimitives.ReadUInt64LittleEndian(s[o..]),
                NiftiDataType.Float32 => bigEndian ? BinaryPrimitives.ReadSingleBigEndian(s[o..]) : BinaryPrimitives.ReadSingleLittleEndian(s[o..]),
                _ => bigEndian ? BinaryPrimitives.ReadDoubleBigEndian(s[o..]) : BinaryPrimitives.ReadDoubleLittleEndian(s[o..]),
            };
            result[i] = (float)(scale ? (v * slope) + inter : v);
        }

        return result;
    }

    internal static int BytesPer(NiftiDataType type) => type switch
    {
        NiftiDataType.UInt8 or NiftiDataType.Int8 => 1,
        NiftiDataType.Int16 or NiftiDataType.UInt16 => 2,
        NiftiDataType.Int32 or NiftiDataType.UInt32 or NiftiDataType.Float32 => 4,
        _ => 8,
    };

    private sealed class ParsedHeader
    {
        public required long[] RawDims { get; init; }
        public required short DataTypeCode { get; init; }
        public required short BitPix { get; init; }
        public required double[] PixDim { get; init; }
        public required long VoxOffset { get; init; }
        public required double Slope { get; init; }
        public required double Intercept { get; init; }
        public required int XyztUnits { get; init; }
        public required int QformCode { get; init; }
        public required int SformCode { get; init; }
        public required double[] Quatern { get; init; }
        public required double[] Srow { get; init; }
        public long[] Dims { get; set; } = [];
        public long VoxelCount { get; set; }
        public NiftiDataType DataType { get; set; }
        public double[] Affine { get; set; } = [];
        public NiftiAffineSource AffineSource { get; set; }
    }

    private readonly ref struct HeaderReader(ReadOnlySpan<byte> bytes, bool bigEndian)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private readonly bool _bigEndian = bigEndian;

        public byte Byte(int at) => _bytes[at];

        public short Int16(int at) => _bigEndian ? BinaryPrimitives.ReadInt16BigEndian(_bytes[at..]) : BinaryPrimitives.ReadInt16LittleEndian(_bytes[at..]);

        public int Int32(int at) => _bigEndian ? BinaryPrimitives.ReadInt32BigEndian(_bytes[at..]) : BinaryPrimitives.ReadInt32LittleEndian(_bytes[at..]);

        public long Int64(int at) => _bigEndian ? BinaryPrimitives.ReadInt64BigEndian(_bytes[at..]) : BinaryPrimitives.ReadInt64LittleEndian(_bytes[at..]);

        public float Single(int at) => _bigEndian ? BinaryPrimitives.ReadSingleBigEndian(_bytes[at..]) : BinaryPrimitives.ReadSingleLittleEndian(_bytes[at..]);

        public double Double(int at) => _bigEndian ? BinaryPrimitives.ReadDoubleBigEndian(_bytes[at..]) : BinaryPrimitives.ReadDoubleLittleEndian(_bytes[at..]);

        public string Ascii(int at, int length)
        {
            ReadOnlySpan<byte> s = _bytes.Slice(at, length);
            int end = s.IndexOf((byte)0);
            return System.Text.Encoding.ASCII.GetString(end >= 0 ? s[..end] : s);
        }
    }

    /// <summary>A read-only stream that first replays bytes already read from the inner stream.</summary>
    private sealed class PrefixedStream(ReadOnlyMemory<byte> prefix, Stream inner) : Stream
    {
        private ReadOnlyMemory<byte> _prefix = prefix;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_prefix.Length > 0)
            {
                int n = Math.Min(buffer.Length, _prefix.Length);
                _prefix.Span[..n].CopyTo(buffer);
                _prefix = _prefix[n..];
                return n;
            }

            return inner.Read(buffer);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
