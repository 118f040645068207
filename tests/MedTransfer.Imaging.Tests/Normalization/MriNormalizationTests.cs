using MedTransfer.Imaging.Normalization;
using MedTransfer.Imaging.Resampling;

namespace MedTransfer.Imaging.Tests.Normalization;

public sealed class MriNormalizationTests
{
    // Voxel i runs posterior (2 mm), j runs left (1.5 mm, slightly tilted to S), k runs superior (3 mm, tilted to A).
    private static readonly double[] s_plsAffine =
    [
        0, -1.5, 0, 10,
        -2, 0, 0.1, 20,
        0, 0.05, 3, 30,
        0, 0, 0, 1,
    ];

    [Fact]
    public void ToRas_PermutedFlippedObliqueVolume_GivesTheKnownAffineAndMovesNoVoxelInSpace()
    {
        Volume pls = IndexVolume(4, 3, 2, s_plsAffine);
        Assert.Equal("PLS", VolumeOrientation.AxisCodes(pls));

        Volume ras = VolumeOrientation.ToRas(pls);

        Assert.Equal("RAS", VolumeOrientation.AxisCodes(ras));
        Assert.Equal((3, 4, 2), (ras.NX, ras.NY, ras.NZ));
        double[] expected =
        [
            1.5, 0, 0, 7,
            0, 2, 0.1, 14,
            -0.05, 0, 3, 30.1,
            0, 0, 0, 1,
        ];
        for (int e = 0; e < 16; e++)
        {
            Assert.Equal(expected[e], ras.Affine[e], 12);
        }

        for (int k = 0; k < ras.NZ; k++)
        {
            for (int j = 0; j < ras.NY; j++)
            {
                for (int i = 0; i < ras.NX; i++)
                {
                    // Source voxel: i_src = NX−1−j, j_src = NY−1−i, k_src = k.
                    (int si, int sj, int sk) = (4 - 1 - j, 3 - 1 - i, k);
                    Assert.Equal(pls[si, sj, sk], ras[i, j, k]);
                    double[] a = World(ras.Affine, i, j, k);
                    double[] b = World(pls.Affine, si, sj, sk);
                    Assert.Equal(b[0], a[0], 9);
                    Assert.Equal(b[1], a[1], 9);
                    Assert.Equal(b[2], a[2], 9);
                }
            }
        }
    }

    [Fact]
    public void ToRas_AlreadyRas_IsAnExactCopy()
    {
        Volume v = IndexVolume(3, 2, 2, [1, 0, 0, -5, 0, 1, 0, 2, 0, 0, 1, 7, 0, 0, 0, 1]);

        Volume r = VolumeOrientation.ToRas(v);

        Assert.Equal(v.Voxels, r.Voxels);
        Assert.Equal(v.Affine, r.Affine);
    }

    [Fact]
    public void ZScore_Foreground_HasMeanZeroAndUnitDeviation()
    {
        Volume v = Head(seed: 1, scale: 1, offset: 0);
        bool[] mask = ForegroundMask.Compute(v.Voxels, ForegroundMethod.Otsu);
        float[] voxels = (float[])v.Voxels.Clone();

        NormalizationReport report = MriNormalizer.ZScore(voxels, ForegroundMethod.Otsu);

        double[] fg = [.. voxels.Where((_, i) => mask[i]).Select(x => (double)x)];
        double mean = fg.Average();
        double sd = Math.Sqrt(fg.Select(x => (x - mean) * (x - mean)).Average());
        Assert.Equal(0, mean, 4);
        Assert.Equal(1, sd, 4);
        Assert.Empty(report.Warnings);
        Assert.Equal(v.Voxels.Count(x => x > 0), fg.Length); // Otsu separates the ellipsoid exactly from the zero background
    }

    [Fact]
    public void ZScore_ConstantVolume_ReportsEmptyForegroundAndZeroSpread()
    {
        float[] voxels = Enumerable.Repeat(5f, 64).ToArray();

        NormalizationReport report = MriNormalizer.ZScore(voxels, ForegroundMethod.Mean);

        Assert.True(report.Has(NormalizationWarningCode.EmptyForeground));
        Assert.True(report.Has(NormalizationWarningCode.ZeroSpread));
        Assert.All(voxels, x => Assert.Equal(0f, x));
    }

