using System.Globalization;

namespace MedTransfer.Dicom.Deidentification;

/// <summary>
/// De-identifies DICOM data sets and files with the Basic Application Level Confidentiality Profile of
/// DICOM PS3.15 Annex E (Table E.1-1, see <c>ConfidentialityProfileTable.cs</c>) and the options of
/// <see cref="DeidentificationOptions"/>. One instance is one session: use it for every file of a set, and
/// UIDs, references between instances, pseudonyms and date offsets stay consistent, so a de-identified series still hangs together.
/// Because every replacement is keyed (HMAC-SHA256), they also stay consistent across sessions and runs
/// with the same key.
/// </summary>
/// <remarks>
/// <para>What <see cref="Apply"/> does, at every nesting level of every sequence:</para>
/// <list type="bullet">
/// <item>Private elements (odd groups), private creators included, are removed (not looked into); group lengths (gggg,0000) are dropped.</item>
/// <item>Each attribute listed in Table E.1-1 gets its action. Compound actions are resolved without knowing
/// the IOD, to the reading that is safe for privacy and keeps required attributes present: X/Z → Z;
/// Z/D, X/D, X/Z/D → D; X/Z/U* → keep the sequence and replace the UIDs inside it. D gives a fixed dummy for
/// the VR ("ANONYMIZED", "19000101", "0", zero bytes; a sequence gets one empty item); Z gives an empty
/// value (a sequence, no items).</item>
/// <item>Every UI value is replaced by a keyed UID (same input, same output), wherever it is — listed or not,
/// so references such as Referenced SOP Instance UID in any sequence follow the instance they point to —
/// except standard UIDs (prefix "1.2.840.10008.") and class/scheme identifiers (SOP Class, Referenced SOP
/// Class, Coding Scheme, Context, Mapping Resource and transfer syntax UIDs), which identify no one.
/// Non-standard (vendor) SOP Class UIDs are therefore kept too.</item>
/// <item>Patient ID and Patient's Name (Z in the table) get keyed pseudonyms instead, "&lt;prefix&gt;&lt;hex&gt;" and
/// "&lt;prefix&gt;^&lt;hex&gt;", so one patient's files stay linkable.</item>
/// <item>Dates: beyond the table, every other DA, DT and TM element is emptied (<see cref="DateHandling.Remove"/>)
/// or, with <see cref="DateHandling.ShiftConsistently"/>, every DA/DT is shifted by the patient's offset and TM is kept.
/// A date that is not a full calendar date (partial, old "YYYY.MM.DD" style, garbage) cannot be shifted and is emptied.</item>
/// <item>An element whose VR is UN but which the dictionary knows as a sequence cannot be examined and is removed.</item>
/// <item>The result is marked, so a receiver can tell it was de-identified and how: Patient Identity Removed (0012,0062) "YES", De-identification
/// Method (0012,0063), De-identification Method Code Sequence (0012,0064) with 113100 and one code per option,
/// Longitudinal Temporal Information Modified (0028,0303) "REMOVED" or "MODIFIED".</item>
/// <item>Burned In Annotation (0028,0301) is never set to "NO": text burned into the pixels is not looked for, so the file is never claimed clean; see <see cref="DeidentificationResult.BurnedInAnnotationUnverified"/>.</item>
/// </list>
/// <para>
/// Not supported (the standard's other options): Clean Pixel Data, Clean Recognizable Visual Features, Clean
/// Graphics, Clean Structured Content, Clean Descriptors, Retain Full Dates, Retain UIDs, Retain Safe Private,
/// Retain Institution Identity. Free text in attributes the table does not list (it keeps them) is kept.
/// </para>
/// <para>Thread-safe: <see cref="Apply"/> may run on several data sets at once.</para>
/// </remarks>
public sealed class Deidentifier
{
    /// <summary>The value written to De-identification Method (0012,0063).</summary>
    public const string MethodDescription = "MedTransfer PS3.15 Basic Profile";

    private const int MaxDepth = DicomReaderOptions.SequenceDepthCeiling;
    private const string StandardUidPrefix = "1.2.840.10008.";
    private const string MediaStorageDirectoryClass = "1.2.840.10008.1.3.10";

