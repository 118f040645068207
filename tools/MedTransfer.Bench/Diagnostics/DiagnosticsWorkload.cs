using MedTransfer.Synthetic.Randomness;

namespace MedTransfer.Bench.Diagnostics;

/// <summary>
/// A generated stand-in for the frozen-backbone features a run's diagnostics see: three sites, two classes, built
/// like pooled CNN features (a low-rank latent code mixed into every column, noise, a softplus so the values are
/// positive with a long tail). Sites are easy to tell apart, as in real multi-hospital radiographs, because that is
/// the case that makes the logistic probes iterate longest.
/// </summary>
/// <param name="Rows">Feature rows (n × d).</param>
/// <param name="Labels">Class 0/1 per row; prevalence 20%, 35%, 50% by site.</param>
/// <param name="Sites">"A", "B" or "C" per row (row i at site i mod 3).</param>
public sealed record DiagnosticsWorkload(double[][] Rows, int[] Labels, string[] Sites)
{
    private static readonly string[] SiteNames = ["A", "B", "C"];
    private static readonly double[] Prevalence = [0.2, 0.35, 0.5];

    /// <summary>Generates <paramref name="rows"/> × <paramref name="dimensions"/> features; the same seed gives the same numbers.</summary>
    public static DiagnosticsWorkload Generate(int rows, int dimensions, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 30);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 4);
        var random = new SeededRandom(seed);
        int rank = Math.Max(4, dimensions / 8);
        var mixing = new double[rank][];
        for (int r = 0; r < rank; r++)
        {
            mixing[r] = [.. Enumerable.Range(0, dimensions).Select(_ => random.NextGaussian() / Math.Sqrt(rank))];
        }

        double[][] siteOffset = [.. SiteNames.Select(_ => Enumerable.Range(0, dimensions).Select(_ => 0.1 * random.NextGaussian()).ToArray())];
        var features = new double[rows][];
        var labels = new int[rows];
        var sites = new string[rows];
        var latent = new double[rank];
        for (int i = 0; i < rows; i++)
        {
            int site = i % 3;
            labels[i] = random.NextDouble() < Prevalence[site] ? 1 : 0;
            sites[i] = SiteNames[site];
            for (int r = 0; r < rank; r++)
            {
                latent[r] = random.NextGaussian();
            }

            latent[0] += 1.2 * labels[i];
            latent[1 + site] += 0.35;
            var row = new double[dimensions];
            for (int j = 0; j < dimensions; j++)
            {
                double v = siteOffset[site][j] + (0.5 * random.NextGaussian());
                for (int r = 0; r < rank; r++)
                {
                    v += latent[r] * mixing[r][j];
                }

                row[j] = Math.Log(1 + Math.Exp(v));
            }

            features[i] = row;
        }

        return new DiagnosticsWorkload(features, labels, sites);
    }
}
