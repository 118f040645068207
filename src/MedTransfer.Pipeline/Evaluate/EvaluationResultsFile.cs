using System.Text.Json;

namespace MedTransfer.Pipeline.Evaluate;

/// <summary>One site's evaluated scores and labels, sorted by score (highest first) and carrying no ids: what the ROC and PR figures are drawn from.</summary>
/// <param name="Site">The site.</param>
/// <param name="Scores">Scores, highest first.</param>
/// <param name="Labels">The labels in the same order.</param>
public sealed record SiteScores(string Site, IReadOnlyList<double> Scores, IReadOnlyList<int> Labels)
{
    /// <summary>The evaluated rows (the "test" rows, or all rows when the evaluation says so) grouped by site, in the order of <see cref="EvaluationResult.BySite"/>.</summary>
    public static IReadOnlyList<SiteScores> FromRows(EvaluationResult result, IReadOnlyList<PredictionRow> rows)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(rows);
        IEnumerable<PredictionRow> evaluated = result.EvaluatedPartition == "test"
            ? rows.Where(r => string.Equals(r.Split, "test", StringComparison.OrdinalIgnoreCase))
            : rows;
        if (result.BySite.Count == 0)
        {
            // Per-site metrics were turned off: the figures show the evaluated rows as one curve.
            PredictionRow[] all = [.. evaluated.OrderByDescending(r => r.Score).ThenByDescending(r => r.Label)];
            return [new SiteScores("all", [.. all.Select(r => r.Score)], [.. all.Select(r => r.Label)])];
        }

        ILookup<string, PredictionRow> bySite = evaluated.ToLookup(r => r.Site, StringComparer.Ordinal);
        return [.. result.BySite.Select(g =>
        {
            PredictionRow[] site = [.. bySite[g.Group].OrderByDescending(r => r.Score).ThenByDescending(r => r.Label)];
            return new SiteScores(g.Group, [.. site.Select(r => r.Score)], [.. site.Select(r => r.Label)]);
        })];
    }
}

/// <summary>A results.json read back: everything needed to render the validation report again.</summary>
/// <param name="Result">The numbers.</param>
/// <param name="Provenance">What was evaluated, by which code, with which bootstrap.</param>
/// <param name="Card">The model card the evaluation was given (empty fields when none was).</param>
/// <param name="Curves">Per-site scores and labels for the curve figures.</param>
public sealed record SavedEvaluation(EvaluationResult Result, EvaluationProvenance Provenance, ModelCard Card, IReadOnlyList<SiteScores> Curves);

/// <summary>A results.json that cannot be re-rendered; names the JSON path, never a value.</summary>
public sealed class ResultsFileException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ResultsFileException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public ResultsFileException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>Reads the results.json that `medtransfer evaluate` writes (<see cref="EvaluationReport.ResultsJson(EvaluationResult, EvaluationProvenance, ModelCard, IReadOnlyList{PredictionRow})"/>).</summary>
public static class EvaluationResultsFile
{
    /// <summary>The format version written: 2 added formatVersion, card and curves beside result and provenance (version 1 had no formatVersion field).</summary>
    public const int FormatVersion = 2;

    /// <summary>Largest results.json read (256 MiB).</summary>
    public const long MaxFileBytes = 256L << 20;

    /// <summary>Reads a results.json file.</summary>
    /// <exception cref="ResultsFileException">Missing, too large, not JSON, or lacking what the report needs.</exception>
    /// <exception cref="Runs.RunFolderException">The file is in a run folder whose run did not finish (killed, or still going), or it is not the results.json the run finished with.</exception>
    public static SavedEvaluation Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        RequireFinishedRun(path);
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw new ResultsFileException($"{info.Name}: no such file");
            }

            if (info.Length > MaxFileBytes)
            {
                throw new ResultsFileException($"{info.Name}: larger than {MaxFileBytes} bytes");
            }

            return Read(File.ReadAllText(path));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ResultsFileException($"{Path.GetFileName(path)}: cannot be read ({ex.GetType().Name})", ex);
        }
    }

    // A results.json inside a run folder is only as good as the run: a killed re-run leaves the previous run's file
    // beside a new protocol, so it is read only when the completion marker vouches for exactly these bytes.
    private static void RequireFinishedRun(string path)
    {
        string full = Path.GetFullPath(path);
        string? folder = Path.GetDirectoryName(full);
        if (folder is null || !Runs.CompletedRun.IsRunFolder(folder))
        {
            return;
        }

        Runs.RunFolder.RequireComplete(folder);
        string sha256;
        try
        {
            sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(full)));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ResultsFileException($"{Path.GetFileName(path)}: cannot be read ({ex.GetType().Name})", ex);
        }

        Runs.CompletedRun.RequireOutput(folder, Path.GetFileName(full), sha256);
    }

    /// <summary>Parses results.json text.</summary>
    /// <exception cref="ResultsFileException">Not JSON, or lacking what the report needs.</exception>
    public static SavedEvaluation Read(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        Saved? saved;
        try
        {
            saved = JsonSerializer.Deserialize<Saved>(json, EvaluationReport.JsonOptions);
        }
        catch (JsonException ex)
        {
            throw new ResultsFileException($"results.json is not a MedTransfer evaluation (at {ex.Path ?? "$"}, line {(ex.LineNumber ?? 0) + 1})", ex);
        }

        if (saved?.Kind == "run")
        {
            throw new ResultsFileException("results.json is a `medtransfer run`'s: its report is the report.html beside it; `report` re-renders the results.json of `medtransfer evaluate`");
        }

        if (saved?.Result is null || saved.Provenance is null)
        {
            throw new ResultsFileException("results.json lacks 'result' or 'provenance': it was not written by `medtransfer evaluate`");
        }

        if (saved.FormatVersion < FormatVersion || saved.Curves is null)
        {
            throw new ResultsFileException("results.json was written by an older `medtransfer evaluate` without the curve data and model card the report needs: run evaluate again");
        }

        if (saved.Result.Overall is null || saved.Result.BySite is null || saved.Result.PrevalenceBySite is null || saved.Result.Subgroups is null || saved.Result.Warnings is null)
        {
            throw new ResultsFileException("results.json 'result' is incomplete (overall, bySite, prevalenceBySite, subgroups and warnings are required)");
        }

        foreach (SiteScores c in saved.Curves)
        {
            if (c?.Scores is null || c.Labels is null || c.Scores.Count != c.Labels.Count || c.Labels.Any(l => l is not (0 or 1)))
            {
                throw new ResultsFileException("results.json 'curves': each site needs scores and 0/1 labels of equal length");
            }
        }

        return new SavedEvaluation(saved.Result, saved.Provenance, saved.Card ?? new ModelCard(), saved.Curves);
    }

    private sealed record Saved(int FormatVersion, string? Kind, EvaluationResult? Result, EvaluationProvenance? Provenance, ModelCard? Card, IReadOnlyList<SiteScores>? Curves);
}
