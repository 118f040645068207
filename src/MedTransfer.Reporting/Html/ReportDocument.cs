using MedTransfer.Reporting.Figures;

namespace MedTransfer.Reporting.Html;

/// <summary>A piece of a report section.</summary>
public abstract record ReportBlock;

/// <summary>A paragraph of plain text (escaped when rendered).</summary>
/// <param name="Text">The text.</param>
public sealed record Paragraph(string Text) : ReportBlock;

/// <summary>A highlighted finding or caveat.</summary>
/// <param name="Text">The text.</param>
/// <param name="Severity">"info", "warning" or "risk".</param>
public sealed record Callout(string Text, string Severity = "warning") : ReportBlock;

/// <summary>A table with a header row.</summary>
/// <param name="Headers">Column headers.</param>
/// <param name="Rows">Cells, row by row.</param>
/// <param name="Caption">Optional caption.</param>
public sealed record TableBlock(IReadOnlyList<string> Headers, IReadOnlyList<IReadOnlyList<string>> Rows, string? Caption = null) : ReportBlock;

/// <summary>Label/value pairs (a definition list).</summary>
/// <param name="Items">The pairs, in order.</param>
public sealed record KeyValues(IReadOnlyList<KeyValuePair<string, string>> Items) : ReportBlock;

/// <summary>A figure, inlined into the HTML and also written as a PNG file.</summary>
/// <param name="Figure">The rendered figure.</param>
/// <param name="Caption">Caption under the figure.</param>
public sealed record FigureBlock(Figure Figure, string Caption) : ReportBlock;

/// <summary>A titled section, identified by a stable id (anchors and required-section checks use it).</summary>
/// <param name="Id">Stable id, e.g. "intended-use".</param>
/// <param name="Title">Heading.</param>
/// <param name="Blocks">Content.</param>
public sealed record ReportSection(string Id, string Title, IReadOnlyList<ReportBlock> Blocks);

/// <summary>The validation report's content, independent of its rendering.</summary>
public sealed class ReportDocument
{
    private readonly List<ReportSection> _sections = [];

    /// <summary>Creates an empty report.</summary>
    public ReportDocument(string title, string subtitle)
    {
        Title = title;
        Subtitle = subtitle;
    }

    /// <summary>The report's title.</summary>
    public string Title { get; }

    /// <summary>One line under the title (what was evaluated, when the run was made).</summary>
    public string Subtitle { get; }

    /// <summary>The sections in order.</summary>
    public IReadOnlyList<ReportSection> Sections => _sections;

    /// <summary>Appends a section; a second section with the same id is an error.</summary>
    public ReportDocument Add(string id, string title, params ReportBlock[] blocks)
    {
        if (_sections.Any(s => s.Id == id))
        {
            throw new ArgumentException($"The report already has a section '{id}'.", nameof(id));
        }

        _sections.Add(new ReportSection(id, title, blocks));
        return this;
    }
}

/// <summary>The report lacks sections an audit needs (intended use, data, partitions, preprocessing, model, selection rule, metrics, limitations); it is not rendered.</summary>
public sealed class ReportIncompleteException : Exception
{
    /// <summary>Creates the exception listing the missing sections.</summary>
    public ReportIncompleteException(IReadOnlyList<string> missing)
        : base("The validation report cannot be rendered without: " + string.Join(", ", missing) + ".")
    {
        Missing = missing;
    }

    /// <summary>The missing section ids.</summary>
    public IReadOnlyList<string> Missing { get; }
}
