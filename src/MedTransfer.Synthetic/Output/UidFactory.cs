using System.Globalization;
using MedTransfer.Synthetic.Randomness;

namespace MedTransfer.Synthetic.Output;

/// <summary>
/// UIDs under the 2.25 root (PS3.5 B.2: the decimal value of a UUID), from the seed: the 128 bits come from a
/// named sub-stream, with the version nibble set to 8 (RFC 9562 custom UUID) and the RFC 4122 variant bits.
/// Same seed and purpose → same UID; no clock, no MAC address.
/// </summary>
internal sealed class UidFactory(SeededRandom root)
{
    private readonly SeededRandom _root = root;

    public string Create(string purpose)
    {
        SeededRandom r = _root.Derive("uid/" + purpose);
        ulong high = r.NextUInt64();
        ulong low = r.NextUInt64();
        high = (high & ~0xF000UL) | 0x8000UL;
        low = (low & 0x3FFFFFFFFFFFFFFFUL) | 0x8000000000000000UL;
        var value = new UInt128(high, low);
        return "2.25." + value.ToString(CultureInfo.InvariantCulture);
    }
}
