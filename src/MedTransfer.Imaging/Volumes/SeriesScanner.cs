using System.Globalization;
using MedTransfer.Dicom;

namespace MedTransfer.Imaging.Volumes;

/// <summary>
/// Finds the image series in a folder and splits each into stacks that can become volumes. Only headers are read
/// (Pixel Data is skipped), one file at a time, so memory does not grow with the pixel data. Files that cannot be
/// used are collected as <see cref="SeriesScanFailure"/>s: a bad file never stops the scan.
/// </summary>
/// <remarks>
/// Splitting rules, in order: image size (Rows × Columns, then Pixel Spacing to 1e-4 mm), orientation (Image Orientation (Patient), direction
/// cosines differing by more than 1e-3), echo (Echo Numbers, or an enhanced frame's Effective Echo Time), enhanced
/// Stack ID; then a group whose positions repeat is split by Acquisition Number, else by Temporal Position, else by
/// diffusion weighting (b-value and gradient, each repeated weighting then by occurrence), else by occurrence. A
/// mosaic (Siemens MOSAIC, UIH VFRAME) is a complete volume: each mosaic file is its own stack.
/// </remarks>
public static class SeriesScanner
{
    /// <summary>The largest direction-cosine difference kept within one stack.</summary>
    internal const double OrientationTolerance = 1e-3;

    /// <summary>Two images closer than this (mm) are at the same position.</summary>
    internal const double SamePositionTolerance = 0.01;

    private static readonly DicomReaderOptions s_headerOnly = new() { PixelData = PixelDataLoading.Skip, StopAtPixelData = true };

    /// <summary>Scans <paramref name="folder"/> and its subfolders (hidden files skipped), files in ordinal path order.</summary>
    /// <param name="folder">The folder to scan.</param>
    /// <param name="progress">Receives one report per file.</param>
    /// <param name="cancellationToken">Stops the scan between files.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="OperationCanceledException">The scan was cancelled.</exception>
    public static SeriesScanResult Scan(string folder, IProgress<SeriesScanProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException("The folder to scan does not exist.");
        }

