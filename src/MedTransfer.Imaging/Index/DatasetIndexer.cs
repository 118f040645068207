using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MedTransfer.Dicom;
using MedTransfer.Imaging.Files;

namespace MedTransfer.Imaging.Index;

/// <summary>
/// Builds the dataset index of one or more folders (the first step of the pipeline: ingest, then index). Files are recognised by
/// their leading bytes (DICOM, NIfTI .nii/.nii.gz, PNG, JPEG, TIFF), only headers are parsed (DICOM up to Pixel
/// Data, which is skipped), and each file is hashed by streaming it through SHA-256 with one pooled buffer per
/// worker, so memory stays bounded by the degree of parallelism and the row count, not by image sizes.
/// A file that cannot be indexed becomes an <see cref="IndexFailure"/> and the scan goes on: one bad file must never
/// stop a batch. Symbolic links are not followed, so every path stays inside its root and a link loop is never walked;
/// only regular files are opened (a named pipe would block the scan forever: it is a failure with its reason), and a
/// name that is not valid UTF-8 is read through its raw bytes and shown with <c>\xNN</c> escapes.
/// </summary>
public sealed class DatasetIndexer
{
    private const int HashBufferSize = 1 << 20;

    private static readonly DicomReaderOptions _headerOnly = new()
    {
        StopAtPixelData = true,
        PixelData = PixelDataLoading.Skip,
        Validation = ValidationMode.Tolerant,
    };

    private readonly DatasetIndexOptions _options;

    /// <summary>Creates an indexer.</summary>
    public DatasetIndexer(DatasetIndexOptions? options = null)
    {
        _options = options ?? new DatasetIndexOptions();
    }

