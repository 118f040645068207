namespace MedTransfer.Imaging.Splits;

/// <summary>Options of <see cref="PatientSplitter.Assign"/>.</summary>
public sealed record SplitOptions
{
    /// <summary>Fraction of patients for training. Default 0.7.</summary>
    public double Train { get; init; } = 0.7;

    /// <summary>Fraction of patients for validation. Default 0.15.</summary>
    public double Validation { get; init; } = 0.15;

    /// <summary>Fraction of patients for test. Default 0.15.</summary>
    public double Test { get; init; } = 0.15;

    /// <summary>The run seed: same seed and same manifest, same split. Default 42.</summary>
    public ulong Seed { get; init; } = 42;

    /// <summary>Stratify by site as well as by label (each (label, site) stratum is split on its own). Default false.</summary>
    public bool StratifyBySite { get; init; }

    /// <summary>Parses "0.7,0.15,0.15" (invariant culture) into the three fractions.</summary>
    /// <exception cref="ArgumentException">Not three non-negative numbers summing to 1 (±1e-6).</exception>
    public static SplitOptions ParseFractions(string text, ulong seed = 42)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Split(',');
        double[] values = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!double.TryParse(parts[i].Trim(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out values[i]))
            {
                throw new ArgumentException("Fractions are three numbers, e.g. 0.7,0.15,0.15.", nameof(text));
            }
        }

        if (values.Length != 3)
        {
            throw new ArgumentException("Fractions are three numbers, e.g. 0.7,0.15,0.15.", nameof(text));
        }

        var options = new SplitOptions { Train = values[0], Validation = values[1], Test = values[2], Seed = seed };
        options.Validate();
        return options;
    }

    internal void Validate()
    {
        double[] f = [Train, Validation, Test];
        if (f.Any(v => !double.IsFinite(v) || v < 0) || Math.Abs(f.Sum() - 1) > 1e-6)
        {
            throw new ArgumentException("Split fractions must be non-negative and sum to 1.");
        }
    }
}
