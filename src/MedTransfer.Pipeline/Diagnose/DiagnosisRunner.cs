using System.Diagnostics;
using MedTransfer.Dicom;
using MedTransfer.Imaging.Images;
using MedTransfer.Imaging.Normalization;
using MedTransfer.Pipeline.DicomWeb;
using MedTransfer.Pipeline.Ingest;
using MedTransfer.Pipeline.Sharding;

namespace MedTransfer.Pipeline.Diagnose;

/// <summary>Options of a batch-diagnosis run.</summary>
public sealed record DiagnosisOptions
{
    /// <summary>The output folder (journal, predictions.csv, quarantine.jsonl, summary.json).</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>The shard of the studies (by study key) this run does.</summary>
    public ShardSpec Shard { get; init; } = ShardSpec.All;

    /// <summary>Threads for decoding and normalising, and for ONNX Runtime.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Studies loaded, normalised and scored together (one ONNX Runtime call per batch).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Keep Study Instance UIDs and relative paths in the outputs (they are, or may hold, identifiers);
    /// otherwise paths appear as keyed hashes.</summary>
    public bool IncludeIdentifiers { get; init; }

    /// <summary>fsync the journal after every study, so that a crash or power loss costs at most the study in flight. Only tests and benchmarks turn it off.</summary>
    public bool Fsync { get; init; } = true;

    /// <summary>Before resuming, set aside journal lines damaged in the middle (and repeated studies) and redo their studies; the original journal is kept beside it.</summary>
    public bool Repair { get; init; }

    /// <summary>When set, JPEG-LS and JPEG 2000 files on disk are first decoded in this worker process, so a crash inside a
    /// native codec costs one image, not the batch; null decodes everything in this process.</summary>
    public WorkerCommand? IsolationWorker { get; init; }

    /// <summary>When set, each scored study's result is stored to this DICOMweb server as a Basic Text SR before it is journaled.</summary>
    public DicomWebClient? WriteBack { get; init; }

    /// <summary>The clock for SR content dates.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>Fault injection for tests: called after each journal append with the number appended in this run.</summary>
    internal Action<int>? AfterAppend { get; init; }
}

/// <summary>How far a run is.</summary>
/// <param name="Done">Studies finished in this run.</param>
/// <param name="Total">Studies this run has to do (after the shard filter and the journal).</param>
public readonly record struct DiagnosisProgress(int Done, int Total);

/// <summary>What a run did.</summary>
/// <param name="Totals">Counts over all of the output folder's results (resumed ones included).</param>
/// <param name="Resumed">Studies already in the journal when the run started (skipped).</param>
/// <param name="Processed">Studies done by this run.</param>
/// <param name="OutsideShard">Studies left to other shards.</param>
/// <param name="Stored">Results stored back to the PACS by this run.</param>
/// <param name="Seconds">Wall time of this run's processing (listing the input excluded).</param>
/// <param name="RepairedBytes">Bytes of a torn journal line cut off on resume.</param>
public sealed record DiagnosisRunResult(DiagnosisTotals Totals, int Resumed, int Processed, int OutsideShard, int Stored, double Seconds, int RepairedBytes)
{
    /// <summary>Studies per second in this run.</summary>
    public double StudiesPerSecond => Seconds > 0 ? Processed / Seconds : 0;

    /// <summary>Journal lines dropped by <see cref="DiagnosisOptions.Repair"/> (their studies were done again).</summary>
    public int RepairedLines { get; init; }

    /// <summary>The pid in a lock file left by a run that was killed (its lock had died with it and was taken over), or null.</summary>
    public int? StaleLockPid { get; init; }

    /// <summary>Symbolic links in a folder input, which were not followed.</summary>
    public int SkippedLinks { get; init; }
}

