using System.Text.Json;
using Google.Protobuf;
using MedTransfer.Cli.Commands;
using MedTransfer.Pipeline.Protocols;
using MedTransfer.Testing;

namespace MedTransfer.Cli.Tests;

/// <summary>`medtransfer rank`: candidates and cuts are parsed as documented, and a ranking of the built-in ResNet-18 against a user's ONNX graph runs on the sample data.</summary>
[Collection("Torch")]
public sealed class RankCommandTests
{
    [Fact]
    public void Rank_ResNetAgainstAnOnnxGraph_RanksEveryCandidateAndCut_AndRecommendsTheBestLogMe()
    {
        string dir = TestPaths.NewTempDirectory();
        string onnx = Path.Combine(dir, "mobile-dense.onnx");
        File.WriteAllBytes(onnx, TestGraphs.MobileDenseNet().ToByteArray());
        string protocol = RunCommandTests.SmallProtocol(t => TestText.Replace(t, "size: 64", "size: 32"));

        string cache = Path.Combine(dir, "cache");
        (int code, string output, string error) = CliRunner.Run("rank", protocol, "--candidate", "resnet18-imagenet@stage4,head", "--candidate", onnx + "@stage3,head", "--device", "cpu", "--key-file", RunCommandTests.KeyFile(), "--json", "--cache", cache);

        Assert.True(code == 0, error + output);

        // --cache reaches the ranking: the normalized images and the frozen features are now stored there.
        Assert.NotEmpty(Directory.GetFiles(cache, "shard-*"));
        using JsonDocument doc = JsonDocument.Parse(output);
        JsonElement[] rows = [.. doc.RootElement.GetProperty("rows").EnumerateArray()];
        Assert.Equal(4, rows.Length);
        Assert.Equal(["head", "head", "stage3", "stage4"], rows.Select(r => r.GetProperty("cut").GetString()!).Order(StringComparer.Ordinal).ToArray());

        // Rows come best LogME first, ranks agree with the values, and the recommendation is the first row.
        double[] logMe = [.. rows.Select(r => r.GetProperty("logMe").GetDouble())];
        Assert.Equal(logMe.OrderByDescending(v => v), logMe);
        Assert.Equal([1, 2, 3, 4], rows.Select(r => r.GetProperty("logMeRank").GetInt32()).ToArray());
        Assert.Equal(rows[0].GetProperty("backbone").GetString(), doc.RootElement.GetProperty("recommended").GetProperty("backbone").GetString());

        // Features at a cut have the stage's width: 512 pooled for the ResNet-18's head, 16 for the graph's.
        Assert.Equal(512, rows.Single(r => r.GetProperty("cut").GetString() == "head" && r.GetProperty("backbone").GetString() == "resnet18-imagenet").GetProperty("features").GetInt32());
        Assert.Equal(16, rows.Single(r => r.GetProperty("cut").GetString() == "head" && r.GetProperty("backbone").GetString() == onnx).GetProperty("features").GetInt32());
        Assert.NotNull(rows.Single(r => r.GetProperty("backbone").GetString() == onnx && r.GetProperty("cut").GetString() == "stage3").GetProperty("sha256").GetString());
        Assert.Contains("no score", doc.RootElement.GetProperty("caveat").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Candidates_DefaultToTheProtocolsBackboneAtThreeCuts_AndRefuseUnknownNames()
    {
        ExperimentProtocol protocol = ProtocolLoader.Load(RunCommandTests.SmallProtocol());

        Assert.Equal(["stage3", "stage4", "head"], RankCommand.Candidates([], protocol).Select(c => c.Cut).ToArray());
        Assert.All(RankCommand.Candidates([], protocol), c => Assert.Equal("resnet18-imagenet", c.Backbone));
        Assert.Equal(["stage2"], RankCommand.Candidates(["resnet18-scratch@stage2"], protocol).Select(c => c.Cut).ToArray());
        Assert.Throws<ArgumentException>(() => RankCommand.Candidates(["vgg16"], protocol));

        // Without --candidate, the protocol's model.candidates (ONNX paths relative to the protocol file).
        string dir = Path.GetDirectoryName(RunCommandTests.SmallProtocol())!;
        File.WriteAllBytes(Path.Combine(dir, "net.onnx"), [1]);
        string withCandidates = Path.Combine(dir, "candidates.yaml");
        File.WriteAllText(withCandidates, File.ReadAllText(RunCommandTests.SmallProtocol()).Replace("  backbone: resnet18-imagenet\n", "  backbone: resnet18-imagenet\n  candidates: [net.onnx@stage2, resnet18-imagenet]\n", StringComparison.Ordinal));
        RankCandidate[] fromProtocol = [.. RankCommand.Candidates([], ProtocolLoader.Load(withCandidates))];
        Assert.Equal(new RankCandidate(Path.Combine(dir, "net.onnx"), "stage2"), fromProtocol[0]);
        Assert.Equal(["stage2", "stage3", "stage4", "head"], fromProtocol.Select(c => c.Cut).ToArray());
    }

    [Fact]
    public void Rank_AnUnknownCut_IsAUsageError()
    {
        (int code, _, string error) = CliRunner.Run("rank", RunCommandTests.SmallProtocol(), "--candidate", "resnet18-imagenet@stage9", "--device", "cpu");

        Assert.Equal(2, code);
        Assert.Contains("stage9", error, StringComparison.Ordinal);
    }
}