        string root = Path.GetFullPath(folder);
        // Hidden files (on Unix, names starting with '.') are skipped: editor, OS and partial-write droppings.
        var enumeration = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.Hidden | FileAttributes.System };
        List<string> files = [.. Directory.EnumerateFiles(root, "*", enumeration).Order(StringComparer.Ordinal)];
        return ScanFiles(files, root, progress, cancellationToken);
    }

    /// <summary>Scans the given files (e.g. a list from a manifest); failure paths are relative to <paramref name="root"/>.</summary>
    /// <param name="files">The files, in the order to read them.</param>
    /// <param name="root">The folder failure paths are made relative to.</param>
    /// <param name="progress">Receives one report per file.</param>
    /// <param name="cancellationToken">Stops the scan between files.</param>
    /// <exception cref="OperationCanceledException">The scan was cancelled.</exception>
    public static SeriesScanResult ScanFiles(IReadOnlyList<string> files, string root, IProgress<SeriesScanProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(root);
        var failures = new List<SeriesScanFailure>();
        var series = new Dictionary<string, SeriesBuilder>(StringComparer.Ordinal);
        int order = 0;
        for (int i = 0; i < files.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string path = Path.GetFullPath(files[i]);
            try
            {
                (SeriesInfo info, List<SliceHeader> slices) = ReadHeaders(path, ref order);
                // A series has one Series Number: files that share a UID but not a number (e.g. edited copies) are kept apart.
                string key = info.Number is { } number ? info.Uid + "#" + number.ToString(CultureInfo.InvariantCulture) : info.Uid;
                if (!series.TryGetValue(key, out SeriesBuilder? builder))
                {
                    builder = new SeriesBuilder(info);
                    series.Add(key, builder);
                }

                // A second copy of an instance (same SOP Instance UID in the same series) would only repeat its slices.
                if (info.InstanceUid.Length > 0 && !builder.Instances.Add(info.InstanceUid))
                {
                    throw new SkipFileException(SeriesScanFailureReason.DuplicateInstance, "another file of the series has the same SOP Instance UID; the first one is used");
                }

                builder.Files.Add(path);
                builder.Slices.AddRange(slices);
            }
            catch (DicomFormatException ex)
            {
                failures.Add(new SeriesScanFailure(Path.GetRelativePath(root, path), SeriesScanFailureReason.Unreadable, ex.Reason, ex.Message));
            }
            catch (SkipFileException ex)
            {
                failures.Add(new SeriesScanFailure(Path.GetRelativePath(root, path), ex.Reason, null, ex.Message));
            }

            progress?.Report(new SeriesScanProgress(i + 1, failures.Count, files.Count));
        }

        List<DicomSeries> result = [.. series.Values
            .OrderBy(b => b.Info.Number ?? int.MaxValue)
            .ThenBy(b => b.Info.Uid, StringComparer.Ordinal)
            .Select(b => new DicomSeries(b.Info.Uid, b.Info.StudyUid, b.Info.Number, b.Info.Modality, b.Info.Description, [.. b.Files], StackSplitter.Split(b.Slices)))];
        return new SeriesScanResult(result, failures);
    }

    private static (SeriesInfo Info, List<SliceHeader> Slices) ReadHeaders(string path, ref int order)
    {
        DicomFile file = DicomFile.Open(path, s_headerOnly);
        DicomDataset ds = file.Dataset;
        try
        {
            return ReadHeaders(path, ds, ref order);
        }
        catch (DicomFormatException ex)
        {
            throw new SkipFileException(SeriesScanFailureReason.InvalidGeometry, $"a header value cannot be read ({ex.Reason}{(ex.Tag is { } t ? " in " + t : string.Empty)})");
        }
    }

    private static (SeriesInfo Info, List<SliceHeader> Slices) ReadHeaders(string path, DicomDataset ds, ref int order)
    {
        int? rows = ds.GetInt32(Tag.Rows);
        int? columns = ds.GetInt32(Tag.Columns);
        if (rows is not > 0 || columns is not > 0 || !ds.Contains(Tag.BitsAllocated))
        {
            throw new SkipFileException(SeriesScanFailureReason.NotAnImage, "no image pixel module (Rows, Columns, Bits Allocated)");
        }

        string uid = ds.GetString(Tag.SeriesInstanceUID)?.Trim() ?? string.Empty;
        if (uid.Length == 0)
        {
            throw new SkipFileException(SeriesScanFailureReason.MissingSeriesUid, "no Series Instance UID (0020,000E)");
        }

        if ((ds.GetInt32(Tag.SamplesPerPixel) ?? 1) != 1)
        {
            throw new SkipFileException(SeriesScanFailureReason.UnsupportedImage, "colour images (Samples per Pixel > 1) are not assembled into volumes");
        }

        var info = new SeriesInfo(
            uid,
            ds.GetString(Tag.SOPInstanceUID)?.Trim() ?? string.Empty,
            ds.GetString(Tag.StudyInstanceUID)?.Trim() ?? string.Empty,
            ds.GetInt32(Tag.SeriesNumber),
            ds.GetString(Tag.Modality)?.Trim() ?? string.Empty,
            ds.GetString(Tag.SeriesDescription)?.Trim() ?? string.Empty);

        int frames = ds.GetInt32(Tag.NumberOfFrames) ?? 1;
        if (frames < 1)
        {
            throw new SkipFileException(SeriesScanFailureReason.UnsupportedImage, "Number of Frames is below 1");
        }

        IReadOnlyList<DicomDataset> perFrame = ds.GetSequence(Tag.PerFrameFunctionalGroupsSequence);
        IReadOnlyList<DicomDataset> sharedItems = ds.GetSequence(Tag.SharedFunctionalGroupsSequence);
        DicomDataset? shared = sharedItems.Count > 0 ? sharedItems[0] : null;
        bool enhanced = perFrame.Count > 0 || shared is not null;
        if (enhanced && perFrame.Count != frames && frames > 1)
        {
            throw new SkipFileException(SeriesScanFailureReason.InvalidGeometry, "the Per-Frame Functional Groups Sequence does not have one item per frame");
        }

        var slices = new List<SliceHeader>(frames);
        if (UihMosaic.IsVFrame(ds))
        {
            if (frames != 1)
            {
                throw new SkipFileException(SeriesScanFailureReason.UnsupportedImage, "a multi-frame UIH VFRAME image is not supported");
            }

            slices.Add(UihMosaic.Read(path, ds, rows.Value, columns.Value, order++));
            return (info, slices);
        }

        bool mosaic = ds.GetStrings(Tag.ImageType).Any(v => string.Equals(v, "MOSAIC", StringComparison.OrdinalIgnoreCase));
        if (mosaic)
        {
            if (frames != 1)
            {
                throw new SkipFileException(SeriesScanFailureReason.UnsupportedImage, "a multi-frame mosaic is not supported");
            }

            slices.Add(SiemensMosaic.Read(path, ds, rows.Value, columns.Value, order++));
            return (info, slices);
        }

        Dictionary<string, string[]>? csa = SiemensCsaHeader.ImageHeader(ds);
        for (int f = 0; f < frames; f++)
        {
            DicomDataset? item = f < perFrame.Count ? perFrame[f] : null;
            DicomDataset? position = Functional(item, shared, Tag.PlanePositionSequence);
            DicomDataset? orientation = Functional(item, shared, Tag.PlaneOrientationSequence);
            DicomDataset? measures = Functional(item, shared, Tag.PixelMeasuresSequence);
            DicomDataset? transform = Functional(item, shared, Tag.PixelValueTransformationSequence);
            DicomDataset? content = Functional(item, shared, Tag.FrameContentSequence);
            DicomDataset? echo = Functional(item, shared, Tag.MREchoSequence);
            DicomDataset? diffusion = Functional(item, shared, Tag.MRDiffusionSequence);

            double[] ipp = Vector(position ?? ds, Tag.ImagePositionPatient, 3);
            double[] iop = Vector(orientation ?? ds, Tag.ImageOrientationPatient, 6);
            double[] spacing = Vector(measures ?? ds, Tag.PixelSpacing, 2);
            if (ipp.Length == 0 && position is null)
            {
                ipp = Vector(ds, Tag.ImagePositionPatient, 3);
            }

            if (iop.Length == 0 && orientation is null)
            {
                iop = Vector(ds, Tag.ImageOrientationPatient, 6);
            }

            if (spacing.Length == 0)
            {
                spacing = Vector(ds, Tag.PixelSpacing, 2);
            }

            if (ipp.Length == 0 || iop.Length == 0 || spacing.Length == 0)
            {
                throw new SkipFileException(SeriesScanFailureReason.MissingGeometry, "Image Position (Patient), Image Orientation (Patient) or Pixel Spacing is missing");
            }

            ValidateGeometry(ipp, iop, spacing);
            double? between = Positive((measures ?? ds).GetDouble(Tag.SpacingBetweenSlices)) ?? Positive(ds.GetDouble(Tag.SpacingBetweenSlices));
            double? thickness = Positive((measures ?? ds).GetDouble(Tag.SliceThickness)) ?? Positive(ds.GetDouble(Tag.SliceThickness));
            bool derived = false;
            if (frames > 1 && !enhanced)
            {
                // Classic multi-frame: one position for the whole file; frames step along the normal by the slice spacing.
                if (between is not { } step)
                {
                    throw new SkipFileException(SeriesScanFailureReason.UnsupportedImage, "a multi-frame image without per-frame positions needs Spacing Between Slices (0018,0088)");
                }

                ipp = Geometry.Add(ipp, Geometry.Scale(Geometry.Cross(iop.AsSpan(0, 3), iop.AsSpan(3, 3)), step * f));
                derived = true;
            }

            slices.Add(new SliceHeader
            {
                Path = path,
                Frame = f,
                Position = ipp,
                Orientation = iop,
                RowSpacing = spacing[0],
                ColumnSpacing = spacing[1],
                Rows = rows.Value,
                Columns = columns.Value,
                EchoNumber = echo is null ? ds.GetInt32(Tag.EchoNumbers) : null,
                EchoTime = echo?.GetDouble(Tag.EffectiveEchoTime),
                AcquisitionNumber = ds.GetInt32(Tag.AcquisitionNumber),
                InstanceNumber = ds.GetInt32(Tag.InstanceNumber),
                TemporalPosition = content?.GetInt32(Tag.TemporalPositionIndex) ?? ds.GetInt32(Tag.TemporalPositionIdentifier),
                StackId = content?.GetString(Tag.StackID)?.Trim(),
                SpacingBetweenSlices = between,
                SliceThickness = thickness,
                Slope = transform?.GetDouble(Tag.RescaleSlope),
                Intercept = transform?.GetDouble(Tag.RescaleIntercept),
                Diffusion = DiffusionHeader.Read(ds, diffusion, csa, iop),
                PhilipsScaleSlope = PhilipsScaleSlope.Read(ds, item),
                PositionDerived = derived,
                Order = order++,
            });
        }

        return (info, slices);
    }

    /// <summary>The header of a whole mosaic file (Siemens or UIH): geometry, grouping attributes, tile times, diffusion.</summary>
    internal static SliceHeader MosaicHeader(string path, DicomDataset ds, double[] position, double[] iop, double[] spacing, (int Rows, int Columns) size, int images,
        double[]? tileTimes, DiffusionWeighting? diffusion, int order) => new()
    {
        Path = path,
        Position = position,
        Orientation = iop,
        RowSpacing = spacing[0],
        ColumnSpacing = spacing[1],
        Rows = size.Rows,
        Columns = size.Columns,
        EchoNumber = ds.GetInt32(Tag.EchoNumbers),
        AcquisitionNumber = ds.GetInt32(Tag.AcquisitionNumber),
        InstanceNumber = ds.GetInt32(Tag.InstanceNumber),
        TemporalPosition = ds.GetInt32(Tag.TemporalPositionIdentifier),
        SpacingBetweenSlices = Positive(ds.GetDouble(Tag.SpacingBetweenSlices)),
        SliceThickness = Positive(ds.GetDouble(Tag.SliceThickness)),
        MosaicImages = images,
        TileTimes = PlausibleTimes(ds, tileTimes),
        TileTimesImplausible = tileTimes is not null && PlausibleTimes(ds, tileTimes) is null,
        Diffusion = diffusion,
        Order = order,
    };

    /// <summary>
    /// <paramref name="times"/> unless they span a repetition time or more (the slices of one volume are acquired
    /// within one TR), else null. Some multiband sequences write times that wrap around midnight or run over the
    /// TR; dcm2niix repairs those with knowledge of the sequence, which this reader does not have, so it reports none.
    /// Without a Repetition Time there is nothing to check against and the times are kept.
    /// </summary>
    internal static double[]? PlausibleTimes(DicomDataset ds, double[]? times)
    {
        if (times is null || Positive(ds.GetDouble(Tag.RepetitionTime)) is not { } trMs)
        {
            return times;
        }

        return times.Max() - times.Min() < trMs / 1000 ? times : null;
    }

    private static DicomDataset? Functional(DicomDataset? perFrame, DicomDataset? shared, DicomTag sequence)
    {
        if (perFrame?.GetSequence(sequence) is { Count: > 0 } own)
        {
            return own[0];
        }

        return shared?.GetSequence(sequence) is { Count: > 0 } common ? common[0] : null;
    }

    internal static double[] Vector(DicomDataset ds, DicomTag tag, int count)
    {
        double[] values = ds.GetDoubles(tag);
        return values.Length >= count ? values[..count] : [];
    }

    internal static double? Positive(double? value) => value is { } v && double.IsFinite(v) && v > 0 ? v : null;

    internal static void ValidateGeometry(double[] ipp, double[] iop, double[] spacing)
    {
        if (ipp.Concat(iop).Concat(spacing).Any(v => !double.IsFinite(v)) || spacing[0] <= 0 || spacing[1] <= 0)
        {
            throw new SkipFileException(SeriesScanFailureReason.InvalidGeometry, "a position, direction cosine or pixel spacing is not a finite (positive) number");
        }

        double row = Geometry.Norm(iop.AsSpan(0, 3));
        double column = Geometry.Norm(iop.AsSpan(3, 3));
        double dot = Geometry.Dot(iop.AsSpan(0, 3), iop.AsSpan(3, 3));
        if (Math.Abs(row - 1) > 0.01 || Math.Abs(column - 1) > 0.01 || Math.Abs(dot) > 0.01)
        {
            throw new SkipFileException(SeriesScanFailureReason.InvalidGeometry, "Image Orientation (Patient) is not two orthogonal unit vectors");
        }
    }

    private sealed record SeriesInfo(string Uid, string InstanceUid, string StudyUid, int? Number, string Modality, string Description);

    private sealed class SeriesBuilder(SeriesInfo info)
    {
        public SeriesInfo Info { get; } = info;

        public List<string> Files { get; } = [];

        public List<SliceHeader> Slices { get; } = [];

        public HashSet<string> Instances { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>A file left out of every series, with the reason (caught by the scan loop, never escapes it).</summary>
    internal sealed class SkipFileException(SeriesScanFailureReason reason, string message) : Exception(message)
    {
        public SeriesScanFailureReason Reason { get; } = reason;
    }
}
