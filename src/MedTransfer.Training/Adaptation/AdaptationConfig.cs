using System.Text.Json;
using System.Text.Json.Serialization;

namespace MedTransfer.Training.Adaptation;

/// <summary>How CDAN conditions the discriminator on the predictions.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CdanMapKind>))]
public enum CdanMapKind
{
    /// <summary>Multilinear when C·d ≤ <see cref="AdaptationConfig.CdanMultilinearLimit"/>, else randomized.</summary>
    Auto,

    /// <summary>Always the explicit outer product p ⊗ f (width C·d).</summary>
    Multilinear,

    /// <summary>Always the randomized map of width <see cref="AdaptationConfig.CdanRandomizedDim"/>.</summary>
    Randomized,
}

/// <summary>
/// A serializable adaptation-method choice and its hyperparameters. <see cref="Method"/> is one of
/// <see cref="AdaptationMethods.Names"/>; fields a method does not use are ignored by it. Defaults follow tllib and
/// docs/METHODS.md. Round-trips through System.Text.Json (<see cref="ToJson"/>, <see cref="FromJson"/>).
/// </summary>
public sealed record AdaptationConfig
{
    /// <summary>The method's stable lowercase name, e.g. "dann".</summary>
    public string Method { get; init; } = AdaptationMethods.SourceOnly;

    /// <summary>Trade-off weight of the transfer loss: total = CE + TradeOff·transfer (tllib default 1).</summary>
    public double TradeOff { get; init; } = 1.0;

    /// <summary>The λ schedule of gradient reversal (adversarial methods).</summary>
    public LambdaSchedule Schedule { get; init; } = LambdaSchedule.PaperDefault;

    /// <summary>
    /// For non-adversarial methods (dan, jan, coral, mcc, entropy): also multiply the transfer loss by the scheduled λ
    /// (a warm-up). Off by default, as in tllib.
    /// </summary>
    public bool ScheduleTransferWeight { get; init; }

    /// <summary>Hidden width of the domain discriminator (tllib: 1024).</summary>
    public int DiscriminatorWidth { get; init; } = 1024;

    /// <summary>Hidden blocks of the domain discriminator (tllib: 2).</summary>
    public int DiscriminatorDepth { get; init; } = 2;

    /// <summary>Dropout in the domain discriminator (tllib: 0; Ganin et al.: 0.5).</summary>
    public double DiscriminatorDropout { get; init; }

    /// <summary>BatchNorm1d in the discriminator's hidden blocks (tllib: yes).</summary>
    public bool DiscriminatorBatchNorm { get; init; } = true;

    /// <summary>MK-MMD bandwidth multipliers α_u of the feature-layer kernels (DAN, JAN): {2⁻³ … 2¹}.</summary>
    public double[] KernelAlphas { get; init; } = [.. AdaptationLosses.DefaultKernelAlphas];

    /// <summary>JAN: fixed σ of the softmax-layer kernel (tllib 0.92); null uses <see cref="KernelAlphas"/> there too.</summary>
    public double? JanSoftmaxSigma { get; init; } = 0.92;

    /// <summary>MCC temperature T (2.5).</summary>
    public double Temperature { get; init; } = 2.5;

    /// <summary>CDAN conditioning map.</summary>
    public CdanMapKind CdanMap { get; init; } = CdanMapKind.Auto;

    /// <summary>Width of CDAN's randomized map (1024).</summary>
    public int CdanRandomizedDim { get; init; } = 1024;

    /// <summary>Largest C·d for which <see cref="CdanMapKind.Auto"/> uses the explicit multilinear map (4096).</summary>
    public int CdanMultilinearLimit { get; init; } = 4096;

    /// <summary>SHOT's weight β of the pseudo-label cross-entropy (0.3).</summary>
    public double ShotBeta { get; init; } = 0.3;

    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
    };

    /// <summary>Serializes to JSON (camelCase).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, s_json);

    /// <summary>Reads a config from JSON and validates it.</summary>
    /// <exception cref="AdaptationException">Malformed JSON, an unknown method name, or an invalid value.</exception>
    public static AdaptationConfig FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        AdaptationConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<AdaptationConfig>(json, s_json);
        }
        catch (JsonException ex)
        {
            throw new AdaptationException(AdaptationErrorCode.InvalidHyperparameter, $"Adaptation config is not valid JSON for this schema: {ex.Message}");
        }

        if (config is null)
        {
            throw new AdaptationException(AdaptationErrorCode.InvalidHyperparameter, "Adaptation config JSON is null.");
        }

        config.Validate();
        return config;
    }

    /// <summary>Checks the method name and every hyperparameter.</summary>
    /// <exception cref="UnknownAdaptationMethodException">The method name is not registered.</exception>
    /// <exception cref="AdaptationException">A hyperparameter is out of range.</exception>
    public void Validate()
    {
        AdaptationMethods.Resolve(Method);
        Schedule?.Validate();
        if (Schedule is null)
        {
            Fail("Schedule must be set.");
        }

        if (!(TradeOff >= 0) || !double.IsFinite(TradeOff))
        {
            Fail($"TradeOff must be a finite number ≥ 0 (got {TradeOff}).");
        }

        if (DiscriminatorWidth <= 0 || DiscriminatorDepth < 1 || !(DiscriminatorDropout >= 0 && DiscriminatorDropout < 1))
        {
            Fail("Discriminator needs width > 0, depth ≥ 1 and dropout in [0, 1).");
        }

        if (KernelAlphas is null || KernelAlphas.Length == 0 || KernelAlphas.Any(a => !(a > 0) || !double.IsFinite(a)))
        {
            Fail("KernelAlphas must be a non-empty list of positive numbers.");
        }

        if (JanSoftmaxSigma is double s && (!(s > 0) || !double.IsFinite(s)))
        {
            Fail("JanSoftmaxSigma must be positive when set.");
        }

        if (!(Temperature > 0) || !double.IsFinite(Temperature))
        {
            Fail($"Temperature must be positive (got {Temperature}).");
        }

        if (!(ShotBeta >= 0) || !double.IsFinite(ShotBeta))
        {
            Fail($"ShotBeta must be a finite number ≥ 0 (got {ShotBeta}).");
        }

        if (CdanRandomizedDim <= 0 || CdanMultilinearLimit <= 0 || !Enum.IsDefined(CdanMap))
        {
            Fail("CDAN map settings must be positive and the map kind known.");
        }
    }

    private static void Fail(string message) => throw new AdaptationException(AdaptationErrorCode.InvalidHyperparameter, message);
}
