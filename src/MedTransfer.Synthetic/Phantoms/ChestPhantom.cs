using MedTransfer.Synthetic.Randomness;

namespace MedTransfer.Synthetic.Phantoms;

/// <summary>The kind of opacity in a chest phantom.</summary>
internal enum ChestFinding
{
    None,
    Focal,
    Diffuse,
}

/// <summary>A patient's chest: fixed across their images.</summary>
/// <param name="BodyScale">Overall size (about 0.85–1.12).</param>
/// <param name="HeartScale">Heart size relative to the chest (about 0.9–1.2).</param>
/// <param name="LungWidth">Lung width factor (about 0.92–1.08).</param>
internal sealed record ChestAnatomy(double BodyScale, double HeartScale, double LungWidth)
{
    public static ChestAnatomy Draw(SeededRandom r, bool male) => new(
        Math.Clamp(r.Normal(male ? 1.02 : 0.93, 0.05), 0.82, 1.15),
        Math.Clamp(r.Normal(1.03, 0.08), 0.85, 1.25),
        Math.Clamp(r.Normal(1.0, 0.035), 0.9, 1.1));
}

/// <summary>One radiograph of a patient: positioning, breath hold and the finding.</summary>
/// <param name="RotationRad">In-plane rotation of the patient.</param>
/// <param name="ShiftXMm">Horizontal offset of the patient from the detector centre.</param>
/// <param name="ShiftYMm">Vertical offset.</param>
/// <param name="Inspiration">Depth of inspiration in [−1, 1]: deeper moves the diaphragm down.</param>
/// <param name="Finding">The opacity kind.</param>
/// <param name="FindingX">Centre of the opacity in body coordinates (mm).</param>
/// <param name="FindingY">Centre of the opacity in body coordinates (mm).</param>
/// <param name="FindingRadiusMm">Radius (focal) or half-extent (diffuse).</param>
/// <param name="FindingContrast">Added density at the centre.</param>
internal sealed record ChestView(
    double RotationRad,
    double ShiftXMm,
    double ShiftYMm,
    double Inspiration,
    ChestFinding Finding,
    double FindingX,
    double FindingY,
    double FindingRadiusMm,
    double FindingContrast);

/// <summary>
/// A PA chest radiograph phantom rendered as "density" in [0, 1] (bright = attenuating, as displayed): body outline
/// with neck and shoulders, two lung fields cut by the diaphragm domes, heart and mediastinum with the spine, ribs and
/// clavicles, soft-tissue and lung texture, and an optional pneumonia-like opacity confined to the lungs. Coordinates
/// are millimetres in the patient's body frame (x to the image right, y down, origin mid-chest).
/// </summary>
internal sealed class ChestPhantom
{
    private const double HeartCos = 0.9393727128473789;
    private const double HeartSin = 0.34289780745545134;

    private readonly ChestAnatomy _anatomy;
    private readonly ChestView _view;

    public ChestPhantom(ChestAnatomy anatomy, ChestView view)
    {
        _anatomy = anatomy;
        _view = view;
    }

    /// <summary>
    /// Draws a view of <paramref name="anatomy"/> from <paramref name="r"/>; a finding (when not None) is placed inside a
    /// lung from <paramref name="lesion"/>, a patient-level stream, so follow-up images show it at the same place.
    /// </summary>
    public static ChestView DrawView(SeededRandom r, SeededRandom lesion, ChestAnatomy anatomy, ChestFinding finding)
    {
        double inspiration = Math.Clamp(r.Normal(0.0, 0.45), -1.0, 1.0);
        double fx = 0;
        double fy = 0;
        double radius = 0;
        double contrast = 0;
        if (finding != ChestFinding.None)
        {
            // Placed against a neutral breath hold, so the opacity sits in the lung whatever the inspiration.
            var probe = new ChestPhantom(anatomy, new ChestView(0, 0, 0, 0.0, ChestFinding.None, 0, 0, 0, 0));
            for (int attempt = 0; attempt < 200; attempt++)
            {
                double side = lesion.NextDouble() < 0.55 ? -1.0 : 1.0;
                fx = side * lesion.NextDouble(35.0, 105.0);
                fy = lesion.NextDouble(-100.0, 80.0);
                if (probe.Lung(fx, fy) > 0.9)
                {
                    break;
                }
            }

            // Size and density change a little between studies (progression or resolution).
            radius = (finding == ChestFinding.Focal ? lesion.NextDouble(18.0, 38.0) : lesion.NextDouble(40.0, 65.0)) * r.NextDouble(0.85, 1.15);
            contrast = (finding == ChestFinding.Focal ? lesion.NextDouble(0.22, 0.38) : lesion.NextDouble(0.26, 0.40)) * r.NextDouble(0.85, 1.15);
        }

        return new ChestView(
            r.Normal(0.0, 0.045),
            r.Normal(0.0, 8.0),
            r.Normal(0.0, 10.0),
            inspiration,
            finding,
            fx,
            fy,
            radius,
            contrast);
    }

