using System.Security.Cryptography;
using System.Text;

namespace MedTransfer.Pipeline.Diagnose;

/// <summary>
/// Keyed pseudonyms for batch-diagnosis outputs (keyed, never a plain hash of an identifier, which anyone could
/// recompute from a list of candidate identifiers):
/// HMAC-SHA-256 under a 32-byte secret, of a typed value ("study:" + Study Instance UID, "file:" + relative path,
/// "url:" + a DICOMweb URL), shortened to 24 hex digits (96 bits). Shards of one run must share the key.
/// One scheme and one way to find the key for every command that writes pseudonyms (<c>run</c>, <c>train</c>,
/// <c>diagnose</c>): <see cref="Resolve"/>.
/// </summary>
public sealed class StudyPseudonyms
{
    /// <summary>The key file created in an output folder's <see cref="PrivateFolderName"/> part when no key is given.</summary>
    public const string DefaultKeyFileName = "pseudonym.key";

    /// <summary>The environment variable holding a hex key (at least 32 hex digits), used when no key file is given.</summary>
    public const string EnvironmentVariable = "MEDTRANSFER_PSEUDONYM_KEY";

    /// <summary>The part of an output folder that holds secrets or identifiers and is never to be shared.</summary>
    public const string PrivateFolderName = "private";

    /// <summary>What a generated key's folder says to whoever finds it.</summary>
    public const string PrivateReadme =
        "This folder holds secrets: the pseudonym key MedTransfer generated (and, for a run, the manifest with patient identifiers).\n" +
        "Never share it. Whoever has the key can test a guessed patient or study identifier against the pseudonyms in the outputs.\n" +
        "The files one level up are the shareable outputs. To give several runs or shards the same pseudonyms, pass the same key with --key-file.\n";

    private readonly byte[] _key;

    /// <summary>Creates the pseudonymizer from a secret of at least 16 bytes.</summary>
    public StudyPseudonyms(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length < 16)
        {
            throw new ArgumentException("A pseudonym key needs at least 16 bytes.", nameof(key));
        }

        _key = [.. key];
        Fingerprint = Convert.ToHexStringLower(SHA256.HashData([.. "medtransfer-key-fingerprint:"u8, .. _key]))[..16];
    }

    /// <summary>A public fingerprint of the key (SHA-256 of a tagged copy, 16 hex digits): tells whether two runs used the same key.</summary>
    public string Fingerprint { get; }

    /// <summary>Reads a key file (hex text, at least 32 hex digits).</summary>
    /// <exception cref="IOException">The file is missing or unreadable.</exception>
    /// <exception cref="FormatException">The file does not hold a hex key of at least 16 bytes; the message names the file (never its content, which is a secret).</exception>
    public static StudyPseudonyms Load(string keyFile)
    {
        ArgumentNullException.ThrowIfNull(keyFile);
        string name = Path.GetFileName(keyFile);
        return Parse(File.ReadAllText(keyFile), $"the key file {name}", $"openssl rand -hex 32 > {name}");
    }

    // What is wrong with a key is said with its source (a file name or the variable), never with its content, which is a secret.
    private static StudyPseudonyms Parse(string text, string what, string howToMakeOne)
    {
        byte[] key;
        try
        {
            key = Convert.FromHexString(text.Trim());
        }
        catch (FormatException)
        {
            throw new FormatException($"{what} is not hexadecimal text: it must hold at least 32 hex digits (create a key with: {howToMakeOne})");
        }

        return key.Length >= 16
            ? new StudyPseudonyms(key)
            : throw new FormatException(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{what} holds {key.Length} bytes; a key needs at least 16 (32 hex digits)"));
    }

    /// <summary>Reads <paramref name="keyFile"/>, creating it with a fresh random 32-byte key (owner-only permissions) when absent.</summary>
    public static StudyPseudonyms LoadOrCreate(string keyFile)
    {
        ArgumentNullException.ThrowIfNull(keyFile);
        if (!File.Exists(keyFile))
        {
            string? folder = Path.GetDirectoryName(Path.GetFullPath(keyFile));
            if (folder is not null)
            {
                Directory.CreateDirectory(folder);
            }

            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using var stream = new FileStream(keyFile, options);
            stream.Write(Encoding.ASCII.GetBytes(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)) + "\n"));
            stream.Flush(flushToDisk: true);
        }

        return Load(keyFile);
    }

    /// <summary>
    /// The key for an output folder: <paramref name="keyFile"/> when given, else the environment variable
    /// <see cref="EnvironmentVariable"/> (the key itself, hex), else a random key generated once in
    /// <paramref name="privateFolder"/> (with a README.txt saying never to share that folder) and reused on later runs into the
    /// same folder. The generated key sits beside the outputs but never among the shareable files.
    /// </summary>
    /// <param name="keyFile">The key file the user gave, or null.</param>
    /// <param name="privateFolder">The output folder's private part (see <see cref="PrivateFolderName"/>).</param>
    /// <param name="warning">Set when the key is the generated one: where it is, and how to use one's own.</param>
    /// <exception cref="FormatException">The key file or the environment variable does not hold a hex key of at least 16 bytes (the message names which, never the content).</exception>
    /// <exception cref="IOException">The key file is missing or unreadable, or the generated key cannot be written.</exception>
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

            return Load(keyFile);
        }

        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } value)
        {
            return Parse(value, $"the environment variable {EnvironmentVariable}", $"export {EnvironmentVariable}=$(openssl rand -hex 32)");
        }

        string generated = Path.Combine(privateFolder, DefaultKeyFileName);
        bool existed = File.Exists(generated);
        StudyPseudonyms pseudonyms = LoadOrCreate(generated);
        string readme = Path.Combine(privateFolder, "README.txt");
        if (!File.Exists(readme))
        {
            File.WriteAllText(readme, PrivateReadme);
        }

        warning = existed
            ? $"pseudonyms use the key generated for this folder ({generated}); pass --key-file or set {EnvironmentVariable} to use your own."
            : $"generated a pseudonym key at {generated}: keep it to link these outputs to patients later; the {PrivateFolderName}/ folder is never to be shared. Pass --key-file or set {EnvironmentVariable} to use your own key.";
        return pseudonyms;
    }

    /// <summary>The pseudonym of <paramref name="value"/> of kind <paramref name="kind"/> (e.g. "study").</summary>
    public string Of(string kind, string value)
    {
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentNullException.ThrowIfNull(value);
        return Convert.ToHexStringLower(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(kind + ":" + value)))[..24];
    }
}
