namespace MedTransfer.Reporting.Figures;

/// <summary>
/// Makes text render in figures. The SkiaSharp build used here has no fontconfig, so system fonts are not found by
/// name: a TrueType family is registered from its file once per process (DejaVu Sans from Debian's
/// fonts-dejavu-core, or Liberation Sans). Without any of them figures still render, without text, and
/// <see cref="Available"/> is false so the report can say so.
/// </summary>
internal static class FigureFonts
{
    /// <summary>The family name figures use.</summary>
    public const string Family = "MedTransfer Sans";

    private static readonly (string Regular, string Bold)[] s_candidates =
    [
        ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
        ("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf", "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
        ("/usr/share/fonts/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),
    ];

    private static readonly Lazy<bool> s_registered = new(Register, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>True when a font was registered (text will render).</summary>
    public static bool Available => s_registered.Value;

    private static bool Register()
    {
        foreach ((string regular, string bold) in s_candidates)
        {
            if (!File.Exists(regular))
            {
                continue;
            }

            ScottPlot.Fonts.AddFontFile(Family, regular, bold: false, italic: false);
            ScottPlot.Fonts.AddFontFile(Family, File.Exists(bold) ? bold : regular, bold: true, italic: false);
            ScottPlot.Fonts.Default = Family;
            return true;
        }

        return false;
    }
}
