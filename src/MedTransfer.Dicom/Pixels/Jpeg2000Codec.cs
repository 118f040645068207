using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MedTransfer.Dicom.Pixels;

/// <summary>
/// JPEG 2000 (ISO/IEC 15444-1) through OpenJPEG 2.x (Debian <c>libopenjp2-7</c>), loaded at run time. The SIZ
/// marker segment is parsed in managed code and checked against the pixel module before OpenJPEG sees the
/// stream; the decoded image is checked again (size, components, subsampling, precision). The stream is read
/// through user-data callbacks over pinned managed memory; codec, stream and image are always freed.
/// OpenJPEG applies the inverse component transform itself, so YBR_RCT/YBR_ICT arrive as RGB.
/// </summary>
internal static unsafe class Jpeg2000Codec
{
    public const string CodecName = "JPEG 2000";
    public const string Package = "libopenjp2-7";

    private const int CodecJ2k = 0;
    private const int CodecJp2 = 2;
    private const int ParametersBytes = 16 * 1024;

    private static readonly string[] _candidates = ["libopenjp2.so.7", "libopenjp2.so", "libopenjp2.7.dylib", "openjp2.dll"];

    private static readonly string[] _symbols =
    [
        "opj_version", "opj_create_decompress", "opj_destroy_codec", "opj_set_default_decoder_parameters", "opj_setup_decoder",
        "opj_stream_create", "opj_stream_destroy", "opj_stream_set_read_function", "opj_stream_set_skip_function",
        "opj_stream_set_seek_function", "opj_stream_set_user_data", "opj_stream_set_user_data_length", "opj_read_header",
        "opj_decode", "opj_end_decompress", "opj_image_destroy",
    ];

    private static readonly Lazy<NativeCodecLibrary?> _library = new(() => NativeCodecLibrary.TryLoad(_candidates, _symbols));

    /// <summary>OpenJPEG's version string, or null when the library is not installed.</summary>
    public static string? Version
    {
        get
        {
            NativeCodecLibrary? lib = _library.Value;
            if (lib is null)
            {
                return null;
            }

            var getVersion = (delegate* unmanaged[Cdecl]<byte*>)lib["opj_version"];
            return Marshal.PtrToStringUTF8((IntPtr)getVersion());
        }
    }

