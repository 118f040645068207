using System.Buffers.Binary;
using MedTransfer.Imaging.Nifti;
using MedTransfer.Imaging.Tests.Volumes;
using MedTransfer.Testing;

namespace MedTransfer.Imaging.Tests.Nifti;

public sealed class NiftiRoundTripTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-nifti");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(1, "v.nii")]
    [InlineData(1, "v.nii.gz")]
    [InlineData(2, "v.nii")]
    [InlineData(2, "v.nii.gz")]
    public void Write_Read_SameVoxelsAndAffine(int version, string name)
    {
        Volume volume = Oblique();
        string path = Path.Combine(_dir, name);

        NiftiWriter.Write(volume, path, new NiftiWriteOptions { Version = version });
        NiftiImage read = NiftiReader.Read(path);

        Assert.Equal(version, read.Version);
        Assert.Equal(NiftiDataType.Float32, read.DataType);
        Assert.Equal(NiftiAffineSource.Sform, read.AffineSource);
        Assert.Equal(1, read.SformCode);
        Assert.Equal(1, read.QformCode);
        Assert.Equal(2, read.XyztUnits);
        Assert.Equal([5L, 4, 3], read.Dimensions);
        Assert.Equal(volume.Voxels, read.Data);
        VolumeAssemblerTests.AssertAffine(volume.Affine, read.Affine, version == 1 ? 1e-5 : 1e-12);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Write_Qform_EncodesTheSameRigidAffine(int version)
    {
        Volume volume = Oblique();
        using var stream = new MemoryStream();
        NiftiWriter.Write([volume], stream, new NiftiWriteOptions { Version = version });
        byte[] bytes = stream.ToArray();
        // Clear sform_code so the reader must fall back to the qform.
        if (version == 1)
        {
            BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(254), 0);
        }
        else
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(348), 0);
        }

        NiftiImage read = NiftiReader.Read(new MemoryStream(bytes));

        Assert.Equal(NiftiAffineSource.Qform, read.AffineSource);
        VolumeAssemblerTests.AssertAffine(volume.Affine, read.Affine, 1e-4);
    }

    [Fact]
    public void Write_LeftHandedAffine_QfacMinusOne()
    {
        var volume = new Volume(2, 2, 2, new float[8], [-2, 0, 0, 10, 0, 3, 0, -5, 0, 0, 4, 1, 0, 0, 0, 1]);
        using var stream = new MemoryStream();
        NiftiWriter.Write([volume], stream);
        byte[] bytes = stream.ToArray();
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(254), 0);

        NiftiImage read = NiftiReader.Read(new MemoryStream(bytes));

        Assert.Equal(-1, read.PixDim[0]);
        VolumeAssemblerTests.AssertAffine(volume.Affine, read.Affine, 1e-5);
    }

    [Fact]
    public void Write_Int16WholeNumbers_RoundTripExactly()
    {
        var volume = new Volume(3, 2, 2, [-1024, 0, 1, 2, 3000, -7, 8, 9, 10, 11, 12, 13], Identity());
        string path = Path.Combine(_dir, "i.nii.gz");

        NiftiWriter.Write(volume, path, new NiftiWriteOptions { DataType = NiftiDataType.Int16 });
        NiftiImage read = NiftiReader.Read(path);

        Assert.Equal(NiftiDataType.Int16, read.DataType);
        Assert.Equal(1, read.ScaleSlope);
        Assert.Equal(volume.Voxels, read.Data);
    }

    [Fact]
    public void Write_Int16Fractions_ScaledWithinHalfAStep()
    {
        float[] voxels = [.. Enumerable.Range(0, 24).Select(i => (float)(Math.Sin(i) * 1000.5))];
        var volume = new Volume(4, 3, 2, voxels, Identity());
        string path = Path.Combine(_dir, "f.nii");

        NiftiWriter.Write(volume, path, new NiftiWriteOptions { DataType = NiftiDataType.Int16, Version = 2 });
        NiftiImage read = NiftiReader.Read(path);

        Assert.NotEqual(1, read.ScaleSlope);
        Assert.All(voxels.Zip(read.Data), p => Assert.True(Math.Abs(p.First - p.Second) <= (read.ScaleSlope / 2) + 1e-3));
    }

    [Fact]
    public void Write_SeveralVolumes_FourDimensional()
    {
        Volume a = Oblique();
        var b = new Volume(a.NX, a.NY, a.NZ, [.. a.Voxels.Select(v => v * 2)], a.Affine);
        string path = Path.Combine(_dir, "t.nii");

        NiftiWriter.Write([a, b], path);
        NiftiImage read = NiftiReader.Read(path);

        Assert.Equal([5L, 4, 3, 2], read.Dimensions);
        Assert.Equal(2, read.VolumeCount);
        Assert.Equal(b.Voxels, read.ToVolume(1).Voxels);
        Assert.Throws<ArgumentException>(() => NiftiWriter.Write([a, new Volume(1, 1, 1, [0], a.Affine)], path));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Read_SclSlopeAndEndianness_Applied(bool bigEndian)
    {
        var crafted = new NiftiBytes { BigEndian = bigEndian, DataType = 4, BitPix = 16, Slope = 2, Intercept = -3, Data = new byte[16] };
        for (int i = 0; i < 8; i++)
        {
            if (bigEndian)
            {
                BinaryPrimitives.WriteInt16BigEndian(crafted.Data.AsSpan(i * 2), (short)(i - 4));
            }
            else
            {
                BinaryPrimitives.WriteInt16LittleEndian(crafted.Data.AsSpan(i * 2), (short)(i - 4));
            }
        }

        NiftiImage read = NiftiReader.Read(new MemoryStream(crafted.Build()));

        Assert.Equal([-11f, -9, -7, -5, -3, -1, 1, 3], read.Data);
        Assert.Equal(NiftiAffineSource.Pixdim, read.AffineSource);
    }

    [Fact]
    public void Read_SlopeZero_MeansNoScaling()
    {
        var crafted = new NiftiBytes { Slope = 0, Intercept = 100 };

        Assert.Equal([1f, 2, 3, 4, 5, 6, 7, 8], NiftiReader.Read(new MemoryStream(crafted.Build())).Data);
    }

    [Theory]
    [InlineData(NiftiDataType.Int8, 8)]
    [InlineData(NiftiDataType.UInt16, 16)]
    [InlineData(NiftiDataType.Int32, 32)]
    [InlineData(NiftiDataType.UInt32, 32)]
    [InlineData(NiftiDataType.Float64, 64)]
    [InlineData(NiftiDataType.Int64, 64)]
    public void Read_Datatypes_Decoded(NiftiDataType type, short bits)
    {
        int size = bits / 8;
        var data = new byte[8 * size];
        for (int i = 0; i < 8; i++)
        {
            Span<byte> at = data.AsSpan(i * size);
            switch (type)
            {
                case NiftiDataType.Int8: at[0] = (byte)(sbyte)(i - 3); break;
                case NiftiDataType.UInt16: BinaryPrimitives.WriteUInt16LittleEndian(at, (ushort)(60000 + i)); break;
                case NiftiDataType.Int32: BinaryPrimitives.WriteInt32LittleEndian(at, -100000 + i); break;
                case NiftiDataType.UInt32: BinaryPrimitives.WriteUInt32LittleEndian(at, (uint)(3000000 + i)); break;
                case NiftiDataType.Float64: BinaryPrimitives.WriteDoubleLittleEndian(at, i + 0.25); break;
                default: BinaryPrimitives.WriteInt64LittleEndian(at, i - 7); break;
            }
        }

        NiftiImage read = NiftiReader.Read(new MemoryStream(new NiftiBytes { DataType = (short)type, BitPix = bits, Data = data }.Build()));

        float[] expected = type switch
        {
            NiftiDataType.Int8 => [.. Enumerable.Range(0, 8).Select(i => (float)(i - 3))],
            NiftiDataType.UInt16 => [.. Enumerable.Range(0, 8).Select(i => (float)(60000 + i))],
            NiftiDataType.Int32 => [.. Enumerable.Range(0, 8).Select(i => (float)(-100000 + i))],
            NiftiDataType.UInt32 => [.. Enumerable.Range(0, 8).Select(i => (float)(3000000 + i))],
            NiftiDataType.Float64 => [.. Enumerable.Range(0, 8).Select(i => i + 0.25f)],
            _ => [.. Enumerable.Range(0, 8).Select(i => (float)(i - 7))],
        };
        Assert.Equal(expected, read.Data);
    }

    [FsCheck.Xunit.Property(MaxTest = 200)]
    public bool Quaternion_RandomRotation_RoundTrips(double a, double b, double g, bool leftHanded)
    {
        double[] iop = VolumeAssemblerTests.Oblique(Finite(a), Finite(b), Finite(g));
        double[] n = [(iop[1] * iop[5]) - (iop[2] * iop[4]), (iop[2] * iop[3]) - (iop[0] * iop[5]), (iop[0] * iop[4]) - (iop[1] * iop[3])];
        double s = leftHanded ? -1.5 : 1.5;
        double[] affine = [iop[0] * 0.7, iop[3] * 0.9, n[0] * s, 1, iop[1] * 0.7, iop[4] * 0.9, n[1] * s, 2, iop[2] * 0.7, iop[5] * 0.9, n[2] * s, 3, 0, 0, 0, 1];
        var q = NiftiGeometry.AffineToQuaternion(affine);
        double[] back = NiftiGeometry.QuaternionToAffine(q.B, q.C, q.D, q.Qfac, q.Dx, q.Dy, q.Dz, 1, 2, 3);
        return affine.Zip(back).All(p => Math.Abs(p.First - p.Second) < 1e-9);
    }

    private static double Finite(double v) => double.IsFinite(v) ? v % 360 : 0;

    private static double[] Identity() => [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];

    private static Volume Oblique()
    {
        double[] iop = VolumeAssemblerTests.Oblique(15, -25, 5);
        double[] n = [(iop[1] * iop[5]) - (iop[2] * iop[4]), (iop[2] * iop[3]) - (iop[0] * iop[5]), (iop[0] * iop[4]) - (iop[1] * iop[3])];
        double[] affine = [iop[0] * 0.5, iop[3] * 0.75, n[0] * 2, -90.25, iop[1] * 0.5, iop[4] * 0.75, n[1] * 2, 120.5, iop[2] * 0.5, iop[5] * 0.75, n[2] * 2, -35.125, 0, 0, 0, 1];
        float[] voxels = [.. Enumerable.Range(0, 60).Select(i => (i * 13.25f) - 100)];
        return new Volume(5, 4, 3, voxels, affine);
    }
}
