using System.Security.Cryptography;
using System.Text;

namespace MedTransfer.Pipeline.Diagnose;

/// <summary>
/// Keyed pseudonyms for batch-diagnosis outputs (keyed, never a plain hash of an identifier, which anyone could
/// recompute from a list of candidate identifiers):
/// HMAC-SHA-256 under a 32-byte secret, of a typed value ("study:" + Study Instance UID, "file:" + relative path,
/// "url:" + a DICOMweb URL), shortened to 24 hex digits (96 bits). Shards of one run must share the key file.
/// </summary>
public sealed class StudyPseudonyms
{
    /// <summary>The key file created in the output folder when none is given.</summary>
    public const string DefaultKeyFileName = "pseudonym.key";

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
        string text = File.ReadAllText(keyFile).Trim();
        byte[] key;
        try
        {
            key = Convert.FromHexString(text);
        }
        catch (FormatException)
        {
            throw new FormatException($"the key file {name} is not hexadecimal text: it must hold at least 32 hex digits (create one with: openssl rand -hex 32 > {name})");
        }

        return key.Length >= 16
            ? new StudyPseudonyms(key)
            : throw new FormatException(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"the key file {name} holds {key.Length} bytes; a key needs at least 16 (32 hex digits)"));
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

    /// <summary>The pseudonym of <paramref name="value"/> of kind <paramref name="kind"/> (e.g. "study").</summary>
    public string Of(string kind, string value)
    {
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentNullException.ThrowIfNull(value);
        return Convert.ToHexStringLower(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(kind + ":" + value)))[..24];
    }
}
