using Microsoft.Win32.SafeHandles;

namespace MedTransfer.Dicom;

/// <summary>
/// A DICOM file (PS3.10 §7): the file meta information (group 0002), the data set and the transfer syntax
/// it was encoded in, plus the warnings of a tolerant read. The 128-byte preamble is never interpreted,
/// never kept, and written as zeros (a preamble can hide executable bytes).
/// </summary>
public sealed class DicomFile
{
    private static readonly IReadOnlyList<DicomWarning> _noWarnings = [];

    /// <summary>Creates a file from a data set, e.g. to <see cref="Save(string, DicomWriteOptions?)"/> it.</summary>
    /// <param name="dataset">The data set.</param>
    /// <param name="transferSyntax">The syntax the data set's Pixel Data is in (encapsulated fragments need an encapsulated syntax); default Explicit VR Little Endian.</param>
    /// <param name="fileMeta">Extra file meta elements (group 0002) to keep; the writer sets the group length, version, transfer syntax and implementation elements itself.</param>
    public DicomFile(DicomDataset dataset, TransferSyntax? transferSyntax = null, DicomDataset? fileMeta = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        Dataset = dataset;
        TransferSyntax = transferSyntax ?? TransferSyntax.ExplicitVRLittleEndian;
        FileMeta = fileMeta ?? new DicomDataset();
        Warnings = _noWarnings;
    }

    internal DicomFile(DicomDataset fileMeta, DicomDataset dataset, TransferSyntax transferSyntax, IReadOnlyList<DicomWarning> warnings)
    {
        FileMeta = fileMeta;
        Dataset = dataset;
        TransferSyntax = transferSyntax;
        Warnings = warnings.Count == 0 ? _noWarnings : [.. warnings];
    }

    /// <summary>The file meta information (group 0002), empty for a bare data set.</summary>
    public DicomDataset FileMeta { get; }

    /// <summary>The data set.</summary>
    public DicomDataset Dataset { get; }

    /// <summary>The transfer syntax the data set was read in (or is to be written in by default).</summary>
    public TransferSyntax TransferSyntax { get; }

    /// <summary>Deviations the tolerant reader recovered from (codes, offsets and tags only; never values).</summary>
    public IReadOnlyList<DicomWarning> Warnings { get; }

    /// <summary>
    /// Reads a file. With <see cref="PixelDataLoading.Lazy"/> (the default) only the bytes before Pixel Data
    /// are read now; Pixel Data is read from the file on first access (the file must still be there).
    /// </summary>
    /// <exception cref="DicomFormatException">The path is a directory or unreadable (<see cref="DicomErrorCode.Unreadable"/>),
    /// empty or not DICOM (<see cref="DicomErrorCode.NotDicom"/>), or the content is malformed.</exception>
    public static DicomFile Open(string path, DicomReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= DicomReaderOptions.Default;
        if (Directory.Exists(path))
        {
            throw new DicomFormatException(DicomErrorCode.Unreadable, "the path is a directory");
        }

        SafeFileHandle handle;
        long length;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            length = RandomAccess.GetLength(handle);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new DicomFormatException(DicomErrorCode.Unreadable, "the file could not be opened", -1, null, ex);
        }

        string fullPath = Path.GetFullPath(path);
        using DicomByteSource source = DicomByteSource.FromFile(handle, fullPath, length);
        if (options.PixelData == PixelDataLoading.Eager && length <= Array.MaxLength)
        {
            // Everything will be read anyway: one read, and every value (Pixel Data included) a slice of it.
            ReadOnlyMemory<byte> all = source.Take(0, (int)length);
            return DicomReader.Read(DicomByteSource.FromMemory(all), options);
        }

        return DicomReader.Read(source, options);
    }

    /// <summary>Reads a file held in memory. Values are slices of <paramref name="bytes"/> (no copy), so the buffer must not change afterwards.</summary>
    /// <exception cref="DicomFormatException">The content is not DICOM or is malformed.</exception>
    public static DicomFile Read(ReadOnlyMemory<byte> bytes, DicomReaderOptions? options = null) =>
        DicomReader.Read(DicomByteSource.FromMemory(bytes), options ?? DicomReaderOptions.Default);

    /// <summary>Reads a file from a stream, which is read to its end into memory (Pixel Data included, whatever <see cref="DicomReaderOptions.PixelData"/> says, except Skip).</summary>
    /// <exception cref="DicomFormatException">The stream fails (<see cref="DicomErrorCode.Unreadable"/>), is too large, or holds no valid DICOM.</exception>
    public static DicomFile Read(Stream stream, DicomReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        options ??= DicomReaderOptions.Default;
        long cap = Math.Min((long)Array.MaxLength, options.MaxElementLength + options.MaxPixelBytes);
        byte[] bytes;
        try
        {
            if (stream.CanSeek)
            {
                long remaining = stream.Length - stream.Position;
                if (remaining > cap)
                {
                    throw new DicomFormatException(DicomErrorCode.ValueLengthExceedsData, "the stream is larger than the configured limits allow", stream.Position);
                }

                bytes = new byte[remaining];
                stream.ReadExactly(bytes);
            }
            else
            {
                using var copy = new MemoryStream();
                byte[] chunk = new byte[81920];
                int n;
                while ((n = stream.Read(chunk, 0, chunk.Length)) > 0)
                {
                    if (copy.Length + n > cap)
                    {
                        throw new DicomFormatException(DicomErrorCode.ValueLengthExceedsData, "the stream is larger than the configured limits allow", copy.Length);
                    }

                    copy.Write(chunk, 0, n);
                }

                bytes = copy.ToArray();
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ObjectDisposedException)
        {
            throw new DicomFormatException(DicomErrorCode.Unreadable, "the stream could not be read", -1, null, ex);
        }

        return Read(bytes, options);
    }

    /// <summary>
    /// Writes the file to <paramref name="path"/> through a temporary file in the same folder that replaces
    /// the target only once complete (a crash never leaves half a file under the name).
    /// </summary>
    /// <exception cref="InvalidOperationException">The Pixel Data does not fit the transfer syntax (native vs encapsulated), or a value is too long.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void Save(string path, DicomWriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full) ?? ".", $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                Save(stream, options);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>Writes the file (preamble of zeros, DICM, meta, data set) to <paramref name="stream"/>.</summary>
    /// <exception cref="InvalidOperationException">The Pixel Data does not fit the transfer syntax (native vs encapsulated), or a value is too long.</exception>
    public void Save(Stream stream, DicomWriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        DicomWriter.Write(stream, this, options ?? DicomWriteOptions.Default);
    }
}
