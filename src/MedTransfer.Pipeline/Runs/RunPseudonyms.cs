using MedTransfer.Pipeline.Diagnose;

namespace MedTransfer.Pipeline.Runs;

/// <summary>
/// The pseudonym key of a run or training folder: the one resolution every command uses,
/// <see cref="StudyPseudonyms.Resolve"/> (<c>--key-file</c>, else <see cref="EnvironmentVariable"/>, else a key generated
/// once in the folder's <c>private/</c> part, with a warning saying so).
/// </summary>
public static class RunPseudonyms
{
    /// <summary>The environment variable holding a hex key (at least 32 hex digits).</summary>
    public const string EnvironmentVariable = StudyPseudonyms.EnvironmentVariable;

    /// <summary>The key file name inside the private folder when MedTransfer generates one.</summary>
    public const string GeneratedKeyFile = StudyPseudonyms.DefaultKeyFileName;

    /// <summary>Resolves the key; <paramref name="warning"/> says when one was generated.</summary>
    /// <exception cref="FormatException">The key file or the environment variable does not hold a hex key of at least 16 bytes (the message names which).</exception>
    /// <exception cref="IOException">The key file cannot be read.</exception>
    public static StudyPseudonyms Resolve(string? keyFile, string privateFolder, out string? warning) =>
        StudyPseudonyms.Resolve(keyFile, privateFolder, out warning);
}
