using MedTransfer.Dicom.Tests.IO;
using Xunit;
using Xunit.Sdk;

namespace MedTransfer.Dicom.Tests.Security;

/// <summary>Helpers shared by the security tests: the only acceptable outcome of bad input is a load or a <see cref="DicomFormatException"/>.</summary>
internal static class HostileInput
{
    public static readonly DicomReaderOptions Strict = new() { Validation = ValidationMode.Strict };
    public static readonly DicomReaderOptions Tolerant = new() { Validation = ValidationMode.Tolerant };

    /// <summary>Reads and then touches every value; returns the file or the typed exception; anything else fails the test.</summary>
    public static (DicomFile? File, DicomFormatException? Error) TryRead(byte[] bytes, DicomReaderOptions options)
    {
        try
        {
            DicomFile file = DicomFile.Read(bytes, options);
            Touch(file.Dataset, 0);
            return (file, null);
        }
        catch (DicomFormatException ex)
        {
            if (ex.Message.Contains(DicomReader.UnexpectedErrorDetail, StringComparison.Ordinal))
            {
                throw new XunitException($"the reader hit an unanticipated runtime error: {ex.InnerException}");
            }

            return (null, ex);
        }
    }

    /// <summary>Runs <paramref name="action"/> on a worker and fails when it does not finish within <paramref name="budget"/> (a hang).</summary>
    public static T WithinBudget<T>(Func<T> action, TimeSpan budget)
    {
        Task<T> task = Task.Run(action);
        Assert.True(((IAsyncResult)task).AsyncWaitHandle.WaitOne(budget), $"did not finish within {budget.TotalSeconds} s");
        return task.GetAwaiter().GetResult();
    }

    /// <summary>Sequences nested <paramref name="depth"/> deep (undefined lengths) inside a Part 10 explicit VR file.</summary>
    public static byte[] Nested(int depth)
    {
        var b = new DicomBytesBuilder().Preamble().Meta("1.2.840.10008.1.2.1");
        for (int i = 0; i < depth; i++)
        {
            b.SequenceStart(0x0008, 0x1140).Item();
        }

        b.Element(0x0008, 0x1155, "UI", DicomBytesBuilder.Uid("1.2"));
        for (int i = 0; i < depth; i++)
        {
            b.ItemEnd().SequenceEnd();
        }

        return b.ToArray();
    }

    private static void Touch(DicomDataset ds, int depth)
    {
        foreach (DicomElement e in ds)
        {
            if (e is DicomSequence s)
            {
                foreach (DicomDataset item in s.Items)
                {
                    Touch(item, depth + 1);
                }

                continue;
            }

            if (e.Fragments is { } f)
            {
                _ = f.Fragments.Count;
                continue;
            }

            _ = e.Value.Length;
            try
            {
                _ = ds.GetString(e.Tag);
                _ = ds.GetStrings(e.Tag);
                _ = ds.GetDouble(e.Tag);
            }
            catch (DicomFormatException ex) when (ex.Reason == DicomErrorCode.InvalidValue)
            {
                // A mutated value that is not a number: the typed error is the expected outcome.
            }
        }
    }
}
