using MedTransfer.Training.Checkpoints;
using MedTransfer.Training.Tests.Runtime;
using static TorchSharp.torch;

namespace MedTransfer.Training.Tests.FineTuning;

[Collection(TorchCollection.Name)]
public sealed class CheckpointFileTests
{
    private static (string Path, nn.Module Model) Saved()
    {
        var model = nn.Sequential(("a", nn.Linear(3, 4)), ("bn", nn.BatchNorm1d(4)));
        string path = Path.Combine(TestPaths.NewTempDirectory(), "x.ckpt");
        CheckpointFile.Save(path, 7, "{}", model.state_dict(), new Dictionary<string, Tensor> { ["a.weight#momentum"] = ones(4, 3) }, new Dictionary<string, string> { ["k"] = "v" });
        return (path, model);
    }

    [Fact]
    public void SaveLoad_RoundTripsEveryTensorAndTheStep()
    {
        (string path, nn.Module model) = Saved();
        Checkpoint c = CheckpointFile.Load(path);
        Assert.Equal(7, c.Step);
        Assert.Equal("v", c.Extra["k"]);
        foreach ((string key, Tensor value) in model.state_dict())
        {
            Assert.True(value.eq(c.Model[key]).all().item<bool>(), key);
        }

        Assert.Equal(64, c.Sha256.Length);
        Assert.False(File.Exists(path + $".tmp-{Environment.ProcessId}"));
    }

    [Fact]
    public void TruncatedFile_IsATypedError()
    {
        (string path, _) = Saved();
        byte[] all = File.ReadAllBytes(path);
        File.WriteAllBytes(path, all[..(all.Length - 10)]);
        Assert.Equal(CheckpointError.Truncated, Assert.Throws<CheckpointException>(() => CheckpointFile.Load(path)).Reason);
    }

    [Fact]
    public void FlippedByte_IsAHashMismatch()
    {
        (string path, _) = Saved();
        byte[] all = File.ReadAllBytes(path);
        all[^3] ^= 0x40;
        File.WriteAllBytes(path, all);
        Assert.Equal(CheckpointError.HashMismatch, Assert.Throws<CheckpointException>(() => CheckpointFile.Load(path)).Reason);
    }

    [Fact]
    public void OtherFiles_AreNotCheckpoints()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "x.ckpt");
        File.WriteAllText(path, "hello, this is not a checkpoint at all");
        Assert.Equal(CheckpointError.NotACheckpoint, Assert.Throws<CheckpointException>(() => CheckpointFile.Load(path)).Reason);
        Assert.Equal(CheckpointError.NotFound, Assert.Throws<CheckpointException>(() => CheckpointFile.Load(path + ".none")).Reason);
    }

    [Fact]
    public void LoadInto_IsStrictAboutKeysAndShapes()
    {
        (string path, _) = Saved();
        Checkpoint c = CheckpointFile.Load(path);
        var wider = nn.Sequential(("a", nn.Linear(3, 5)), ("bn", nn.BatchNorm1d(5)));
        Assert.Equal(CheckpointError.ShapeMismatch, Assert.Throws<CheckpointException>(() => CheckpointFile.LoadInto(wider, c.Model)).Reason);
        var more = nn.Sequential(("a", nn.Linear(3, 4)), ("bn", nn.BatchNorm1d(4)), ("b", nn.Linear(4, 2)));
        var ex = Assert.Throws<CheckpointException>(() => CheckpointFile.LoadInto(more, c.Model));
        Assert.Equal(CheckpointError.MissingKeys, ex.Reason);
        Assert.Contains("b.weight", ex.Message, StringComparison.Ordinal);
        var fewer = nn.Sequential(("a", nn.Linear(3, 4)));
        Assert.Equal(CheckpointError.UnexpectedKeys, Assert.Throws<CheckpointException>(() => CheckpointFile.LoadInto(fewer, c.Model)).Reason);
    }
}
