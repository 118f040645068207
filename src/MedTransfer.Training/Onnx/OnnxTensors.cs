using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Onnx;
using static TorchSharp.torch;

namespace MedTransfer.Training.Onnx;

/// <summary>Reads and writes ONNX <see cref="TensorProto"/> contents.</summary>
internal static class OnnxTensors
{
    /// <summary>ONNX TensorProto.DataType values used here.</summary>
    internal const int Float = 1;
    internal const int Int32 = 6;
    internal const int Int64 = 7;
    internal const int Bool = 9;
    internal const int Float16 = 10;
    internal const int Double = 11;

    public static long[] Shape(TensorProto t) => [.. t.Dims];

    public static bool IsFloating(int dataType) => dataType is Float or Double or Float16;

    public static bool IsInteger(int dataType) => dataType is Int32 or Int64 or Bool or 2 or 3 or 4 or 5 or 12 or 13;

    public static float[] ReadFloats(TensorProto t)
    {
        long count = Count(t);
        switch (t.DataType)
        {
            case Float when !t.RawData.IsEmpty:
                CheckLength(t, t.RawData.Length, count * 4);
                if (BitConverter.IsLittleEndian)
                {
                    return MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray();
                }

                var f = new float[count];
                for (int i = 0; i < f.Length; i++)
                {
                    f[i] = BinaryPrimitives.ReadSingleLittleEndian(t.RawData.Span.Slice(i * 4, 4));
                }

                return f;
            case Float:
                CheckLength(t, t.FloatData.Count, count);
                return [.. t.FloatData];
            case Double when !t.RawData.IsEmpty:
                CheckLength(t, t.RawData.Length, count * 8);
                var d = new float[count];
                for (int i = 0; i < d.Length; i++)
                {
                    d[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(t.RawData.Span.Slice(i * 8, 8));
                }

                return d;
            case Double:
                CheckLength(t, t.DoubleData.Count, count);
                return [.. t.DoubleData.Select(v => (float)v)];
            case Float16 when !t.RawData.IsEmpty:
                CheckLength(t, t.RawData.Length, count * 2);
                var h = new float[count];
                for (int i = 0; i < h.Length; i++)
                {
                    h[i] = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(t.RawData.Span.Slice(i * 2, 2)));
                }

                return h;
            case Float16:
                // float16 values are stored as their bit patterns in int32_data.
                CheckLength(t, t.Int32Data.Count, count);
                return [.. t.Int32Data.Select(v => (float)BitConverter.UInt16BitsToHalf((ushort)v))];
            default:
                throw new OnnxImportException(OnnxImportError.UnsupportedTensor, $"Initializer '{t.Name}' has ONNX data type {t.DataType}; a floating-point type (1, 10, 11) was expected.");
        }
    }

    public static long[] ReadInt64s(TensorProto t)
    {
        long count = Count(t);
        int width = t.DataType switch
        {
            Int64 or 13 => 8,
            Int32 or 12 => 4,
            5 or 4 => 2,
            Bool or 2 or 3 => 1,
            _ => throw new OnnxImportException(OnnxImportError.UnsupportedTensor, $"Initializer '{t.Name}' has ONNX data type {t.DataType}; an integer type was expected."),
        };
        if (!t.RawData.IsEmpty)
        {
            CheckLength(t, t.RawData.Length, count * width);
            ReadOnlySpan<byte> raw = t.RawData.Span;
            var v = new long[count];
            for (int i = 0; i < v.Length; i++)
            {
                ReadOnlySpan<byte> s = raw.Slice(i * width, width);
                v[i] = (width, t.DataType) switch
                {
                    (8, _) => BinaryPrimitives.ReadInt64LittleEndian(s),
                    (4, Int32) => BinaryPrimitives.ReadInt32LittleEndian(s),
                    (4, _) => BinaryPrimitives.ReadUInt32LittleEndian(s),
                    (2, 5) => BinaryPrimitives.ReadInt16LittleEndian(s),
                    (2, _) => BinaryPrimitives.ReadUInt16LittleEndian(s),
                    (_, 3) => (sbyte)s[0],
                    _ => s[0],
                };
            }

            return v;
        }

        if (t.DataType is Int64 or 13)
        {
            CheckLength(t, t.Int64Data.Count + t.Uint64Data.Count, count);
            return t.Int64Data.Count > 0 ? [.. t.Int64Data] : [.. t.Uint64Data.Select(u => (long)u)];
        }

        CheckLength(t, t.Int32Data.Count, count);
        return [.. t.Int32Data.Select(x => (long)x)];
    }

