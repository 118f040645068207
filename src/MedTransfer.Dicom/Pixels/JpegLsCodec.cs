using System.Globalization;
using System.Runtime.InteropServices;

namespace MedTransfer.Dicom.Pixels;

/// <summary>
/// JPEG-LS (ITU-T T.87) through CharLS 2.x (Debian <c>libcharls2</c>), loaded at run time. The frame header that
/// CharLS reads is checked against the pixel module (size, components, bit depth) and the destination size is
/// computed before any pixel is decoded. CharLS's C API reports errors as codes and never throws across the ABI.
/// </summary>
internal static unsafe class JpegLsCodec
{
    public const string CodecName = "JPEG-LS";
    public const string Package = "libcharls2";

    private static readonly string[] _candidates = ["libcharls.so.2", "libCharLS.so.2", "libcharls.so", "libcharls.2.dylib", "charls-2-x64.dll"];

    private static readonly string[] _symbols =
    [
        "charls_jpegls_decoder_create", "charls_jpegls_decoder_destroy", "charls_jpegls_decoder_set_source_buffer",
        "charls_jpegls_decoder_read_header", "charls_jpegls_decoder_get_frame_info", "charls_jpegls_decoder_get_interleave_mode",
        "charls_jpegls_decoder_get_destination_size", "charls_jpegls_decoder_decode_to_buffer", "charls_get_error_message",
        "charls_get_version_string",
    ];

    private static readonly Lazy<NativeCodecLibrary?> _library = new(() => NativeCodecLibrary.TryLoad(_candidates, _symbols));

    /// <summary>CharLS's version string, or null when the library is not installed.</summary>
    public static string? Version
    {
        get
        {
            NativeCodecLibrary? lib = _library.Value;
            if (lib is null)
            {
                return null;
            }

            var getVersion = (delegate* unmanaged[Cdecl]<byte*>)lib["charls_get_version_string"];
            return Marshal.PtrToStringUTF8((IntPtr)getVersion());
        }
    }

