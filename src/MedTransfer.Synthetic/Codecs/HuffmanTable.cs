namespace MedTransfer.Synthetic.Codecs;

/// <summary>
/// An optimal length-limited Huffman table for given symbol frequencies, by the procedure of ITU-T T.81 Annex K.2
/// (Figures K.1–K.4): code sizes with a reserved extra symbol so that no code is all ones, lengths limited to 16 bits,
/// values sorted by code size; and the canonical codes of Annex C.
/// </summary>
internal static class HuffmanTable
{
    /// <summary>The DHT contents: BITS (counts of codes of length 1..16) and HUFFVAL (symbols by increasing length).</summary>
    public static (byte[] Counts, byte[] Symbols) Build(IReadOnlyList<long> frequencies)
    {
        int n = frequencies.Count;
        var freq = new long[n + 1];
        for (int i = 0; i < n; i++)
        {
            freq[i] = frequencies[i];
        }

        freq[n] = 1;
        var codeSize = new int[n + 1];
        var others = new int[n + 1];
        Array.Fill(others, -1);
        while (true)
        {
            int v1 = -1;
            for (int i = 0; i <= n; i++)
            {
                if (freq[i] > 0 && (v1 < 0 || freq[i] <= freq[v1]))
                {
                    v1 = i;
                }
            }

            int v2 = -1;
            for (int i = 0; i <= n; i++)
            {
                if (i != v1 && freq[i] > 0 && (v2 < 0 || freq[i] <= freq[v2]))
                {
                    v2 = i;
                }
            }

            if (v2 < 0)
            {
                break;
            }

            freq[v1] += freq[v2];
            freq[v2] = 0;
            codeSize[v1]++;
            while (others[v1] >= 0)
            {
                v1 = others[v1];
                codeSize[v1]++;
            }

            others[v1] = v2;
            codeSize[v2]++;
            while (others[v2] >= 0)
            {
                v2 = others[v2];
                codeSize[v2]++;
            }
        }

        var bits = new int[Math.Max(33, n + 2)];
        foreach (int size in codeSize)
        {
            if (size > 0)
            {
                bits[size]++;
            }
        }

        for (int i = bits.Length - 1; i > 16; i--)
        {
            while (bits[i] > 0)
            {
                int j = i - 2;
                while (bits[j] == 0)
                {
                    j--;
                }

                bits[i] -= 2;
                bits[i - 1]++;
                bits[j + 1] += 2;
                bits[j]--;
            }
        }

        int last = 16;
        while (bits[last] == 0)
        {
            last--;
        }

        bits[last]--;
        var counts = new byte[16];
        for (int i = 1; i <= 16; i++)
        {
            counts[i - 1] = (byte)bits[i];
        }

        var symbols = new List<byte>();
        for (int size = 1; size < bits.Length; size++)
        {
            for (int s = 0; s < n; s++)
            {
                if (codeSize[s] == size)
                {
                    symbols.Add((byte)s);
                }
            }
        }

        return (counts, [.. symbols]);
    }

    /// <summary>Canonical codes (T.81 Annex C) indexed by symbol; length 0 for symbols without a code.</summary>
    public static (int[] Codes, int[] Lengths) Codes(byte[] counts, byte[] symbols)
    {
        var codes = new int[256];
        var lengths = new int[256];
        int code = 0;
        int k = 0;
        for (int length = 1; length <= 16; length++)
        {
            for (int i = 0; i < counts[length - 1]; i++)
            {
                codes[symbols[k]] = code;
                lengths[symbols[k]] = length;
                code++;
                k++;
            }

            code <<= 1;
        }

        return (codes, lengths);
    }
}