    /// <summary>The initializer as a CPU tensor: float32 for floating-point data, int64 for integer and boolean data.</summary>
    public static Tensor ToTensor(TensorProto t)
    {
        long[] shape = Shape(t);
        if (IsFloating(t.DataType))
        {
            return tensor(ReadFloats(t), shape);
        }

        if (IsInteger(t.DataType))
        {
            return tensor(ReadInt64s(t), shape);
        }

        throw new OnnxImportException(OnnxImportError.UnsupportedTensor, $"Initializer '{t.Name}' has ONNX data type {t.DataType}, which the importer cannot read (floating-point and integer tensors only).");
    }

    /// <summary>A tensor as an ONNX initializer: float32 for floating-point tensors, int64 for integer ones.</summary>
    public static TensorProto FromTensor(string name, Tensor t, IReadOnlyList<long>? dims = null)
    {
        using Tensor cpu = t.detach().cpu();
        if (cpu.is_floating_point())
        {
            using Tensor f = cpu.to(ScalarType.Float32).contiguous();
            return FromFloats(name, f.data<float>().ToArray(), dims ?? f.shape);
        }

        using Tensor l = cpu.to(ScalarType.Int64).contiguous();
        TensorProto p = FromInt64s(name, l.data<long>().ToArray());
        p.Dims.Clear();
        p.Dims.AddRange(dims ?? l.shape);
        return p;
    }

    public static TensorProto FromFloats(string name, ReadOnlySpan<float> values, IReadOnlyList<long> dims)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4, 4), values[i]);
        }

        var t = new TensorProto { Name = name, DataType = Float, RawData = Google.Protobuf.ByteString.CopyFrom(bytes) };
        t.Dims.AddRange(dims);
        return t;
    }

    public static TensorProto FromInt64s(string name, ReadOnlySpan<long> values)
    {
        var t = new TensorProto { Name = name, DataType = Int64 };
        t.Dims.Add(values.Length);
        foreach (long v in values)
        {
            t.Int64Data.Add(v);
        }

        return t;
    }

    private static long Count(TensorProto t)
    {
        long n = 1;
        foreach (long d in t.Dims)
        {
            if (d < 0 || d > int.MaxValue)
            {
                throw new OnnxImportException(OnnxImportError.UnsupportedTensor, $"Initializer '{t.Name}' has an invalid dimension {d}.");
            }

            n = checked(n * d);
        }

        if (n > int.MaxValue / 8)
        {
            throw new OnnxImportException(OnnxImportError.UnsupportedTensor, $"Initializer '{t.Name}' is too large ({n} elements).");
        }

        if (t.DataLocation == TensorProto.Types.DataLocation.External)
        {
            throw new OnnxImportException(OnnxImportError.UnsupportedTensor, $"Initializer '{t.Name}' is stored in an external data file; save the model with its weights inside the .onnx file.");
        }

        return n;
    }

    private static void CheckLength(TensorProto t, long actual, long expected)
    {
        if (actual != expected)
        {
            throw new OnnxImportException(OnnxImportError.UnsupportedTensor, $"Initializer '{t.Name}' holds {actual} values/bytes where its shape needs {expected}.");
        }
    }
}
