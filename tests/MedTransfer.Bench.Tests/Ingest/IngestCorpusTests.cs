using MedTransfer.Bench.Ingest;
using MedTransfer.Dicom;
using MedTransfer.Testing;

namespace MedTransfer.Bench.Tests.Ingest;

public sealed class IngestCorpusTests
{
    [Fact]
    public void Generate_SameSeed_WritesIdenticalBytesInEverySyntax()
    {
        string a = TestPaths.NewTempDirectory();
        string b = TestPaths.NewTempDirectory();
        try
        {
            IReadOnlyList<string> first = IngestCorpus.Generate(a, 3, 16, seed: 11);
            IReadOnlyList<string> second = IngestCorpus.Generate(b, 3, 16, seed: 11);

            for (int i = 0; i < 3; i++)
            {
                Assert.Equal(File.ReadAllBytes(first[i]), File.ReadAllBytes(second[i]));
            }

            Assert.Equal(
                IngestCorpus.Syntaxes.Select(s => s.Uid),
                first.Select(p => DicomFile.Open(p).TransferSyntax.Uid));
        }
        finally
        {
            Directory.Delete(a, recursive: true);
            Directory.Delete(b, recursive: true);
        }
    }

    [Fact]
    public void Run_HeaderAndFull_ReadEveryFileOfTheCorpus()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            IngestCorpus.Generate(dir, 3, 16, seed: 3);
            IReadOnlyList<string> files = IngestBenchmark.ListFiles(dir);

            IngestMeasurement header = IngestBenchmark.Run(files, IngestMode.Header);
            IngestMeasurement full = IngestBenchmark.Run(files, IngestMode.Full, threads: 2);

            Assert.Equal(3, header.Succeeded);
            Assert.Equal(0, header.DecodedBytes);
            Assert.Equal(3, full.Succeeded);
            Assert.Equal(3 * 16 * 16 * 2, full.DecodedBytes);
            Assert.Empty(full.FailuresByReason);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Preprocess_CorpusWithAPoisonFile_NormalisesCachesAndReadsBackTheRest()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            IngestCorpus.Generate(Path.Combine(dir, "in"), 3, 64, seed: 4);
            File.WriteAllBytes(Path.Combine(dir, "in", "zz.dcm"), new byte[40]);

            PreprocessMeasurement m = PreprocessBenchmark.Run(IngestBenchmark.ListFiles(Path.Combine(dir, "in")), new MedTransfer.Imaging.Normalization.XrayRecipe(), Path.Combine(dir, "cache"));

            Assert.Equal(4, m.Images);
            Assert.Equal(3, m.Succeeded);
            Assert.Equal(1, m.FailuresByReason.Values.Sum());
            Assert.False(m.FailuresByReason.ContainsKey("CacheMiss"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
