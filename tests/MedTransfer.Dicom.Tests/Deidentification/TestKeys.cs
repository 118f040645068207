using MedTransfer.Dicom.Deidentification;

namespace MedTransfer.Dicom.Tests.Deidentification;

/// <summary>Fixed test keys (never a real secret) and a synchronous progress sink.</summary>
internal static class TestKeys
{
    public static byte[] KeyA { get; } = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];

    public static byte[] KeyB { get; } = [.. Enumerable.Range(101, 32).Select(i => (byte)i)];

    public static DeidentificationOptions Options(byte[]? key = null) => new() { Key = key ?? KeyA };
}

/// <summary><see cref="Progress{T}"/> posts to a synchronization context; tests need the reports in order, now.</summary>
internal sealed class SyncProgress(List<DeidentificationProgress> sink) : IProgress<DeidentificationProgress>
{
    public void Report(DeidentificationProgress value) => sink.Add(value);
}