/// <summary>
/// `medtransfer diagnose`: streams studies from a folder or a DICOMweb server through the model and writes one result
/// per study. Never stops on a bad file: an image that cannot be read or decoded becomes a failure with a reason
/// code, a study with no readable image is quarantined (no score, never "no finding"). A study with several images
/// gets the maximum of their scores. Resumable after a crash (see <see cref="DiagnosisJournal"/>); one writer per
/// output folder at a time (see <see cref="DiagnosisLock"/>).
/// </summary>
public static class DiagnosisRunner
{
    /// <summary>Runs (or resumes) batch diagnosis.</summary>
    /// <exception cref="DiagnosisException">The output folder belongs to another run or input, is in use by another process, has a damaged journal, or cannot be written.</exception>
    /// <exception cref="DicomWebException">The DICOMweb server failed while listing, retrieving or storing: the run stops and can be resumed.</exception>
    public static DiagnosisRunResult Run(DiagnosisModel model, IStudySource source, StudyPseudonyms pseudonyms, DiagnosisOptions options, IProgress<DiagnosisProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(pseudonyms);
        ArgumentNullException.ThrowIfNull(options);
        string shard = options.Shard.Count == 1 ? "all" : options.Shard.ToString();
        var header = new JournalHeader(model.Descriptor.Sha256, pseudonyms.Fingerprint, shard, options.IncludeIdentifiers) { Input = source.Identity(pseudonyms) };
        using DiagnosisLock folderLock = DiagnosisLock.Acquire(options.OutputDirectory);
        using DiagnosisJournal journal = DiagnosisJournal.Open(options.OutputDirectory, header, options.Fsync, options.Repair);
        var done = new HashSet<string>(journal.Records.Select(r => r.Key), StringComparer.Ordinal);
        int resumed = done.Count;
        IReadOnlyList<StudyHandle> all = source.Studies(pseudonyms, options.IncludeIdentifiers, cancellation);
        List<StudyHandle> owned = [.. all.Where(s => options.Shard.Owns(s.Key))];
        List<StudyHandle> todo = [.. owned.Where(s => !done.Contains(s.Key))];
        if (todo.Count > 0)
        {
            // From here until the outputs are rewritten the folder is not a finished run (merge checks summary.json).
            File.Delete(Path.Combine(options.OutputDirectory, DiagnosisOutputs.SummaryFile));
        }

        progress?.Report(new DiagnosisProgress(0, todo.Count));
        var clock = Stopwatch.StartNew();
        int processed = 0;
        int stored = 0;
        using var isolation = options.IsolationWorker is null ? null : new IsolatedDecoder(options.IsolationWorker, TimeSpan.FromSeconds(60));
        var isolationLock = new object();
        int batchSize = Math.Max(1, options.BatchSize);
        for (int start = 0; start < todo.Count; start += batchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            List<StudyHandle> batch = todo.GetRange(start, Math.Min(batchSize, todo.Count - start));
            var prepared = new PreparedStudy[batch.Count];
            try
            {
                Parallel.For(0, batch.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Threads), CancellationToken = cancellation }, i =>
                    prepared[i] = Prepare(batch[i], model.Descriptor.Recipe, isolation, isolationLock, cancellation));
            }
            catch (AggregateException ex) when (ex.InnerExceptions.Count > 0)
            {
                // A failure that stops the run (the PACS went away): surface it as itself, not wrapped by Parallel.For.
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex.InnerExceptions[0]);
            }
            List<float[]> tensors = [.. prepared.SelectMany(p => p.Tensors)];
            IReadOnlyList<ImageScore> scores = model.Score(tensors);
            int offset = 0;
            for (int i = 0; i < batch.Count; i++)
            {
                PreparedStudy p = prepared[i];
                DiagnosisRecord record = Aggregate(batch[i], p, scores.Skip(offset).Take(p.Tensors.Count).ToList(), model.Descriptor, options.IncludeIdentifiers);
                offset += p.Tensors.Count;
                if (options.WriteBack is { } pacs && record.Status != StudyStatus.Quarantined && p.FirstDataset is { } dataset)
                {
                    byte[] sr = StructuredReport.Build(dataset, record, model.Descriptor, options.Clock.GetUtcNow());
                    pacs.StoreAsync([sr], null, cancellation).GetAwaiter().GetResult();
                    record = record with { Stored = true };
                    stored++;
                }

                journal.Append(record);
                processed++;
                options.AfterAppend?.Invoke(processed);
                progress?.Report(new DiagnosisProgress(processed, todo.Count));
            }
        }

        clock.Stop();
        DiagnosisTotals totals = DiagnosisOutputs.Write(options.OutputDirectory, header, journal.Records);
        return new DiagnosisRunResult(totals, resumed, processed, all.Count - owned.Count, stored, clock.Elapsed.TotalSeconds, journal.RepairedBytes)
        {
            RepairedLines = journal.RepairedLines,
            StaleLockPid = folderLock.StalePid,
            SkippedLinks = (source as FolderStudySource)?.SkippedLinks ?? 0,
        };
    }

    private sealed record PreparedStudy(string? StudyInstanceUid, int Images, List<float[]> Tensors, List<ImageFailure> Failures, DicomDataset? FirstDataset);

    private static PreparedStudy Prepare(StudyHandle handle, XrayRecipe recipe, IsolatedDecoder? isolation, object isolationLock, CancellationToken cancellation)
    {
        LoadedStudy study;
        try
        {
            study = handle.Load(cancellation);
        }
        catch (DicomWebException ex) when (ex.Reason == DicomWebError.HttpStatus && ex.StatusCode is 404 or 410)
        {
            return new PreparedStudy(null, 0, [], [new ImageFailure("study", "StudyNotFound")], null);
        }

        var tensors = new List<float[]>();
        var failures = new List<ImageFailure>();
        DicomDataset? first = null;
        foreach (StudyImage image in study.Images)
        {
            if (image.File is null)
            {
                failures.Add(new ImageFailure(image.Name, image.Failure ?? "Unreadable"));
                continue;
            }

            if (isolation is not null && DecodeWorker.NeedsNativeCodec(image.File.TransferSyntax.Uid))
            {
                DecodeOutcome outcome;
                // The worker reads files: an instance retrieved from a PACS is written to a temporary one first.
                string? temporary = image.Path is null ? Path.Combine(Path.GetTempPath(), "medtransfer-isolated-" + Guid.NewGuid().ToString("N") + ".dcm") : null;
                try
                {
                    if (temporary is not null)
                    {
                        image.File.Save(temporary);
                    }

                    lock (isolationLock)
                    {
                        outcome = isolation.Decode(image.Path ?? temporary!);
                    }
                }
                finally
                {
                    if (temporary is not null)
                    {
                        File.Delete(temporary);
                    }
                }

                if (outcome.Failure is not null)
                {
                    failures.Add(new ImageFailure(image.Name, outcome.Failure));
                    continue;
                }
            }

            try
            {
                tensors.Add(XrayNormalizer.Normalize(image.File, recipe).Tensor);
                first ??= image.File.Dataset;
            }
            catch (DicomFormatException ex)
            {
                failures.Add(new ImageFailure(image.Name, ex.Reason.ToString()));
            }
            catch (CodecUnavailableException ex)
            {
                failures.Add(new ImageFailure(image.Name, "CodecUnavailable:" + ex.Package));
            }
            catch (ImageFormatException ex)
            {
                // The DICOM layer's reason (e.g. Truncated) is more telling than the imaging layer's wrapper.
                failures.Add(new ImageFailure(image.Name, ex.InnerException is DicomFormatException inner ? inner.Reason.ToString() : ex.Reason.ToString()));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or OutOfMemoryException)
            {
                failures.Add(new ImageFailure(image.Name, ex.GetType().Name));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The batch boundary: an unforeseen error in decoding one file is a bug to fix, but it must cost that
                // file only. The type name is recorded; the message might quote file content.
                failures.Add(new ImageFailure(image.Name, "Unexpected:" + ex.GetType().Name));
            }
        }

        if (study.Images.Count == 0)
        {
            failures.Add(new ImageFailure("study", "NoImages"));
        }

        return new PreparedStudy(study.StudyInstanceUid, study.Images.Count, tensors, failures, first);
    }

    private static DiagnosisRecord Aggregate(StudyHandle handle, PreparedStudy p, List<ImageScore> scores, ModelDescriptor model, bool includeIdentifiers)
    {
        StudyStatus status = scores.Count == 0 ? StudyStatus.Quarantined : p.Failures.Count > 0 ? StudyStatus.Partial : StudyStatus.Ok;
        string reason = string.Join('|', p.Failures.Select(f => f.Reason).Distinct().Order(StringComparer.Ordinal));
        ImageScore? best = scores.Count == 0 ? null : scores.MaxBy(s => s.Score);
        bool monitored = model.ShiftMonitor is not null && scores.Count > 0;
        return new DiagnosisRecord
        {
            Key = handle.Key,
            Source = handle.Source,
            Images = p.Images,
            Score = best?.Score,
            Label = best?.Label,
            ShiftScore = monitored ? scores.Max(s => s.ShiftScore) : null,
            ShiftFlag = monitored ? scores.Any(s => s.Shifted) : null,
            Status = status,
            Reason = reason,
            Failures = p.Failures,
            StudyInstanceUid = includeIdentifiers ? p.StudyInstanceUid : null,
        };
    }
}
