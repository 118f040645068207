using System.Globalization;
using MedTransfer.Imaging.Index;
using MedTransfer.Testing;

namespace MedTransfer.Imaging.Tests.Index;

public sealed class AgeBandsTests
{
    [Theory]
    [InlineData("067Y", "60-79")]
    [InlineData("018Y", "18-39")]
    [InlineData("039Y", "18-39")]
    [InlineData("040Y", "40-59")]
    [InlineData("079Y", "60-79")]
    [InlineData("080Y", "80+")]
    [InlineData("104Y", "80+")]
    [InlineData("017Y", "0-17")]
    [InlineData("018M", "0-17")]
    [InlineData("003W", "0-17")]
    [InlineData("300D", "0-17")]
    [InlineData("67Y", AgeBands.Unknown)]
    [InlineData("067X", AgeBands.Unknown)]
    [InlineData("", AgeBands.Unknown)]
    [InlineData(null, AgeBands.Unknown)]
    public void OfDicomAge_DefaultBands_AreTheSampleDataBands(string? age, string band) => Assert.Equal(band, AgeBands.Default.OfDicomAge(age));

    [Fact]
    public void Labels_CustomEdges_CoverEveryAgeInOrder()
    {
        AgeBands bands = AgeBands.Parse("10, 20,65");

        Assert.Equal(["0-9", "10-19", "20-64", "65+"], bands.Labels);
        Assert.Equal([10, 20, 65], bands.Edges);
        Assert.Equal("10-19", bands.Of(19));
        Assert.Equal("65+", bands.Of(65));
        Assert.Equal(AgeBands.Unknown, bands.Of(null));
        Assert.Equal(AgeBands.Unknown, bands.Of(-1));
    }

    [Theory]
    [InlineData("")]
    [InlineData("40,18")]
    [InlineData("18,18")]
    [InlineData("0,18")]
    [InlineData("18,abc")]
    [InlineData("-5")]
    public void Parse_BadEdges_Throws(string edges) => Assert.Throws<ArgumentException>(() => AgeBands.Parse(edges));

    /// <summary>The sample data's age_band column (written by the synthetic generator) is what the index computes from its age column.</summary>
    [Fact]
    public void Default_MatchesTheSampleDataManifest()
    {
        string[] lines = File.ReadAllLines(Path.Combine(TestPaths.RepoRoot, "sample-data", "manifest.csv"));
        string[] header = lines[0].Split(',');
        int age = Array.IndexOf(header, "age");
        int band = Array.IndexOf(header, "age_band");
        Assert.True(age >= 0 && band >= 0, "manifest.csv has age and age_band columns");
        Assert.True(lines.Length > 10);
        foreach (string line in lines.Skip(1).Where(l => l.Length > 0))
        {
            string[] f = line.Split(',');
            Assert.Equal(f[band], AgeBands.Default.Of(int.Parse(f[age], CultureInfo.InvariantCulture)));
            Assert.Contains(f[band], AgeBands.Default.Labels);
        }
    }
}
