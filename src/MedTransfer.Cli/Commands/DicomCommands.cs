using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MedTransfer.Dicom;
using MedTransfer.Dicom.Deidentification;
using MedTransfer.Dicom.Json;
using MedTransfer.Dicom.Pixels;
using Spectre.Console;

namespace MedTransfer.Cli.Commands;

/// <summary>`medtransfer dicom dump | pixels | deid`.</summary>
internal static class DicomCommands
{
    /// <summary>Environment variable holding the de-identification key when --key/--key-file are not given.</summary>
    public const string KeyVariable = "MEDTRANSFER_DEID_KEY";

    public static Command Create(IAnsiConsole console, TextWriter output, TextWriter error)
    {
        var dicom = new Command("dicom", "Inspect, decode and de-identify DICOM files with MedTransfer's own hardened reader.");
        dicom.Subcommands.Add(Dump(output, error));
        dicom.Subcommands.Add(Pixels(output, error));
        dicom.Subcommands.Add(Deid(console, output, error));
        return dicom;
    }

    private static Command Dump(TextWriter output, TextWriter error)
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The DICOM file (Part 10, or a bare data set)." };
        var json = new Option<bool>("--json") { Description = "Print the DICOM JSON model (PS3.18 Annex F) of the file meta and data set." };
        var strict = new Option<bool>("--strict") { Description = "Reject anything the standard forbids instead of loading it with warnings." };
        var command = new Command("dump", "Print every element of a DICOM file: tag, VR, keyword and value (sequences indented). Shows patient data: it prints what the file holds.");
        command.Arguments.Add(file);
        command.Options.Add(json);
        command.Options.Add(strict);
        command.SetAction(parse => Guard(error, () =>
        {
            DicomFile dicom = DicomFile.Open(parse.GetValue(file)!.FullName, ReaderOptions(parse.GetValue(strict), PixelDataLoading.Skip));
            if (parse.GetValue(json))
            {
                output.WriteLine("{\"fileMeta\": " + DicomJson.Serialize(dicom.FileMeta) + ",\n\"dataset\": " + DicomJson.Serialize(dicom.Dataset) + "}");
                return CliApp.ExitCodes.Success;
            }

            output.WriteLine($"# Transfer syntax: {dicom.TransferSyntax.Uid} ({dicom.TransferSyntax.Name})");
            WriteDataset(output, dicom.FileMeta, 0);
            WriteDataset(output, dicom.Dataset, 0);
            foreach (DicomWarning warning in dicom.Warnings)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# warning {warning.Code} at offset {warning.Offset}{(warning.Tag is { } t ? " in " + t : string.Empty)}: {warning.Detail}"));
            }

            return CliApp.ExitCodes.Success;
        }));
        return command;
    }

    private static Command Pixels(TextWriter output, TextWriter error)
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The DICOM image." };
        var outPath = new Option<FileInfo>("--out") { Description = "The .npy file to write.", Required = true };
        var tolerant = new Option<bool>("--tolerant") { Description = "Accept deviations that can be read safely (e.g. HighBit ≠ BitsStored−1, an inconsistent offset table), with warnings." };
        var upsampling = new Option<string>("--upsampling")
        {
            Description = "Subsampled JPEG chroma (4:2:2, 4:2:0): fancy (libjpeg's default triangle filter, as djpeg, GDCM, DCMTK and Pillow) or replicate.",
            DefaultValueFactory = _ => "fancy",
        };
        upsampling.AcceptOnlyFromAmong("fancy", "replicate");
        var command = new Command(
            "pixels",
            "Write the stored pixel values (after decompression, before any LUT) as a NumPy .npy file: dtype from Bits Allocated and " +
            "Pixel Representation; shape (rows, cols), (frames, rows, cols), (rows, cols, samples) or (frames, rows, cols, samples); YBR converted to RGB. " +
            "What the decoder recovered from is printed as warnings.");
        command.Arguments.Add(file);
        command.Options.Add(outPath);
        command.Options.Add(tolerant);
        command.Options.Add(upsampling);
        command.SetAction(parse => Guard(error, () =>
        {
            PixelValidationMode mode = parse.GetValue(tolerant) ? PixelValidationMode.Tolerant : PixelValidationMode.Strict;
            DicomFile dicom = DicomFile.Open(parse.GetValue(file)!.FullName, ReaderOptions(mode == PixelValidationMode.Strict, PixelDataLoading.Eager));
            ChromaUpsampling chroma = parse.GetValue(upsampling) == "replicate" ? ChromaUpsampling.Replicate : ChromaUpsampling.Fancy;
            DicomImage image = DicomImage.Create(dicom, mode, chroma);
            string target = parse.GetValue(outPath)!.FullName;
            int[] shape = StoredValueExport.Shape(image.Module);
            StoredValueExport.WriteNpy(image, target, shape);
            output.WriteLine($"{target}: {StoredValueExport.Describe(image.Module, shape)}");
            foreach (DicomWarning warning in dicom.Warnings.Concat(image.Warnings))
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# warning {warning.Code}{(warning.Offset >= 0 ? $" at offset {warning.Offset}" : string.Empty)}{(warning.Tag is { } t ? " in " + t : string.Empty)}: {warning.Detail}"));
            }
            return CliApp.ExitCodes.Success;
        }));
        return command;
    }

    private static Command Deid(IAnsiConsole console, TextWriter output, TextWriter error)
    {
        var input = new Argument<string>("IN") { Description = "A DICOM file or a folder (searched recursively)." };
        var outPath = new Argument<string>("OUT") { Description = "Output file (for a file input) or output folder (files named by their new SOP Instance UID)." };
        var key = new Option<string?>("--key") { Description = $"Secret key text (≥ 16 bytes) for keyed pseudonyms and UIDs. Prefer --key-file or ${KeyVariable}: command lines are visible to other users." };
        var keyFile = new Option<FileInfo?>("--key-file") { Description = "File whose bytes are the secret key (≥ 16 bytes)." };
        var dates = new Option<string>("--dates") { Description = "remove (default) or shift (one keyed offset per patient, intervals preserved).", DefaultValueFactory = _ => "remove" };
        dates.AcceptOnlyFromAmong("remove", "shift");
        var device = new Option<bool>("--retain-device-identity") { Description = "Keep device identifiers (Retain Device Identity Option)." };
        var characteristics = new Option<bool>("--retain-patient-characteristics") { Description = "Keep sex, age, size, weight (Retain Patient Characteristics Option)." };
        var mapping = new Option<FileInfo?>("--mapping") { Description = "Also write the original→replacement table as CSV. It CONTAINS PATIENT DATA: store it like the originals." };
        var json = new Option<bool>("--json") { Description = "Print the summary as JSON." };
        var command = new Command(
            "deid",
            "De-identify with the DICOM PS3.15 Basic Application Level Confidentiality Profile: private tags removed, UIDs and patient IDs " +
            "replaced by keyed HMAC values (consistent across files with the same key), dates removed or shifted, output marked (0012,0062)=YES. " +
            "Burned-in annotation in the pixels is never checked: review images before release. Exit code 1 when any file failed.");
        command.Arguments.Add(input);
        command.Arguments.Add(outPath);
        command.Options.Add(key);
        command.Options.Add(keyFile);
        command.Options.Add(dates);
        command.Options.Add(device);
        command.Options.Add(characteristics);
        command.Options.Add(mapping);
        command.Options.Add(json);
        command.SetAction(parse => Guard(error, () =>
        {
            byte[]? secret = ResolveKey(parse.GetValue(key), parse.GetValue(keyFile));
            if (secret is null)
            {
                error.WriteLine($"error: a key is required: --key-file FILE, --key TEXT or the {KeyVariable} environment variable (at least {DeidentificationOptions.MinimumKeyLength} bytes).");
                return CliApp.ExitCodes.Usage;
            }

            FileInfo? mappingFile = parse.GetValue(mapping);
            var options = new DeidentificationOptions
            {
                Key = secret,
                DateHandling = parse.GetValue(dates) == "shift" ? DateHandling.ShiftConsistently : DateHandling.Remove,
                RetainDeviceIdentity = parse.GetValue(device),
                RetainPatientCharacteristics = parse.GetValue(characteristics),
                RecordMapping = mappingFile is not null,
            };
            var deidentifier = new Deidentifier(options);
            string source = parse.GetValue(input)!;
            string destination = parse.GetValue(outPath)!;
            DeidentificationBatchResult result;
            try
            {
                result = Directory.Exists(source)
                    ? DeidentifyFolder(console, deidentifier, source, destination, showProgress: !parse.GetValue(json))
                    : new DeidentificationBatchResult { Files = [deidentifier.DeidentifyFile(source, destination)] };
            }
            catch (ArgumentException ex) when (ex.ParamName is "outputPath" or "outputRoot")
            {
                // Refused before anything is written.
                error.WriteLine("error: OUT is IN (the same file or folder, however spelled): de-identifying in place would replace the identifiable original; choose another OUT.");
                return CliApp.ExitCodes.Usage;
            }

            if (mappingFile is not null)
            {
                using var writer = new StreamWriter(mappingFile.FullName, append: false, Encoding.UTF8);
                deidentifier.ExportMapping(writer);
            }

            ReportDeid(output, result, parse.GetValue(json), mappingFile);
            return result.Failures.Count == 0 ? CliApp.ExitCodes.Success : CliApp.ExitCodes.Failure;
        }));
        return command;
    }

    private static DeidentificationBatchResult DeidentifyFolder(IAnsiConsole console, Deidentifier deidentifier, string source, string destination, bool showProgress)
    {
        if (!showProgress || !console.Profile.Capabilities.Interactive)
        {
            return deidentifier.DeidentifyFolder(source, destination);
        }

        DeidentificationBatchResult? result = null;
        console.Progress().Start(ctx =>
        {
            ProgressTask task = ctx.AddTask("De-identifying", maxValue: 1);
            var progress = new Progress<DeidentificationProgress>(p =>
            {
                task.MaxValue = Math.Max(1, p.Total);
                task.Value = p.Completed;
                task.Description = p.Failed == 0 ? "De-identifying" : $"De-identifying ({p.Failed} failed)";
            });
            result = deidentifier.DeidentifyFolder(source, destination, progress);
        });
        return result!;
    }

    private static void ReportDeid(TextWriter output, DeidentificationBatchResult result, bool json, FileInfo? mapping)
    {
        int burnedIn = result.BurnedInAnnotationUnverifiedCount;
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(new
            {
                written = result.Files.Count,
                failed = result.Failures.Count,
                failures = result.Failures.Select(f => new { input = f.RelativeInputPath, kind = f.Kind.ToString(), reason = f.Reason?.ToString(), detail = f.Detail }),
                burnedInAnnotationUnverified = burnedIn,
                mapping = mapping?.FullName,
            }));
            return;
        }

        output.WriteLine($"De-identified {result.Files.Count} file(s); {result.Failures.Count} failed.");
        foreach (DeidentificationFailure failure in result.Failures)
        {
            output.WriteLine($"  failed: {failure.RelativeInputPath}: {failure.Kind}{(failure.Reason is { } r ? " (" + r + ")" : string.Empty)}: {failure.Detail}");
        }

        if (burnedIn > 0)
        {
            output.WriteLine($"warning: {burnedIn} file(s) may carry burned-in annotation (not verified): review their pixels before release.");
        }

        if (mapping is not null)
        {
            output.WriteLine($"warning: {mapping.FullName} maps replacements back to patient data; protect it like the originals.");
        }
    }

    private static byte[]? ResolveKey(string? keyText, FileInfo? keyFile)
    {
        byte[]? key = keyFile is not null
            ? File.ReadAllBytes(keyFile.FullName)
            : keyText is not null
                ? Encoding.UTF8.GetBytes(keyText)
                : Environment.GetEnvironmentVariable(KeyVariable) is { Length: > 0 } fromEnvironment
                    ? Encoding.UTF8.GetBytes(fromEnvironment)
                    : null;
        return key is { Length: >= DeidentificationOptions.MinimumKeyLength } ? key : null;
    }

    private static DicomReaderOptions ReaderOptions(bool strict, PixelDataLoading pixels) => new()
    {
        Validation = strict ? ValidationMode.Strict : ValidationMode.Tolerant,
        PixelData = pixels,
    };

    private static void WriteDataset(TextWriter output, DicomDataset dataset, int depth)
    {
        string indent = new(' ', depth * 2);
        foreach (DicomElement element in dataset)
        {
            string keyword = DicomDictionary.GetKeyword(element.Tag);
            string name = keyword.Length > 0 ? keyword : element.Tag.IsPrivate ? "(private)" : "(unknown)";
            if (element is DicomSequence sequence)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{indent}{element.Tag} SQ {name}: {sequence.Items.Count} item(s)"));
                for (int i = 0; i < sequence.Items.Count; i++)
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{indent}  > item {i + 1}"));
                    WriteDataset(output, sequence.Items[i], depth + 2);
                }

                continue;
            }

            output.WriteLine($"{indent}{element.Tag} {element.VR} {name}: {DescribeValue(dataset, element)}");
        }
    }

    private static string DescribeValue(DicomDataset dataset, DicomElement element)
    {
        if (element.IsEncapsulated)
        {
            DicomFragments fragments = element.Fragments!;
            return string.Create(CultureInfo.InvariantCulture, $"<encapsulated: {fragments.Count} fragment(s), {fragments.TotalLength} bytes, offset table {fragments.BasicOffsetTable.Count} entries>");
        }

        if (element.Tag == DicomTag.PixelData || element.IsDeferred)
        {
            return string.Create(CultureInfo.InvariantCulture, $"<{element.Length} bytes>");
        }

        try
        {
            if (DicomVRInfo.IsString(element.VR) || element.VR is DicomVR.AS or DicomVR.AE)
            {
                string text = dataset.GetString(element.Tag) ?? string.Empty;
                return text.Length > 80 ? $"[{text[..77]}...]" : $"[{text}]";
            }

            if (DicomVRInfo.ValueSize(element.VR) > 0 && element.VR is not (DicomVR.OW or DicomVR.OF or DicomVR.OD or DicomVR.OL or DicomVR.OV))
            {
                double[] values = dataset.GetDoubles(element.Tag);
                string joined = string.Join('\\', values.Take(16).Select(v => v.ToString(CultureInfo.InvariantCulture)));
                return values.Length > 16 ? $"{joined}\\... ({values.Length} values)" : joined;
            }
        }
        catch (DicomFormatException ex)
        {
            return $"<unreadable: {ex.Reason}>";
        }

        return string.Create(CultureInfo.InvariantCulture, $"<{element.Length} bytes>");
    }

    /// <summary>Runs a verb body, turning the typed errors users can cause into one clear line and exit code 1.</summary>
    internal static int Guard(TextWriter error, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (DicomFormatException ex)
        {
            error.WriteLine($"error: not a readable DICOM file ({ex.Message})");
            return CliApp.ExitCodes.Failure;
        }
        catch (CodecUnavailableException ex)
        {
            error.WriteLine($"error: {ex.Message}");
            return CliApp.ExitCodes.Failure;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            error.WriteLine($"error: {ex.Message}");
            return CliApp.ExitCodes.Failure;
        }
    }
}
