using System.Globalization;
using MedTransfer.Dicom;

namespace MedTransfer.Imaging.Index;

/// <summary>Where a sample's site (domain) comes from.</summary>
public enum SiteSource
{
    /// <summary>No site: every row's site is empty.</summary>
    None,

    /// <summary>A DICOM attribute named by keyword (e.g. InstitutionName, Manufacturer); non-DICOM samples fall back to the label table's "site" column.</summary>
    DicomTag,

    /// <summary>A folder level below the root: level 1 is the first folder of the relative path.</summary>
    FolderLevel,

    /// <summary>A column of the label table.</summary>
    CsvColumn,
}

/// <summary>
/// The rule that names a sample's site. Parse the CLI spellings with <see cref="Parse"/>:
/// <c>tag:InstitutionName</c>, <c>folder:1</c>, <c>column:site</c>.
/// </summary>
public sealed record SiteRule
{
    private SiteRule(SiteSource source, string name, int level)
    {
        Source = source;
        Name = name;
        Level = level;
    }

    /// <summary>No site.</summary>
    public static SiteRule None { get; } = new(SiteSource.None, string.Empty, 0);

    /// <summary>The source.</summary>
    public SiteSource Source { get; }

    /// <summary>The DICOM keyword (<see cref="SiteSource.DicomTag"/>) or the column name (<see cref="SiteSource.CsvColumn"/>); empty otherwise.</summary>
    public string Name { get; }

    /// <summary>The 1-based folder level (<see cref="SiteSource.FolderLevel"/>); 0 otherwise.</summary>
    public int Level { get; }

    internal DicomTag Tag { get; private init; }

    /// <summary>Site from a DICOM attribute.</summary>
    /// <exception cref="ArgumentException">The keyword is not in the data dictionary.</exception>
    public static SiteRule FromTag(string keyword)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(keyword);
        return DicomDictionary.TryGetTag(keyword, out DicomTag tag)
            ? new SiteRule(SiteSource.DicomTag, keyword, 0) { Tag = tag }
            : throw new ArgumentException($"'{keyword}' is not a DICOM keyword of the data dictionary.", nameof(keyword));
    }

    /// <summary>Site from the folder at <paramref name="level"/> (1 = first folder below the root).</summary>
    public static SiteRule FromFolder(int level)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(level, 1);
        return new SiteRule(SiteSource.FolderLevel, string.Empty, level);
    }

    /// <summary>Site from a column of the label table.</summary>
    public static SiteRule FromColumn(string column)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(column);
        return new SiteRule(SiteSource.CsvColumn, column, 0);
    }

    /// <summary>Parses <c>tag:KEYWORD</c>, <c>folder:N</c> or <c>column:NAME</c> (or <c>none</c>).</summary>
    /// <exception cref="ArgumentException">Not one of these forms.</exception>
    public static SiteRule Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        if (text == "none")
        {
            return None;
        }

        string kind = colon < 0 ? text : text[..colon];
        string value = colon < 0 ? string.Empty : text[(colon + 1)..];
        return kind switch
        {
            "tag" when value.Length > 0 => FromTag(value),
            "folder" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int level) && level >= 1 => FromFolder(level),
            "column" when value.Length > 0 => FromColumn(value),
            _ => throw new ArgumentException("A site rule is tag:KEYWORD, folder:N (N ≥ 1) or column:NAME.", nameof(text)),
        };
    }

    /// <summary>The rule in the <see cref="Parse"/> spelling.</summary>
    public override string ToString() => Source switch
    {
        SiteSource.DicomTag => "tag:" + Name,
        SiteSource.FolderLevel => "folder:" + Level.ToString(CultureInfo.InvariantCulture),
        SiteSource.CsvColumn => "column:" + Name,
        _ => "none",
    };
}
