using MedTransfer.Synthetic.Randomness;

namespace MedTransfer.Synthetic.Phantoms;

/// <summary>A patient's head and an optional lesion, in patient coordinates (LPS, millimetres).</summary>
/// <param name="SemiAxes">Half-lengths of the head ellipsoid (left–right, anterior–posterior, inferior–superior).</param>
/// <param name="Centre">Centre of the head in patient coordinates.</param>
/// <param name="YawRad">Rotation of the head about the superior axis.</param>
/// <param name="HasLesion">Whether a lesion is present.</param>
/// <param name="Lesion">Lesion centre in head coordinates (mm).</param>
/// <param name="LesionRadiusMm">Lesion radius.</param>
/// <param name="VentricleScale">Ventricle size factor (atrophy widens them).</param>
internal sealed record BrainAnatomy(
    (double X, double Y, double Z) SemiAxes,
    (double X, double Y, double Z) Centre,
    double YawRad,
    bool HasLesion,
    (double X, double Y, double Z) Lesion,
    double LesionRadiusMm,
    double VentricleScale)
{
    public static BrainAnatomy Draw(SeededRandom r, bool male, int age, bool lesion)
    {
        double scale = male ? 1.04 : 0.97;
        var axes = (r.Normal(70.0, 3.0) * scale, r.Normal(92.0, 4.0) * scale, r.Normal(68.0, 3.0) * scale);
        var centre = (r.Normal(0.0, 3.0), r.Normal(0.0, 4.0), r.Normal(0.0, 4.0));
        (double X, double Y, double Z) at = (0, 0, 0);
        double radius = 0;
        if (lesion)
        {
            // Somewhere in the white matter, away from the midline ventricles.
            double side = r.NextDouble() < 0.5 ? -1.0 : 1.0;
            at = (side * r.NextDouble(18.0, 38.0), r.NextDouble(-45.0, 45.0), r.NextDouble(-15.0, 30.0));
            radius = r.NextDouble(6.0, 13.0);
        }

        return new BrainAnatomy(axes, centre, r.Normal(0.0, 0.08), lesion, at, radius, 0.8 + (0.6 * Math.Clamp((age - 20) / 70.0, 0.0, 1.0)));
    }
}

/// <summary>MR signal of the brain phantom for one weighting: scalp fat, skull, CSF, folded cortex, white matter, ventricles, lesion.</summary>
internal sealed class BrainPhantom
{
    private readonly BrainAnatomy _anatomy;
    private readonly Tissues _tissues;
    private readonly double _yawCos;
    private readonly double _yawSin;

    public BrainPhantom(BrainAnatomy anatomy, string weighting)
    {
        _anatomy = anatomy;
        _tissues = weighting == "T1"
            ? new Tissues(Fat: 0.95, Bone: 0.04, Csf: 0.12, Grey: 0.48, White: 0.74, Lesion: 0.26)
            : new Tissues(Fat: 0.55, Bone: 0.04, Csf: 0.98, Grey: 0.58, White: 0.38, Lesion: 0.85);
        _yawCos = DeterministicMath.Cos(anatomy.YawRad);
        _yawSin = DeterministicMath.Sin(anatomy.YawRad);
    }

    /// <summary>The noise-free signal at a patient point (0 in air).</summary>
    public double Signal(double x, double y, double z)
    {
        double dx = x - _anatomy.Centre.X;
        double dy = y - _anatomy.Centre.Y;
        double dz = z - _anatomy.Centre.Z;
        double hx = (_yawCos * dx) + (_yawSin * dy);
        double hy = (-_yawSin * dx) + (_yawCos * dy);
        double hz = dz;
        double qx = hx / _anatomy.SemiAxes.X;
        double qy = hy / _anatomy.SemiAxes.Y;
        double qz = hz / _anatomy.SemiAxes.Z;
        double r = Math.Sqrt((qx * qx) + (qy * qy) + (qz * qz));
        if (r > 1.0)
        {
            return 0.0;
        }

        if (r > 0.93)
        {
            return _tissues.Fat;
        }

        if (r > 0.87)
        {
            return _tissues.Bone;
        }

        // Gyri: the grey/CSF and grey/white borders undulate with position.
        double folds = 0.025 * (DeterministicMath.Sin(hx * 0.21) + DeterministicMath.Sin(hy * 0.19) + DeterministicMath.Sin(hz * 0.23));
        if (r > 0.84 + folds)
        {
            return _tissues.Csf;
        }

        double value = r > 0.70 + folds ? _tissues.Grey : _tissues.White;
        double v = _anatomy.VentricleScale;
        double vx = (Math.Abs(hx) - 11.0) / (6.0 * v);
        double vy = (hy + 4.0) / 24.0;
        double vz = (hz - 8.0) / (10.0 * v);
        if ((vx * vx) + (vy * vy) + (vz * vz) < 1.0)
        {
            value = _tissues.Csf;
        }

        if (_anatomy.HasLesion)
        {
            double lx = hx - _anatomy.Lesion.X;
            double ly = hy - _anatomy.Lesion.Y;
            double lz = hz - _anatomy.Lesion.Z;
            double d = Math.Sqrt((lx * lx) + (ly * ly) + (lz * lz)) / _anatomy.LesionRadiusMm;
            if (d < 1.3)
            {
                double w = ChestPhantom.SmoothStep(1.3, 0.8, d);
                value += (_tissues.Lesion - value) * w;
            }
        }

        return value;
    }

    private sealed record Tissues(double Fat, double Bone, double Csf, double Grey, double White, double Lesion);
}
