using MedTransfer.Imaging.Nifti;
using MedTransfer.Imaging.Volumes;

namespace MedTransfer.Imaging.Tests.Nifti;

/// <summary>FSL bvec files: voxel-axis components, the first flipped only for a positive-determinant affine.</summary>
public sealed class FslGradientsTests
{
    // A gradient toward the patient's left and up (LPS (0.6, 0, 0.8)) is (−0.6, 0, 0.8) in RAS.
    private static readonly DiffusionWeighting?[] s_weightings = [null, new(0, [0, 0, 0]), new(1500.123456, [0.6, 0, 0.8])];

    [Fact]
    public void Format_RadiologicalAffine_VoxelComponentsUnflipped()
    {
        // Voxel axes along RAS −x, +y, +z (determinant < 0): components are the RAS ones with x negated.
        double[] affine = [-2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1];

        (string bval, string bvec) = FslGradients.Format(s_weightings, affine);

        Assert.Equal("0 0 1500.12\n", bval);
        Assert.Equal("0 0 0.6\n0 0 0\n0 0 0.8\n", bvec);
    }

    [Fact]
    public void Format_NeurologicalAffine_FirstComponentFlipped()
    {
        // Voxel axes along RAS +x, +y, +z (determinant > 0): FSL flips the first component.
        double[] affine = [3, 0, 0, 0, 0, 3, 0, 0, 0, 0, 3, 0, 0, 0, 0, 1];

        (_, string bvec) = FslGradients.Format(s_weightings, affine);

        Assert.Equal("0 0 0.6\n0 0 0\n0 0 0.8\n", bvec);
    }

    [Fact]
    public void Format_ObliqueAffine_ProjectsOnTheVoxelAxes()
    {
        // The first two voxel axes rotated 90° about z: axis 0 along RAS +y, axis 1 along RAS −x (determinant > 0).
        double[] affine = [0, -1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];

        (_, string bvec) = FslGradients.Format(s_weightings, affine);

        Assert.Equal("0 0 0\n0 0 0.6\n0 0 0.8\n", bvec);
    }
}
