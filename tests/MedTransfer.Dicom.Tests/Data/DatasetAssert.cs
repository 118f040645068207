using Xunit;
using Xunit.Sdk;

namespace MedTransfer.Dicom.Tests.Data;

/// <summary>Deep, element-by-element comparison of data sets (values compared after even-length padding).</summary>
internal static class DatasetAssert
{
    /// <summary>Fails unless both data sets hold the same elements; VRs are compared unless <paramref name="compareVR"/> is false (implicit VR round trips, where the VR comes from the dictionary).</summary>
    public static void Equal(DicomDataset expected, DicomDataset actual, bool compareVR = true, string path = "")
    {
        List<DicomElement> e = Significant(expected);
        List<DicomElement> a = Significant(actual);
        if (e.Count != a.Count)
        {
            throw new XunitException($"{path}: expected {e.Count} elements [{string.Join(' ', e.Select(x => x.Tag))}], got {a.Count} [{string.Join(' ', a.Select(x => x.Tag))}]");
        }

        for (int i = 0; i < e.Count; i++)
        {
            DicomElement x = e[i];
            DicomElement y = a[i];
            string here = $"{path}/{x.Tag}";
            if (x.Tag != y.Tag)
            {
                throw new XunitException($"{here}: tag differs, got {y.Tag}");
            }

            if (compareVR && x.VR != y.VR)
            {
                throw new XunitException($"{here}: VR {x.VR} expected, got {y.VR}");
            }

            if (x is DicomSequence sx)
            {
                if (y is not DicomSequence sy)
                {
                    throw new XunitException($"{here}: expected a sequence");
                }

                if (sx.Items.Count != sy.Items.Count)
                {
                    throw new XunitException($"{here}: {sx.Items.Count} items expected, got {sy.Items.Count}");
                }

                for (int k = 0; k < sx.Items.Count; k++)
                {
                    Equal(sx.Items[k], sy.Items[k], compareVR, $"{here}[{k}]");
                }

                continue;
            }

            if (x.Fragments is { } fx)
            {
                DicomFragments fy = y.Fragments ?? throw new XunitException($"{here}: expected fragments");
                Assert.Equal(fx.BasicOffsetTable, fy.BasicOffsetTable);
                Assert.Equal(fx.Count, fy.Count);
                for (int k = 0; k < fx.Count; k++)
                {
                    Assert.True(Padded(fx.Fragments[k].Span, 0).SequenceEqual(Padded(fy.Fragments[k].Span, 0)), $"{here}: fragment {k} differs");
                }

                continue;
            }

            byte pad = DicomVRInfo.PaddingByte(x.VR);
            if (!Padded(x.Value.Span, pad).SequenceEqual(Padded(y.Value.Span, pad)))
            {
                throw new XunitException($"{here}: value differs ({x.Value.Length} vs {y.Value.Length} bytes)");
            }
        }
    }

    private static List<DicomElement> Significant(DicomDataset ds) => ds.Where(x => x.Tag.Element != 0).ToList();

    private static byte[] Padded(ReadOnlySpan<byte> value, byte pad) =>
        value.Length % 2 == 0 ? value.ToArray() : [.. value.ToArray(), pad];
}
