namespace MedTransfer.Training.FineTuning;

/// <summary>
/// Durable storage of frozen-backbone activations, one tensor per sample, so that another run over the same images
/// and the same frozen layers reads them instead of computing them. A sample is named by its content key (what its
/// pixels are a function of, <see cref="Data.ImageSet.ContentKeys"/>) and a derivation (what the activations are a
/// function of: the frozen layers' exact weights, the cut, the engine and the code). An implementation must never
/// serve a value that differs from what was put (a corrupt entry is a miss).
/// </summary>
public interface IActivationStore
{
    /// <summary>The stored activations of one sample, or false.</summary>
    bool TryGet(string contentKey, string derivation, out float[]? values, out int[]? shape);

    /// <summary>Stores one sample's activations (row-major, of <paramref name="shape"/>).</summary>
    void Put(string contentKey, string derivation, ReadOnlySpan<float> values, ReadOnlySpan<int> shape);
}