    /// <summary>Scans <paramref name="roots"/> recursively and returns one manifest row per indexable file.</summary>
    /// <param name="roots">Folders to scan; a file found under two roots is indexed once, under the first.</param>
    /// <param name="progress">Receives counts as files complete (from worker threads).</param>
    /// <param name="cancellationToken">Stops the scan.</param>
    /// <exception cref="DirectoryNotFoundException">A root does not exist.</exception>
    /// <exception cref="ManifestException">The label table is malformed or lacks a required column (checked before the scan).</exception>
    /// <exception cref="ArgumentException">The site rule needs a label table column but no label table was given.</exception>
    public async Task<DatasetIndex> IndexAsync(IReadOnlyList<string> roots, IProgress<IndexProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(roots);
        if (roots.Count == 0)
        {
            throw new ArgumentException("At least one folder is required.", nameof(roots));
        }

        if (_options.Site.Source == SiteSource.CsvColumn && _options.Labels is null)
        {
            throw new ArgumentException("A column site rule needs a label table.", nameof(roots));
        }

        string[] fullRoots = [.. roots.Select(r => Path.TrimEndingDirectorySeparator(Path.GetFullPath(r)))];
        foreach (string root in fullRoots)
        {
            if (!Directory.Exists(root))
            {
                throw new DirectoryNotFoundException("A folder to index does not exist.");
            }
        }

        LabelTable? labels = _options.Labels is { } source
            ? LabelTable.Load(source, _options.Site.Source == SiteSource.CsvColumn ? _options.Site.Name : null)
            : null;

        List<(int Root, InputEntry Entry)> files = Enumerate(fullRoots, cancellationToken);
        var results = new Scanned[files.Count];
        int completed = 0;
        int failed = 0;
        progress?.Report(new IndexProgress(0, files.Count, 0));
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.MaxDegreeOfParallelism, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, files.Count), parallel, async (i, token) =>
        {
            (int root, InputEntry entry) = files[i];
            Scanned result = entry.Kind switch
            {
                InputEntryKind.RegularFile => await ScanAsync(root, entry, token).ConfigureAwait(false),
                InputEntryKind.NotRegular => Failed(root, entry.Relative, IndexFailureReason.NotARegularFile, entry.Detail),
                _ => Failed(root, entry.Relative, IndexFailureReason.IoError, entry.Detail),
            };
            results[i] = result;
            int failedNow = result.Failure is null ? Volatile.Read(ref failed) : Interlocked.Increment(ref failed);
            progress?.Report(new IndexProgress(Interlocked.Increment(ref completed), files.Count, failedNow));
        }).ConfigureAwait(false);

        return Assemble(results, labels, fullRoots);
    }

    private static List<(int Root, InputEntry Entry)> Enumerate(string[] roots, CancellationToken cancellation)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var files = new List<(int, InputEntry)>();
        for (int r = 0; r < roots.Length; r++)
        {
            foreach (InputEntry entry in InputFolder.List(roots[r], skipHidden: false, cancellation).Entries)
            {
                // A file under two of the roots (one inside the other) is indexed once, under the first.
                if (seen.Add(entry.NativePath.Length > 0 ? Convert.ToHexString(entry.NativePath) : entry.Path!))
                {
                    files.Add((r, entry));
                }
            }
        }

        return files;
    }

    private async Task<Scanned> ScanAsync(int root, InputEntry entry, CancellationToken cancellationToken)
    {
        string relative = entry.Relative;
        try
        {
            FileStream stream = entry.OpenRead();
            await using (stream.ConfigureAwait(false))
            {
                long length = stream.Length;
                if (length == 0)
                {
                    return Failed(root, relative, IndexFailureReason.Empty, "the file has no bytes");
                }

                byte[] head = new byte[(int)Math.Min(length, ImageHeaders.ProbeLength)];
                await stream.ReadExactlyAsync(head, cancellationToken).ConfigureAwait(false);
                ImageHeaders.Kind kind = ImageHeaders.Recognise(head);
                Scanned scanned = kind switch
                {
                    ImageHeaders.Kind.Dicom => ScanDicom(root, entry, stream),
                    ImageHeaders.Kind.Png => Raster(root, relative, SampleFormat.Png, ImageHeaders.Png(head)),
                    ImageHeaders.Kind.Jpeg => Raster(root, relative, SampleFormat.Jpeg, ImageHeaders.Jpeg(stream)),
                    ImageHeaders.Kind.Tiff => Raster(root, relative, SampleFormat.Tiff, ImageHeaders.Tiff(stream)),
                    ImageHeaders.Kind.Nifti => Raster(root, relative, SampleFormat.Nifti, ImageHeaders.Nifti(head)),
                    ImageHeaders.Kind.Gzip => ScanGzip(root, relative, stream),
                    _ => Failed(root, relative, IndexFailureReason.UnknownFormat, "the leading bytes match no supported format (DICOM, NIfTI, PNG, JPEG, TIFF)"),
                };
                if (scanned.Failure is not null)
                {
                    return scanned;
                }

                stream.Position = 0;
                string sha = await HashAsync(stream, cancellationToken).ConfigureAwait(false);
                return scanned with { Row = scanned.Row! with { Sha256 = sha, SizeBytes = length } };
            }
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Failed(root, relative, IndexFailureReason.IoError, ex.GetType().Name);
        }
#pragma warning disable CA1031 // One bad file must never stop a batch: anything else is recorded by type name.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return Failed(root, relative, IndexFailureReason.Unexpected, ex.GetType().Name);
        }
    }

    private static async Task<string> HashAsync(Stream stream, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(HashBufferSize);
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            int n;
            while ((n = await stream.ReadAsync(buffer.AsMemory(0, HashBufferSize), cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, n);
            }

            return Convert.ToHexStringLower(hash.GetHashAndReset());
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static Scanned ScanGzip(int root, string relative, Stream stream)
    {
        byte[] header = ImageHeaders.Gunzip(stream, 540);
        return ImageHeaders.IsNifti(header)
            ? Raster(root, relative, SampleFormat.Nifti, ImageHeaders.Nifti(header))
            : header.Length == 0
                ? Failed(root, relative, IndexFailureReason.UnreadableHeader, "gzip stream is corrupt")
                : Failed(root, relative, IndexFailureReason.UnknownFormat, "a gzip file that does not hold a NIfTI header");
    }

    private static Scanned Raster(int root, string relative, SampleFormat format, ImageHeaders.Size? size)
    {
        if (size is not { } s)
        {
            return Failed(root, relative, IndexFailureReason.UnreadableHeader, $"the {ManifestFields.FormatName(format)} header is missing, truncated or malformed");
        }

        return new Scanned(
            new ManifestRow { Id = PathId(root, relative), Root = root, Path = relative, Format = format, Width = s.Width, Height = s.Height, Depth = s.Depth, Sha256 = string.Empty },
            null,
            string.Empty,
            string.Empty);
    }

    private Scanned ScanDicom(int root, InputEntry entry, FileStream stream)
    {
        string relative = entry.Relative;
        DicomFile file;
        try
        {
            // A name that is not UTF-8 cannot be opened by path: read the open stream instead (the whole file, once).
            if (entry.Path is null)
            {
                stream.Position = 0;
            }

            file = entry.Path is null ? DicomFile.Read(stream, _headerOnly) : DicomFile.Open(entry.Path, _headerOnly);
        }
        catch (DicomFormatException ex)
        {
            string where = ex.Offset >= 0 ? FormattableString.Invariant($" at offset {ex.Offset}") : string.Empty;
            return Failed(root, relative, ex.Reason == DicomErrorCode.Unreadable ? IndexFailureReason.IoError : IndexFailureReason.UnreadableHeader, $"DICOM {ex.Reason}{where}");
        }

        DicomDataset ds = file.Dataset;
        int? rows = Int(ds, Tag.Rows);
        int? columns = Int(ds, Tag.Columns);
        if (rows is not > 0 || columns is not > 0)
        {
            // A header cut short reads (tolerantly) as a data set without its image module: say so, not "not an image".
            if (file.Warnings.FirstOrDefault(w => w.Code is DicomErrorCode.Truncated or DicomErrorCode.ValueLengthExceedsData) is { } cut)
            {
                string at = cut.Offset >= 0 ? FormattableString.Invariant($" at offset {cut.Offset}") : string.Empty;
                return Failed(root, relative, IndexFailureReason.UnreadableHeader, $"DICOM {cut.Code}{at}");
            }

            return Failed(root, relative, IndexFailureReason.NonImage, "a DICOM object without Rows/Columns (not an image)");
        }

        string sop = Text(ds, Tag.SOPInstanceUID);
        string view = Text(ds, Tag.ViewPosition);
        if (view.Length == 0)
        {
            view = Text(ds, Tag.SequenceName);
        }

        if (view.Length == 0)
        {
            view = Text(ds, Tag.ScanningSequence);
        }

        QualityFlags flags = file.Warnings.Count > 0 ? QualityFlags.ReaderWarnings : QualityFlags.None;
        string study = Text(ds, Tag.StudyInstanceUID);
        if (study.Length == 0)
        {
            flags |= QualityFlags.MissingStudy;
        }

        var row = new ManifestRow
        {
            Id = sop.Length > 0 ? sop : PathId(root, relative),
            Root = root,
            Path = relative,
            Format = SampleFormat.Dicom,
            Patient = Text(ds, Tag.PatientID),
            Study = study,
            Series = Text(ds, Tag.SeriesInstanceUID),
            Modality = Text(ds, Tag.Modality),
            Manufacturer = Text(ds, Tag.Manufacturer),
            Model = Text(ds, Tag.ManufacturerModelName),
            Sex = Text(ds, Tag.PatientSex),
            AgeBand = _options.AgeBands.OfDicomAge(Text(ds, Tag.PatientAge)),
            View = view,
            Width = columns.Value,
            Height = rows.Value,
            Depth = Math.Max(1, Int(ds, Tag.NumberOfFrames) ?? 1),
            Flags = flags,
            Sha256 = string.Empty,
        };
        string site = _options.Site.Source == SiteSource.DicomTag ? Text(ds, _options.Site.Tag) : string.Empty;
        return new Scanned(row, null, sop, site);
    }

    private static string Text(DicomDataset ds, DicomTag tag)
    {
        try
        {
            return ds.GetString(tag)?.Trim() ?? string.Empty;
        }
        catch (DicomFormatException)
        {
            return string.Empty;
        }
    }

    private static int? Int(DicomDataset ds, DicomTag tag)
    {
        try
        {
            return ds.GetInt32(tag);
        }
        catch (DicomFormatException)
        {
            return null;
        }
    }

    /// <summary>"f-" + 16 hex digits of SHA-256 over "root/path": stable for the same folder layout and root order.</summary>
    internal static string PathId(int root, string relative)
    {
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(root.ToString(CultureInfo.InvariantCulture) + "/" + relative));
        return "f-" + Convert.ToHexStringLower(hash.AsSpan(0, 8));
    }

    private static Scanned Failed(int root, string relative, IndexFailureReason reason, string detail) =>
        new(null, new IndexFailure(root, relative, reason, detail), string.Empty, string.Empty);

    private DatasetIndex Assemble(Scanned[] results, LabelTable? labels, string[] roots)
    {
        var failures = results.Where(r => r.Failure is not null).Select(r => r.Failure!).ToList();
        var scanned = results.Where(r => r.Row is not null).ToList();
        var rows = new ManifestRow[scanned.Count];

        // Duplicate SOP Instance UIDs: the first by (root, path) keeps the bare UID; all are flagged.
        var sopCount = new Dictionary<string, int>(StringComparer.Ordinal);
        var sopTotal = scanned.Where(s => s.Sop.Length > 0).GroupBy(s => s.Sop, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var shaTotal = scanned.GroupBy(s => s.Row!.Sha256, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        for (int i = 0; i < scanned.Count; i++)
        {
            Scanned s = scanned[i];
            ManifestRow row = s.Row! with { Site = SiteOf(s) };
            if (s.Sop.Length > 0 && sopTotal[s.Sop] > 1)
            {
                int n = sopCount.TryGetValue(s.Sop, out int seen) ? seen + 1 : 1;
                sopCount[s.Sop] = n;
                row = row with
                {
                    Id = n == 1 ? s.Sop : s.Sop + "#" + n.ToString(CultureInfo.InvariantCulture),
                    Flags = row.Flags | QualityFlags.DuplicateSop,
                };
            }

            if (shaTotal[row.Sha256] > 1)
            {
                row = row with { Flags = row.Flags | QualityFlags.DuplicateContent };
            }

            if (row.Patient.Length == 0 && _options.PatientFolderLevel is { } level)
            {
                row = row with { Patient = FolderAt(row.Path, level) };
            }

            rows[i] = row;
        }

        LabelJoinReport? report = null;
        if (labels is not null)
        {
            int labeled = 0;
            for (int i = 0; i < rows.Length; i++)
            {
                ManifestRow row = rows[i];
                string key = labels.Source.Key switch
                {
                    LabelKey.Path => row.Path,
                    LabelKey.Patient => row.Patient,
                    LabelKey.SopInstanceUid => scanned[i].Sop,
                    _ => row.Id,
                };
                IReadOnlyList<LabelTable.Entry> matches = labels.Match(key);
                if (matches.Count == 0)
                {
                    rows[i] = row with { Flags = row.Flags | QualityFlags.Unlabeled };
                    continue;
                }

                // The table refuses a key with two different labels when it is read, so every match agrees.
                LabelTable.Entry first = matches[0];
                QualityFlags flags = row.Flags;

                string site = row.Site;
                if (_options.Site.Source == SiteSource.CsvColumn || (site.Length == 0 && _options.Site.Source == SiteSource.DicomTag && row.Format != SampleFormat.Dicom))
                {
                    site = first.Site ?? string.Empty;
                }

                if (first.Label.Length == 0)
                {
                    flags |= QualityFlags.Unlabeled;
                }

                string patient = row.Patient.Length == 0 && first.Patient is { } p ? p : row.Patient;
                rows[i] = row with { Label = first.Label, Site = site, Patient = patient, Flags = flags };
                if (first.Label.Length > 0)
                {
                    labeled++;
                }
            }

            report = new LabelJoinReport(labels.Rows, labels.MatchedRows, labels.UnmatchedLines(), labeled, rows.Length - labeled);
        }

        for (int i = 0; i < rows.Length; i++)
        {
            ManifestRow row = rows[i];
            QualityFlags flags = row.Flags;
            if (row.Patient.Length == 0)
            {
                flags |= QualityFlags.MissingPatientId;
            }

            if (_options.Site.Source != SiteSource.None && row.Site.Length == 0)
            {
                flags |= QualityFlags.MissingSite;
            }

            rows[i] = row with { Flags = flags };
        }

        return new DatasetIndex { Manifest = new Manifest(rows), Failures = failures, Labels = report, Roots = roots };
    }

    private string SiteOf(Scanned s) => _options.Site.Source switch
    {
        SiteSource.DicomTag => s.Site,
        SiteSource.FolderLevel => FolderAt(s.Row!.Path, _options.Site.Level),
        _ => string.Empty,
    };

    /// <summary>The folder at 1-based <paramref name="level"/> of a relative path (the file name is not a folder), or empty.</summary>
    internal static string FolderAt(string relative, int level)
    {
        string[] parts = relative.Split('/');
        return level >= 1 && level < parts.Length ? parts[level - 1] : string.Empty;
    }

    private sealed record Scanned(ManifestRow? Row, IndexFailure? Failure, string Sop, string Site);
}