    public static void Decode(PixelModule m, ReadOnlySpan<byte> stream, int frameIndex, Span<byte> destination, PixelDecodeSettings settings)
    {
        if (stream[0] != 0xFF || stream[1] != 0xD8)
        {
            throw PixelDecoder.Corrupt(frameIndex, "the JPEG-LS stream does not start with SOI");
        }

        // The end marker is required in tolerant mode too: CharLS 2.4.1 can spend 10-15 s on a truncated stream
        // before it reports an error (measured on the dcm_qa_ts image cut at 200 bytes and at half length), and a
        // truncated JPEG-LS stream never decodes to a complete frame anyway. Bytes after the marker are cut off.
        stream = PixelDecoder.ThroughEndMarker(stream, frameIndex, settings.Mode, markerRequired: true, settings.Warnings);
        JpegFrameHeader.Check(m, stream, frameIndex);
        NativeCodecLibrary lib = _library.Value ?? throw new CodecUnavailableException(CodecName, Package);

        var create = (delegate* unmanaged[Cdecl]<IntPtr>)lib["charls_jpegls_decoder_create"];
        var destroy = (delegate* unmanaged[Cdecl]<IntPtr, void>)lib["charls_jpegls_decoder_destroy"];
        var setSource = (delegate* unmanaged[Cdecl]<IntPtr, byte*, nuint, int>)lib["charls_jpegls_decoder_set_source_buffer"];
        var readHeader = (delegate* unmanaged[Cdecl]<IntPtr, int>)lib["charls_jpegls_decoder_read_header"];
        var getFrameInfo = (delegate* unmanaged[Cdecl]<IntPtr, FrameInfo*, int>)lib["charls_jpegls_decoder_get_frame_info"];
        var getInterleave = (delegate* unmanaged[Cdecl]<IntPtr, int*, int>)lib["charls_jpegls_decoder_get_interleave_mode"];
        var getSize = (delegate* unmanaged[Cdecl]<IntPtr, uint, nuint*, int>)lib["charls_jpegls_decoder_get_destination_size"];
        var decode = (delegate* unmanaged[Cdecl]<IntPtr, byte*, nuint, uint, int>)lib["charls_jpegls_decoder_decode_to_buffer"];

        IntPtr decoder = create();
        if (decoder == IntPtr.Zero)
        {
            throw new OutOfMemoryException("CharLS could not create a decoder.");
        }

        byte[] decoded;
        int interleave;
        FrameInfo info;
        try
        {
            fixed (byte* source = stream)
            {
                Check(lib, setSource(decoder, source, (nuint)stream.Length), frameIndex);
                Check(lib, readHeader(decoder), frameIndex);
                Check(lib, getFrameInfo(decoder, &info), frameIndex);
                if (info.Width != m.Columns || info.Height != m.Rows || info.ComponentCount != m.SamplesPerPixel)
                {
                    throw PixelDecoder.Corrupt(frameIndex, string.Create(CultureInfo.InvariantCulture, $"the JPEG-LS frame is {info.Width}x{info.Height} with {info.ComponentCount} components; the pixel module says {m.Columns}x{m.Rows} with {m.SamplesPerPixel}"));
                }

                if (info.BitsPerSample < 2 || info.BitsPerSample > 16 || info.BitsPerSample > m.BitsAllocated)
                {
                    throw PixelDecoder.Corrupt(frameIndex, string.Create(CultureInfo.InvariantCulture, $"JPEG-LS bit depth {info.BitsPerSample} does not fit BitsAllocated {m.BitsAllocated}"));
                }

                Check(lib, getInterleave(decoder, &interleave), frameIndex);
                nuint size;
                Check(lib, getSize(decoder, 0, &size), frameIndex);
                long expected = checked(m.PixelsPerFrame * m.SamplesPerPixel * (info.BitsPerSample <= 8 ? 1 : 2));
                if ((ulong)size != (ulong)expected)
                {
                    throw PixelDecoder.Corrupt(frameIndex, "the JPEG-LS destination size does not match the frame");
                }

                decoded = new byte[expected];
                fixed (byte* target = decoded)
                {
                    Check(lib, decode(decoder, target, size, 0), frameIndex);
                }
            }
        }
        finally
        {
            destroy(decoder);
        }

        CopyOut(m, decoded, info.BitsPerSample <= 8 ? 1 : 2, planar: interleave == 0 && m.SamplesPerPixel == 3, destination);
    }

    /// <summary>Copies CharLS output (1 or 2 bytes per sample, planar when the scan was not interleaved) into the decoded layout.</summary>
    private static void CopyOut(PixelModule m, ReadOnlySpan<byte> decoded, int sourceBytes, bool planar, Span<byte> destination)
    {
        int pixels = (int)m.PixelsPerFrame;
        int samples = m.SamplesPerPixel;
        int targetBytes = m.BytesPerDecodedSample;
        if (!planar && sourceBytes == targetBytes)
        {
            decoded.CopyTo(destination);
            return;
        }

        destination.Clear();
        for (int s = 0; s < samples; s++)
        {
            for (int p = 0; p < pixels; p++)
            {
                int from = (planar ? (s * pixels) + p : (p * samples) + s) * sourceBytes;
                int to = ((p * samples) + s) * targetBytes;
                destination[to] = decoded[from];
                if (sourceBytes == 2)
                {
                    destination[to + 1] = decoded[from + 1];
                }
            }
        }
    }

    private static void Check(NativeCodecLibrary lib, int error, int frameIndex)
    {
        if (error == 0)
        {
            return;
        }

        var message = (delegate* unmanaged[Cdecl]<int, byte*>)lib["charls_get_error_message"];
        string text = Marshal.PtrToStringUTF8((IntPtr)message(error)) ?? "unknown error";
        throw PixelDecoder.Corrupt(frameIndex, string.Create(CultureInfo.InvariantCulture, $"CharLS error {error}: {text}"));
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct FrameInfo
    {
        public uint Width;
        public uint Height;
        public int BitsPerSample;
        public int ComponentCount;
    }
}
