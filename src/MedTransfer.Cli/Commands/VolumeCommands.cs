using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MedTransfer.Dicom;
using MedTransfer.Imaging;
using MedTransfer.Imaging.Nifti;
using MedTransfer.Imaging.Volumes;
using MedTransfer.Reporting.Provenance;
using Spectre.Console;

namespace MedTransfer.Cli.Commands;

/// <summary>
/// `medtransfer volume DIR --out X.nii.gz | --out-dir D`: DICOM series to NIfTI volumes, each with a BIDS JSON
/// sidecar of the same name and, for diffusion series, FSL .bval / .bvec files (the files dcm2niix writes).
/// </summary>
internal static class VolumeCommands
{
    private const int MaxDescriptionLength = 40;

    private static readonly DicomReaderOptions s_headerOnly = new() { PixelData = PixelDataLoading.Skip, StopAtPixelData = true };

    public static Command Create(IAnsiConsole console, TextWriter output, TextWriter error)
    {
        var input = new Argument<DirectoryInfo>("DIR") { Description = "A folder of DICOM files (searched recursively)." };
        var outFile = new Option<FileInfo?>("--out") { Description = "Write the folder's one series to this .nii or .nii.gz file (an error lists the series when there are several)." };
        var outDir = new Option<DirectoryInfo?>("--out-dir") { Description = "Write every series into this folder, named <SeriesNumber>_<description>_<UID hash>.nii.gz (never from patient data)." };
        var int16 = new Option<bool>("--int16") { Description = "Store int16 with scl_slope/scl_inter instead of float32 (exact for integer images)." };
        var nifti2 = new Option<bool>("--nifti2") { Description = "Write NIfTI-2 (540-byte header) instead of NIfTI-1." };
        var philips = new Option<string>("--philips-scaling")
        {
            Description = "Philips MR intensities: float (default, as dcm2niix: FP = (SV*RS + RI) / (RS*SS) with MR Scale Slope (2005,100E)) " +
                "or display (SV*RS + RI). Recorded in the NIfTI description and the JSON sidecar.",
            DefaultValueFactory = _ => "float",
        };
        philips.AcceptOnlyFromAmong("float", "display");
        var command = new Command(
            "volume",
            "Assemble DICOM series into NIfTI volumes: slices sorted along the slice normal, the modality LUT applied, Siemens mosaics " +
            "and UIH VFRAME mosaics unpacked, the RAS affine in both sform and qform. Missing slices, uneven spacing, duplicate positions, " +
            "mixed orientations and gantry tilt are reported as warnings and never resampled. Stacks that share one grid (fMRI time points, " +
            "diffusion directions) become one 4-D file. Beside each NIfTI: a BIDS JSON sidecar (acquisition parameters, slice timing, " +
            "intensity scaling; no patient data) and, for diffusion, .bval and .bvec in FSL's convention.");
        command.Arguments.Add(input);
        command.Options.Add(outFile);
        command.Options.Add(outDir);
        command.Options.Add(int16);
        command.Options.Add(nifti2);
        command.Options.Add(philips);
        command.SetAction(parse => DicomCommands.Guard(error, () =>
        {
            FileInfo? file = parse.GetValue(outFile);
            DirectoryInfo? folder = parse.GetValue(outDir);
            if ((file is null) == (folder is null))
            {
                error.WriteLine("error: give exactly one of --out FILE (one series) or --out-dir DIR (every series).");
                return CliApp.ExitCodes.Usage;
            }

            var options = new NiftiWriteOptions
            {
                DataType = parse.GetValue(int16) ? NiftiDataType.Int16 : NiftiDataType.Float32,
                Version = parse.GetValue(nifti2) ? 2 : 1,
            };
            var assembly = new VolumeAssemblyOptions { PhilipsScaling = parse.GetValue(philips) == "display" ? PhilipsScaling.Display : PhilipsScaling.Float };
            string source = parse.GetValue(input)!.FullName;
            if (!Directory.Exists(source))
            {
                error.WriteLine("error: the input folder does not exist.");
                return CliApp.ExitCodes.Failure;
            }

            SeriesScanResult scan = Scan(console, source);
            ReportFailures(output, scan);
            if (scan.Series.Count == 0)
            {
                error.WriteLine("error: no image series with geometry found in the folder.");
                return CliApp.ExitCodes.Failure;
            }

            try
            {
                return file is not null
                    ? WriteOne(output, error, scan, file.FullName, options, assembly)
                    : WriteAll(output, error, scan, folder!.FullName, options, assembly);
            }
            catch (VolumeAssemblyException ex)
            {
                error.WriteLine($"error: the series cannot be assembled ({ex.Message})");
                return CliApp.ExitCodes.Failure;
            }
        }));
        return command;
    }

