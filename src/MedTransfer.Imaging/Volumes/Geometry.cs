namespace MedTransfer.Imaging.Volumes;

/// <summary>Small 3-vector helpers for patient-coordinate geometry.</summary>
internal static class Geometry
{
    public static double[] Cross(ReadOnlySpan<double> a, ReadOnlySpan<double> b) =>
        [(a[1] * b[2]) - (a[2] * b[1]), (a[2] * b[0]) - (a[0] * b[2]), (a[0] * b[1]) - (a[1] * b[0])];

    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b) => (a[0] * b[0]) + (a[1] * b[1]) + (a[2] * b[2]);

    public static double Norm(ReadOnlySpan<double> a) => Math.Sqrt(Dot(a, a));

    public static double[] Subtract(ReadOnlySpan<double> a, ReadOnlySpan<double> b) => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];

    public static double[] Scale(ReadOnlySpan<double> a, double s) => [a[0] * s, a[1] * s, a[2] * s];

    public static double[] Add(ReadOnlySpan<double> a, ReadOnlySpan<double> b) => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];

    public static double Median(IReadOnlyList<double> values)
    {
        double[] sorted = [.. values];
        Array.Sort(sorted);
        int n = sorted.Length;
        return n == 0 ? double.NaN : (n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[(n / 2) - 1] + sorted[n / 2]));
    }

    /// <summary>The largest absolute difference between two direction-cosine sets.</summary>
    public static double MaxDifference(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        double max = 0;
        for (int i = 0; i < a.Count; i++)
        {
            max = Math.Max(max, Math.Abs(a[i] - b[i]));
        }

        return max;
    }
}
