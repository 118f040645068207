using MedTransfer.Dicom;
using MedTransfer.Imaging.Files;
using MedTransfer.Pipeline.DicomWeb;

namespace MedTransfer.Pipeline.Diagnose;

/// <summary>One image of a study, opened (or failed to open).</summary>
/// <param name="Name">Relative path (folder input, only with identifiers; otherwise its keyed hash) or instance position (DICOMweb).</param>
/// <param name="File">The opened file, or null when it failed.</param>
/// <param name="Failure">The reason code when it failed.</param>
/// <param name="Path">The file on disk when there is one (native decoding can then run in a worker process).</param>
public sealed record StudyImage(string Name, DicomFile? File, string? Failure, string? Path = null);

/// <summary>A study's images, loaded.</summary>
/// <param name="StudyInstanceUid">The Study Instance UID (an identifier: written only with --include-identifiers, and into results stored back to the PACS).</param>
/// <param name="Images">The images.</param>
public sealed record LoadedStudy(string? StudyInstanceUid, IReadOnlyList<StudyImage> Images);

/// <summary>A study to diagnose, not loaded yet.</summary>
/// <param name="Key">Pseudonymous study key (<see cref="StudyPseudonyms"/>); shards split on it.</param>
/// <param name="Source">Where it comes from: the relative path (with identifiers; paths often hold patient IDs) or its keyed
/// hash, or a keyed hash of the DICOMweb study URL.</param>
/// <param name="Load">Loads the images. Failures of single images are in the result; an exception means the whole study failed.</param>
public sealed record StudyHandle(string Key, string Source, Func<CancellationToken, LoadedStudy> Load);

/// <summary>Where batch diagnosis finds its studies.</summary>
public interface IStudySource
{
    /// <summary>Every study, in a stable order.</summary>
    /// <param name="pseudonyms">Keys studies and hides paths.</param>
    /// <param name="includeIdentifiers">Show relative paths as they are (they may name patients); otherwise as keyed hashes.</param>
    /// <param name="cancellation">Stops the listing.</param>
    IReadOnlyList<StudyHandle> Studies(StudyPseudonyms pseudonyms, bool includeIdentifiers, CancellationToken cancellation);

    /// <summary>
    /// What the input is, recorded in the journal so that a resume with another input is refused: its kind and a keyed
    /// hash of where it is (never the path or URL itself, which may name a patient).
    /// </summary>
    string Identity(StudyPseudonyms pseudonyms) => "source:" + GetType().FullName;
}

/// <summary>
/// A folder of DICOM files (recursive; names starting with '.' are skipped). Files are grouped into studies by
/// Study Instance UID, read from their headers; a file whose header cannot be read is a study of its own
/// (keyed by its relative path) that ends in quarantine with the reason. Symbolic links are not followed (as in
/// <c>ingest</c>): a link may lead outside the folder, and a link loop would have every file read again at each level.
/// Only regular files are opened: a named pipe, socket or device is quarantined with the reason (opening a pipe waits
/// forever for a writer). A name that is not valid UTF-8 is still read, and shown with <c>\xNN</c> escapes.
/// </summary>
public sealed class FolderStudySource(string root) : IStudySource
{
    private static readonly DicomReaderOptions _header = new() { PixelData = PixelDataLoading.Skip, StopAtPixelData = true };
    private static readonly DicomReaderOptions _whole = new() { PixelData = PixelDataLoading.Eager };

    /// <summary>The folder.</summary>
    public string Root { get; } = Path.GetFullPath(root);

    /// <inheritdoc />
    public string Identity(StudyPseudonyms pseudonyms)
    {
        ArgumentNullException.ThrowIfNull(pseudonyms);
        // The folder as the file system knows it: another spelling of the same folder (a link to it) is the same input.
        string real = new DirectoryInfo(Root).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Root;
        return "folder:" + pseudonyms.Of("input", Path.TrimEndingDirectorySeparator(real));
    }

    /// <summary>Symbolic links met by the last listing, which were not followed.</summary>
    public int SkippedLinks { get; private set; }

