using MedTransfer.Synthetic.Randomness;

namespace MedTransfer.Synthetic.Phantoms;

/// <summary>
/// Smooth random texture: standard normal values on a coarse lattice, interpolated with smoothstep weights.
/// The lattice spacing sets the grain; sampling outside [0, 1]² clamps to the border.
/// </summary>
internal sealed class SmoothField
{
    private readonly double[] _values;
    private readonly int _width;
    private readonly int _height;

    public SmoothField(SeededRandom random, int width, int height)
    {
        _width = Math.Max(2, width);
        _height = Math.Max(2, height);
        _values = new double[_width * _height];
        for (int i = 0; i < _values.Length; i++)
        {
            _values[i] = random.Normal();
        }
    }

    /// <summary>The field at (<paramref name="u"/>, <paramref name="v"/>) in [0, 1]², roughly standard normal.</summary>
    public double Sample(double u, double v)
    {
        double x = Math.Clamp(u, 0.0, 1.0) * (_width - 1);
        double y = Math.Clamp(v, 0.0, 1.0) * (_height - 1);
        int x0 = Math.Min((int)x, _width - 2);
        int y0 = Math.Min((int)y, _height - 2);
        double fx = Smooth(x - x0);
        double fy = Smooth(y - y0);
        int at = (y0 * _width) + x0;
        double top = _values[at] + ((_values[at + 1] - _values[at]) * fx);
        double bottom = _values[at + _width] + ((_values[at + _width + 1] - _values[at + _width]) * fx);
        return top + ((bottom - top) * fy);
    }

    private static double Smooth(double t) => t * t * (3.0 - (2.0 * t));
}