    private static readonly DicomTag _burnedInAnnotation = new(0x0028, 0x0301);
    private static readonly DicomTag _mediaStorageSopClass = new(0x0002, 0x0002);

    /// <summary>UI attributes that name a class, scheme or syntax, never an instance or a person.</summary>
    private static readonly HashSet<uint> _classUidTags =
    [
        0x0000_0002, // Affected SOP Class UID
        0x0000_0003, // Requested SOP Class UID
        0x0002_0002, // Media Storage SOP Class UID
        0x0002_0010, // Transfer Syntax UID
        0x0002_0012, // Implementation Class UID
        0x0004_1510, // Referenced SOP Class UID in File
        0x0004_1512, // Referenced Transfer Syntax UID in File
        0x0004_151A, // Referenced Related General SOP Class UID in File
        0x0008_0016, // SOP Class UID
        0x0008_001A, // Related General SOP Class UID
        0x0008_001B, // Original Specialized SOP Class UID
        0x0008_010C, // Coding Scheme UID
        0x0008_0117, // Context UID
        0x0008_0118, // Mapping Resource UID
        0x0008_1150, // Referenced SOP Class UID
        0x0008_115A, // SOP Classes Supported
    ];

    private readonly DeidentificationOptions _options;
    private readonly KeyedDerivation _derive;
    private readonly Dictionary<(DeidentificationMappingKind, string), string>? _mapping;
    private readonly Lock _mappingLock = new();

    /// <summary>Creates a session with <paramref name="options"/>.</summary>
    public Deidentifier(DeidentificationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _derive = new KeyedDerivation(options.KeySpan, options.UidRoot);
        _mapping = options.RecordMapping ? [] : null;
    }

    /// <summary>The options of this session.</summary>
    public DeidentificationOptions Options => _options;

