using static TorchSharp.torch;

namespace MedTransfer.Training.Adaptation;

/// <summary>
/// The domain-adaptation losses of docs/METHODS.md as pure tensor functions. Every function returns a new tensor that the
/// caller owns (use a dispose scope); intermediate tensors are disposed inside. Notation: B_s, B_t batch sizes,
/// d feature width, C classes.
/// </summary>
public static class AdaptationLosses
{
    /// <summary>The ε in H(p) = −Σ p·log(p + ε) (tllib's <c>entropy</c>).</summary>
    public const double EntropyEpsilon = 1e-5;

    /// <summary>The MK-MMD bandwidth multipliers α_u ∈ {2⁻³, 2⁻², 2⁻¹, 2⁰, 2¹} (tllib's DAN default).</summary>
    public static IReadOnlyList<double> DefaultKernelAlphas { get; } = [0.125, 0.25, 0.5, 1.0, 2.0];

    /// <summary>Per-row entropy H(p) = −Σ_c p_c·log(p_c + 1e−5). Input B×C probabilities, output B.</summary>
    public static Tensor Entropy(Tensor probabilities)
    {
        Require2D(probabilities, nameof(probabilities));
        using var scope = NewDisposeScope();
        Tensor h = -(probabilities * (probabilities + EntropyEpsilon).log()).sum(1);
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Entropy-conditioning weights of CDAN+E and MCC: w_i = 1 + exp(−H(p_i)), renormalised so that Σ w_i = B.
    /// Input B×C probabilities, output B, detached (no gradient flows through the weights).
    /// </summary>
    public static Tensor EntropyWeights(Tensor probabilities)
    {
        Require2D(probabilities, nameof(probabilities));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor w = 1.0 + (-Entropy(probabilities.detach())).exp();
        Tensor normalised = w * (probabilities.shape[0] / w.sum());
        return normalised.detach().MoveToOuterDisposeScope();
    }

    /// <summary>Entropy minimisation (Grandvalet &amp; Bengio 2005): mean_i H(softmax(logits_i)). Input B×C logits, scalar out.</summary>
    public static Tensor EntropyMinimization(Tensor logits)
    {
        Require2D(logits, nameof(logits));
        using var scope = NewDisposeScope();
        return Entropy(logits.softmax(1)).mean().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// SHOT's objective (Liang et al., ICML 2020) on a target batch: the information-maximisation loss
    /// mean_i H(p_i) − H(mean_i p_i) (confident and diverse predictions) plus β·CE(logits, pseudo-labels), with
    /// p = softmax(logits) and H(p) = −Σ p·log(p + 1e−5). Input B×C logits and B int64 pseudo-labels; scalar out.
    /// </summary>
    public static Tensor Shot(Tensor logits, Tensor pseudoLabels, double beta)
    {
        Require2D(logits, nameof(logits));
        ArgumentNullException.ThrowIfNull(pseudoLabels);
        using var scope = NewDisposeScope();
        Tensor p = logits.softmax(1);
        Tensor im = Entropy(p).mean() - Entropy(p.mean([0L], keepdim: true)).sum();
        Tensor loss = beta == 0 ? im : im + (nn.functional.cross_entropy(logits, pseudoLabels) * beta);
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The DANN/CDAN domain loss ½[BCE(D_s, 1) + BCE(D_t, 0)] on discriminator logits (B_s×1 and B_t×1, or vectors),
    /// each BCE the (weighted) mean over its batch: with weights w (CDAN+E) it is (1/B)·Σ w_i·ℓ_i. Scalar out.
    /// </summary>
    public static Tensor DomainAdversarial(Tensor sourceLogits, Tensor targetLogits, Tensor? sourceWeights = null, Tensor? targetWeights = null)
    {
        ArgumentNullException.ThrowIfNull(sourceLogits);
        ArgumentNullException.ThrowIfNull(targetLogits);
        using var scope = NewDisposeScope();
        Tensor s = sourceLogits.reshape(-1);
        Tensor t = targetLogits.reshape(-1);
        Tensor ls = nn.functional.binary_cross_entropy_with_logits(s, ones_like(s), sourceWeights?.reshape(-1));
        Tensor lt = nn.functional.binary_cross_entropy_with_logits(t, zeros_like(t), targetWeights?.reshape(-1));
        return (0.5 * (ls + lt)).MoveToOuterDisposeScope();
    }

    /// <summary>Fraction of source logits &gt; 0 and target logits &lt; 0 over both batches: the discriminator's accuracy.</summary>
    public static double DomainAccuracy(Tensor sourceLogits, Tensor targetLogits)
    {
        ArgumentNullException.ThrowIfNull(sourceLogits);
        ArgumentNullException.ThrowIfNull(targetLogits);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long correct = sourceLogits.gt(0).sum().item<long>() + targetLogits.lt(0).sum().item<long>();
        return correct / (double)(sourceLogits.numel() + targetLogits.numel());
    }

    /// <summary>
    /// CDAN's multilinear map h = p ⊗ f per sample (Long et al., NeurIPS 2018): B×d features and B×C probabilities →
    /// B×(C·d) with h[i, c·d + k] = p[i,c]·f[i,k]. The caller detaches p (so the discriminator does not train the classifier through p).
    /// </summary>
    public static Tensor MultilinearMap(Tensor features, Tensor probabilities)
    {
        Require2D(features, nameof(features));
        Require2D(probabilities, nameof(probabilities));
        RequireSameRows(features, probabilities);
        using var scope = NewDisposeScope();
        Tensor outer = probabilities.unsqueeze(2) * features.unsqueeze(1);
        return outer.reshape(features.shape[0], -1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Sum of Gaussian kernel matrices over the pooled rows z (n×d): K = Σ_u exp(−‖z_i − z_j‖² / (2σ_u²)) with
    /// σ_u² = α_u · mean_{i,j} ‖z_i − z_j‖² (mean over all n² pairs, diagonal included; bandwidth not differentiated),
    /// or one kernel of fixed σ when <paramref name="fixedSigma"/> is given. Output n×n.
    /// </summary>
    public static Tensor GaussianKernelMatrix(Tensor pooled, IReadOnlyList<double> alphas, double? fixedSigma = null)
    {
        Require2D(pooled, nameof(pooled));
        ArgumentNullException.ThrowIfNull(alphas);
        using var scope = NewDisposeScope();
        Tensor d2 = SquaredDistances(pooled);
        if (fixedSigma is double sigma)
        {
            if (!(sigma > 0) || !double.IsFinite(sigma))
            {
                throw new AdaptationException(AdaptationErrorCode.InvalidHyperparameter, "A fixed Gaussian-kernel σ must be positive and finite.");
            }

            return (-d2 / (2 * sigma * sigma)).exp().MoveToOuterDisposeScope();
        }

        if (alphas.Count == 0 || alphas.Any(a => !(a > 0) || !double.IsFinite(a)))
        {
            throw new AdaptationException(AdaptationErrorCode.InvalidHyperparameter, "Gaussian-kernel bandwidth multipliers α must be a non-empty list of positive numbers.");
        }

        // A zero mean distance (all rows equal) would divide by zero; every kernel is then 1 anyway.
        Tensor meanD2 = d2.detach().mean().clamp_min(1e-12);
        Tensor? sum = null;
        foreach (double alpha in alphas)
        {
            Tensor k = (-d2 / (2 * alpha * meanD2)).exp();
            sum = sum is null ? k : sum + k;
        }

        return sum!.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Multi-kernel MMD² of DAN (Long et al., ICML 2015), biased (V-statistic) form:
    /// MMD² = mean k(s,s') + mean k(t,t') − 2·mean k(s,t), k the kernel sum of <see cref="GaussianKernelMatrix"/> on the
    /// pooled B_s+B_t rows. B_s×d and B_t×d in (B_s ≠ B_t allowed), scalar out.
    /// </summary>
    public static Tensor MkMmd(Tensor source, Tensor target, IReadOnlyList<double>? alphas = null)
        => Jmmd([(source, target)], [new GaussianKernelSpec(alphas?.ToArray() ?? [.. DefaultKernelAlphas])]);

    /// <summary>
    /// Joint MMD² of JAN (Long et al., ICML 2017): the kernel matrix is the element-wise product over layers of each
    /// layer's kernel sum, K = Π_l K_l (typically the feature layer and the softmax layer), then
    /// mean K_ss + mean K_tt − 2·mean K_st. Each layer's source/target pair must share its batch sizes. Scalar out.
    /// </summary>
    public static Tensor Jmmd(IReadOnlyList<(Tensor Source, Tensor Target)> layers, IReadOnlyList<GaussianKernelSpec> kernels)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(kernels);
        if (layers.Count == 0 || layers.Count != kernels.Count)
        {
            throw new AdaptationException(AdaptationErrorCode.ShapeMismatch, $"JMMD needs one kernel spec per layer (got {layers.Count} layers, {kernels.Count} specs).");
        }

        long ns = layers[0].Source.shape[0];
        long nt = layers[0].Target.shape[0];
        using var scope = NewDisposeScope();
        Tensor? k = null;
        for (int l = 0; l < layers.Count; l++)
        {
            (Tensor s, Tensor t) = layers[l];
            Require2D(s, "source");
            Require2D(t, "target");
            if (s.shape[0] != ns || t.shape[0] != nt || s.shape[1] != t.shape[1])
            {
                throw new AdaptationException(AdaptationErrorCode.ShapeMismatch, $"MMD layer {l}: source [{string.Join(",", s.shape)}] and target [{string.Join(",", t.shape)}] do not match the batch sizes {ns}/{nt} or each other's width.");
            }

            if (ns < 1 || nt < 1)
            {
                throw new AdaptationException(AdaptationErrorCode.ShapeMismatch, "MMD needs at least one source and one target row.");
            }

            Tensor kl = GaussianKernelMatrix(cat([s, t], 0), kernels[l].Alphas, kernels[l].FixedSigma);
            k = k is null ? kl : k * kl;
        }

        Tensor kss = k!.narrow(0, 0, ns).narrow(1, 0, ns);
        Tensor ktt = k.narrow(0, ns, nt).narrow(1, ns, nt);
        Tensor kst = k.narrow(0, 0, ns).narrow(1, ns, nt);
        return (kss.mean() + ktt.mean() - (2 * kst.mean())).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Deep CORAL, paper form (Sun &amp; Saenko, ECCV-W 2016): ‖C_s − C_t‖²_F / (4d²), C the (n−1)-normalised feature
    /// covariance. B_s×d and B_t×d in (each batch ≥ 2 rows), scalar out.
    /// </summary>
    public static Tensor Coral(Tensor source, Tensor target)
    {
        Require2D(source, nameof(source));
        Require2D(target, nameof(target));
        if (source.shape[1] != target.shape[1] || source.shape[0] < 2 || target.shape[0] < 2)
        {
            throw new AdaptationException(AdaptationErrorCode.ShapeMismatch, $"CORAL needs two batches of ≥ 2 rows and equal width (got [{string.Join(",", source.shape)}] and [{string.Join(",", target.shape)}]).");
        }

        using var scope = NewDisposeScope();
        long d = source.shape[1];
        Tensor diff = Covariance(source) - Covariance(target);
        return (diff.pow(2).sum() / (4.0 * d * d)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Minimum Class Confusion (Jin et al., ECCV 2020): Ŷ = softmax(logits_t / T); entropy weights w (no gradient,
    /// <see cref="EntropyWeights"/> on Ŷ); C = Ŷᵀ·diag(w)·Ŷ (C×C); C̃ = C row-normalised; loss = (Σ_{j≠j'} C̃_jj') / C.
    /// Input B_t×C target logits, scalar out.
    /// </summary>
    public static Tensor Mcc(Tensor targetLogits, double temperature = 2.5)
    {
        Require2D(targetLogits, nameof(targetLogits));
        if (!(temperature > 0) || !double.IsFinite(temperature))
        {
            throw new AdaptationException(AdaptationErrorCode.InvalidHyperparameter, $"MCC temperature must be positive (got {temperature}).");
        }

        using var scope = NewDisposeScope();
        long c = targetLogits.shape[1];
        Tensor y = (targetLogits / temperature).softmax(1);
        Tensor w = EntropyWeights(y);
        Tensor confusion = (y * w.unsqueeze(1)).t().matmul(y);
        Tensor normalised = confusion / confusion.sum(1, keepdim: true);
        Tensor loss = (normalised.sum() - normalised.trace()) / c;
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>Pairwise squared Euclidean distances of the rows of z (n×d → n×n).</summary>
    internal static Tensor SquaredDistances(Tensor z)
    {
        using var scope = NewDisposeScope();
        Tensor diff = z.unsqueeze(0) - z.unsqueeze(1);
        return diff.pow(2).sum(2).MoveToOuterDisposeScope();
    }

    private static Tensor Covariance(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor centred = x - x.mean([0], keepdim: true);
        return (centred.t().matmul(centred) / (x.shape[0] - 1)).MoveToOuterDisposeScope();
    }

    private static void Require2D(Tensor t, string name)
    {
        ArgumentNullException.ThrowIfNull(t, name);
        if (t.dim() != 2)
        {
            throw new AdaptationException(AdaptationErrorCode.ShapeMismatch, $"{name} must be a 2-D (rows × columns) tensor, got [{string.Join(",", t.shape)}].");
        }
    }

    private static void RequireSameRows(Tensor a, Tensor b)
    {
        if (a.shape[0] != b.shape[0])
        {
            throw new AdaptationException(AdaptationErrorCode.ShapeMismatch, $"Row counts differ: {a.shape[0]} and {b.shape[0]}.");
        }
    }
}

/// <summary>
/// One layer's Gaussian kernels for MK-MMD/JMMD: bandwidths σ_u² = α_u·(mean pairwise squared distance), or a single
/// kernel with a fixed σ (tllib's JAN uses σ = 0.92 on the softmax layer).
/// </summary>
/// <param name="Alphas">Bandwidth multipliers α_u (ignored when <paramref name="FixedSigma"/> is set).</param>
/// <param name="FixedSigma">A fixed σ, or null.</param>
public sealed record GaussianKernelSpec(double[] Alphas, double? FixedSigma = null);

/// <summary>
/// CDAN's randomized multilinear map (Long et al., NeurIPS 2018, §3.2): h = (f·R_f) ⊙ (p·R_g) / √D with fixed
/// standard-normal R_f (d×D) and R_g (C×D), used when C·d is too large for the explicit outer product.
/// The matrices come from a seeded managed RNG, so they do not depend on the torch generator.
/// </summary>
public sealed class RandomizedMultilinearMap : IDisposable
{
    private Tensor _rf;
    private Tensor _rg;

    /// <summary>Creates the map with seeded random matrices.</summary>
    public RandomizedMultilinearMap(long featureDim, long classes, long outputDim, int seed, Device? device = null)
    {
        if (featureDim <= 0 || classes <= 0 || outputDim <= 0)
        {
            throw new AdaptationException(AdaptationErrorCode.InvalidHyperparameter, "Randomized multilinear map sizes must be positive.");
        }

        var rng = new Random(seed);
        _rf = Normal(rng, featureDim, outputDim, device);
        _rg = Normal(rng, classes, outputDim, device);
        OutputDim = outputDim;
    }

    /// <summary>D, the output width.</summary>
    public long OutputDim { get; }

    /// <summary>B×d features and B×C probabilities → B×D.</summary>
    public Tensor Forward(Tensor features, Tensor probabilities)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(probabilities);
        if (features.dim() != 2 || probabilities.dim() != 2 || features.shape[1] != _rf.shape[0] || probabilities.shape[1] != _rg.shape[0] || features.shape[0] != probabilities.shape[0])
        {
            throw new AdaptationException(AdaptationErrorCode.ShapeMismatch, $"Randomized map expects B×{_rf.shape[0]} features and B×{_rg.shape[0]} probabilities.");
        }

        using var scope = NewDisposeScope();
        Tensor h = features.matmul(_rf) * probabilities.matmul(_rg) / Math.Sqrt(OutputDim);
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>Moves the random matrices to <paramref name="device"/>.</summary>
    public void MoveTo(Device device)
    {
        Tensor rf = _rf.to(device);
        Tensor rg = _rg.to(device);
        if (!ReferenceEquals(rf, _rf))
        {
            _rf.Dispose();
            _rf = rf;
        }

        if (!ReferenceEquals(rg, _rg))
        {
            _rg.Dispose();
            _rg = rg;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _rf.Dispose();
        _rg.Dispose();
    }

    private static Tensor Normal(Random rng, long rows, long cols, Device? device)
    {
        float[] values = new float[rows * cols];
        for (int i = 0; i < values.Length; i++)
        {
            // Box–Muller: two uniforms → one standard normal (the second is discarded for simplicity).
            double u1 = 1.0 - rng.NextDouble();
            double u2 = rng.NextDouble();
            values[i] = (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }

        return tensor(values, [rows, cols], device: device);
    }
}