    public static void Decode(PixelModule m, ReadOnlySpan<byte> data, int frameIndex, Span<byte> destination, PixelDecodeSettings settings)
    {
        int format = FindCodestream(data, frameIndex, out ReadOnlySpan<byte> codestream);
        codestream = PixelDecoder.ThroughEndMarker(codestream, frameIndex, settings.Mode, markerRequired: false, settings.Warnings);
        if (format == CodecJ2k)
        {
            // A bare codestream: OpenJPEG gets it without the bytes after its end marker.
            data = codestream;
        }

        CheckSiz(m, codestream, frameIndex);
        NativeCodecLibrary lib = _library.Value ?? throw new CodecUnavailableException(CodecName, Package);

        var createDecompress = (delegate* unmanaged[Cdecl]<int, IntPtr>)lib["opj_create_decompress"];
        var destroyCodec = (delegate* unmanaged[Cdecl]<IntPtr, void>)lib["opj_destroy_codec"];
        var setDefaults = (delegate* unmanaged[Cdecl]<byte*, void>)lib["opj_set_default_decoder_parameters"];
        var setupDecoder = (delegate* unmanaged[Cdecl]<IntPtr, byte*, int>)lib["opj_setup_decoder"];
        var streamCreate = (delegate* unmanaged[Cdecl]<nuint, int, IntPtr>)lib["opj_stream_create"];
        var streamDestroy = (delegate* unmanaged[Cdecl]<IntPtr, void>)lib["opj_stream_destroy"];
        var setRead = (delegate* unmanaged[Cdecl]<IntPtr, void*, void>)lib["opj_stream_set_read_function"];
        var setSkip = (delegate* unmanaged[Cdecl]<IntPtr, void*, void>)lib["opj_stream_set_skip_function"];
        var setSeek = (delegate* unmanaged[Cdecl]<IntPtr, void*, void>)lib["opj_stream_set_seek_function"];
        var setUserData = (delegate* unmanaged[Cdecl]<IntPtr, void*, void*, void>)lib["opj_stream_set_user_data"];
        var setUserDataLength = (delegate* unmanaged[Cdecl]<IntPtr, ulong, void>)lib["opj_stream_set_user_data_length"];
        var readHeader = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, OpjImage**, int>)lib["opj_read_header"];
        var decode = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, OpjImage*, int>)lib["opj_decode"];
        var endDecompress = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int>)lib["opj_end_decompress"];
        var imageDestroy = (delegate* unmanaged[Cdecl]<OpjImage*, void>)lib["opj_image_destroy"];

        IntPtr codec = IntPtr.Zero;
        IntPtr stream = IntPtr.Zero;
        OpjImage* image = null;
        byte* parameters = (byte*)NativeMemory.AllocZeroed(ParametersBytes);
        try
        {
            fixed (byte* source = data)
            {
                var state = new StreamState { Data = source, Length = data.Length, Position = 0 };
                codec = createDecompress(format);
                if (codec == IntPtr.Zero)
                {
                    throw PixelDecoder.Corrupt(frameIndex, "OpenJPEG could not create a decoder");
                }

                setDefaults(parameters);
                if (setupDecoder(codec, parameters) == 0)
                {
                    throw PixelDecoder.Corrupt(frameIndex, "OpenJPEG rejected the decoder parameters");
                }

                stream = streamCreate((nuint)Math.Min(data.Length, 1 << 20), 1);
                if (stream == IntPtr.Zero)
                {
                    throw new OutOfMemoryException("OpenJPEG could not create a stream.");
                }

                setRead(stream, (delegate* unmanaged[Cdecl]<byte*, nuint, StreamState*, nuint>)&Read);
                setSkip(stream, (delegate* unmanaged[Cdecl]<long, StreamState*, long>)&Skip);
                setSeek(stream, (delegate* unmanaged[Cdecl]<long, StreamState*, int>)&Seek);
                setUserData(stream, &state, null);
                setUserDataLength(stream, (ulong)data.Length);

                if (readHeader(stream, codec, &image) == 0 || image == null)
                {
                    throw PixelDecoder.Corrupt(frameIndex, "OpenJPEG cannot read the JPEG 2000 header");
                }

                if (image->NumComps != (uint)m.SamplesPerPixel || image->X1 - image->X0 != (uint)m.Columns || image->Y1 - image->Y0 != (uint)m.Rows)
                {
                    throw PixelDecoder.Corrupt(frameIndex, "the JPEG 2000 image size or component count does not match the pixel module");
                }

                if (decode(codec, stream, image) == 0 || endDecompress(codec, stream) == 0)
                {
                    throw PixelDecoder.Corrupt(frameIndex, "OpenJPEG cannot decode the JPEG 2000 stream");
                }

                CopyOut(m, image, frameIndex, destination);
            }
        }
        finally
        {
            if (stream != IntPtr.Zero)
            {
                streamDestroy(stream);
            }

            if (codec != IntPtr.Zero)
            {
                destroyCodec(codec);
            }

            if (image != null)
            {
                imageDestroy(image);
            }

            NativeMemory.Free(parameters);
        }
    }

    /// <summary>The managed header checks alone (codestream location and SIZ against the module), for use before allocating.</summary>
    public static void CheckHeader(PixelModule m, ReadOnlySpan<byte> data, int frameIndex)
    {
        FindCodestream(data, frameIndex, out ReadOnlySpan<byte> codestream);
        CheckSiz(m, codestream, frameIndex);
    }

    private static void CopyOut(PixelModule m, OpjImage* image, int frameIndex, Span<byte> destination)
    {
        int samples = m.SamplesPerPixel;
        int pixels = (int)m.PixelsPerFrame;
        int bytes = m.BytesPerDecodedSample;
        for (int c = 0; c < samples; c++)
        {
            OpjImageComp* comp = image->Comps + c;
            if (comp->W != (uint)m.Columns || comp->H != (uint)m.Rows || comp->Dx != 1 || comp->Dy != 1 || comp->Data == null)
            {
                throw PixelDecoder.Corrupt(frameIndex, string.Create(CultureInfo.InvariantCulture, $"JPEG 2000 component {c} is subsampled, reduced or missing"));
            }

            if (comp->Prec < 1 || comp->Prec > (uint)m.BitsAllocated || comp->Prec > 31)
            {
                throw PixelDecoder.Corrupt(frameIndex, string.Create(CultureInfo.InvariantCulture, $"JPEG 2000 component {c} precision {comp->Prec} does not fit BitsAllocated {m.BitsAllocated}"));
            }

            var values = new ReadOnlySpan<int>(comp->Data, pixels);
            for (int p = 0; p < pixels; p++)
            {
                int value = values[p];
                int position = ((p * samples) + c) * bytes;
                switch (bytes)
                {
                    case 1:
                        destination[position] = unchecked((byte)value);
                        break;
                    case 2:
                        BinaryPrimitives.WriteUInt16LittleEndian(destination[position..], unchecked((ushort)value));
                        break;
                    default:
                        BinaryPrimitives.WriteInt32LittleEndian(destination[position..], value);
                        break;
                }
            }
        }
    }

    /// <summary>Finds the codestream: a raw J2K codestream (SOC FF4F, SIZ FF51) or the 'jp2c' box of a JP2 file.</summary>
    private static int FindCodestream(ReadOnlySpan<byte> data, int frameIndex, out ReadOnlySpan<byte> codestream)
    {
        if (data.Length >= 4 && data[0] == 0xFF && data[1] == 0x4F && data[2] == 0xFF && data[3] == 0x51)
        {
            codestream = data;
            return CodecJ2k;
        }

        ReadOnlySpan<byte> signature = [0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A];
        if (!data.StartsWith(signature))
        {
            throw PixelDecoder.Corrupt(frameIndex, "the frame is neither a JPEG 2000 codestream nor a JP2 file");
        }

        long offset = 0;
        while (offset + 8 <= data.Length)
        {
            long length = BinaryPrimitives.ReadUInt32BigEndian(data[(int)offset..]);
            uint type = BinaryPrimitives.ReadUInt32BigEndian(data[(int)(offset + 4)..]);
            long header = 8;
            if (length == 1)
            {
                if (offset + 16 > data.Length)
                {
                    break;
                }

                ulong extended = BinaryPrimitives.ReadUInt64BigEndian(data[(int)(offset + 8)..]);
                length = extended > (ulong)data.Length ? long.MaxValue : (long)extended;
                header = 16;
            }
            else if (length == 0)
            {
                length = data.Length - offset;
            }

            if (length < header || length > data.Length - offset)
            {
                break;
            }

            if (type == 0x6A703263)
            {
                codestream = data.Slice((int)(offset + header), (int)(length - header));
                if (codestream.Length >= 4 && codestream[0] == 0xFF && codestream[1] == 0x4F && codestream[2] == 0xFF && codestream[3] == 0x51)
                {
                    return CodecJp2;
                }

                break;
            }

            offset += length;
        }

        throw PixelDecoder.Corrupt(frameIndex, "the JP2 file has no valid contiguous codestream box");
    }

    /// <summary>Checks the SIZ marker segment (ISO/IEC 15444-1 A.5.1) against the module before native code runs.</summary>
    private static void CheckSiz(PixelModule m, ReadOnlySpan<byte> codestream, int frameIndex)
    {
        if (codestream.Length < 4 + 38)
        {
            throw PixelDecoder.Corrupt(frameIndex, "the JPEG 2000 SIZ marker segment is truncated");
        }

        ReadOnlySpan<byte> siz = codestream[4..];
        int lsiz = BinaryPrimitives.ReadUInt16BigEndian(siz);
        uint xsiz = BinaryPrimitives.ReadUInt32BigEndian(siz[4..]);
        uint ysiz = BinaryPrimitives.ReadUInt32BigEndian(siz[8..]);
        uint xosiz = BinaryPrimitives.ReadUInt32BigEndian(siz[12..]);
        uint yosiz = BinaryPrimitives.ReadUInt32BigEndian(siz[16..]);
        uint xtsiz = BinaryPrimitives.ReadUInt32BigEndian(siz[20..]);
        uint ytsiz = BinaryPrimitives.ReadUInt32BigEndian(siz[24..]);
        int csiz = BinaryPrimitives.ReadUInt16BigEndian(siz[36..]);
        if (lsiz != 38 + (3 * csiz) || siz.Length < lsiz)
        {
            throw PixelDecoder.Corrupt(frameIndex, "the JPEG 2000 SIZ marker segment length is inconsistent");
        }

        if (xosiz >= xsiz || yosiz >= ysiz || xsiz - xosiz != (uint)m.Columns || ysiz - yosiz != (uint)m.Rows || csiz != m.SamplesPerPixel || xtsiz == 0 || ytsiz == 0)
        {
            throw PixelDecoder.Corrupt(frameIndex, string.Create(CultureInfo.InvariantCulture, $"the JPEG 2000 image ({(long)xsiz - xosiz}x{(long)ysiz - yosiz}, {csiz} components) does not match the pixel module ({m.Columns}x{m.Rows}, {m.SamplesPerPixel})"));
        }

        for (int c = 0; c < csiz; c++)
        {
            int ssiz = siz[38 + (3 * c)];
            int precision = (ssiz & 0x7F) + 1;
            if (precision > m.BitsAllocated || precision > 31 || siz[39 + (3 * c)] != 1 || siz[40 + (3 * c)] != 1)
            {
                throw PixelDecoder.Corrupt(frameIndex, string.Create(CultureInfo.InvariantCulture, $"JPEG 2000 component {c} has precision {precision} or subsampling that does not fit the pixel module"));
            }
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static nuint Read(byte* buffer, nuint count, StreamState* state)
    {
        long remaining = state->Length - state->Position;
        if (remaining <= 0)
        {
            return nuint.MaxValue;
        }

        long n = (ulong)count < (ulong)remaining ? (long)count : remaining;
        Buffer.MemoryCopy(state->Data + state->Position, buffer, n, n);
        state->Position += n;
        return (nuint)n;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static long Skip(long count, StreamState* state)
    {
        long target = state->Position + count;
        if (count < 0 || target > state->Length)
        {
            return -1;
        }

        state->Position = target;
        return count;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Seek(long position, StreamState* state)
    {
        if (position < 0 || position > state->Length)
        {
            return 0;
        }

        state->Position = position;
        return 1;
    }

    private struct StreamState
    {
        public byte* Data;
        public long Length;
        public long Position;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct OpjImage
    {
        public uint X0;
        public uint Y0;
        public uint X1;
        public uint Y1;
        public uint NumComps;
        public int ColorSpace;
        public OpjImageComp* Comps;
        public byte* IccProfile;
        public uint IccProfileLength;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct OpjImageComp
    {
        public uint Dx;
        public uint Dy;
        public uint W;
        public uint H;
        public uint X0;
        public uint Y0;
        public uint Prec;
        public uint Bpp;
        public uint Sgnd;
        public uint ResnoDecoded;
        public uint Factor;
        public int* Data;
        public ushort Alpha;
    }
}
