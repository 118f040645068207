using System.Diagnostics;
using Xunit;

namespace MedTransfer.Dicom.Tests.Security;

/// <summary>
/// Seeded mutation fuzzing of the reader, seeded with generated files of every writable
/// transfer syntax. Only <see cref="DicomFormatException"/> may escape; every finding becomes a regression test.
/// </summary>
public class MutationFuzzTests
{
    private static readonly uint[] InterestingLengths = [0, 1, 2, 3, 4, 7, 8, 0x7F, 0xFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF];

    [Fact]
    public void Read_SeededMutations_OnlyTypedErrors()
    {
        var clock = Stopwatch.StartNew();
        int loaded = Run(seed: 20261127, iterations: 10_000);
        clock.Stop();
        Assert.True(loaded > 0);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
    }

    [Fact]
    [Trait("Category", "Fuzz")]
    public void Read_ManySeededMutations_OnlyTypedErrors()
    {
        // The lane can be pointed elsewhere: MEDTRANSFER_FUZZ_SEED and MEDTRANSFER_FUZZ_ITERATIONS.
        int seed = int.TryParse(Environment.GetEnvironmentVariable("MEDTRANSFER_FUZZ_SEED"), out int s) ? s : 424242;
        int iterations = int.TryParse(Environment.GetEnvironmentVariable("MEDTRANSFER_FUZZ_ITERATIONS"), out int n) ? n : 200_000;
        int loaded = Run(seed, iterations);
        Assert.InRange(loaded, 1, iterations - 1);
    }

    private static int Run(int seed, int iterations)
    {
        byte[][] seeds = TruncationSweepTests.Names.Select(TruncationSweepTests.Variant).ToArray();
        var random = new Random(seed);
        int loaded = 0;
        for (int i = 0; i < iterations; i++)
        {
            byte[] bytes = Mutate(seeds[random.Next(seeds.Length)], random);
            DicomReaderOptions options = (i & 1) == 0 ? HostileInput.Strict : HostileInput.Tolerant;
            (DicomFile? file, _) = HostileInput.TryRead(bytes, options);
            if (file is not null)
            {
                loaded++;
            }
        }

        return loaded;
    }

    private static byte[] Mutate(byte[] original, Random random)
    {
        var bytes = new List<byte>(original);
        int count = 1 + random.Next(4);
        for (int m = 0; m < count && bytes.Count > 0; m++)
        {
            // Mostly after the preamble, where the structure is.
            int at = bytes.Count > 140 && random.Next(10) > 0 ? 132 + random.Next(bytes.Count - 132) : random.Next(bytes.Count);
            switch (random.Next(7))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 2:
                    {
                        uint v = InterestingLengths[random.Next(InterestingLengths.Length)];
                        for (int k = 0; k < 4 && at + k < bytes.Count; k++)
                        {
                            bytes[at + k] = (byte)(v >> (8 * k));
                        }

                        break;
                    }

                case 3:
                    bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + random.Next(16)));
                    break;
                case 4:
                    {
                        int len = Math.Min(bytes.Count - at, 1 + random.Next(32));
                        bytes.InsertRange(random.Next(bytes.Count), bytes.GetRange(at, len));
                        break;
                    }

                case 5:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                default:
                    {
                        byte[] tag = random.Next(3) switch
                        {
                            0 => [0xFE, 0xFF, 0x00, 0xE0],
                            1 => [0xFE, 0xFF, 0x0D, 0xE0],
                            _ => [0xFE, 0xFF, 0xDD, 0xE0],
                        };
                        bytes.InsertRange(at, tag);
                        break;
                    }
            }
        }

        return [.. bytes];
    }
}
