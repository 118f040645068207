using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;

namespace MedTransfer.Dicom.Deidentification;

/// <summary>
/// Every replacement value the engine derives: HMAC-SHA256 under the caller's key of a purpose label and
/// the original value (a plain hash could be reversed by hashing a list of candidate IDs). Deterministic across files, runs and machines; never a plain
/// hash, so the original cannot be confirmed by hashing a guess without the key. The purpose label keeps
/// a UID, a pseudonym and a date offset derived from the same text independent of each other.
/// </summary>
internal sealed class KeyedDerivation
{
    /// <summary>Digits a 128-bit number can need in decimal.</summary>
    private const int Max128BitDigits = 39;

    private const int MaxUidLength = 64;

    private readonly byte[] _key;
    private readonly string _uidRoot;
    private readonly BigInteger? _uidModulus;

    internal KeyedDerivation(ReadOnlySpan<byte> key, string? uidRoot)
    {
        _key = key.ToArray();
        _uidRoot = uidRoot ?? "2.25.";
        int digits = MaxUidLength - _uidRoot.Length;
        _uidModulus = digits >= Max128BitDigits ? null : BigInteger.Pow(10, digits);
    }

    /// <summary>
    /// The replacement for <paramref name="uid"/>: the root followed by the decimal value of 128 keyed bits,
    /// shaped as a version-8 (custom) UUID so "2.25." UIDs are valid UUID-derived UIDs (PS3.5 §B.2).
    /// With a longer custom root the number is reduced to the digits left under the 64-character limit.
    /// </summary>
    internal string Uid(string uid)
    {
        Span<byte> mac = stackalloc byte[32];
        Compute("uid", uid, mac);
        Span<byte> uuid = mac[..16];
        uuid[6] = (byte)((uuid[6] & 0x0F) | 0x80);
        uuid[8] = (byte)((uuid[8] & 0x3F) | 0x80);
        var value = new BigInteger(uuid, isUnsigned: true, isBigEndian: true);
        if (_uidModulus is { } modulus)
        {
            value %= modulus;
        }

        return _uidRoot + value.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>12 upper-case hex digits (48 keyed bits) naming one patient.</summary>
    internal string PatientToken(string identity)
    {
        Span<byte> mac = stackalloc byte[32];
        Compute("patient", identity, mac);
        return Convert.ToHexString(mac[..6]);
    }

    /// <summary>The patient's date offset in days, in −365..−1 (dates only ever move into the past).</summary>
    internal int DateShiftDays(string identity)
    {
        Span<byte> mac = stackalloc byte[32];
        Compute("date-shift", identity, mac);
        uint n = BinaryPrimitives.ReadUInt32BigEndian(mac);
        return -(int)((n % 365) + 1);
    }

    private void Compute(string purpose, string value, Span<byte> destination)
    {
        string message = "MedTransfer.Deidentification/" + purpose + "\0" + value;
        HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(message), destination);
    }
}
