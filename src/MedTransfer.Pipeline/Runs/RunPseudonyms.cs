using MedTransfer.Pipeline.Diagnose;

namespace MedTransfer.Pipeline.Runs;

/// <summary>
/// The pseudonym key of a run or training folder, by the same keyed HMAC scheme as batch diagnosis
/// (<see cref="StudyPseudonyms"/>): from <c>--key-file</c>, else the environment variable
/// <see cref="EnvironmentVariable"/> (the key itself, hex), else a random key created once in the folder's
/// <c>private/</c> part — beside the outputs, but never among the shareable files — with a warning saying so.
/// </summary>
public static class RunPseudonyms
{
    /// <summary>The environment variable holding a hex key (at least 32 hex digits).</summary>
    public const string EnvironmentVariable = "MEDTRANSFER_PSEUDONYM_KEY";

    /// <summary>The key file name inside the private folder when MedTransfer generates one.</summary>
    public const string GeneratedKeyFile = "pseudonym.key";

    /// <summary>Resolves the key; <paramref name="warning"/> says when one was generated.</summary>
    /// <exception cref="FormatException">The key file or the environment variable does not hold a hex key of at least 16 bytes (the message names which).</exception>
    /// <exception cref="IOException">The key file cannot be read.</exception>
    public static StudyPseudonyms Resolve(string? keyFile, string privateFolder, out string? warning)
    {
        ArgumentNullException.ThrowIfNull(privateFolder);
        warning = null;
        if (keyFile is not null)
        {
            if (!File.Exists(keyFile))
            {
                throw new IOException($"the pseudonym key file {keyFile} does not exist.");
            }

            return Parse(File.ReadAllText(keyFile), $"the pseudonym key file {keyFile}");
        }

        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } value)
        {
            return Parse(value, $"the environment variable {EnvironmentVariable}");
        }

        string generated = Path.Combine(privateFolder, GeneratedKeyFile);
        bool existed = File.Exists(generated);
        StudyPseudonyms pseudonyms = StudyPseudonyms.LoadOrCreate(generated);
        warning = existed
            ? $"pseudonyms use the key generated for this folder ({generated}); pass --key-file or set {EnvironmentVariable} to use your own."
            : $"generated a pseudonym key at {generated}: keep it to link these outputs to patients later; the private/ folder is never to be shared. Pass --key-file or set {EnvironmentVariable} to use your own key.";
        return pseudonyms;
    }

    private static StudyPseudonyms Parse(string text, string what)
    {
        byte[] key;
        try
        {
            key = Convert.FromHexString(text.Trim());
        }
        catch (FormatException)
        {
            throw new FormatException($"{what} does not hold a hex key (expected at least 32 hex digits).");
        }

        return key.Length >= 16 ? new StudyPseudonyms(key) : throw new FormatException($"{what} holds {key.Length} byte(s); a pseudonym key needs at least 16 (32 hex digits).");
    }
}
