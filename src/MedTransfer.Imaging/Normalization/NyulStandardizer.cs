namespace MedTransfer.Imaging.Normalization;

/// <summary>
/// Nyúl–Udupa histogram standardisation (L. G. Nyúl, J. K. Udupa, X. Zhang, "New variants of a method of MRI scale
/// standardization", IEEE TMI 19(2), 2000). Training (<see cref="Fit"/>): for each volume take the landmark percentiles
/// μ_k of its foreground, map them linearly so the first goes to s1 and the last to s2, and average over volumes to get
/// the standard landmarks. Transformation (<see cref="Apply"/>): the piecewise-linear map sending a volume's own
/// landmarks to the standard ones, extended beyond the end landmarks with the slopes of the end segments.
/// </summary>
internal static class NyulStandardizer
{
    /// <summary>The landmark percentiles used when none are given: 1, 10, 20, …, 90, 99.</summary>
    public static IReadOnlyList<double> DefaultPercentiles { get; } = [1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 99];

    /// <summary>Fits the standard scale on training volumes (use the training partition only).</summary>
    /// <param name="volumes">At least one volume with a non-empty foreground.</param>
    /// <param name="percentiles">Landmark percentiles, strictly increasing in [0, 100]; <see cref="DefaultPercentiles"/> when null.</param>
    /// <param name="scaleMin">s1.</param>
    /// <param name="scaleMax">s2 (&gt; s1).</param>
    /// <param name="foreground">Foreground mask method.</param>
    /// <exception cref="ArgumentException">No volume, bad percentiles, or a volume whose landmarks do not span a range.</exception>
    public static NyulModel Fit(IEnumerable<Volume> volumes, IReadOnlyList<double>? percentiles = null, double scaleMin = 0, double scaleMax = 100, ForegroundMethod foreground = ForegroundMethod.Otsu)
    {
        ArgumentNullException.ThrowIfNull(volumes);
        percentiles ??= DefaultPercentiles;
        var model = new NyulModel([.. percentiles], new double[percentiles.Count], scaleMin, scaleMax, foreground);
        CheckPercentiles(percentiles, scaleMin, scaleMax);
        var sum = new double[percentiles.Count];
        int count = 0;
        foreach (Volume volume in volumes)
        {
            ArgumentNullException.ThrowIfNull(volume);
            double[] landmarks = Landmarks(volume.Voxels, model);
            double low = landmarks[0];
            double high = landmarks[^1];
            if (!(high > low))
            {
                throw new ArgumentException("A training volume's first and last landmarks coincide; it cannot be mapped to the standard scale.", nameof(volumes));
            }

            for (int k = 0; k < sum.Length; k++)
            {
                sum[k] += scaleMin + ((landmarks[k] - low) / (high - low) * (scaleMax - scaleMin));
            }

            count++;
        }

        if (count == 0)
        {
            throw new ArgumentException("Fitting needs at least one volume.", nameof(volumes));
        }

        return model with { StandardLandmarks = [.. sum.Select(s => s / count)] };
    }

    /// <summary>The volume's own landmarks: the model's percentiles of its foreground (all voxels when the mask is empty).</summary>
    public static double[] Landmarks(ReadOnlySpan<float> voxels, NyulModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        float[] foreground = MriNormalizer.ForegroundValues(voxels, model.Foreground, out _);
        return Percentiles.Compute(foreground, [.. model.Percentiles]);
    }

    /// <summary>Maps <paramref name="voxels"/> in place onto the standard scale of <paramref name="model"/>.</summary>
    /// <exception cref="ArgumentException">The model is invalid.</exception>
    public static void Apply(Span<float> voxels, NyulModel model)
    {
        Validate(model);
        double[] own = Landmarks(voxels, model);
        double[] standard = [.. model.StandardLandmarks];
        for (int i = 0; i < voxels.Length; i++)
        {
            if (float.IsFinite(voxels[i]))
            {
                voxels[i] = (float)Map(voxels[i], own, standard);
            }
        }
    }

    /// <summary>Checks a model read from JSON.</summary>
    /// <exception cref="ArgumentException">Lengths differ, percentiles are not increasing, or values are not finite.</exception>
    public static void Validate(NyulModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Percentiles is null || model.StandardLandmarks is null || model.Percentiles.Count != model.StandardLandmarks.Count)
        {
            throw new ArgumentException("A Nyul model needs as many standard landmarks as percentiles.", nameof(model));
        }

        CheckPercentiles(model.Percentiles, model.ScaleMin, model.ScaleMax);
        if (model.StandardLandmarks.Any(v => !double.IsFinite(v)))
        {
            throw new ArgumentException("Standard landmarks must be finite.", nameof(model));
        }
    }

    private static void CheckPercentiles(IReadOnlyList<double> percentiles, double scaleMin, double scaleMax)
    {
        if (percentiles.Count < 2 || !(scaleMax > scaleMin) || !double.IsFinite(scaleMax - scaleMin))
        {
            throw new ArgumentException("Nyul standardisation needs at least two landmarks and a finite scale with s2 > s1.");
        }

        for (int k = 0; k < percentiles.Count; k++)
        {
            if (!(percentiles[k] >= 0 && percentiles[k] <= 100) || (k > 0 && !(percentiles[k] > percentiles[k - 1])))
            {
                throw new ArgumentException("Landmark percentiles must increase strictly within [0, 100].");
            }
        }
    }

    // Piecewise-linear map; zero-width segments (repeated landmark values) are skipped; beyond the ends, the end segments extend.
    private static double Map(double v, double[] own, double[] standard)
    {
        int last = own.Length - 1;
        int segment = 0;
        while (segment < last - 1 && v > own[segment + 1])
        {
            segment++;
        }

        int lo = segment;
        int hi = segment + 1;
        while (hi < last && own[hi] <= own[lo])
        {
            hi++;
        }

        while (lo > 0 && own[hi] <= own[lo])
        {
            lo--;
        }

        double span = own[hi] - own[lo];
        return span > 0 ? standard[lo] + ((v - own[lo]) * (standard[hi] - standard[lo]) / span) : standard[lo];
    }
}