    /// <inheritdoc />
    public IReadOnlyList<StudyHandle> Studies(StudyPseudonyms pseudonyms, bool includeIdentifiers, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(pseudonyms);
        string Shown(string relative) => includeIdentifiers ? relative : "file:" + pseudonyms.Of("path", relative)[..16];
        InputListing listing = InputFolder.List(Root, skipHidden: true, cancellation);
        SkippedLinks = listing.SkippedLinks;
        var byStudy = new SortedDictionary<string, (string Uid, List<InputEntry> Files)>(StringComparer.Ordinal);
        var handles = new List<StudyHandle>();
        foreach (InputEntry entry in listing.Entries)
        {
            cancellation.ThrowIfCancellationRequested();
            string? uid = null;
            string? failure;
            if (entry.Kind != InputEntryKind.RegularFile)
            {
                failure = entry.Kind == InputEntryKind.NotRegular ? "NotARegularFile" : "Unreadable";
            }
            else
            {
                try
                {
                    uid = Read(entry, _header).Dataset.GetString(Tag.StudyInstanceUID)?.Trim();
                    failure = string.IsNullOrEmpty(uid) ? "MissingStudyInstanceUid" : null;
                }
                catch (DicomFormatException ex)
                {
                    failure = ex.Reason.ToString();
                }
            }

            if (failure is not null)
            {
                string reason = failure;
                string shown = Shown(entry.Relative);
                handles.Add(new StudyHandle(pseudonyms.Of("file", entry.Relative), shown, _ => new LoadedStudy(null, [new StudyImage(shown, null, reason)])));
                continue;
            }

            string key = pseudonyms.Of("study", uid!);
            if (!byStudy.TryGetValue(key, out var study))
            {
                study = (uid!, []);
                byStudy[key] = study;
            }

            study.Files.Add(entry);
        }

        foreach ((string key, (string uid, List<InputEntry> members)) in byStudy)
        {
            string first = Shown(members[0].Relative);
            string source = members.Count == 1 ? first : $"{first} (+{members.Count - 1})";
            handles.Add(new StudyHandle(key, source, _ => new LoadedStudy(uid, [.. members.Select(m => OpenImage(m, Shown(m.Relative)))])));
        }

        handles.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return handles;
    }

    private static StudyImage OpenImage(InputEntry entry, string shown)
    {
        try
        {
            // A file without a usable path (its name is not UTF-8) reaches the isolation worker as a temporary copy, like an instance from a PACS.
            return new StudyImage(shown, Read(entry, _whole), null, entry.Path);
        }
        catch (DicomFormatException ex)
        {
            return new StudyImage(shown, null, ex.Reason.ToString(), entry.Path);
        }
    }

    /// <summary>Reads a listed file through a handle opened only if it is (still) a regular file.</summary>
    private static DicomFile Read(InputEntry entry, DicomReaderOptions options)
    {
        try
        {
            using FileStream stream = entry.OpenRead();
            return entry.Path is not null ? DicomFile.Open(entry.Path, options) : DicomFile.Read(stream, options);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DicomFormatException(DicomErrorCode.Unreadable, "the file could not be opened as a regular file", -1, null, ex);
        }
    }
}

/// <summary>
/// Studies on a DICOMweb server: QIDO-RS lists them, WADO-RS retrieves one at a time when it is diagnosed.
/// Structured reports in a study (such as results stored back by an earlier run) are not images and are skipped.
/// </summary>
public sealed class DicomWebStudySource(DicomWebClient client) : IStudySource
{
    private const string StructuredReportClassPrefix = "1.2.840.10008.5.1.4.1.1.88.";

    /// <inheritdoc />
    public string Identity(StudyPseudonyms pseudonyms)
    {
        ArgumentNullException.ThrowIfNull(pseudonyms);
        return "dicomweb:" + pseudonyms.Of("input", client.Root.AbsoluteUri);
    }

    /// <inheritdoc />
    public IReadOnlyList<StudyHandle> Studies(StudyPseudonyms pseudonyms, bool includeIdentifiers, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(pseudonyms);
        IReadOnlyList<DicomWebStudy> studies = client.SearchStudiesAsync(null, cancellation).GetAwaiter().GetResult();
        var handles = studies
            .Select(s => new StudyHandle(
                pseudonyms.Of("study", s.StudyInstanceUid),
                "dicomweb:" + pseudonyms.Of("url", client.StudyUri(s.StudyInstanceUid).AbsoluteUri),
                token => Load(s.StudyInstanceUid, token)))
            .ToList();
        handles.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return handles;
    }

    private LoadedStudy Load(string uid, CancellationToken cancellation)
    {
        IReadOnlyList<ReadOnlyMemory<byte>> parts = client.RetrieveStudyAsync(uid, cancellation).GetAwaiter().GetResult();
        var images = new List<StudyImage>();
        for (int i = 0; i < parts.Count; i++)
        {
            string name = "instance-" + (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            try
            {
                DicomFile file = DicomFile.Read(parts[i].ToArray());
                if (file.Dataset.GetString(Tag.SOPClassUID)?.Trim().StartsWith(StructuredReportClassPrefix, StringComparison.Ordinal) == true)
                {
                    continue;
                }

                images.Add(new StudyImage(name, file, null));
            }
            catch (DicomFormatException ex)
            {
                images.Add(new StudyImage(name, null, ex.Reason.ToString()));
            }
        }

        return new LoadedStudy(uid, images);
    }
}
