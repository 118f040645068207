namespace MedTransfer.Pipeline.Diagnose;

/// <summary>Why a diagnosis model could not be loaded.</summary>
public enum ModelLoadError
{
    /// <summary>No model file at the path (nor at RUN_DIR/model/model.onnx).</summary>
    NotFound,

    /// <summary>ONNX Runtime could not load the file.</summary>
    InvalidOnnx,

    /// <summary>The metadata key <c>medtransfer.model</c> is missing, not JSON, or not format medtransfer-model/1.</summary>
    InvalidMetadata,

    /// <summary>The graph's inputs or outputs do not match the contract (input <c>image</c> [N, C, S, S]; outputs <c>logits</c> [N, K], <c>features</c> [N, D]).</summary>
    ContractMismatch,

    /// <summary>The model is for another modality than X-ray.</summary>
    UnsupportedModality,

    /// <summary>ONNX Runtime failed while running the model (a model fault, not an input's: the run stops and can be resumed).</summary>
    InferenceFailed,
}

/// <summary>A model file that does not fulfil the diagnosis model contract.</summary>
public sealed class ModelLoadException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ModelLoadException(ModelLoadError reason, string message, Exception? innerException = null)
        : base($"{reason}: {message}", innerException) => Reason = reason;

    /// <summary>Creates the exception with <see cref="ModelLoadError.InvalidOnnx"/>.</summary>
    public ModelLoadException()
        : this(ModelLoadError.InvalidOnnx, "the model could not be loaded")
    {
    }

    /// <summary>Creates the exception with <see cref="ModelLoadError.InvalidOnnx"/>.</summary>
    public ModelLoadException(string message)
        : this(ModelLoadError.InvalidOnnx, message)
    {
    }

    /// <summary>Creates the exception with <see cref="ModelLoadError.InvalidOnnx"/>.</summary>
    public ModelLoadException(string message, Exception innerException)
        : this(ModelLoadError.InvalidOnnx, message, innerException)
    {
    }

    /// <summary>The reason code.</summary>
    public ModelLoadError Reason { get; }
}
