using System.Globalization;
using System.Text;
using MedTransfer.Imaging.Volumes;

namespace MedTransfer.Imaging.Nifti;

/// <summary>
/// The b-values and gradient directions of a 4-D diffusion NIfTI as FSL's <c>.bval</c> / <c>.bvec</c> text files
/// (the form BIDS requires): one b-value per volume on one line; three lines of x, y and z. FSL defines the vectors
/// in the image's voxel axes, with the first axis flipped when the voxel→world matrix has a positive determinant
/// (FSL assumes radiological storage), so the vectors depend on the affine the NIfTI was written with.
/// </summary>
public static class FslGradients
{
    /// <summary>The two files' text for <paramref name="weightings"/> (one per volume; null = no weighting stated, written as b = 0 and a zero vector).</summary>
    /// <param name="weightings">Each volume's diffusion weighting, in volume order; directions in DICOM's LPS patient frame.</param>
    /// <param name="affine">The voxel→RAS affine of the NIfTI (row-major 4 × 4).</param>
    public static (string Bval, string Bvec) Format(IReadOnlyList<DiffusionWeighting?> weightings, IReadOnlyList<double> affine)
    {
        ArgumentNullException.ThrowIfNull(weightings);
        ArgumentNullException.ThrowIfNull(affine);
        double[][] axes = [.. Enumerable.Range(0, 3).Select(c => new[] { affine[c], affine[4 + c], affine[8 + c] })];
        bool flipX = Geometry.Dot(axes[0], Geometry.Cross(axes[1], axes[2])) > 0;
        var rows = new[] { new List<string>(), new List<string>(), new List<string>() };
        var bvals = new List<string>();
        foreach (DiffusionWeighting? w in weightings)
        {
            bvals.Add(Number(w?.BValue ?? 0));
            double[] ras = w is { HasDirection: true } ? [-w.Gradient[0], -w.Gradient[1], w.Gradient[2]] : [0, 0, 0];
            for (int a = 0; a < 3; a++)
            {
                double length = Geometry.Norm(axes[a]);
                double component = length > 0 ? Geometry.Dot(ras, axes[a]) / length : 0;
                rows[a].Add(Number(a == 0 && flipX ? -component : component));
            }
        }

        var bvec = new StringBuilder();
        foreach (List<string> row in rows)
        {
            bvec.Append(string.Join(' ', row)).Append('\n');
        }

        return (string.Join(' ', bvals) + "\n", bvec.ToString());
    }

    // Six significant digits, as dcm2niix writes them; + 0.0 turns −0 into 0.
    private static string Number(double value) => (Math.Round(value, 6) + 0.0).ToString("G6", CultureInfo.InvariantCulture);
}
