using MedTransfer.Dicom.Tests.Data;
using Xunit;

namespace MedTransfer.Dicom.Tests.IO;

/// <summary>Seeded random data sets (strings, numbers, bytes, nested sequences) survive write + strict read in every explicit syntax.</summary>
public class RandomRoundTripTests
{
    private static readonly DicomVR[] ValueVRs =
    [
        DicomVR.AE, DicomVR.CS, DicomVR.DA, DicomVR.DS, DicomVR.IS, DicomVR.LO, DicomVR.LT, DicomVR.PN, DicomVR.SH, DicomVR.ST,
        DicomVR.TM, DicomVR.UC, DicomVR.UI, DicomVR.UR, DicomVR.UT, DicomVR.US, DicomVR.SS, DicomVR.UL, DicomVR.SL, DicomVR.FL,
        DicomVR.FD, DicomVR.SV, DicomVR.UV, DicomVR.OB, DicomVR.OW, DicomVR.OF, DicomVR.OD, DicomVR.OL, DicomVR.OV, DicomVR.UN, DicomVR.AT,
    ];

    public static TheoryData<string, SequenceLengthEncoding> Syntaxes() => new()
    {
        { "1.2.840.10008.1.2.1", SequenceLengthEncoding.Undefined },
        { "1.2.840.10008.1.2.1", SequenceLengthEncoding.Defined },
        { "1.2.840.10008.1.2.2", SequenceLengthEncoding.Undefined },
        { "1.2.840.10008.1.2.2", SequenceLengthEncoding.Defined },
        { "1.2.840.10008.1.2.1.99", SequenceLengthEncoding.Defined },
    };

    [Theory]
    [MemberData(nameof(Syntaxes))]
    public void Save_RandomDataSets_ReadBackEqual(string uid, SequenceLengthEncoding sequences)
    {
        TransferSyntax syntax = TransferSyntax.Lookup(uid);
        var random = new Random(7 + uid.Length + (int)sequences);
        for (int i = 0; i < 60; i++)
        {
            DicomDataset ds = RandomDataset(random, depth: 0);
            byte[] bytes = SampleFiles.Write(ds, syntax, sequences);
            DicomFile back = DicomFile.Read(bytes, new DicomReaderOptions { Validation = ValidationMode.Strict });
            DatasetAssert.Equal(ds, back.Dataset);
        }
    }

    private static DicomDataset RandomDataset(Random random, int depth)
    {
        var ds = new DicomDataset();
        int count = random.Next(depth == 0 ? 30 : 6);
        for (int i = 0; i < count; i++)
        {
            var tag = new DicomTag((ushort)(0x0008 + (2 * random.Next(0x40))), (ushort)(1 + random.Next(0xFFFE)));
            if (depth < 3 && random.Next(8) == 0)
            {
                int items = random.Next(4);
                var list = new List<DicomDataset>();
                for (int k = 0; k < items; k++)
                {
                    list.Add(RandomDataset(random, depth + 1));
                }

                ds.SetSequence(tag, list);
                continue;
            }

            DicomVR vr = ValueVRs[random.Next(ValueVRs.Length)];
            int size = DicomVRInfo.ValueSize(vr);
            byte[] value;
            if (vr == DicomVR.AT)
            {
                value = new byte[4 * random.Next(3)];
                random.NextBytes(value);
            }
            else if (size > 0)
            {
                value = new byte[size * random.Next(5)];
                random.NextBytes(value);
            }
            else if (DicomVRInfo.IsString(vr))
            {
                value = new byte[random.Next(40)];
                for (int k = 0; k < value.Length; k++)
                {
                    value[k] = (byte)random.Next(0x20, 0x7F);
                }
            }
            else
            {
                value = new byte[random.Next(50)];
                random.NextBytes(value);
            }

            ds.SetBytes(tag, vr, value);
        }

        return ds;
    }
}
