using System.Buffers.Binary;
using Onnx;

namespace MedTransfer.Training.Onnx;

/// <summary>Reads and writes ONNX <see cref="TensorProto"/> contents (float and int64 only).</summary>
internal static class OnnxTensors
{
    /// <summary>ONNX TensorProto.DataType values used here.</summary>
    internal const int Float = 1;
    internal const int Int64 = 7;
    internal const int Double = 11;

    public static long[] Shape(TensorProto t) => [.. t.Dims];

    public static float[] ReadFloats(TensorProto t)
    {
        long count = Count(t);
        switch (t.DataType)
        {
            case Float when !t.RawData.IsEmpty:
                CheckLength(t, t.RawData.Length, count * 4);
                var f = new float[count];
                ReadOnlySpan<byte> raw = t.RawData.Span;
                for (int i = 0; i < f.Length; i++)
                {
                    f[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.Slice(i * 4, 4));
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
            default:
                throw new OnnxImportException(OnnxImportError.UnsupportedTensor, $"Initializer '{t.Name}' has ONNX data type {t.DataType}; float (1) or double (11) was expected.");
        }
    }

    public static long[] ReadInt64s(TensorProto t)
    {
        long count = Count(t);
        if (t.DataType != Int64)
        {
            throw new OnnxImportException(OnnxImportError.UnsupportedTensor, $"Initializer '{t.Name}' has ONNX data type {t.DataType}; int64 (7) was expected.");
        }

        if (!t.RawData.IsEmpty)
        {
            CheckLength(t, t.RawData.Length, count * 8);
            var v = new long[count];
            for (int i = 0; i < v.Length; i++)
            {
                v[i] = BinaryPrimitives.ReadInt64LittleEndian(t.RawData.Span.Slice(i * 8, 8));
            }

            return v;
        }

        CheckLength(t, t.Int64Data.Count, count);
        return [.. t.Int64Data];
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
