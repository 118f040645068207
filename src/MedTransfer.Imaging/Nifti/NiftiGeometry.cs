namespace MedTransfer.Imaging.Nifti;

/// <summary>
/// The NIfTI-1 quaternion representation of an orthonormal rotation (nifti1.h, "METHOD 2"):
/// b, c, d with a = sqrt(1 − b² − c² − d²), qfac = ±1 for a left-handed grid, spacing and offset.
/// </summary>
internal static class NiftiGeometry
{
    /// <summary>The affine of the qform fields (row-major 4×4).</summary>
    public static double[] QuaternionToAffine(double b, double c, double d, double qfac, double dx, double dy, double dz, double ox, double oy, double oz)
    {
        double sumSquares = (b * b) + (c * c) + (d * d);
        double a;
        if (sumSquares > 1.0)
        {
            // nifti1.h: "a ... could be slightly negative due to roundoff; it is then taken to be 0" and b, c, d renormalised.
            double norm = Math.Sqrt(sumSquares);
            b /= norm;
            c /= norm;
            d /= norm;
            a = 0;
        }
        else
        {
            a = Math.Sqrt(1.0 - sumSquares);
        }

        double zScale = qfac < 0 ? -dz : dz;
        return
        [
            ((a * a) + (b * b) - (c * c) - (d * d)) * dx, 2 * ((b * c) - (a * d)) * dy, 2 * ((b * d) + (a * c)) * zScale, ox,
            2 * ((b * c) + (a * d)) * dx, ((a * a) + (c * c) - (b * b) - (d * d)) * dy, 2 * ((c * d) - (a * b)) * zScale, oy,
            2 * ((b * d) - (a * c)) * dx, 2 * ((c * d) + (a * b)) * dy, ((a * a) + (d * d) - (c * c) - (b * b)) * zScale, oz,
            0, 0, 0, 1,
        ];
    }

    /// <summary>
    /// The qform fields closest to <paramref name="affine"/>: spacing = column lengths, the rotation from the
    /// column directions made orthonormal (a sheared affine keeps its exact form only in the sform), qfac = −1
    /// when the grid is left-handed.
    /// </summary>
    public static (double B, double C, double D, double Qfac, double Dx, double Dy, double Dz) AffineToQuaternion(IReadOnlyList<double> affine)
    {
        var col = new double[3][];
        var len = new double[3];
        for (int j = 0; j < 3; j++)
        {
            col[j] = [affine[j], affine[4 + j], affine[8 + j]];
            len[j] = Math.Sqrt(Dot(col[j], col[j]));
            if (len[j] <= 0 || !double.IsFinite(len[j]))
            {
                col[j] = j == 0 ? [1, 0, 0] : j == 1 ? [0, 1, 0] : [0, 0, 1];
                len[j] = 1;
            }
            else
            {
                col[j] = Scale(col[j], 1 / len[j]);
            }
        }

        // Gram-Schmidt on the first two columns; the third is their cross product, signed like the given one.
        double[] u = col[0];
        double[] v = Normalize(Subtract(col[1], Scale(u, Dot(u, col[1]))));
        double[] w = Cross(u, v);
        double qfac = 1;
        if (Dot(w, col[2]) < 0)
        {
            qfac = -1;
        }

        // Rotation matrix with columns u, v, w (w is the proper-rotation third column; qfac flips it back).
        double r11 = u[0], r12 = v[0], r13 = w[0];
        double r21 = u[1], r22 = v[1], r23 = w[1];
        double r31 = u[2], r32 = v[2], r33 = w[2];
        double a = r11 + r22 + r33 + 1;
        double b, c, d;
        if (a > 0.5)
        {
            a = 0.5 * Math.Sqrt(a);
            b = 0.25 * (r32 - r23) / a;
            c = 0.25 * (r13 - r31) / a;
            d = 0.25 * (r21 - r12) / a;
        }
        else
        {
            double xd = 1 + r11 - (r22 + r33);
            double yd = 1 + r22 - (r11 + r33);
            double zd = 1 + r33 - (r11 + r22);
            if (xd > 1)
            {
                b = 0.5 * Math.Sqrt(xd);
                c = 0.25 * (r12 + r21) / b;
                d = 0.25 * (r13 + r31) / b;
                a = 0.25 * (r32 - r23) / b;
            }
            else if (yd > 1)
            {
                c = 0.5 * Math.Sqrt(yd);
                b = 0.25 * (r12 + r21) / c;
                d = 0.25 * (r23 + r32) / c;
                a = 0.25 * (r13 - r31) / c;
            }
            else
            {
                d = 0.5 * Math.Sqrt(zd);
                b = 0.25 * (r13 + r31) / d;
                c = 0.25 * (r23 + r32) / d;
                a = 0.25 * (r21 - r12) / d;
            }

            if (a < 0)
            {
                b = -b;
                c = -c;
                d = -d;
            }
        }

        return (b, c, d, qfac, len[0], len[1], len[2]);
    }

    private static double Dot(double[] x, double[] y) => (x[0] * y[0]) + (x[1] * y[1]) + (x[2] * y[2]);

    private static double[] Scale(double[] x, double s) => [x[0] * s, x[1] * s, x[2] * s];

    private static double[] Subtract(double[] x, double[] y) => [x[0] - y[0], x[1] - y[1], x[2] - y[2]];

    private static double[] Cross(double[] x, double[] y) =>
        [(x[1] * y[2]) - (x[2] * y[1]), (x[2] * y[0]) - (x[0] * y[2]), (x[0] * y[1]) - (x[1] * y[0])];

    private static double[] Normalize(double[] x)
    {
        double n = Math.Sqrt(Dot(x, x));
        return n > 0 ? Scale(x, 1 / n) : [0, 1, 0];
    }
}
