namespace MedTransfer.Training.Adaptation;

/// <summary>Why an adaptation request was refused.</summary>
public enum AdaptationErrorCode
{
    /// <summary>The method name is not one of <see cref="AdaptationMethods.Names"/>.</summary>
    UnknownMethod,

    /// <summary>A hyperparameter is outside its valid range.</summary>
    InvalidHyperparameter,

    /// <summary>Tensor shapes or sizes do not fit together.</summary>
    ShapeMismatch,

    /// <summary>A batch source is empty, or labels are missing where the mode needs them.</summary>
    InvalidData,

    /// <summary>A selector's inputs are inconsistent (lengths, counts, non-finite values).</summary>
    InvalidSelectionInput,
}

/// <summary>A domain-adaptation call was given input it cannot use. The message never contains data values.</summary>
public class AdaptationException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="code">The reason code.</param>
    /// <param name="message">What is wrong and how to fix it.</param>
    public AdaptationException(AdaptationErrorCode code, string message)
        : base(message)
    {
        Code = code;
    }

    /// <summary>The reason code.</summary>
    public AdaptationErrorCode Code { get; }
}

/// <summary>An adaptation method name that the registry does not know; <see cref="ValidNames"/> lists the known ones.</summary>
public sealed class UnknownAdaptationMethodException : AdaptationException
{
    /// <summary>Creates the exception for <paramref name="name"/>.</summary>
    public UnknownAdaptationMethodException(string name, IReadOnlyList<string> validNames)
        : base(AdaptationErrorCode.UnknownMethod, $"Unknown adaptation method '{name}'. Valid names: {string.Join(", ", validNames)}.")
    {
        Name = name;
        ValidNames = validNames;
    }

    /// <summary>The name that was asked for.</summary>
    public string Name { get; }

    /// <summary>Every name the registry accepts.</summary>
    public IReadOnlyList<string> ValidNames { get; }
}
