using System.Text.Json;
using MedTransfer.Imaging.Normalization;
using MedTransfer.Imaging.Resampling;

namespace MedTransfer.Imaging.Tests.Normalization;

public sealed class XrayRecipeTests
{
    // SHA-256 of the canonical text below, computed once outside .NET (Python hashlib) for format 1. Change it only when the recipe format changes on purpose,
    // and then bump XrayRecipe.FormatVersion too: every cached tensor keyed by the old hash becomes stale.
    private const string DefaultHash = "5bccf37bee670d9201fd2c291aa70b3312012ec65738fecf3f899c91647f5435";

    [Fact]
    public void ComputeHash_DefaultRecipe_MatchesTheGoldenValue()
    {
        Assert.Equal(DefaultHash, new XrayRecipe().ComputeHash());
    }

    [Fact]
    public void ToCanonicalJson_DefaultRecipe_IsSortedCompactAndInvariant()
    {
        Assert.Equal(
            """{"$format":"1","$kind":"xray","channels":3,"clip":{"highPercent":99.5,"lowPercent":0.5},"cropCollimation":null,"resize":{"method":"Area","paddingValue":0,"size":224},"voi":"UseFileWindow"}""",
            new XrayRecipe().ToCanonicalJson());
    }

    [Fact]
    public void ComputeHash_DiffersForEveryParameter()
    {
        var baseline = new XrayRecipe();
        XrayRecipe[] variants =
        [
            baseline with { Voi = VoiMode.None },
            baseline with { Clip = new PercentileClip(1, 99) },
            baseline with { Clip = new PercentileClip(0.5, 99.9) },
            baseline with { Resize = new ResizeOptions(Size: 256) },
            baseline with { Resize = new ResizeOptions(Method: ResizeMethod.Lanczos3) },
            baseline with { Resize = new ResizeOptions(PaddingValue: 0.5f) },
            baseline with { CropCollimation = new CollimationCrop() },
            baseline with { Channels = 1 },
        ];

        string[] hashes = [baseline.ComputeHash(), .. variants.Select(v => v.ComputeHash())];

        Assert.Equal(hashes.Length, hashes.Distinct().Count());
        Assert.All(hashes, h => Assert.Matches("^[0-9a-f]{64}$", h));
    }

    [Fact]
    public void ComputeHash_EqualRecipesBuiltDifferently_AreEqual()
    {
        var a = new XrayRecipe { Clip = new PercentileClip(0.5, 99.5) };
        XrayRecipe b = XrayRecipe.FromJson("""{ "voi": "UseFileWindow", "channels": 3, "clip": { "highPercent": 99.50, "lowPercent": 5e-1 } }""");

        Assert.Equal(a.ComputeHash(), b.ComputeHash());
    }

    [Fact]
    public void Json_RoundTrip_KeepsEveryParameter()
    {
        var recipe = new XrayRecipe
        {
            Voi = VoiMode.None,
            Clip = new PercentileClip(1.25, 98.75),
            Resize = new ResizeOptions(160, ResizeMethod.Lanczos3, 0.1f),
            CropCollimation = new CollimationCrop(0.01, 0.1, 0.2),
            Channels = 1,
        };

        XrayRecipe back = XrayRecipe.FromJson(recipe.ToJson());

        Assert.Equal(recipe, back);
        Assert.Equal(recipe.ComputeHash(), back.ComputeHash());
    }

    [Theory]
    [InlineData("""{ "clip": { "lowPercent": 60, "highPercent": 40 } }""")]
    [InlineData("""{ "channels": 2 }""")]
    [InlineData("""{ "resize": { "size": 0 } }""")]
    public void FromJson_OutOfRange_Throws(string json)
    {
        Assert.Throws<ArgumentException>(() => XrayRecipe.FromJson(json));
    }

    [Fact]
    public void FromJson_NotJson_ThrowsJsonException()
    {
        Assert.ThrowsAny<JsonException>(() => XrayRecipe.FromJson("{ voi: "));
    }
}
