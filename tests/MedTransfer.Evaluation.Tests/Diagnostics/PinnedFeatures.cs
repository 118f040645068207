using MathNet.Numerics.Random;

namespace MedTransfer.Evaluation.Tests.Diagnostics;

/// <summary>
/// A deterministic stand-in for frozen-backbone features of a three-site, two-class data set, for the tests that
/// pin the diagnostics' values. Built like pooled CNN features: a low-rank latent code mixed into d columns, noise,
/// and a softplus so every column is positive with a long right tail. The class moves one latent direction, each
/// site moves another and adds a small offset per column, and prevalence differs by site — so the site probe and the
/// A-distance land between chance and perfect separation, where a changed value would show.
/// The numbers pinned against it were computed from this exact code: never change it, add a new fixture instead.
/// </summary>
internal sealed class PinnedFeatures
{
    private static readonly string[] SiteNames = ["A", "B", "C"];
    private static readonly double[] Prevalence = [0.2, 0.35, 0.5];

    private PinnedFeatures(double[][] rows, int[] labels, string[] sites)
    {
        Rows = rows;
        Labels = labels;
        Sites = sites;
    }

    /// <summary>Feature rows (n × d).</summary>
    public double[][] Rows { get; }

    /// <summary>Class label 0/1 per row.</summary>
    public int[] Labels { get; }

    /// <summary>Site name ("A", "B", "C") per row; row i belongs to site i mod 3.</summary>
    public string[] Sites { get; }

    public static PinnedFeatures Generate(int n, int d, int seed)
    {
        var rng = new Xoshiro256StarStar(seed, threadSafe: false);
        int rank = Math.Max(4, d / 8);
        double[,] mixing = new double[rank, d];
        for (int r = 0; r < rank; r++)
        {
            for (int j = 0; j < d; j++)
            {
                mixing[r, j] = Gaussian(rng) / Math.Sqrt(rank);
            }
        }

        double[][] siteOffset = [.. SiteNames.Select(_ => Enumerable.Range(0, d).Select(_ => 0.5 / Math.Sqrt(d) * Gaussian(rng)).ToArray())];
        var rows = new double[n][];
        var labels = new int[n];
        var sites = new string[n];
        var latent = new double[rank];
        for (int i = 0; i < n; i++)
        {
            int site = i % 3;
            labels[i] = rng.NextDouble() < Prevalence[site] ? 1 : 0;
            sites[i] = SiteNames[site];
            for (int r = 0; r < rank; r++)
            {
                latent[r] = Gaussian(rng);
            }

            latent[0] += 1.2 * labels[i];
            latent[1 + site] += 0.3;
            var row = new double[d];
            for (int j = 0; j < d; j++)
            {
                double v = siteOffset[site][j] + (0.5 * Gaussian(rng));
                for (int r = 0; r < rank; r++)
                {
                    v += latent[r] * mixing[r, j];
                }

                row[j] = Math.Log(1 + Math.Exp(v));
            }

            rows[i] = row;
        }

        return new PinnedFeatures(rows, labels, sites);
    }

    /// <summary>Rows of one site, in order.</summary>
    public double[][] RowsOf(string site) => [.. Rows.Where((_, i) => Sites[i] == site)];

    /// <summary>Box–Muller by hand, so the fixture does not depend on a library's choice of normal sampler.</summary>
    private static double Gaussian(Xoshiro256StarStar rng)
    {
        double u1 = 1.0 - rng.NextDouble();
        double u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
