using System.Runtime.InteropServices;
using MedTransfer.Dicom.Pixels;
using Xunit;

namespace MedTransfer.Dicom.Tests.Pixels;

/// <summary>
/// JPEG-LS streams made in the test by CharLS's own encoder (the library the decoder uses), covering what
/// dcm_qa_ts does not: 8-bit, colour, and the three interleave modes (none is planar in CharLS's buffers).
/// </summary>
public sealed class JpegLsRoundTripTests
{
    private const string CharLs = "libcharls.so.2";

    public static TheoryData<int, int, int, int> Cases => new()
    {
        // bits, components, interleave mode (0 none, 1 line, 2 sample), near
        { 8, 1, 0, 0 },
        { 12, 1, 0, 0 },
        { 16, 1, 0, 0 },
        { 8, 3, 0, 0 },
        { 8, 3, 1, 0 },
        { 8, 3, 2, 0 },
        { 16, 3, 2, 0 },
        { 8, 1, 0, 2 },
    };

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Decode_CharLsEncodedFrame_RoundTrips(int bits, int components, int interleave, int near)
    {
        Skip.If(PixelDecoder.JpegLsLibraryVersion is null, "libcharls2 is not installed");
        const int width = 37;
        const int height = 19;
        int bitsAllocated = bits <= 8 ? 8 : 16;
        var m = new PixelModule(height, width, components, bitsAllocated, bits, bits - 1, 0, 0, components == 3 ? "RGB" : "MONOCHROME2", 1);
        int bytes = bitsAllocated / 8;
        int max = (1 << bits) - 1;

        // Expected decoded layout: interleaved samples, little-endian.
        byte[] expected = new byte[m.DecodedFrameLength];
        for (int p = 0; p < width * height; p++)
        {
            for (int c = 0; c < components; c++)
            {
                int value = ((p * 7) + (c * 1000) + ((p / width) * 13)) % (max + 1);
                int at = ((p * components) + c) * bytes;
                expected[at] = (byte)value;
                if (bytes == 2)
                {
                    expected[at + 1] = (byte)(value >> 8);
                }
            }
        }

        // CharLS wants planar input for interleave mode none.
        byte[] source = interleave == 0 && components == 3 ? ToPlanar(expected, width * height, components, bytes) : expected;
        byte[] stream = Encode(source, width, height, bits, components, interleave, near);
        byte[] decoded = PixelDecoder.DecodeFrame(m, near == 0 ? PixelDecoder.JpegLsLossless : PixelDecoder.JpegLsNearLossless, stream);

        if (near == 0)
        {
            Assert.Equal(expected, decoded);
        }
        else
        {
            Assert.All(expected.Zip(decoded), e => Assert.InRange(Math.Abs(e.First - e.Second), 0, near));
        }
    }

    private static byte[] ToPlanar(byte[] interleaved, int pixels, int components, int bytes)
    {
        byte[] planar = new byte[interleaved.Length];
        for (int p = 0; p < pixels; p++)
        {
            for (int c = 0; c < components; c++)
            {
                Array.Copy(interleaved, ((p * components) + c) * bytes, planar, ((c * pixels) + p) * bytes, bytes);
            }
        }

        return planar;
    }

    internal static byte[] Encode(byte[] source, int width, int height, int bits, int components, int interleave, int near)
    {
        IntPtr encoder = charls_jpegls_encoder_create();
        Assert.NotEqual(IntPtr.Zero, encoder);
        try
        {
            var info = new FrameInfo { Width = (uint)width, Height = (uint)height, BitsPerSample = bits, ComponentCount = components };
            Assert.Equal(0, charls_jpegls_encoder_set_frame_info(encoder, ref info));
            Assert.Equal(0, charls_jpegls_encoder_set_interleave_mode(encoder, components == 1 ? 0 : interleave));
            Assert.Equal(0, charls_jpegls_encoder_set_near_lossless(encoder, near));
            Assert.Equal(0, charls_jpegls_encoder_get_estimated_destination_size(encoder, out nuint size));
            byte[] destination = new byte[(int)size];

            // CharLS keeps the destination pointer until the encode call: pin it for the whole sequence.
            GCHandle pin = GCHandle.Alloc(destination, GCHandleType.Pinned);
            try
            {
                Assert.Equal(0, charls_jpegls_encoder_set_destination_buffer(encoder, pin.AddrOfPinnedObject(), size));
                Assert.Equal(0, charls_jpegls_encoder_encode_from_buffer(encoder, source, (nuint)source.Length, 0));
                Assert.Equal(0, charls_jpegls_encoder_get_bytes_written(encoder, out nuint written));
                return destination[..(int)written];
            }
            finally
            {
                pin.Free();
            }
        }
        finally
        {
            charls_jpegls_encoder_destroy(encoder);
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct FrameInfo
    {
        public uint Width;
        public uint Height;
        public int BitsPerSample;
        public int ComponentCount;
    }

    [DllImport(CharLs)]
    private static extern IntPtr charls_jpegls_encoder_create();

    [DllImport(CharLs)]
    private static extern void charls_jpegls_encoder_destroy(IntPtr encoder);

    [DllImport(CharLs)]
    private static extern int charls_jpegls_encoder_set_frame_info(IntPtr encoder, ref FrameInfo info);

    [DllImport(CharLs)]
    private static extern int charls_jpegls_encoder_set_interleave_mode(IntPtr encoder, int mode);

    [DllImport(CharLs)]
    private static extern int charls_jpegls_encoder_set_near_lossless(IntPtr encoder, int near);

    [DllImport(CharLs)]
    private static extern int charls_jpegls_encoder_get_estimated_destination_size(IntPtr encoder, out nuint size);

    [DllImport(CharLs)]
    private static extern int charls_jpegls_encoder_set_destination_buffer(IntPtr encoder, IntPtr destination, nuint size);

    [DllImport(CharLs)]
    private static extern int charls_jpegls_encoder_encode_from_buffer(IntPtr encoder, byte[] source, nuint size, uint stride);

    [DllImport(CharLs)]
    private static extern int charls_jpegls_encoder_get_bytes_written(IntPtr encoder, out nuint written);
}