    private static int WriteOne(TextWriter output, TextWriter error, SeriesScanResult scan, string target, NiftiWriteOptions options, VolumeAssemblyOptions assembly)
    {
        if (scan.Series.Count > 1)
        {
            error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"error: the folder holds {scan.Series.Count} series; point at one series' folder or use --out-dir:"));
            foreach (DicomSeries s in scan.Series)
            {
                error.WriteLine("  " + Describe(s));
            }

            return CliApp.ExitCodes.Failure;
        }

        DicomSeries series = scan.Series[0];
        List<List<(SliceStack Stack, AssembledVolume Volume)>> groups = AssembleGrouped(series, assembly);
        if (groups.Count > 1)
        {
            error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"error: the series holds {groups.Count} stacks with different geometry ({string.Join(", ", series.Stacks.Select(s => s.Label))}); use --out-dir to write each."));
            return CliApp.ExitCodes.Failure;
        }

        string? directory = Path.GetDirectoryName(target);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        Write(output, groups[0], target, options);
        return CliApp.ExitCodes.Success;
    }

    private static int WriteAll(TextWriter output, TextWriter error, SeriesScanResult scan, string root, NiftiWriteOptions options, VolumeAssemblyOptions assembly)
    {
        Directory.CreateDirectory(root);
        string rootWithSeparator = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root)) + Path.DirectorySeparatorChar;
        int failed = 0;
        foreach (DicomSeries series in scan.Series)
        {
            try
            {
                List<List<(SliceStack Stack, AssembledVolume Volume)>> groups = AssembleGrouped(series, assembly);
                string stem = FileStem(series);
                for (int g = 0; g < groups.Count; g++)
                {
                    string name = groups.Count == 1 ? stem : string.Create(CultureInfo.InvariantCulture, $"{stem}_part{g + 1}");
                    string target = Path.GetFullPath(Path.Combine(rootWithSeparator, name + ".nii.gz"));
                    if (!target.StartsWith(rootWithSeparator, StringComparison.Ordinal))
                    {
                        throw new IOException("an output name left the output folder");
                    }

                    Write(output, groups[g], target, options);
                }
            }
            catch (Exception ex) when (ex is VolumeAssemblyException or MedTransfer.Dicom.DicomException)
            {
                failed++;
                error.WriteLine($"error: {Describe(series)}: {ex.Message}");
            }
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Wrote {scan.Series.Count - failed} of {scan.Series.Count} series to {root}."));
        return failed == 0 ? CliApp.ExitCodes.Success : CliApp.ExitCodes.Failure;
    }

    /// <summary>Assembles every stack and groups stacks that share one grid (same size and affine), in stack order.</summary>
    private static List<List<(SliceStack Stack, AssembledVolume Volume)>> AssembleGrouped(DicomSeries series, VolumeAssemblyOptions assembly)
    {
        var groups = new List<List<(SliceStack, AssembledVolume)>>();
        foreach (SliceStack stack in series.Stacks)
        {
            AssembledVolume assembled = VolumeAssembler.Assemble(stack, assembly);
            List<(SliceStack, AssembledVolume)>? home = groups.FirstOrDefault(g => SameGrid(g[0].Item2.Volume, assembled.Volume));
            if (home is null)
            {
                groups.Add([(stack, assembled)]);
            }
            else
            {
                home.Add((stack, assembled));
            }
        }

        return groups;
    }

    private static bool SameGrid(Volume a, Volume b) =>
        a.NX == b.NX && a.NY == b.NY && a.NZ == b.NZ && a.Affine.Zip(b.Affine).All(p => Math.Abs(p.First - p.Second) <= 1e-4);

    /// <summary>Writes the NIfTI, its JSON sidecar and, when the volumes state diffusion weightings, .bval and .bvec.</summary>
    private static void Write(TextWriter output, List<(SliceStack Stack, AssembledVolume Volume)> group, string target, NiftiWriteOptions options)
    {
        AssembledVolume[] volumes = [.. group.Select(g => g.Volume)];
        DicomDataset header = DicomFile.Open(group[0].Stack.Files[0], s_headerOnly).Dataset;
        VolumeScaling scaling = volumes[0].Scaling;
        double? tr = volumes.Length > 1 && header.GetDouble(Tag.RepetitionTime) is { } ms && ms > 0 ? ms / 1000 : null;
        NiftiWriteOptions written = options with { Description = Description(scaling), TimeStepSeconds = tr };
        NiftiWriter.Write([.. volumes.Select(v => v.Volume)], target, written);

        string stem = Stem(target);
        CodeVersion version = CodeVersion.Of(typeof(VolumeCommands));
        WriteText(stem + ".json", BidsSidecar.Json(header, volumes, version.Commit is null ? version.Version : $"{version.Version}+{version.Commit}"));
        var sidecars = new List<string> { Path.GetFileName(stem) + ".json" };
        if (volumes.Any(v => v.Diffusion is not null))
        {
            (string bval, string bvec) = FslGradients.Format([.. volumes.Select(v => v.Diffusion)], volumes[0].Volume.Affine);
            WriteText(stem + ".bval", bval);
            WriteText(stem + ".bvec", bvec);
            sidecars.Add(Path.GetFileName(stem) + ".bval");
            sidecars.Add(Path.GetFileName(stem) + ".bvec");
        }

        Volume first = volumes[0].Volume;
        (double x, double y, double z) = first.Spacing;
        string time = volumes.Length > 1 ? string.Create(CultureInfo.InvariantCulture, $"x{volumes.Length}") : string.Empty;
        string philips = scaling.Scale == IntensityScale.Modality ? string.Empty : $", {BidsSidecar.Name(scaling.Scale)} scaling";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {target}: {first.NX}x{first.NY}x{first.NZ}{time}, voxel {x:0.###} x {y:0.###} x {z:0.###} mm{philips}; {string.Join(", ", sidecars)}"));
        if (volumes.Select(v => v.Scaling.Scale).Distinct().Count() > 1)
        {
            output.WriteLine("  warning: the volumes differ in intensity scaling (some without MR Scale Slope); the sidecar records the first volume's");
        }

        foreach (string warning in volumes.SelectMany(v => v.Report.Warnings).Distinct(StringComparer.Ordinal))
        {
            output.WriteLine($"  warning: {warning}");
        }
    }

    /// <summary>The NIfTI description: the tool, and for Philips which scaling the voxels hold (dcm2niix's FP or DV).</summary>
    private static string Description(VolumeScaling scaling) => scaling.Scale switch
    {
        IntensityScale.PhilipsFloat => "MedTransfer; Philips float scaling FP=(SV*RS+RI)/(RS*SS)",
        IntensityScale.PhilipsDisplay => "MedTransfer; Philips display scaling DV=SV*RS+RI",
        _ => "MedTransfer",
    };

    /// <summary>The target without .nii or .nii.gz: the shared name of the sidecars.</summary>
    private static string Stem(string target)
    {
        foreach (string extension in new[] { ".nii.gz", ".nii" })
        {
            if (target.EndsWith(extension, StringComparison.OrdinalIgnoreCase))
            {
                return target[..^extension.Length];
            }
        }

        return target;
    }

    private static void WriteText(string path, string text)
    {
        string temp = path + ".tmp";
        File.WriteAllText(temp, text, new UTF8Encoding(false));
        File.Move(temp, path, overwrite: true);
    }

    private static SeriesScanResult Scan(IAnsiConsole console, string source)
    {
        if (!console.Profile.Capabilities.Interactive)
        {
            return SeriesScanner.Scan(source);
        }

        SeriesScanResult? result = null;
        console.Progress().Start(ctx =>
        {
            ProgressTask task = ctx.AddTask("Scanning headers", maxValue: 1);
            var progress = new Progress<SeriesScanProgress>(p =>
            {
                task.MaxValue = Math.Max(1, p.Total);
                task.Value = p.Scanned;
            });
            result = SeriesScanner.Scan(source, progress);
        });
        return result!;
    }

    private static void ReportFailures(TextWriter output, SeriesScanResult scan)
    {
        if (scan.Failures.Count == 0)
        {
            return;
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Skipped {scan.Failures.Count} file(s):"));
        foreach (SeriesScanFailure failure in scan.Failures)
        {
            output.WriteLine($"  {failure.Path}: {failure.Reason}{(failure.DicomError is { } code ? " (" + code + ")" : string.Empty)}");
        }
    }

    private static string Describe(DicomSeries series) => string.Create(
        CultureInfo.InvariantCulture,
        $"series {series.SeriesNumber?.ToString(CultureInfo.InvariantCulture) ?? "?"} [{Sanitize(series.SeriesDescription)}] {series.Modality}: {series.Files.Count} file(s), {series.Stacks.Count} stack(s), uid {UidHash(series.SeriesInstanceUid)}");

    /// <summary>Series Number + sanitized description + a short hash of the Series Instance UID: no patient attribute, always one plain file name.</summary>
    internal static string FileStem(DicomSeries series)
    {
        string number = series.SeriesNumber is { } n ? n.ToString("000", CultureInfo.InvariantCulture) : "x";
        return $"{number}_{Sanitize(series.SeriesDescription)}_{UidHash(series.SeriesInstanceUid)}";
    }

    private static string Sanitize(string text)
    {
        var builder = new StringBuilder(Math.Min(text.Length, MaxDescriptionLength));
        foreach (char c in text)
        {
            if (builder.Length >= MaxDescriptionLength)
            {
                break;
            }

            bool safe = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-';
            if (safe)
            {
                builder.Append(c);
            }
            else if (builder.Length > 0 && builder[^1] != '_')
            {
                builder.Append('_');
            }
        }

        string result = builder.ToString().Trim('_');
        return result.Length == 0 ? "series" : result;
    }

    private static string UidHash(string uid) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(uid)))[..8];
}
