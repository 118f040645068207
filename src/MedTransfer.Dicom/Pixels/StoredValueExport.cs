using System.Globalization;

namespace MedTransfer.Dicom.Pixels;

/// <summary>
/// Exports an image's stored values (after decompression, before any LUT) as a NumPy array, the
/// interchange format researchers check decoders with. Colour planes are interleaved and YBR is
/// converted to RGB in the stored bit depth; palette colour stays as indices.
/// </summary>
public static class StoredValueExport
{
    /// <summary>(rows, cols), (frames, rows, cols), (rows, cols, samples) or (frames, rows, cols, samples).</summary>
    public static int[] Shape(PixelModule module)
    {
        ArgumentNullException.ThrowIfNull(module);
        var shape = new List<int>(4);
        if (module.NumberOfFrames > 1)
        {
            shape.Add(module.NumberOfFrames);
        }

        shape.Add(module.Rows);
        shape.Add(module.Columns);
        if (module.SamplesPerPixel > 1)
        {
            shape.Add(module.SamplesPerPixel);
        }

        return [.. shape];
    }

    /// <summary>A one-line description: dtype and shape, for logs (no pixel values).</summary>
    public static string Describe(PixelModule module, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(shape);
        string dims = string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
        return $"dtype {DescrFor(module)}, shape ({dims}{(shape.Length == 1 ? "," : string.Empty)})";
    }

    /// <summary>Writes every frame's stored values to <paramref name="path"/> as .npy, atomically (temporary file, then rename).</summary>
    /// <exception cref="DicomFormatException">The pixel data is malformed.</exception>
    /// <exception cref="CodecUnavailableException">The codec's native library is missing.</exception>
    public static void WriteNpy(DicomImage image, string path, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(shape);
        PixelModule module = image.Module;
        string temp = path + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                bool ybr = module.SamplesPerPixel == 3 && image.DecodedPhotometricInterpretation.StartsWith("YBR", StringComparison.Ordinal);
                switch (module.BitsAllocated, module.IsSigned && !ybr)
                {
                    case (1, _) or (8, false):
                        Write<byte>(image, stream, shape);
                        break;
                    case (8, true):
                        Write<sbyte>(image, stream, shape);
                        break;
                    case (16, false):
                        Write<ushort>(image, stream, shape);
                        break;
                    case (16, true):
                        Write<short>(image, stream, shape);
                        break;
                    case (32, false) when !ybr:
                        Write<uint>(image, stream, shape);
                        break;
                    case (32, true):
                        Write<int>(image, stream, shape);
                        break;
                    default:
                        throw new DicomFormatException(DicomErrorCode.InvalidPixelModule, string.Create(CultureInfo.InvariantCulture, $"no NumPy export for Bits Allocated {module.BitsAllocated} with {image.DecodedPhotometricInterpretation}"));
                }

                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>The stored values of one frame, with YBR converted to RGB at the stored bit depth.</summary>
    public static Array StoredValues(DicomImage image, int frame)
    {
        ArgumentNullException.ThrowIfNull(image);
        PixelModule module = image.Module;
        byte[] decoded = image.DecodeFrame(frame);
        string pi = image.DecodedPhotometricInterpretation;
        if (module.SamplesPerPixel != 3 || !pi.StartsWith("YBR", StringComparison.Ordinal))
        {
            return PixelPipeline.StoredValues(module, decoded);
        }

        // YBR → RGB: the conversion yields [0, 1]; scale back to the stored range.
        float[] rgb = PhotometricConversion.ToRgbFloats(module, pi, decoded);
        double max = Math.Pow(2, module.BitsStored) - 1;
        if (module.BitsAllocated == 8)
        {
            return rgb.Select(v => (byte)Math.Round(v * max)).ToArray();
        }

        if (module.BitsAllocated == 16)
        {
            return rgb.Select(v => (ushort)Math.Round(v * max)).ToArray();
        }

        throw new DicomFormatException(DicomErrorCode.InvalidPixelModule, "YBR colour is defined for 8 and 16 bits allocated only", tag: new DicomTag(0x0028, 0x0100));
    }

    private static void Write<T>(DicomImage image, Stream stream, int[] shape)
        where T : unmanaged
    {
        long perFrame = image.Module.PixelsPerFrame * image.Module.SamplesPerPixel;
        var all = new T[checked(perFrame * image.FrameCount)];
        for (int frame = 0; frame < image.FrameCount; frame++)
        {
            var values = (T[])StoredValues(image, frame);
            values.CopyTo(all, checked(frame * perFrame));
        }

        NpyWriter.Write<T>(stream, all, shape);
    }

    private static string DescrFor(PixelModule module) => (module.BitsAllocated, module.IsSigned) switch
    {
        (1, _) or (8, false) => "|u1",
        (8, true) => "|i1",
        (16, false) => "<u2",
        (16, true) => "<i2",
        (32, false) => "<u4",
        (32, true) => "<i4",
        _ => "?",
    };
}
