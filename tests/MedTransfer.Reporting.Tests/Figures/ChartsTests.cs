using MedTransfer.Reporting.Figures;

namespace MedTransfer.Reporting.Tests.Figures;

public sealed class ChartsTests
{
    [Fact]
    public void Lines_SkipsNaNAndNamesSeriesThatWereNotRecorded()
    {
        Figure f = Charts.Lines("curves", "Training loss", "Step", "Loss",
        [
            ("dann", [1.0, double.NaN, 0.5]),
            ("source-only", [double.NaN, double.NaN]),
        ]);

        AssertPng(f);
        Assert.Equal("curves", f.Name);
        Assert.Contains("dann (2 points, last 0.5)", f.AltText, StringComparison.Ordinal);
        Assert.Contains("Not recorded: source-only", f.AltText, StringComparison.Ordinal);
        Assert.DoesNotContain("source-only (", f.AltText, StringComparison.Ordinal);
    }

    [Fact]
    public void Lines_SinglePointSeries_Renders()
    {
        Figure f = Charts.Lines("one", "One step", "Step", "Loss", [("m", [0.7])]);

        AssertPng(f);
        Assert.Contains("m (1 points, last 0.7)", f.AltText, StringComparison.Ordinal);
    }

    [Fact]
    public void Lines_NoSeriesOrUnlabelledSeries_IsATypedError()
    {
        Assert.Throws<ArgumentException>(() => Charts.Lines("x", "t", "x", "y", []));
        Assert.Throws<ArgumentException>(() => Charts.Lines("x", "t", "x", "y", [(" ", [1.0])]));
    }

    [Fact]
    public void Heatmap_AltTextLocatesTheHottestCellRowMajor()
    {
        double[] values = new double[12];
        values[(1 * 4) + 2] = 3.5; // row 2, column 3 (1-based)
        values[0] = double.NaN;

        Figure f = Charts.Heatmap("occ", "Occlusion", values, rows: 3, columns: 4, "Score change");

        AssertPng(f);
        Assert.Contains("3 × 4 heat map", f.AltText, StringComparison.Ordinal);
        Assert.Contains("from 0 to 3.5", f.AltText, StringComparison.Ordinal);
        Assert.Contains("highest in row 2, column 3", f.AltText, StringComparison.Ordinal);
    }

    [Fact]
    public void Heatmap_AllNaN_SaysSo()
    {
        Figure f = Charts.Heatmap("occ", "Occlusion", [double.NaN, double.NaN, double.NaN, double.NaN], 2, 2, "v");

        AssertPng(f);
        Assert.Contains("no finite values", f.AltText, StringComparison.Ordinal);
    }

    [Fact]
    public void Heatmap_ConstantValues_Renders()
    {
        Figure f = Charts.Heatmap("occ", "Occlusion", [0.0, 0.0, 0.0, 0.0], 2, 2, "v");

        AssertPng(f);
        Assert.Contains("from 0 to 0", f.AltText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2, 2, 3)]
    [InlineData(0, 2, 0)]
    [InlineData(2, -1, 2)]
    public void Heatmap_WrongShape_IsATypedError(int rows, int columns, int count)
    {
        var ex = Assert.Throws<ArgumentException>(() => Charts.Heatmap("h", "t", new double[count], rows, columns, "v"));

        Assert.Equal("values", ex.ParamName);
    }

    private static void AssertPng(Figure f)
    {
        Assert.True(f.Png.Length > 100);
        Assert.Equal(0x89, f.Png[0]);
        Assert.Equal((byte)'P', f.Png[1]);
        Assert.Equal((byte)'N', f.Png[2]);
        Assert.Equal((byte)'G', f.Png[3]);
    }
}
