using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace MedTransfer.Dicom.Pixels;

/// <summary>
/// Writes NumPy <c>.npy</c> files, format version 1.0 (numpy/doc/neps/nep-0001-npy-format): the magic
/// <c>\x93NUMPY</c>, version 1.0, a little-endian uint16 header length and a Python dict literal
/// <c>{'descr': '&lt;u2', 'fortran_order': False, 'shape': (2, 3), }</c> padded with spaces and a final newline
/// so that the data starts on a 64-byte boundary, then the data in C order, little-endian. The header is
/// byte-for-byte what NumPy 1.24+ writes, including the spare spaces NumPy reserves for growing the first axis.
/// </summary>
internal static class NpyWriter
{
    private const int Alignment = 64;
    private const int GrowthAxisMaxDigits = 21;

    /// <summary>Writes <paramref name="data"/> with <paramref name="shape"/> (C order) to <paramref name="destination"/>.</summary>
    /// <typeparam name="T">byte (u1), sbyte (i1), ushort (u2), short (i2), uint (u4), int (i4), float (f4) or double (f8).</typeparam>
    /// <exception cref="ArgumentException">An unsupported element type, a negative dimension, or a shape whose product is not the data length.</exception>
    public static void Write<T>(Stream destination, ReadOnlySpan<T> data, ReadOnlySpan<int> shape)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(destination);
        long product = 1;
        foreach (int d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException("Dimensions must not be negative.", nameof(shape));
            }

            product = checked(product * d);
        }

        if (product != data.Length)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The shape holds {product} elements; the data has {data.Length}."), nameof(shape));
        }

        destination.Write(Header(Descr<T>(), shape));
        if (BitConverter.IsLittleEndian)
        {
            destination.Write(MemoryMarshal.AsBytes(data));
        }
        else
        {
            throw new PlatformNotSupportedException("NpyWriter writes little-endian data and runs on little-endian hosts only.");
        }
    }

    /// <summary>Writes a file; see <see cref="Write{T}(Stream, ReadOnlySpan{T}, ReadOnlySpan{int})"/>.</summary>
    public static void WriteFile<T>(string path, ReadOnlySpan<T> data, ReadOnlySpan<int> shape)
        where T : unmanaged
    {
        using FileStream stream = File.Create(path);
        Write(stream, data, shape);
    }

    /// <summary>The NumPy type string for <typeparamref name="T"/>, e.g. "&lt;u2".</summary>
    public static string Descr<T>()
        where T : unmanaged
    {
        Type t = typeof(T);
        return t == typeof(byte) ? "|u1"
            : t == typeof(sbyte) ? "|i1"
            : t == typeof(ushort) ? "<u2"
            : t == typeof(short) ? "<i2"
            : t == typeof(uint) ? "<u4"
            : t == typeof(int) ? "<i4"
            : t == typeof(float) ? "<f4"
            : t == typeof(double) ? "<f8"
            : throw new ArgumentException($"NpyWriter does not write elements of type {t.Name}.", nameof(T));
    }

    /// <summary>The complete header (magic, version, length, padded dict) for a type string and a shape.</summary>
    public static byte[] Header(string descr, ReadOnlySpan<int> shape)
    {
        ArgumentNullException.ThrowIfNull(descr);
        var sb = new StringBuilder();
        sb.Append("{'descr': '").Append(descr).Append("', 'fortran_order': False, 'shape': ").Append(ShapeRepr(shape)).Append(", }");
        if (shape.Length > 0)
        {
            sb.Append(' ', GrowthAxisMaxDigits - shape[0].ToString(CultureInfo.InvariantCulture).Length);
        }

        int headerLength = sb.Length + 1;
        int padding = Alignment - ((6 + 2 + 2 + headerLength) % Alignment);
        sb.Append(' ', padding).Append('\n');
        int total = sb.Length;
        if (total > ushort.MaxValue)
        {
            throw new ArgumentException("The shape makes the header too large for format version 1.0.", nameof(shape));
        }

        byte[] result = new byte[10 + total];
        result[0] = 0x93;
        Encoding.ASCII.GetBytes("NUMPY", result.AsSpan(1));
        result[6] = 1;
        result[7] = 0;
        result[8] = (byte)(total & 0xFF);
        result[9] = (byte)(total >> 8);
        Encoding.ASCII.GetBytes(sb.ToString(), result.AsSpan(10));
        return result;
    }

    private static string ShapeRepr(ReadOnlySpan<int> shape)
    {
        if (shape.Length == 1)
        {
            return string.Create(CultureInfo.InvariantCulture, $"({shape[0]},)");
        }

        var parts = new string[shape.Length];
        for (int i = 0; i < shape.Length; i++)
        {
            parts[i] = shape[i].ToString(CultureInfo.InvariantCulture);
        }

        return "(" + string.Join(", ", parts) + ")";
    }
}