    /// <summary>Renders <paramref name="rows"/>×<paramref name="columns"/> pixels of <paramref name="spacingMm"/>.</summary>
    public double[] Render(int rows, int columns, double spacingMm, SeededRandom texture)
    {
        double width = columns * spacingMm;
        double height = rows * spacingMm;
        var soft = new SmoothField(texture.Derive("soft"), 9, 9);
        var lungTexture = new SmoothField(texture.Derive("lung"), 40, 40);
        var fine = new SmoothField(texture.Derive("fine"), 48, 48);
        var patch = new SmoothField(texture.Derive("finding"), 14, 14);
        double cos = DeterministicMath.Cos(-_view.RotationRad);
        double sin = DeterministicMath.Sin(-_view.RotationRad);
        var density = new double[rows * columns];
        for (int row = 0; row < rows; row++)
        {
            double y = ((row + 0.5) * spacingMm) - (height / 2);
            for (int column = 0; column < columns; column++)
            {
                double x = ((column + 0.5) * spacingMm) - (width / 2);
                double dx = x - _view.ShiftXMm;
                double dy = y - _view.ShiftYMm;
                double bx = ((cos * dx) - (sin * dy)) / _anatomy.BodyScale;
                double by = ((sin * dx) + (cos * dy)) / _anatomy.BodyScale;
                double u = (column + 0.5) / columns;
                double v = (row + 0.5) / rows;
                density[(row * columns) + column] = Density(bx, by, u, v, soft, lungTexture, fine, patch);
            }
        }

        return density;
    }

    private double Density(double bx, double by, double u, double v, SmoothField soft, SmoothField lungTexture, SmoothField fine, SmoothField patch)
    {
        double halfWidth = 52.0 + (100.0 * SmoothStep(-225.0, -150.0, by));
        double body = SmoothStep(4.0, -4.0, Math.Abs(bx) - halfWidth) * SmoothStep(-262.0, -250.0, by);
        if (body <= 0.0)
        {
            return 0.0;
        }

        double across = Math.Clamp(bx / (halfWidth + 8.0), -1.0, 1.0);
        double thickness = Math.Sqrt(Math.Sqrt(1.0 - (across * across)));
        double lung = Lung(bx, by);
        double heart = Heart(bx, by);
        double mediastinumHalf = 24.0 + (10.0 * SmoothStep(-150.0, 40.0, by));
        double mediastinum = SmoothStep(5.0, -5.0, Math.Abs(bx - 3.0) - mediastinumHalf) * SmoothStep(-200.0, -185.0, by) * SmoothStep(85.0, 70.0, by);
        double spine = Math.Abs(bx) < 20.0 ? SmoothStep(3.0, -3.0, Math.Abs(bx) - 17.0) * (0.75 + (0.25 * DeterministicMath.Cos(by * 2.0 * Math.PI / 24.0))) : 0.0;
        double air = lung * (1.0 - heart) * (1.0 - (0.85 * mediastinum));

        double d = 0.48 * thickness * body;
        d += 0.03 * soft.Sample(u, v) * body;
        d -= 0.33 * air * (0.6 + (0.4 * thickness));
        d += 0.05 * heart * thickness;
        d += 0.05 * mediastinum;
        d += 0.07 * spine * body;
        d += Bones(bx, by, halfWidth) * body;

        // Lung markings: vessels fan out from the hila, finer and fainter towards the periphery.
        if (air > 0.0)
        {
            double hilum = Math.Min(Distance(bx, by, -40.0, -5.0), Distance(bx, by, 45.0, 0.0));
            double markings = (0.55 * lungTexture.Sample(u, v)) + (0.45 * fine.Sample(u, v));
            d += 0.022 * air * markings * (0.5 + (0.8 * DeterministicMath.Exp(-hilum / 45.0)));
        }

        if (_view.Finding != ChestFinding.None)
        {
            double r = Distance(bx, by, _view.FindingX, _view.FindingY) / _view.FindingRadiusMm;
            double profile = _view.Finding == ChestFinding.Focal
                ? DeterministicMath.Exp(-2.2 * r * r)
                : SmoothStep(1.2, 0.5, r) * (0.75 + (0.25 * Math.Clamp(patch.Sample(u, v), -1.0, 1.0)));
            d += _view.FindingContrast * profile * lung;
        }

        return Math.Clamp(d, 0.0, 1.0);
    }