    /// <summary>
    /// De-identifies <paramref name="dataset"/> in place (see the class remarks for every step) and marks it.
    /// Apply it once per data set: a second pass would replace the replacements. When it throws, the data set
    /// is partly changed and must be discarded, never written.
    /// </summary>
    /// <exception cref="DicomFormatException">Sequences nested deeper than 256 levels (<see cref="DicomErrorCode.SequenceTooDeep"/>),
    /// or a value that cannot be decoded.</exception>
    public DeidentificationResult Apply(DicomDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        string identity = PatientIdentity(dataset);
        var run = new Run
        {
            ShiftDays = _options.DateHandling == DateHandling.ShiftConsistently ? _derive.DateShiftDays(identity) : 0,
        };
        if (_options.DateHandling == DateHandling.ShiftConsistently)
        {
            Record(DeidentificationMappingKind.DateShiftDays, identity, run.ShiftDays.ToString(CultureInfo.InvariantCulture));
        }

        string? burnedIn = dataset.GetString(_burnedInAnnotation)?.Trim().ToUpperInvariant();
        bool hasPixels = dataset.Contains(new DicomTag(0x7FE0, 0x0010)) || dataset.Contains(new DicomTag(0x7FE0, 0x0008))
            || dataset.Contains(new DicomTag(0x7FE0, 0x0009));

        ProcessDataset(dataset, run, depth: 0);
        SetPseudonyms(dataset, identity, run, always: true);

        var warnings = new List<string>();
        bool unverified = false;
        if (burnedIn is not ("YES" or "NO" or null))
        {
            // Not a valid CS value: state the conservative one rather than keep text we cannot vouch for.
            dataset.Set(_burnedInAnnotation, DicomVR.CS, "YES");
            run.Replaced++;
        }

        if (hasPixels && burnedIn != "NO")
        {
            unverified = true;
            warnings.Add(burnedIn == "YES"
                ? "The image says it has burned-in annotation: text such as names, dates or IDs may be part of the pixels. This tool does not remove it; review or redact the pixels before release."
                : "The image does not say whether it has burned-in annotation: text such as names, dates or IDs may be part of the pixels. This tool does not check; review the pixels before release.");
        }

        if (!_options.RemovePrivateTags)
        {
            warnings.Add("Private elements were kept without examination (RemovePrivateTags is off): the output does not conform to the Basic Profile and may hold identifying data.");
        }

        if (run.UnshiftableDates > 0)
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture,
                $"{run.UnshiftableDates} date or time element(s) did not hold valid dates or times and were emptied instead of shifted or kept."));
        }

        if (run.UndecodableSequences > 0)
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture,
                $"{run.UndecodableSequences} element(s) of unknown encoding (UN) that should be sequences were removed: their content could not be examined."));
        }

        Mark(dataset);
        return new DeidentificationResult
        {
            SopInstanceUid = dataset.GetString(Tag.SOPInstanceUID) is { Length: > 0 } uid ? uid : null,
            BurnedInAnnotationUnverified = unverified,
            Warnings = warnings,
            ElementsRemoved = run.Removed,
            ElementsReplaced = run.Replaced,
            UidsRemapped = run.UidsRemapped,
        };
    }

    /// <summary>
    /// Reads <paramref name="inputPath"/>, de-identifies it and writes it to <paramref name="outputPath"/>
    /// (through a temporary file in the same folder, renamed when complete; preamble of zeros; in the
    /// input's transfer syntax). Nothing of the input's file meta information is carried over: the writer
    /// builds it from the de-identified data set.
    /// </summary>
    /// <exception cref="DicomFormatException">The input is unreadable, not DICOM or malformed.</exception>
    /// <exception cref="IOException">The output cannot be written.</exception>
    /// <exception cref="InvalidOperationException">The data set cannot be encoded in its transfer syntax.</exception>
    /// <exception cref="ArgumentException">The output is the input, however spelled (through "./", "..", or a symbolic link).</exception>
    public DeidentifiedFile DeidentifyFile(string inputPath, string outputPath)
    {
        ArgumentNullException.ThrowIfNull(inputPath);
        ArgumentNullException.ThrowIfNull(outputPath);
        if (PathIdentity.Same(inputPath, outputPath))
        {
            throw new ArgumentException("The output file must differ from the input file: writing it would replace the identifiable original.", nameof(outputPath));
        }

        DicomFile source = DicomFile.Open(inputPath);
        DeidentificationResult result = WithReaderWarnings(Apply(source.Dataset), source);
        string full = Path.GetFullPath(outputPath);
        new DicomFile(source.Dataset, source.TransferSyntax).Save(full);
        return new DeidentifiedFile(full, inputPath, result);
    }

    /// <summary>
    /// De-identifies every file under <paramref name="inputRoot"/> (recursively; symbolic links are not
    /// followed; files under <paramref name="outputRoot"/> are skipped) into <paramref name="outputRoot"/>,
    /// one flat folder of files named "&lt;new SOP Instance UID&gt;.dcm". Names are built from the replacement
    /// UID with safe characters only and are proven to stay inside the output root (a value holding "../" must not write elsewhere). Each
    /// file is written atomically (temporary file, then rename). A bad file never stops the run: it becomes
    /// a <see cref="DeidentificationFailure"/> with a reason code and no patient data: one bad file must not stop a batch.
    /// Running again with the same key rewrites the same names.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The input folder does not exist.</exception>
    /// <exception cref="ArgumentException">The two roots are the same folder, however spelled (through "./", "..", or a symbolic link).</exception>
    /// <exception cref="IOException">The output folder cannot be created or written (checked before any input is read).</exception>
    /// <exception cref="UnauthorizedAccessException">The output folder is not writable (checked before any input is read).</exception>
    /// <exception cref="OperationCanceledException">Cancelled; files written so far stay.</exception>
    public DeidentificationBatchResult DeidentifyFolder(
        string inputRoot,
        string outputRoot,
        IProgress<DeidentificationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputRoot);
        ArgumentNullException.ThrowIfNull(outputRoot);
        string inRoot = Path.TrimEndingDirectorySeparator(Path.GetFullPath(inputRoot));
        string outRoot = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outputRoot));
        if (!Directory.Exists(inRoot))
        {
            throw new DirectoryNotFoundException("The input folder does not exist.");
        }

        if (PathIdentity.Same(inRoot, outRoot))
        {
            throw new ArgumentException("The output folder must differ from the input folder.", nameof(outputRoot));
        }

        Directory.CreateDirectory(outRoot);
        ProbeWritable(outRoot);
        List<string> inputs = EnumerateInputs(inRoot, outRoot);
        var written = new List<DeidentifiedFile>();
        var failures = new List<DeidentificationFailure>();
        var usedNames = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < inputs.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string input = inputs[i];
            string relative = Path.GetRelativePath(inRoot, input);
            DeidentificationFailure? failure = DeidentifyOne(input, relative, outRoot, usedNames, written);
            if (failure is not null)
            {
                failures.Add(failure);
            }

            progress?.Report(new DeidentificationProgress(i + 1, inputs.Count, failures.Count));
        }

        return new DeidentificationBatchResult { Files = written, Failures = failures };
    }

    /// <summary>
    /// Every original value and its replacement seen by this session (UIDs, patient IDs and names, date
    /// offsets), sorted by kind and original value. Protected health information: see
    /// <see cref="DeidentificationOptions.RecordMapping"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="DeidentificationOptions.RecordMapping"/> is off (nothing was recorded).</exception>
    internal IReadOnlyList<DeidentificationMappingEntry> GetMapping()
    {
        if (_mapping is null)
        {
            throw new InvalidOperationException("The mapping is recorded only when DeidentificationOptions.RecordMapping is on.");
        }

        lock (_mappingLock)
        {
            return [.. _mapping
                .Select(kv => new DeidentificationMappingEntry(kv.Key.Item1, kv.Key.Item2, kv.Value))
                .OrderBy(e => e.Kind)
                .ThenBy(e => e.Original, StringComparer.Ordinal)];
        }
    }

    /// <summary>
    /// Writes <see cref="GetMapping"/> as CSV (header "kind,original,replacement"; every field quoted, quotes
    /// doubled; one line per entry). Protected health information: write it only where the originals may be.
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="DeidentificationOptions.RecordMapping"/> is off.</exception>
    public void ExportMapping(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        IReadOnlyList<DeidentificationMappingEntry> entries = GetMapping();
        writer.Write("kind,original,replacement\n");
        foreach (DeidentificationMappingEntry e in entries)
        {
            writer.Write(Quote(e.Kind.ToString()) + "," + Quote(e.Original) + "," + Quote(e.Replacement) + "\n");
        }

        static string Quote(string field) => "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    private static List<string> EnumerateInputs(string inRoot, string outRoot)
    {
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            IgnoreInaccessible = true,
            AttributesToSkip = FileAttributes.ReparsePoint,
            ReturnSpecialDirectories = false,
        };
        // An output folder inside the input folder is not input (a rerun must not read its own output), however the
        // two folders were spelled.
        bool outputInsideInput = PathIdentity.Inside(outRoot, inRoot);
        string outPrefix = outputInsideInput ? Path.Combine(inRoot, Path.GetRelativePath(PathIdentity.Resolve(inRoot), PathIdentity.Resolve(outRoot))) + Path.DirectorySeparatorChar : string.Empty;
        var files = Directory.EnumerateFiles(inRoot, "*", options)
            .Where(f => !outputInsideInput || !f.StartsWith(outPrefix, StringComparison.Ordinal))
            .ToList();
        files.Sort(StringComparer.Ordinal);
        return files;
    }

    private static DeidentificationResult WithReaderWarnings(DeidentificationResult result, DicomFile source) =>
        source.Warnings.Count == 0 ? result : result with
        {
            Warnings = [.. result.Warnings, string.Create(CultureInfo.InvariantCulture,
                $"The input was damaged: the reader recovered from {source.Warnings.Count} problem(s); the output may lack elements of the original.")],
        };

    /// <summary>Fails fast, before any input is read, when the output folder cannot take a file, instead of failing every input.</summary>
    private static void ProbeWritable(string outRoot)
    {
        string probe = Path.Combine(outRoot, $".medtransfer-write-probe-{Guid.NewGuid():N}");
        using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
        {
        }
    }

    private static string Describe(DicomFormatException ex)
    {
        string tag = ex.Tag is { } t ? " in " + t.ToString() : string.Empty;
        string offset = ex.Offset >= 0 ? string.Create(CultureInfo.InvariantCulture, $" at offset {ex.Offset}") : string.Empty;
        return ex.Reason.ToString() + tag + offset;
    }

    private DeidentificationFailure? DeidentifyOne(string input, string relative, string outRoot, HashSet<string> usedNames, List<DeidentifiedFile> written)
    {
        if (string.Equals(Path.GetFileName(input), "DICOMDIR", StringComparison.OrdinalIgnoreCase))
        {
            return new DeidentificationFailure(relative, DeidentificationFailureKind.MediaDirectorySkipped, null, "DICOMDIR skipped");
        }

        try
        {
            // Empty files are not DICOM; checking first also keeps a FIFO or device node (which reports
            // length 0) from blocking the run forever on open.
            if (new FileInfo(input).Length == 0)
            {
                return new DeidentificationFailure(relative, DeidentificationFailureKind.InvalidDicom, DicomErrorCode.NotDicom,
                    "NotDicom: the file is empty or not a regular file");
            }

            DicomFile source = DicomFile.Open(input);
            if (source.FileMeta.GetString(_mediaStorageSopClass) == MediaStorageDirectoryClass)
            {
                return new DeidentificationFailure(relative, DeidentificationFailureKind.MediaDirectorySkipped, null, "DICOMDIR skipped");
            }

            DeidentificationResult result = Apply(source.Dataset);
            if (result.SopInstanceUid is null)
            {
                return new DeidentificationFailure(relative, DeidentificationFailureKind.NoSopInstanceUid, null,
                    "the data set has no SOP Instance UID");
            }

            result = WithReaderWarnings(result, source);
            string path = OutputFileNames.PathInside(outRoot, result.SopInstanceUid);
            if (!usedNames.Add(path))
            {
                return new DeidentificationFailure(relative, DeidentificationFailureKind.DuplicateSopInstanceUid, null,
                    "another input of this run has the same SOP Instance UID");
            }

            new DicomFile(source.Dataset, source.TransferSyntax).Save(path);
            written.Add(new DeidentifiedFile(path, _options.RecordMapping ? relative : null, result));
            return null;
        }
        catch (DicomFormatException ex)
        {
            return new DeidentificationFailure(relative, DeidentificationFailureKind.InvalidDicom, ex.Reason, Describe(ex));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // The exception's own message may quote paths or values: report its type only.
            return new DeidentificationFailure(relative, DeidentificationFailureKind.WriteFailed, null, ex.GetType().Name);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            return new DeidentificationFailure(relative, DeidentificationFailureKind.Unexpected, null, ex.GetType().Name);
        }
    }

    private static string PatientIdentity(DicomDataset dataset)
    {
        string? id = dataset.GetString(Tag.PatientID)?.Trim();
        if (!string.IsNullOrEmpty(id))
        {
            return id;
        }

        string? name = dataset.GetString(Tag.PatientName)?.Trim();
        return string.IsNullOrEmpty(name) ? string.Empty : "name:" + name;
    }

    private void SetPseudonyms(DicomDataset dataset, string identity, Run run, bool always)
    {
        string token = _derive.PatientToken(identity);
        string prefix = _options.PatientPseudonymPrefix;
        if (always || dataset.Contains(Tag.PatientID))
        {
            string original = dataset.GetString(Tag.PatientID) ?? string.Empty;
            string pseudonym = prefix + token;
            dataset.Set(Tag.PatientID, DicomVR.LO, pseudonym);
            Record(DeidentificationMappingKind.PatientId, original, pseudonym);
            run.Replaced++;
        }

        if (always || dataset.Contains(Tag.PatientName))
        {
            string original = dataset.GetString(Tag.PatientName) ?? string.Empty;
            string pseudonym = prefix + "^" + token;
            dataset.Set(Tag.PatientName, DicomVR.PN, pseudonym);
            Record(DeidentificationMappingKind.PatientName, original, pseudonym);
            run.Replaced++;
        }
    }

    private void ProcessDataset(DicomDataset dataset, Run run, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new DicomFormatException(DicomErrorCode.SequenceTooDeep, "sequences are nested too deeply to de-identify");
        }

        if (depth > 0 && (dataset.Contains(Tag.PatientID) || dataset.Contains(Tag.PatientName)))
        {
            SetPseudonyms(dataset, PatientIdentity(dataset), run, always: false);
        }

        foreach (DicomElement element in dataset.ToList())
        {
            DicomTag tag = element.Tag;
            if ((tag.Group & 1) == 1)
            {
                if (_options.RemovePrivateTags)
                {
                    dataset.Remove(tag);
                    run.Removed++;
                }

                continue;
            }

            if (tag.Element == 0x0000 || tag == Tag.PatientID || tag == Tag.PatientName || (depth == 0 && tag == _burnedInAnnotation))
            {
                // Group lengths would be stale (the writer drops them too); the pseudonyms and the
                // burned-in flag are handled by Apply and SetPseudonyms.
                if (tag.Element == 0x0000)
                {
                    dataset.Remove(tag);
                }

                continue;
            }

            DicomVR vr = EffectiveVR(element);
            if (element.VR == DicomVR.UN && DicomDictionary.GetVR(tag) == DicomVR.SQ)
            {
                dataset.Remove(tag);
                run.Removed++;
                run.UndecodableSequences++;
                continue;
            }

            Applied action = ConfidentialityProfileTable.TryGet(tag, out ProfileRow row) ? Resolve(row, vr) : Unlisted(vr);
            ApplyAction(dataset, element, vr, action, run, depth);
        }
    }

    private Applied Resolve(ProfileRow row, DicomVR vr)
    {
        ProfileAction action = row.Basic;
        if (_options.DateHandling == DateHandling.ShiftConsistently && row.Dates == ProfileAction.C)
        {
            if (vr is DicomVR.DA or DicomVR.DT)
            {
                return Applied.ShiftDates;
            }

            if (vr == DicomVR.TM)
            {
                return Applied.KeepTimes;
            }
        }

        if (_options.RetainDeviceIdentity && row.Device == ProfileAction.K)
        {
            action = ProfileAction.K;
        }

        if (_options.RetainPatientCharacteristics && row.PatientCharacteristics == ProfileAction.K)
        {
            action = ProfileAction.K;
        }

        return action switch
        {
            ProfileAction.K => Applied.Retain,
            ProfileAction.X => Applied.Remove,
            ProfileAction.Z or ProfileAction.XZ => Applied.Empty,
            ProfileAction.D or ProfileAction.ZD or ProfileAction.XD or ProfileAction.XZD => Applied.Dummy,
            ProfileAction.U or ProfileAction.XZU => Applied.RemapUids,
            _ => Applied.Remove, // C never reaches here as a Basic action; removing is the safe fallback.
        };
    }

    private Applied Unlisted(DicomVR vr) => vr switch
    {
        DicomVR.DA or DicomVR.DT => _options.DateHandling == DateHandling.ShiftConsistently ? Applied.ShiftDates : Applied.Empty,
        DicomVR.TM => _options.DateHandling == DateHandling.ShiftConsistently ? Applied.KeepTimes : Applied.Empty,
        _ => Applied.Keep,
    };

    private void ApplyAction(DicomDataset dataset, DicomElement element, DicomVR vr, Applied action, Run run, int depth)
    {
        DicomTag tag = element.Tag;
        if (element.IsEncapsulated && action != Applied.Remove)
        {
            return;
        }

        switch (action)
        {
            case Applied.Remove:
                dataset.Remove(tag);
                run.Removed++;
                return;
            case Applied.Empty:
                if (element is DicomSequence)
                {
                    dataset.SetSequence(tag, []);
                }
                else
                {
                    dataset.SetBytes(tag, vr, ReadOnlyMemory<byte>.Empty);
                }

                run.Replaced++;
                return;
            case Applied.Dummy:
                if (vr == DicomVR.UI && element is not DicomSequence)
                {
                    RemapUids(dataset, element, run, keepClassUids: false);
                    return;
                }

                SetDummy(dataset, element, vr);
                run.Replaced++;
                return;
            case Applied.ShiftDates:
                ShiftDates(dataset, element, vr, run);
                return;
            case Applied.KeepTimes:
                if (!dataset.GetStrings(tag).All(t => t.Length == 0 || DicomDates.IsValidTime(t)))
                {
                    dataset.SetBytes(tag, vr, ReadOnlyMemory<byte>.Empty);
                    run.UnshiftableDates++;
                    run.Replaced++;
                }

                return;
            case Applied.RemapUids:
                if (element is DicomSequence remapped)
                {
                    ProcessItems(remapped, run, depth);
                }
                else
                {
                    RemapUids(dataset, element, run, keepClassUids: false);
                }

                return;
            case Applied.Retain:
                if (element is DicomSequence retained)
                {
                    ProcessItems(retained, run, depth);
                }

                return;
            default:
                if (element is DicomSequence kept)
                {
                    ProcessItems(kept, run, depth);
                }
                else if (vr == DicomVR.UI)
                {
                    RemapUids(dataset, element, run, keepClassUids: true);
                }

                return;
        }
    }

    private void ProcessItems(DicomSequence sequence, Run run, int depth)
    {
        foreach (DicomDataset item in sequence.Items)
        {
            ProcessDataset(item, run, depth + 1);
        }
    }

    private void RemapUids(DicomDataset dataset, DicomElement element, Run run, bool keepClassUids)
    {
        DicomTag tag = element.Tag;
        string[] values = dataset.GetStrings(tag);
        if (values.Length == 0)
        {
            return;
        }

        bool classTag = keepClassUids && _classUidTags.Contains(tag.Value);
        bool changed = false;
        var mapped = new string[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            string uid = values[i];
            if (uid.Length == 0 || (IsValidUid(uid) && (classTag || uid.StartsWith(StandardUidPrefix, StringComparison.Ordinal))))
            {
                mapped[i] = uid;
                continue;
            }

            mapped[i] = _derive.Uid(uid);
            Record(DeidentificationMappingKind.Uid, uid, mapped[i]);
            run.UidsRemapped++;
            changed = true;
        }

        if (changed || element.VR != DicomVR.UI)
        {
            dataset.Set(tag, DicomVR.UI, mapped);
        }
    }

    private static bool IsValidUid(string uid)
    {
        if (uid.Length > 64)
        {
            return false;
        }

        foreach (string part in uid.Split('.'))
        {
            if (part.Length == 0 || !part.All(char.IsAsciiDigit) || (part.Length > 1 && part[0] == '0'))
            {
                return false;
            }
        }

        return true;
    }

    private static void SetDummy(DicomDataset dataset, DicomElement element, DicomVR vr)
    {
        DicomTag tag = element.Tag;
        if (element is DicomSequence)
        {
            dataset.SetSequence(tag, [new DicomDataset()]);
            return;
        }

        switch (vr)
        {
            case DicomVR.DA:
                dataset.Set(tag, vr, "19000101");
                return;
            case DicomVR.DT:
                dataset.Set(tag, vr, "19000101000000");
                return;
            case DicomVR.TM:
                dataset.Set(tag, vr, "000000");
                return;
            case DicomVR.AS:
                dataset.Set(tag, vr, "000D");
                return;
            case DicomVR.DS or DicomVR.IS:
                dataset.Set(tag, vr, "0");
                return;
            case DicomVR.UR:
                dataset.Set(tag, vr, "urn:anonymized");
                return;
            case DicomVR.AE or DicomVR.CS or DicomVR.LO or DicomVR.LT or DicomVR.PN or DicomVR.SH or DicomVR.ST or DicomVR.UC or DicomVR.UT:
                dataset.Set(tag, vr, "ANONYMIZED");
                return;
            default:
                int size = DicomVRInfo.ValueSize(vr);
                dataset.SetBytes(tag, vr, new byte[size == 0 ? 2 : size]);
                return;
        }
    }

    private static void ShiftDates(DicomDataset dataset, DicomElement element, DicomVR vr, Run run)
    {
        DicomTag tag = element.Tag;
        string[] values = dataset.GetStrings(tag);
        var shifted = new string[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            bool ok;
            if (values[i].Length == 0)
            {
                shifted[i] = string.Empty;
                ok = true;
            }
            else
            {
                ok = vr == DicomVR.DA
                    ? DicomDates.TryShiftDate(values[i], run.ShiftDays, out shifted[i])
                    : DicomDates.TryShiftDateTime(values[i], run.ShiftDays, out shifted[i]);
            }

            if (!ok)
            {
                dataset.SetBytes(tag, vr, ReadOnlyMemory<byte>.Empty);
                run.UnshiftableDates++;
                run.Replaced++;
                return;
            }
        }

        if (values.Length > 0)
        {
            dataset.Set(tag, vr, shifted);
            run.Replaced++;
        }
    }

    private static DicomVR EffectiveVR(DicomElement element)
    {
        if (element is DicomSequence)
        {
            return DicomVR.SQ;
        }

        if (element.VR != DicomVR.UN)
        {
            return element.VR;
        }

        DicomVR known = DicomDictionary.GetVR(element.Tag);
        return known is DicomVR.None or DicomVR.SQ ? DicomVR.UN : known;
    }

    private void Mark(DicomDataset dataset)
    {
        dataset.Set(Tag.PatientIdentityRemoved, DicomVR.CS, "YES");
        dataset.Set(Tag.DeidentificationMethod, DicomVR.LO, MethodDescription);
        var codes = new List<DicomDataset> { Code("113100", "Basic Application Confidentiality Profile") };
        bool shifted = _options.DateHandling == DateHandling.ShiftConsistently;
        if (shifted)
        {
            codes.Add(Code("113107", "Retain Longitudinal Temporal Information Modified Dates Option"));
        }

        if (_options.RetainPatientCharacteristics)
        {
            codes.Add(Code("113108", "Retain Patient Characteristics Option"));
        }

        if (_options.RetainDeviceIdentity)
        {
            codes.Add(Code("113109", "Retain Device Identity Option"));
        }

        dataset.SetSequence(Tag.DeidentificationMethodCodeSequence, codes);
        dataset.Set(Tag.LongitudinalTemporalInformationModified, DicomVR.CS, shifted ? "MODIFIED" : "REMOVED");
    }

    private static DicomDataset Code(string value, string meaning)
    {
        var item = new DicomDataset();
        item.Set(Tag.CodeValue, DicomVR.SH, value);
        item.Set(Tag.CodingSchemeDesignator, DicomVR.SH, "DCM");
        item.Set(Tag.CodeMeaning, DicomVR.LO, meaning);
        return item;
    }

    private void Record(DeidentificationMappingKind kind, string original, string replacement)
    {
        if (_mapping is null)
        {
            return;
        }

        lock (_mappingLock)
        {
            _mapping[(kind, original)] = replacement;
        }
    }

    /// <summary>The resolved action for one element.</summary>
    private enum Applied
    {
        /// <summary>Not listed: recurse into sequences, remap instance UIDs, keep the rest.</summary>
        Keep,

        /// <summary>Kept by an option: no UID remapping for this element; sequences are still recursed.</summary>
        Retain,
        Remove,
        Empty,
        Dummy,
        RemapUids,
        ShiftDates,

        /// <summary>Times kept with shifted dates: valid TM values only, anything else is emptied.</summary>
        KeepTimes,
    }

    /// <summary>Per-data-set state and counts.</summary>
    private sealed class Run
    {
        public int ShiftDays { get; init; }

        public int Removed { get; set; }

        public int Replaced { get; set; }

        public int UidsRemapped { get; set; }

        public int UnshiftableDates { get; set; }

        public int UndecodableSequences { get; set; }
    }
}
