namespace MedTransfer.Pipeline.Protocols;

/// <summary>One problem found in a protocol: where it is (file, 1-based line and column) and which field.</summary>
/// <param name="File">The protocol file's name as given (or "protocol" for text without a file).</param>
/// <param name="Line">1-based line; 0 when the problem concerns the whole file.</param>
/// <param name="Column">1-based column; 0 when unknown.</param>
/// <param name="Field">Dotted path of the field, e.g. "training.lr" or "seeds[2]"; empty for the file itself.</param>
/// <param name="Message">What is wrong and what is expected.</param>
public sealed record ProtocolError(string File, int Line, int Column, string Field, string Message)
{
    /// <summary>"file:line:column: field: message", the form compilers use so editors can jump to it.</summary>
    public override string ToString()
    {
        string where = Line > 0 ? FormattableString.Invariant($"{File}:{Line}:{Column}") : File;
        return Field.Length > 0 ? $"{where}: {Field}: {Message}" : $"{where}: {Message}";
    }
}

/// <summary>A protocol that cannot be used; <see cref="Errors"/> holds one entry per problem (all of them, in file order).</summary>
public sealed class ProtocolException : Exception
{
    /// <summary>Creates the exception from at least one error.</summary>
    public ProtocolException(IReadOnlyList<ProtocolError> errors)
        : base(Describe(errors))
    {
        Errors = errors;
    }

    /// <summary>The problems, in file order.</summary>
    public IReadOnlyList<ProtocolError> Errors { get; }

    private static string Describe(IReadOnlyList<ProtocolError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        return errors.Count == 1
            ? errors[0].ToString()
            : FormattableString.Invariant($"{errors.Count} problems in the protocol:\n") + string.Join('\n', errors);
    }
}