    /// <summary>The lung field at a body point: 1 inside, 0 outside, soft over a few millimetres.</summary>
    public double Lung(double bx, double by)
    {
        double side = bx < 0 ? -1.0 : 1.0;
        double cx = side * (side < 0 ? 68.0 : 70.0) * _anatomy.LungWidth;
        double cy = side < 0 ? -8.0 : -4.0;
        double ax = (side < 0 ? 58.0 : 54.0) * _anatomy.LungWidth;
        double ay = side < 0 ? 122.0 : 118.0;
        double ex = (bx - cx) / ax;
        double ey = (by - cy) / ay;
        double e2 = (ex * ex) + (ey * ey);
        double q = (0.65 * e2) + (0.35 * ((ex * ex * ex * ex) + (ey * ey * ey * ey)));
        double inside = SmoothStep(1.0, 0.82, q);
        if (inside <= 0.0)
        {
            return 0.0;
        }

        double lateral = (Math.Abs(bx) - 65.0) / 70.0;
        double dome = (96.0 + (side > 0 ? 10.0 : 0.0) + (20.0 * _view.Inspiration)) - (24.0 * Math.Max(0.0, 1.0 - (lateral * lateral)));
        return inside * SmoothStep(0.0, 7.0, dome - by);
    }

    private static double Bones(double bx, double by, double halfWidth)
    {
        double ax = Math.Abs(bx);
        double bone = 0.0;
        if (ax > 14.0 && ax < halfWidth - 6.0)
        {
            double t = ax / 130.0;
            for (int k = 0; k < 10; k++)
            {
                // Posterior ribs: arcs falling laterally; anterior ribs are fainter and rise laterally.
                double centre = -140.0 + (k * 23.5) + (48.0 * t * t) - (22.0 * t);
                double d = Math.Abs(by - centre);
                if (d < 8.0)
                {
                    double band = SmoothStep(5.5, 4.0, d);
                    double cortex = DeterministicMath.Exp(-((d - 4.5) * (d - 4.5)) / 1.4);
                    bone += (0.045 * band) + (0.035 * cortex);
                }

                double anterior = -120.0 + (k * 21.0) - (40.0 * t * t) + (20.0 * t);
                double da = Math.Abs(by - anterior);
                if (k < 7 && da < 6.0 && ax > 30.0)
                {
                    bone += 0.03 * SmoothStep(4.5, 3.0, da);
                }
            }
        }

        // Clavicles: slanting bars from the sternal notch to the shoulders.
        if (ax > 12.0 && ax < 135.0)
        {
            double centre = -150.0 - (0.18 * (ax - 12.0)) + (0.0012 * (ax - 70.0) * (ax - 70.0));
            double d = Math.Abs(by - centre);
            bone += 0.13 * SmoothStep(6.5, 4.5, d);
        }

        return bone;
    }

    /// <summary>The heart: an ellipse tilted 20° down to the patient's left, soft over 6 mm.</summary>
    private double Heart(double x, double y)
    {
        double ax = 62.0 * _anatomy.HeartScale;
        double ay = 47.0 * _anatomy.HeartScale;
        double dx = x - 24.0;
        double dy = y - 52.0;
        double ex = ((HeartCos * dx) + (HeartSin * dy)) / ax;
        double ey = ((-HeartSin * dx) + (HeartCos * dy)) / ay;
        double r = Math.Sqrt((ex * ex) + (ey * ey));
        double edge = 6.0 / ay;
        return SmoothStep(1.0 + edge, 1.0 - edge, r);
    }

    private static double Distance(double x, double y, double cx, double cy) => Math.Sqrt(((x - cx) * (x - cx)) + ((y - cy) * (y - cy)));

    /// <summary>0 at <paramref name="edge0"/>, 1 at <paramref name="edge1"/> (either order), smooth between.</summary>
    internal static double SmoothStep(double edge0, double edge1, double x)
    {
        double t = Math.Clamp((x - edge0) / (edge1 - edge0), 0.0, 1.0);
        return t * t * (3.0 - (2.0 * t));
    }
}
