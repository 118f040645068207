using FsCheck.Xunit;
using MedTransfer.Training.Adaptation;

namespace MedTransfer.Training.Tests.Adaptation;

/// <summary>Bounds that follow from the selectors' definitions, on arbitrary seeded inputs.</summary>
public sealed class CheckpointSelectionProperties
{
    [Property(MaxTest = 200)]
    public bool InformationMaximization_LiesBetweenZeroAndLogC(int seed, byte rowsRaw, byte classesRaw)
    {
        int rows = 1 + (rowsRaw % 20);
        int classes = 2 + (classesRaw % 5);
        double im = CheckpointSelection.InformationMaximization(Reference.Matrix(rows, classes, seed, 5));

        // H(mean p) ≥ mean H(p) by concavity; H(mean p) ≤ ln C.
        return im >= -1e-12 && im <= Math.Log(classes) + 1e-12;
    }

    [Property(MaxTest = 100)]
    public bool SoftNeighborhoodDensity_LiesBetweenZeroAndLogNMinusOne(int seed, byte rowsRaw)
    {
        int rows = 2 + (rowsRaw % 15);
        double snd = CheckpointSelection.SoftNeighborhoodDensity(Reference.Matrix(rows, 4, seed));

        // Each row's softmax has n entries; the diagonal one is the smallest, so the entropy is at most ln n.
        return snd >= 0 && snd <= Math.Log(rows) + 1e-9;
    }

    [Property(MaxTest = 200)]
    public bool DeepEmbeddedValidation_ConstantRatios_EqualsWeightedMeanLoss(int seed, byte nRaw, byte ratioRaw)
    {
        int n = 2 + (nRaw % 20);
        double ratio = 0.1 + (ratioRaw / 50.0);
        double[] losses = [.. Reference.Matrix(n, 1, seed, 2, 2).Select(r => r[0])];
        double risk = CheckpointSelection.DeepEmbeddedValidationRisk(losses, [.. Enumerable.Repeat(ratio, n)]);

        return Math.Abs(risk - (ratio * losses.Average())) < 1e-9;
    }
}
