using System.Buffers.Binary;
using MedTransfer.Dicom.Pixels;
using MedTransfer.Testing;

namespace MedTransfer.Dicom.Tests.Pixels;

/// <summary>
/// Test-only: finds Pixel Data (7FE0,0010) as the last top-level element of a file and returns either the native
/// value or the encapsulated fragments, so the pixel tests do not depend on the concurrently written reader.
/// </summary>
internal static class TestPixelData
{
    public const string Folder = "dcm_qa_ts";

    /// <summary>The 384x384 MR image shared by all files of dcm_qa_ts (BitsStored 12 of 16, unsigned).</summary>
    public static PixelModule Module { get; } = new(384, 384, 1, 16, 12, 11, 0, 0, "MONOCHROME2", 1);

    /// <summary>The syntaxes as the files really carry them (the README's 6.dcm entry says JPEG-LS; the file is JPEG lossless).</summary>
    public static IReadOnlyDictionary<int, string> Syntaxes { get; } = new Dictionary<int, string>
    {
        [1] = PixelDecoder.ExplicitVRLittleEndian,
        [2] = PixelDecoder.ImplicitVRLittleEndian,
        [3] = PixelDecoder.ExplicitVRBigEndian,
        [4] = PixelDecoder.RleLossless,
        [5] = PixelDecoder.JpegLosslessSV1,
        [6] = PixelDecoder.JpegLosslessSV1,
        [7] = PixelDecoder.JpegLsLossless,
        [8] = PixelDecoder.JpegLsLossless,
        [9] = PixelDecoder.Jpeg2000Lossless,
    };

    public static string? PathOf(int number)
    {
        string? folder = TestPaths.SharedData(Folder);
        return folder is null ? null : Path.Combine(folder, "In", $"{number}.dcm");
    }

    /// <summary>The bytes to hand to <see cref="PixelDecoder"/>: the native value, or frame 0's concatenated fragments.</summary>
    public static byte[] FrameSource(int number)
    {
        byte[] file = File.ReadAllBytes(PathOf(number)!);
        bool bigEndian = Syntaxes[number] == PixelDecoder.ExplicitVRBigEndian;
        for (int at = file.Length - 8; at >= 132; at--)
        {
            if (!IsPixelDataTag(file, at, bigEndian))
            {
                continue;
            }

            bool explicitVr = file[at + 4] == (byte)'O' && (file[at + 5] == (byte)'B' || file[at + 5] == (byte)'W');
            int lengthAt = explicitVr ? at + 8 : at + 4;
            if (lengthAt + 4 > file.Length)
            {
                continue;
            }

            uint length = bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(lengthAt)) : BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(lengthAt));
            int valueAt = lengthAt + 4;
            if (length == uint.MaxValue)
            {
                return Fragments(file, valueAt);
            }

            if (valueAt + (long)length == file.Length)
            {
                return file[valueAt..];
            }
        }

        throw new InvalidDataException("Pixel Data not found");
    }

    private static bool IsPixelDataTag(byte[] file, int at, bool bigEndian) => bigEndian
        ? file[at] == 0x7F && file[at + 1] == 0xE0 && file[at + 2] == 0x00 && file[at + 3] == 0x10
        : file[at] == 0xE0 && file[at + 1] == 0x7F && file[at + 2] == 0x10 && file[at + 3] == 0x00;

    private static byte[] Fragments(byte[] file, int at)
    {
        using var frame = new MemoryStream();
        bool first = true;
        while (at + 8 <= file.Length)
        {
            ushort group = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(at));
            ushort element = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(at + 2));
            int length = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 4)));
            at += 8;
            if (group == 0xFFFE && element == 0xE0DD)
            {
                break;
            }

            if (!first)
            {
                frame.Write(file, at, length);
            }

            first = false;
            at += length;
        }

        return frame.ToArray();
    }
}
