using System.Text.Json.Serialization;

namespace MedTransfer.Training.Adaptation;

/// <summary>How the gradient-reversal coefficient λ (and the transfer-loss weight of non-adversarial methods) grows.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LambdaScheduleKind>))]
public enum LambdaScheduleKind
{
    /// <summary>
    /// Ganin &amp; Lempitsky (ICML 2015) / Ganin et al. (JMLR 2016): λ_p = 2/(1+exp(−γ·p)) − 1 with p = step/total_steps,
    /// γ = 10. λ_0 = 0, λ_0.5 = 0.9866…, λ_1 = 0.9999….
    /// </summary>
    Paper,

    /// <summary>
    /// tllib's <c>WarmStartGradientReverseLayer</c>: λ_i = 2(hi−lo)/(1+exp(−α·i/N)) − (hi−lo) + lo, defaults α = 1,
    /// lo = 0, hi = 1, N = 1000 (i = 1000 → 0.462, 3000 → 0.905, 5000 → 0.987). Independent of the run length.
    /// </summary>
    Tllib,

    /// <summary>λ = <see cref="LambdaSchedule.Value"/> at every step.</summary>
    Constant,
}

/// <summary>
/// A named λ schedule for gradient reversal (DANN, Ganin et al. 2016). The same value also scales the transfer loss of the
/// non-adversarial methods only when <see cref="AdaptationConfig.ScheduleTransferWeight"/> is set.
/// </summary>
/// <param name="Kind">Which formula.</param>
/// <param name="Gamma">γ of <see cref="LambdaScheduleKind.Paper"/> (10 in the paper).</param>
/// <param name="Alpha">α of <see cref="LambdaScheduleKind.Tllib"/> (1 in tllib).</param>
/// <param name="Lo">lo of <see cref="LambdaScheduleKind.Tllib"/> (0).</param>
/// <param name="Hi">hi of <see cref="LambdaScheduleKind.Tllib"/> (1).</param>
/// <param name="MaxIters">N of <see cref="LambdaScheduleKind.Tllib"/> (1000).</param>
/// <param name="Value">λ of <see cref="LambdaScheduleKind.Constant"/> (1).</param>
public sealed record LambdaSchedule(
    LambdaScheduleKind Kind = LambdaScheduleKind.Paper,
    double Gamma = 10,
    double Alpha = 1,
    double Lo = 0,
    double Hi = 1,
    long MaxIters = 1000,
    double Value = 1)
{
    /// <summary>The DANN paper schedule, γ = 10.</summary>
    public static LambdaSchedule PaperDefault { get; } = new(LambdaScheduleKind.Paper);

    /// <summary>tllib's warm-start schedule with its defaults (α = 1, lo = 0, hi = 1, N = 1000).</summary>
    public static LambdaSchedule TllibDefault { get; } = new(LambdaScheduleKind.Tllib);

    /// <summary>A constant λ.</summary>
    public static LambdaSchedule Constant(double value) => new(LambdaScheduleKind.Constant, Value: value);

    /// <summary>λ at <paramref name="step"/> (0-based) of a run of <paramref name="totalSteps"/> steps.</summary>
    /// <exception cref="AdaptationException">A negative step, a non-positive total, or invalid parameters.</exception>
    public double At(long step, long totalSteps)
    {
        Validate();
        if (step < 0 || totalSteps <= 0)
        {
            throw new AdaptationException(AdaptationErrorCode.InvalidHyperparameter, $"λ schedule needs step ≥ 0 and total steps > 0 (got {step}, {totalSteps}).");
        }

        switch (Kind)
        {
            case LambdaScheduleKind.Paper:
                double p = Math.Min(1.0, step / (double)totalSteps);
                return (2.0 / (1.0 + Math.Exp(-Gamma * p))) - 1.0;
            case LambdaScheduleKind.Tllib:
                double span = Hi - Lo;
                return (2.0 * span / (1.0 + Math.Exp(-Alpha * step / MaxIters))) - span + Lo;
            default:
                return Value;
        }
    }

    /// <summary>Checks the parameters.</summary>
    /// <exception cref="AdaptationException">A parameter is not finite or out of range.</exception>
    public void Validate()
    {
        if (!double.IsFinite(Gamma) || !double.IsFinite(Alpha) || !double.IsFinite(Lo) || !double.IsFinite(Hi) || !double.IsFinite(Value))
        {
            throw new AdaptationException(AdaptationErrorCode.InvalidHyperparameter, "λ schedule parameters must be finite numbers.");
        }

        if (Kind == LambdaScheduleKind.Tllib && MaxIters <= 0)
        {
            throw new AdaptationException(AdaptationErrorCode.InvalidHyperparameter, "The tllib λ schedule needs MaxIters > 0.");
        }

        if (!Enum.IsDefined(Kind))
        {
            throw new AdaptationException(AdaptationErrorCode.InvalidHyperparameter, $"Unknown λ schedule kind {(int)Kind}.");
        }
    }
}
