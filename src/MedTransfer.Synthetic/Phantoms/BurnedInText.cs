namespace MedTransfer.Synthetic.Phantoms;

/// <summary>A 5×7 bitmap font for the few characters burned into radiographs (lead markers and site tags).</summary>
internal static class BurnedInText
{
    private static readonly Dictionary<char, string[]> s_glyphs = new()
    {
        ['A'] = [".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"],
        ['B'] = ["####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."],
        ['C'] = [".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."],
        ['L'] = ["#....", "#....", "#....", "#....", "#....", "#....", "#####"],
        ['N'] = ["#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#", "#...#"],
        ['P'] = ["####.", "#...#", "#...#", "####.", "#....", "#....", "#...."],
        ['R'] = ["####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"],
        ['S'] = [".####", "#....", "#....", ".###.", "....#", "....#", "####."],
        ['Y'] = ["#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."],
        ['-'] = [".....", ".....", ".....", "#####", ".....", ".....", "....."],
    };

    /// <summary>Width in font pixels of <paramref name="text"/> (5 per glyph plus 1 between glyphs).</summary>
    public static int Width(string text) => (text.Length * 6) - 1;

    /// <summary>Sets <paramref name="value"/> where the text covers the image, each font pixel <paramref name="scale"/> image pixels.</summary>
    public static void Draw(double[] image, int columns, int rows, string text, int left, int top, int scale, double value)
    {
        for (int g = 0; g < text.Length; g++)
        {
            if (!s_glyphs.TryGetValue(text[g], out string[]? glyph))
            {
                continue;
            }

            for (int gy = 0; gy < 7; gy++)
            {
                for (int gx = 0; gx < 5; gx++)
                {
                    if (glyph[gy][gx] != '#')
                    {
                        continue;
                    }

                    for (int sy = 0; sy < scale; sy++)
                    {
                        for (int sx = 0; sx < scale; sx++)
                        {
                            int x = left + (((g * 6) + gx) * scale) + sx;
                            int y = top + (gy * scale) + sy;
                            if (x >= 0 && y >= 0 && x < columns && y < rows)
                            {
                                image[(y * columns) + x] = value;
                            }
                        }
                    }
                }
            }
        }
    }
}
