namespace MedTransfer.Dicom.Deidentification;

/// <summary>
/// How <see cref="Deidentifier"/> applies the Basic Application Level Confidentiality Profile of
/// DICOM PS3.15 Annex E (Table E.1-1) and the options this engine supports.
/// </summary>
/// <remarks>
/// Everything the engine derives (replacement UIDs, patient pseudonyms, the date offset) is an
/// HMAC-SHA256 of the original value under <see cref="Key"/>, so the same key gives the same output
/// for the same input in every file and every run (so references between instances still match), and nobody without the key can
/// recompute or test a guess of the original (C4). Keep the key secret and keep it for as long as new
/// data must be linked to data already released; a different key gives unlinkable output.
/// </remarks>
public sealed record DeidentificationOptions
{
    /// <summary>The smallest accepted key, in bytes.</summary>
    public const int MinimumKeyLength = 16;

    /// <summary>The longest accepted <see cref="PatientPseudonymPrefix"/>.</summary>
    public const int MaximumPrefixLength = 16;

    /// <summary>The longest accepted <see cref="UidRoot"/> (leaves at least 31 digits of the 64-character UID for the keyed part).</summary>
    public const int MaximumUidRootLength = 32;

    private readonly byte[] _key = [];
    private readonly string? _uidRoot;
    private readonly string _prefix = "ANON";

    /// <summary>The secret key for HMAC-SHA256 (at least <see cref="MinimumKeyLength"/> bytes; 32 random bytes recommended). The record keeps its own copy.</summary>
    /// <exception cref="ArgumentException">The key is shorter than <see cref="MinimumKeyLength"/> bytes.</exception>
    public required byte[] Key
    {
        get => (byte[])_key.Clone();
        init
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Length < MinimumKeyLength)
            {
                throw new ArgumentException($"The key must be at least {MinimumKeyLength} bytes.", nameof(value));
            }

            _key = (byte[])value.Clone();
        }
    }

    /// <summary>Dates and times: removed (Basic Profile, the default) or shifted consistently per patient.</summary>
    public DateHandling DateHandling { get; init; } = DateHandling.Remove;

    /// <summary>Retain Device Identity Option (PS3.15 §E.3.8, code 113109): keep the attributes Table E.1-1 marks K in that column (station name, serial numbers, device UIDs ...).</summary>
    public bool RetainDeviceIdentity { get; init; }

    /// <summary>
    /// Retain Patient Characteristics Option (PS3.15 §E.3.7, code 113108): keep the attributes marked K
    /// in that column (sex, age, size, weight, ethnic group, smoking and pregnancy status ...). Attributes
    /// the column marks C (clean: allergies, pre-medication, patient state, special needs) are free text this
    /// engine cannot clean, so they still get the Basic Profile action (removed).
    /// </summary>
    public bool RetainPatientCharacteristics { get; init; }

    /// <summary>
    /// The root for replacement UIDs, e.g. "1.2.826.0.1.3680043.10.1234." (digits and dots, at most
    /// <see cref="MaximumUidRootLength"/> characters). Null (the default) gives UUID-derived UIDs
    /// "2.25.&lt;decimal of a 128-bit keyed UUID&gt;" (PS3.5 §B.2), which need no registered root.
    /// </summary>
    /// <exception cref="ArgumentException">The root is not a valid UID prefix.</exception>
    public string? UidRoot
    {
        get => _uidRoot;
        init => _uidRoot = value is null ? null : ValidateUidRoot(value);
    }

    /// <summary>
    /// Remove every private element, private creators included (the Basic Profile's "X" for odd groups;
    /// default true). False keeps them unexamined: the output then no longer conforms to the Basic
    /// Profile, and every result says so in its warnings. (The Retain Safe Private Option is not supported.)
    /// </summary>
    public bool RemovePrivateTags { get; init; } = true;

    /// <summary>
    /// The first part of patient pseudonyms: Patient ID becomes "&lt;prefix&gt;&lt;12 hex digits&gt;" and
    /// Patient's Name "&lt;prefix&gt;^&lt;12 hex digits&gt;" (upper-case letters, digits and '_' only; 1 to
    /// <see cref="MaximumPrefixLength"/> characters; default "ANON").
    /// </summary>
    /// <exception cref="ArgumentException">The prefix is empty, too long or has other characters.</exception>
    public string PatientPseudonymPrefix
    {
        get => _prefix;
        init => _prefix = ValidatePrefix(value);
    }

    /// <summary>
    /// Keep a table of every original value and its replacement (UIDs, patient IDs and names, date offsets)
    /// for <see cref="Deidentifier.GetMapping"/>. Default false. The table is protected health information:
    /// anyone holding it can re-identify the output. Turn it on only when re-identification is part of the
    /// approved protocol, and store the export as securely as the originals.
    /// </summary>
    public bool RecordMapping { get; init; }

    /// <summary>The key without a defensive copy, for the engine.</summary>
    internal ReadOnlySpan<byte> KeySpan => _key;

    private static string ValidateUidRoot(string value)
    {
        string root = value.EndsWith('.') ? value : value + ".";
        bool valid = root.Length >= 2 && root.Length <= MaximumUidRootLength;
        string[] parts = root[..^1].Split('.');
        foreach (string part in parts)
        {
            valid &= part.Length > 0 && part.All(char.IsAsciiDigit) && (part.Length == 1 || part[0] != '0');
        }

        if (!valid)
        {
            throw new ArgumentException(
                $"The UID root must be dot-separated numbers without leading zeros, at most {MaximumUidRootLength} characters.", nameof(value));
        }

        return root;
    }

    private static string ValidatePrefix(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length == 0 || value.Length > MaximumPrefixLength || !value.All(c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c) || c == '_'))
        {
            throw new ArgumentException(
                $"The pseudonym prefix must be 1 to {MaximumPrefixLength} characters from A-Z, 0-9 and '_'.", nameof(value));
        }

        return value;
    }
}