    [Fact]
    public void Nyul_FittedOnTwoScalings_MapsBothOntoTheStandardLandmarks()
    {
        Volume a = Head(seed: 2, scale: 1, offset: 0);
        Volume b = Head(seed: 3, scale: 3.5, offset: 250);

        NyulModel model = NyulStandardizer.Fit([a, b]);

        Assert.Equal(NyulStandardizer.DefaultPercentiles, model.Percentiles);
        Assert.Equal(0, model.StandardLandmarks[0], 9);
        Assert.Equal(100, model.StandardLandmarks[^1], 9);
        float[] va = (float[])a.Voxels.Clone();
        float[] vb = (float[])b.Voxels.Clone();
        NyulStandardizer.Apply(va, model);
        NyulStandardizer.Apply(vb, model);
        double[] la = NyulStandardizer.Landmarks(va, model);
        double[] lb = NyulStandardizer.Landmarks(vb, model);
        for (int k = 0; k < la.Length; k++)
        {
            Assert.Equal(model.StandardLandmarks[k], la[k], 1);
            Assert.Equal(model.StandardLandmarks[k], lb[k], 1);
            Assert.Equal(la[k], lb[k], 1);
        }
    }

    [Fact]
    public void Nyul_BadModels_AreRejected()
    {
        Assert.Throws<ArgumentException>(() => NyulStandardizer.Fit([]));
        Assert.Throws<ArgumentException>(() => NyulStandardizer.Validate(new NyulModel([10, 5], [0, 100], 0, 100, ForegroundMethod.Otsu)));
        Assert.Throws<ArgumentException>(() => NyulStandardizer.Validate(new NyulModel([1, 99], [0], 0, 100, ForegroundMethod.Otsu)));
        Assert.Throws<ArgumentException>(() => new MriRecipe { Standardize = IntensityStandardization.Nyul }.Validate());
    }

    [Fact]
    public void ExtractSlabs_AxialAllWithThree_ClampsAtTheEndsAndKeepsShape()
    {
        Volume v = IndexVolume(5, 4, 6, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);

        IReadOnlyList<MriSlab> slabs = MriNormalizer.ExtractSlabs(v, new SliceOptions());

        Assert.Equal(6, slabs.Count);
        Assert.All(slabs, s => Assert.Equal((3, 4, 5, 60), (s.Channels, s.Height, s.Width, s.Tensor.Length)));
        // Slab 0: slices 0 (clamped), 0, 1. Voxel (i, j, k) holds its linear index.
        Assert.Equal(v[2, 1, 0], slabs[0].Tensor[(0 * 20) + (1 * 5) + 2]);
        Assert.Equal(v[2, 1, 0], slabs[0].Tensor[(1 * 20) + (1 * 5) + 2]);
        Assert.Equal(v[2, 1, 1], slabs[0].Tensor[(2 * 20) + (1 * 5) + 2]);
        Assert.Equal(v[4, 3, 5], slabs[5].Tensor[(2 * 20) + (3 * 5) + 4]);
    }

    [Fact]
    public void ExtractSlabs_CountAndOtherAxes_GiveTheDocumentedShapes()
    {
        Volume v = IndexVolume(5, 4, 6, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);

        IReadOnlyList<MriSlab> axial = MriNormalizer.ExtractSlabs(v, new SliceOptions(Count: 2, SlabThickness: 1));
        IReadOnlyList<MriSlab> coronal = MriNormalizer.ExtractSlabs(v, new SliceOptions(SliceAxis.Coronal, SlabThickness: 3));
        IReadOnlyList<MriSlab> sagittal = MriNormalizer.ExtractSlabs(v, new SliceOptions(SliceAxis.Sagittal, Count: 1, SlabThickness: 5));

        Assert.Equal([1, 4], axial.Select(s => s.SliceIndex));
        Assert.Equal((1, 4, 5), (axial[0].Channels, axial[0].Height, axial[0].Width));
        Assert.Equal(4, coronal.Count);
        Assert.Equal((3, 6, 5), (coronal[1].Channels, coronal[1].Height, coronal[1].Width));
        Assert.Equal(v[3, 1, 5], coronal[1].Tensor[(1 * 30) + (5 * 5) + 3]);
        MriSlab s = Assert.Single(sagittal);
        Assert.Equal((2, 5, 6, 4), (s.SliceIndex, s.Channels, s.Height, s.Width));
        Assert.Equal(v[4, 2, 3], s.Tensor[(4 * 24) + (3 * 4) + 2]);
    }

