using System.Globalization;

namespace MedTransfer.Imaging.Index;

/// <summary>Row ↔ text fields in <see cref="ManifestCsv.Columns"/> order, with validation shared by CSV and JSON.</summary>
internal static class ManifestFields
{
    public static string[] ToFields(ManifestRow row) =>
    [
        row.Id,
        row.Root.ToString(CultureInfo.InvariantCulture),
        row.Path,
        FormatName(row.Format),
        row.Patient,
        row.Study,
        row.Series,
        row.Modality,
        row.Manufacturer,
        row.Model,
        row.Site,
        row.Label,
        row.Sex,
        row.AgeBand,
        row.View,
        row.Width.ToString(CultureInfo.InvariantCulture),
        row.Height.ToString(CultureInfo.InvariantCulture),
        row.Depth.ToString(CultureInfo.InvariantCulture),
        row.SizeBytes.ToString(CultureInfo.InvariantCulture),
        row.Sha256,
        FormatFlags(row.Flags),
        FormatPartition(row.Split),
    ];

    public static ManifestRow FromFields(string[] f, int line)
    {
        string id = f[0];
        if (id.Length == 0 || id.Length > 256 || id.Any(char.IsControl))
        {
            throw new ManifestException(line, "id", "empty, longer than 256 characters, or holding control characters");
        }

        return new ManifestRow
        {
            Id = id,
            Root = ParseInt(f[1], line, "root"),
            Path = CheckPath(f[2], line),
            Format = ParseFormat(f[3], line),
            Patient = f[4],
            Study = f[5],
            Series = f[6],
            Modality = f[7],
            Manufacturer = f[8],
            Model = f[9],
            Site = f[10],
            Label = f[11],
            Sex = f[12],
            AgeBand = f[13],
            View = f[14],
            Width = ParseInt(f[15], line, "width"),
            Height = ParseInt(f[16], line, "height"),
            Depth = ParseInt(f[17], line, "depth"),
            SizeBytes = ParseLong(f[18], line, "size_bytes"),
            Sha256 = CheckSha(f[19], line),
            Flags = ParseFlags(f[20], line),
            Split = ParsePartition(f[21], line),
        };
    }

    public static string FormatName(SampleFormat format) => format switch
    {
        SampleFormat.Dicom => "dicom",
        SampleFormat.Nifti => "nifti",
        SampleFormat.Png => "png",
        SampleFormat.Jpeg => "jpeg",
        _ => "tiff",
    };

    public static string FormatFlags(QualityFlags flags)
    {
        if (flags == QualityFlags.None)
        {
            return string.Empty;
        }

        return string.Join('|', Enum.GetValues<QualityFlags>().Where(f => f != QualityFlags.None && flags.HasFlag(f)));
    }

    public static string FormatPartition(Partition partition) => partition switch
    {
        Partition.Train => "train",
        Partition.Validation => "val",
        Partition.Test => "test",
        _ => string.Empty,
    };

    private static SampleFormat ParseFormat(string text, int line) => text switch
    {
        "dicom" => SampleFormat.Dicom,
        "nifti" => SampleFormat.Nifti,
        "png" => SampleFormat.Png,
        "jpeg" => SampleFormat.Jpeg,
        "tiff" => SampleFormat.Tiff,
        _ => throw new ManifestException(line, "format", "expected dicom, nifti, png, jpeg or tiff"),
    };

    private static Partition ParsePartition(string text, int line) => text switch
    {
        "" => Partition.None,
        "train" => Partition.Train,
        "val" => Partition.Validation,
        "test" => Partition.Test,
        _ => throw new ManifestException(line, "split", "expected train, val, test or empty"),
    };

    private static QualityFlags ParseFlags(string text, int line)
    {
        QualityFlags flags = QualityFlags.None;
        if (text.Length == 0)
        {
            return flags;
        }

        foreach (string part in text.Split('|'))
        {
            if (!Enum.TryParse(part, ignoreCase: false, out QualityFlags one) || one == QualityFlags.None
                || !Enum.IsDefined(one) || part.Any(char.IsDigit))
            {
                throw new ManifestException(line, "flags", "an unknown quality flag");
            }

            flags |= one;
        }

        return flags;
    }

    private static int ParseInt(string text, int line, string column) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new ManifestException(line, column, "expected a non-negative integer");

    private static long ParseLong(string text, int line, string column) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value)
            ? value
            : throw new ManifestException(line, column, "expected a non-negative integer");

    private static string CheckSha(string text, int line)
    {
        if (text.Length != 64 || !text.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f')))
        {
            throw new ManifestException(line, "sha256", "expected 64 lowercase hexadecimal digits");
        }

        return text;
    }

    /// <summary>A manifest path must stay inside its root (a "../" path in an edited manifest must not reach other files).</summary>
    private static string CheckPath(string text, int line)
    {
        bool bad = text.Length == 0 || text.Length > 4096 || text.Contains('\0', StringComparison.Ordinal) || text.Contains('\\', StringComparison.Ordinal)
            || text.StartsWith('/') || (text.Length >= 2 && text[1] == ':')
            || text.Split('/').Any(segment => segment is "" or "." or "..");
        return bad ? throw new ManifestException(line, "path", "not a relative '/'-separated path inside the root (empty, absolute, '..', '\\' or NUL)") : text;
    }
}
