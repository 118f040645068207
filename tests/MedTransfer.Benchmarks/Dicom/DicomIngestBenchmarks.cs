using BenchmarkDotNet.Attributes;
using MedTransfer.Bench.Ingest;
using MedTransfer.Dicom;
using MedTransfer.Dicom.Pixels;

namespace MedTransfer.Benchmarks.Dicom;

/// <summary>
/// Header-only parsing and full decoding of one radiograph-like 1024² CR file per transfer syntax, from memory
/// (no disk in the loop). The same-run comparison with pydicom is `medtransfer bench ingest DIR --reference pydicom`.
/// Run: dotnet run -c Release --project tests/MedTransfer.Benchmarks -- --filter '*DicomIngestBenchmarks*'.
/// </summary>
[MemoryDiagnoser]
public class DicomIngestBenchmarks
{
    private readonly Dictionary<string, byte[]> _files = [];

    [Params("explicit-le", "implicit-le", "rle")]
    public string Syntax { get; set; } = "explicit-le";

    [GlobalSetup]
    public void Setup()
    {
        string dir = Path.Combine(Path.GetTempPath(), "medtransfer-bench-" + Guid.NewGuid().ToString("N"));
        IReadOnlyList<string> paths = IngestCorpus.Generate(dir, IngestCorpus.Syntaxes.Count, 1024, seed: 1);
        string[] names = ["explicit-le", "implicit-le", "rle"];
        for (int i = 0; i < paths.Count; i++)
        {
            _files[names[i]] = File.ReadAllBytes(paths[i]);
        }

        Directory.Delete(dir, recursive: true);
    }

    [Benchmark]
    public int ParseHeader() =>
        DicomFile.Read(_files[Syntax], new DicomReaderOptions { StopAtPixelData = true, PixelData = PixelDataLoading.Skip }).Dataset.Count;

    [Benchmark]
    public int DecodeFull() =>
        DicomImage.Create(DicomFile.Read(_files[Syntax])).DecodeFrame(0).Length;
}
