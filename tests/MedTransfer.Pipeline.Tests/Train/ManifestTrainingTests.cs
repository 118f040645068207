using System.Globalization;
using MedTransfer.Imaging.Index;
using MedTransfer.Pipeline.Train;
using MedTransfer.Testing;
using MedTransfer.Training.Configuration;

namespace MedTransfer.Pipeline.Tests.Train;

/// <summary>The input checks of <see cref="ManifestTraining"/>: they all run before libtorch is touched.</summary>
public sealed class ManifestTrainingTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-train-inputs");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Manifest Rows(int train, int val, int test, Func<int, string>? label = null)
    {
        var rows = new List<ManifestRow>();
        int n = 0;
        foreach ((Partition split, int count) in new[] { (Partition.Train, train), (Partition.Validation, val), (Partition.Test, test) })
        {
            for (int i = 0; i < count; i++, n++)
            {
                rows.Add(new ManifestRow
                {
                    Id = string.Create(CultureInfo.InvariantCulture, $"2.25.{1000 + n}"),
                    Path = string.Create(CultureInfo.InvariantCulture, $"P{n:D3}/image.dcm"),
                    Patient = string.Create(CultureInfo.InvariantCulture, $"PATIENT-{n:D3}"),
                    Sha256 = new string('0', 64),
                    Label = label?.Invoke(n) ?? (n % 2).ToString(CultureInfo.InvariantCulture),
                    Split = split,
                });
            }
        }

        return new Manifest(rows);
    }

    [Fact]
    public void Select_SplitLabelledManifest_ReturnsThePartitionedRowsInIdOrder()
    {
        Manifest manifest = new(Rows(8, 3, 3).Rows.Reverse().Append(new ManifestRow { Id = "unsplit", Path = "u.dcm", Sha256 = new string('0', 64) }));
        IReadOnlyList<ManifestRow> rows = ManifestTraining.Select(manifest, batchSize: 4);
        Assert.Equal(14, rows.Count);
        Assert.Equal(rows.Select(r => r.Id).Order(StringComparer.Ordinal), rows.Select(r => r.Id));
        Assert.DoesNotContain(rows, r => r.Split == Partition.None);
    }

    [Fact]
    public void Select_NoSplit_SaysToSplitWithIngest()
    {
        Manifest manifest = Rows(8, 2, 2).With(r => r with { Split = Partition.None });
        var ex = Assert.Throws<TrainingInputException>(() => ManifestTraining.Select(manifest, 4));
        Assert.Equal(TrainingInputError.NoTrainRows, ex.Reason);
        Assert.Contains("--split", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Select_FewerTrainRowsThanABatch_SaysToLowerTheBatch()
    {
        var ex = Assert.Throws<TrainingInputException>(() => ManifestTraining.Select(Rows(3, 2, 2), 4));
        Assert.Equal(TrainingInputError.NoTrainRows, ex.Reason);
        Assert.Contains("--batch", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Select_UnlabelledRows_CountsThemWithoutNamingThem()
    {
        var ex = Assert.Throws<TrainingInputException>(() => ManifestTraining.Select(Rows(8, 2, 2, n => n == 5 ? string.Empty : "0"), 4));
        Assert.Equal(TrainingInputError.LabelsMissing, ex.Reason);
        Assert.Contains("1 of 12", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("PATIENT", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("2.25.", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2")]
    [InlineData("yes")]
    [InlineData("-1")]
    [InlineData("1.0")]
    public void Select_NonBinaryLabel_IsRejectedQuotingTheValue(string bad)
    {
        var ex = Assert.Throws<TrainingInputException>(() => ManifestTraining.Select(Rows(8, 2, 2, n => n == 3 ? bad : "1"), 4));
        Assert.Equal(TrainingInputError.LabelNotBinary, ex.Reason);
        Assert.Contains("'" + bad + "'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_MissingManifest_IsATypedError()
    {
        var options = new ManifestTrainingOptions(Path.Combine(_dir, "absent.csv"), Path.Combine(_dir, "run"), [], new FineTuneConfig());
        var ex = Assert.Throws<TrainingInputException>(() => ManifestTraining.Run(options));
        Assert.Equal(TrainingInputError.ManifestMissing, ex.Reason);
    }

    [Fact]
    public void Run_ExistingRunWithoutResume_IsRefusedBeforeAnythingElse()
    {
        string run = Path.Combine(_dir, "run");
        Directory.CreateDirectory(Path.Combine(run, "checkpoints"));
        File.WriteAllText(Path.Combine(run, "checkpoints", "last.ckpt"), "x");
        var options = new ManifestTrainingOptions(Path.Combine(_dir, "absent.csv"), run, [], new FineTuneConfig());
        var ex = Assert.Throws<TrainingInputException>(() => ManifestTraining.Run(options));
        Assert.Equal(TrainingInputError.RunFolderInUse, ex.Reason);
        Assert.Contains("--resume", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_RootIndexBeyondTheRootsGiven_SaysToPassEveryRoot()
    {
        string manifest = Path.Combine(_dir, "m.csv");
        ManifestFile.Save(Rows(8, 2, 2).With(r => r with { Root = 1 }), manifest);
        var options = new ManifestTrainingOptions(manifest, Path.Combine(_dir, "run"), [_dir], new FineTuneConfig { BatchSize = 4 }, Device: "cpu");
        var ex = Assert.Throws<TrainingInputException>(() => ManifestTraining.Run(options));
        Assert.Equal(TrainingInputError.ImagesMissing, ex.Reason);
        Assert.Contains("--root", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RecipeFor_UsesTheConfiguredSize()
    {
        Assert.Equal(48, ManifestTraining.RecipeFor(new FineTuneConfig { ImageSize = 48 }).Resize.Size);
    }
}