    [Fact]
    public void Resample_LinearField_IsReproducedAndAffineScaled()
    {
        var voxels = new float[8 * 8 * 8];
        for (int k = 0; k < 8; k++)
        {
            for (int j = 0; j < 8; j++)
            {
                for (int i = 0; i < 8; i++)
                {
                    voxels[(((k * 8) + j) * 8) + i] = i + (2 * j) + (3 * k);
                }
            }
        }

        var v = new Volume(8, 8, 8, voxels, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1]);

        Volume down = VolumeResampler.Resample(v, 2, 2, 2);
        Volume up = VolumeResampler.Resample(v, 0.5, 1, 2);

        Assert.Equal((4, 4, 8), (down.NX, down.NY, down.NZ));
        Assert.Equal((2.0, 2.0, 2.0), down.Spacing);
        Assert.Equal(2 + 4 + 3, down[1, 1, 1], 5);
        Assert.Equal((16, 8, 8), (up.NX, up.NY, up.NZ));
        Assert.Equal(2.5f + 2 + 3, up[5, 1, 1], 5);
    }

    [Fact]
    public void Normalize_FullRecipe_ReorientsStandardisesAndSlices()
    {
        Volume head = Head(seed: 4, scale: 2, offset: 10);
        var pls = new Volume(head.NX, head.NY, head.NZ, head.Voxels, s_plsAffine);
        var recipe = new MriRecipe();
        float[] before = (float[])pls.Voxels.Clone();

        MriNormalization result = MriNormalizer.Normalize(pls, recipe);

        Assert.Equal("RAS", VolumeOrientation.AxisCodes(result.Volume));
        Assert.Equal(result.Volume.NZ, result.Slabs.Count);
        Assert.Equal((3, result.Volume.NY, result.Volume.NX), (result.Slabs[0].Channels, result.Slabs[0].Height, result.Slabs[0].Width));
        Assert.Equal(before, pls.Voxels);
        Assert.Empty(result.Report.Warnings);
    }

    [Fact]
    public void MriRecipe_HashAndJson_RoundTripWithAFittedModel()
    {
        NyulModel model = NyulStandardizer.Fit([Head(5, 1, 0)]);
        var recipe = new MriRecipe
        {
            Standardize = IntensityStandardization.Nyul,
            Nyul = model,
            ResampleSpacing = new VoxelSpacing(1, 1, 1.5),
            Slices = new SliceOptions(SliceAxis.Coronal, 16, 1),
        };

        MriRecipe back = MriRecipe.FromJson(recipe.ToJson());

        Assert.Equal(recipe.ComputeHash(), back.ComputeHash());
        Assert.Equal(recipe.ToCanonicalJson(), back.ToCanonicalJson());
        Assert.Equal(model.StandardLandmarks, back.Nyul!.StandardLandmarks);
        Assert.NotEqual(new MriRecipe().ComputeHash(), recipe.ComputeHash());
        Assert.NotEqual(new MriRecipe().ComputeHash(), new MriRecipe { Foreground = ForegroundMethod.Mean }.ComputeHash());
        Assert.NotEqual(new XrayRecipe().ComputeHash(), new MriRecipe().ComputeHash());
    }

    // A 24³ "head": an ellipsoid of tissue with a skewed intensity distribution on a zero background, then scale·v + offset.
    private static Volume Head(int seed, double scale, double offset)
    {
        const int N = 24;
        var random = new Random(seed);
        var voxels = new float[N * N * N];
        for (int k = 0; k < N; k++)
        {
            for (int j = 0; j < N; j++)
            {
                for (int i = 0; i < N; i++)
                {
                    double dx = (i - 11.5) / 10;
                    double dy = (j - 11.5) / 9;
                    double dz = (k - 11.5) / 8;
                    double tissue = (dx * dx) + (dy * dy) + (dz * dz) < 1 ? 200 + (400 * Math.Pow(random.NextDouble(), 2)) : 0;
                    voxels[(((k * N) + j) * N) + i] = (float)((scale * tissue) + offset);
                }
            }
        }

        return new Volume(N, N, N, voxels, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    }

    private static Volume IndexVolume(int nx, int ny, int nz, double[] affine) =>
        new(nx, ny, nz, [.. Enumerable.Range(0, nx * ny * nz).Select(i => (float)i)], affine);

    private static double[] World(double[] a, int i, int j, int k) =>
    [
        (a[0] * i) + (a[1] * j) + (a[2] * k) + a[3],
        (a[4] * i) + (a[5] * j) + (a[6] * k) + a[7],
        (a[8] * i) + (a[9] * j) + (a[10] * k) + a[11],
    ];
}
